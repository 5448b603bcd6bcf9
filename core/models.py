"""Every table (and job handler) of the core, loaded in one place.

Each resource-family module under core/ declares its own models and job handlers; importing
them all here completes the metadata (for migrations) and the job-handler registry (for the
engine). Discovery, not a hand-kept list, so that a new family cannot be forgotten.
"""

from __future__ import annotations

import importlib
import pkgutil

import core
from core.db import Base

_SKIP = ("core.migrations",)


def load_all() -> None:
    for module in pkgutil.walk_packages(core.__path__, prefix="core."):
        if not module.name.startswith(_SKIP):
            importlib.import_module(module.name)


load_all()

__all__ = ["Base", "load_all"]
