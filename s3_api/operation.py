"""One row of the operation table: where an S3 operation is routed, and its handler.

An operation is selected by the resource level (service, bucket, object), the HTTP method,
the sub-resource query key (`?acl`, `?uploads` …, or none) and, for operations that share all
three with another (CopyObject is a PUT like PutObject), a request header that must be present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from starlette.responses import Response

from s3_api.call import S3Call

Handler = Callable[[S3Call], Response]


class Level(Enum):
    SERVICE = "service"
    BUCKET = "bucket"
    OBJECT = "object"


@dataclass(frozen=True)
class Operation:
    name: str
    level: Level
    method: str
    subresource: str | None
    handler: Handler
    streams_body: bool = False  # the handler pulls the body itself (uploads of any size)
    header: str | None = None  # routed here only when this (lower-case) header is present

    @property
    def request(self) -> str:
        """How a client asks for it, for docs/s3-api.md (`PUT ?tagging`, `PUT + header`)."""
        parts = [self.method]
        if self.subresource:
            parts.append(f"?{self.subresource}")
        if self.header:
            parts.append(f"with `{self.header}`")
        return " ".join(parts)
