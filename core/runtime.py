"""What long-running work needs at hand: the database and the drivers.

Use cases called by front ends get a session and a caller context; job handlers, which run in
worker threads after the request has returned, get this runtime instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.db import Database
from drivers.hypervisor.base import HypervisorDriver


@dataclass
class Runtime:
    db: Database
    hypervisor: Callable[[str], HypervisorDriver]
    msid: str
    object_store: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
