"""Who is calling: an S3 request's signature, checked by `translators.aws_auth`.

The signature covers the bytes as they arrived, so the request is described from the ASGI
scope (`raw_path`, `query_string`, raw headers), never from decoded values. Anonymous
requests are refused (no bucket is public), which `aws_auth.MissingCredentials` maps to
AccessDenied.
"""

from __future__ import annotations

from typing import Any

from core import identity
from core.context import CallContext
from core.db import Database
from core.errors import AuthenticationFailed
from core.identity import User
from translators import aws_auth
from translators.aws_auth import AuthRequest, AuthResult


def auth_request(scope: dict[str, Any], *, body: bytes | None, bucket: str | None) -> AuthRequest:
    """The signed parts of the request. `body`: when already read (small requests), so its
    hash is checked now; None for uploads, whose hash is checked while streaming.
    `bucket`: set for virtual-hosted requests (SigV2 signs `/bucket/key`)."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    return AuthRequest.from_wire(
        scope["method"],
        raw_path.partition(b"?")[0],
        scope.get("query_string", b""),
        scope["headers"],
        body=body,
        bucket=bucket,
    )


def authenticate(database: Database, request: AuthRequest) -> tuple[AuthResult, CallContext]:
    """Verify the signature and return the caller (blocking: reads the database)."""
    with database.read() as session:
        users: dict[str, User] = {}

        def lookup_secret(access_key: str) -> str | None:
            try:
                user = identity.user_by_api_key(session, access_key)
            except AuthenticationFailed:
                return None
            users[access_key] = user
            return user.secret_key

        result = aws_auth.authenticate(request, service="s3", lookup_secret=lookup_secret)
        return result, identity.context_for(session, users[result.access_key])
