"""Who is calling: an S3 request's signature, checked by `translators.aws_auth`.

The signature covers the bytes as they arrived, so the request is described from the ASGI
scope (`raw_path`, `query_string`, raw headers), never from decoded values.

The caller is a `bucket_acl.Requester`: its context plus what bucket policies test (its AWS
account number and ARNs, the source address, whether the connection is TLS). A request with
no signature at all (no Authorization header, no signature in the query) is anonymous: it
may run the operations of `ANONYMOUS_OPERATIONS`, where the core lets it through only as far
as AllUsers grants or a `"*"` policy allow; anything else is AccessDenied.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from core import identity
from core.bucket_acl import Requester, anonymous_requester
from core.context import CallContext
from core.db import Database
from core.errors import AuthenticationFailed
from core.identity import User
from translators import aws_auth
from translators.aws_auth import AuthRequest, AuthResult, MissingCredentials, PayloadMode
from translators.ids import IdCodec, installation_key

# What an unsigned request may ask for (the core still checks grants and policy). Others,
# CreateBucket and bucket configuration among them, need a signature, as on AWS in effect.
ANONYMOUS_OPERATIONS = frozenset(
    {
        "ListObjects", "HeadBucket", "GetObject", "HeadObject", "PutObject", "DeleteObject",
        "GetBucketAcl", "PutBucketAcl", "GetObjectAcl", "PutObjectAcl",
    }
)  # fmt: skip


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


def authenticate(
    database: Database, request: AuthRequest, *, scope: dict[str, Any], operation: str
) -> tuple[AuthResult, CallContext]:
    """Verify the signature and return the caller (blocking: reads the database)."""
    client = scope.get("client")
    source_ip = client[0] if client else None
    secure = scope.get("scheme") == "https"
    with database.read() as session:
        users: dict[str, User] = {}

        def lookup_secret(access_key: str) -> str | None:
            try:
                user = identity.user_by_api_key(session, access_key)
            except AuthenticationFailed:
                return None
            users[access_key] = user
            return user.secret_key

        try:
            result = aws_auth.authenticate(request, service="s3", lookup_secret=lookup_secret)
        except MissingCredentials:
            if operation not in ANONYMOUS_OPERATIONS:
                raise
            return _anonymous_result(request), anonymous_requester(
                source_ip=source_ip, secure=secure
            )
        ctx = identity.context_for(session, users[result.access_key])
        number = IdCodec(installation_key(session)).account_number(ctx.account_id)
        principals = frozenset(
            {number, f"arn:aws:iam::{number}:root", f"arn:aws:iam::{number}:user/{ctx.username}"}
        )
        requester = Requester(
            **asdict(ctx), principals=principals, source_ip=source_ip, secure=secure
        )
        return result, requester


def _anonymous_result(request: AuthRequest) -> AuthResult:
    """An unsigned request's "result": no key; an aws-chunked body (boto3's checksum
    trailer) is still decoded and its checksums verified."""
    declared = request.header("x-amz-content-sha256") or ""
    streaming = declared == PayloadMode.STREAMING_UNSIGNED_TRAILER.value
    return AuthResult(
        access_key="",
        service="s3",
        signature_version=0,
        signed_at=datetime.now(UTC),
        payload=PayloadMode.STREAMING_UNSIGNED_TRAILER if streaming else PayloadMode.UNSIGNED,
    )
