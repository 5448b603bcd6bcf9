"""What an action handler receives: the caller, the transaction and the parsed request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.context import CallContext
from core.runtime import Runtime
from translators.ids import IdCodec


@dataclass
class Call:
    ctx: CallContext
    session: Session
    params: dict[str, Any]
    runtime: Runtime
    region: str
    ids: IdCodec
    endpoint: str  # host[:port] the client called, for DescribeRegions

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)
