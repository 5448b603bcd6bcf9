"""One row of the action table: the wire name, its handler, and whether it writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ec2_api.call import Call


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    handler: Callable[[Call], dict[str, Any] | None]
    writes: bool = False  # a write transaction; read-only actions run in a read one
    notes: str = ""  # what differs from AWS, for docs/ec2-api.md
    service: str = "ec2"  # "sts": an STS action answered on this endpoint (GetCallerIdentity)
