"""The operation table: every S3 operation this endpoint answers, by family module.

Each module of this package exposes an `OPERATIONS` tuple; every module is imported
(discovery, so that a new family cannot be forgotten). Only listed operations are routable.
"""

from __future__ import annotations

import importlib
import pkgutil

from s3_api.operation import Level, Operation

__all__ = ["OPERATIONS", "Level", "Operation", "candidates"]

RouteKey = tuple[Level, str, str | None]


def _discover() -> list[Operation]:
    found: list[Operation] = []
    for module_info in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        module = importlib.import_module(module_info.name)
        found.extend(getattr(module, "OPERATIONS", ()))
    seen: set[tuple[RouteKey, str | None]] = set()
    for operation in found:
        key = ((operation.level, operation.method, operation.subresource), operation.header)
        if key in seen:
            raise RuntimeError(f"S3 operation {operation.name} is routed twice")
        seen.add(key)
    return found


OPERATIONS: list[Operation] = _discover()
_BY_ROUTE: dict[RouteKey, list[Operation]] = {}
for _operation in OPERATIONS:
    _route = (_operation.level, _operation.method, _operation.subresource)
    _BY_ROUTE.setdefault(_route, []).append(_operation)


def candidates(level: Level, method: str, subresource: str | None) -> list[Operation]:
    """The operations routed at (level, method, sub-resource); header-selected ones first."""
    return sorted(_BY_ROUTE.get((level, method, subresource), ()), key=lambda o: o.header is None)
