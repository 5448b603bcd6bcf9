"""One S3 request as the operation handlers see it: caller, target, parameters, body."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers

from core.context import CallContext
from core.runtime import Runtime
from s3_api.errors import ServiceUnavailable
from translators.aws_auth import AuthResult


@dataclass
class S3Call:
    runtime: Runtime
    region: str
    request_id: str
    ctx: CallContext
    auth: AuthResult
    method: str
    bucket: str
    key: str
    query: dict[str, str]
    headers: Headers
    body: bytes
    # The raw upload, piece by piece, for operations that stream their body (else empty).
    pieces: Iterator[bytes]

    @property
    def store(self) -> Any:
        """The object store the server was started with."""
        if self.runtime.object_store is None:
            raise ServiceUnavailable("No object store is configured on this server")
        return self.runtime.object_store

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, default)
