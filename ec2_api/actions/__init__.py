"""The action table: every EC2 action this endpoint answers, wire name → handler.

One module per resource family, each with an `ACTIONS` tuple; every module of this package is
imported (discovery, so that a new family cannot be forgotten). An explicit table, never
`getattr` on a wire name: an action not listed is `InvalidAction`.
"""

from __future__ import annotations

import importlib
import pkgutil

from ec2_api.action import Action

__all__ = ["ACTIONS", "Action"]


def _discover() -> dict[str, Action]:
    table: dict[str, Action] = {}
    for module_info in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        module = importlib.import_module(module_info.name)
        for action in getattr(module, "ACTIONS", ()):
            if action.name in table:
                raise RuntimeError(f"EC2 action {action.name} is defined twice")
            table[action.name] = action
    return table


ACTIONS: dict[str, Action] = _discover()
