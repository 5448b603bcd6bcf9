"""What long-running work needs at hand: the database and the drivers.

Use cases called by front ends get a session and a caller context; job handlers, which run in
worker threads after the request has returned, get this runtime instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.db import Database
from core.errors import OperationFailed, ResourceUnavailable
from drivers.hypervisor.base import HostUnreachable, HypervisorDriver, HypervisorError

T = TypeVar("T")


@dataclass
class Runtime:
    db: Database
    hypervisor: Callable[[str], HypervisorDriver]
    msid: str
    object_store: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


def driver_call(operation: Callable[[], T]) -> T:
    """Run a hypervisor driver operation, its errors translated into the core's: an
    unreachable host is ResourceUnavailable, any other driver failure OperationFailed."""
    try:
        return operation()
    except HostUnreachable as error:
        raise ResourceUnavailable(error.message) from error
    except HypervisorError as error:
        raise OperationFailed(error.message) from error
