"""Shared by the tests of translators.aws_auth (tests/translators/test_aws_auth_*.py): one
access key and secret, requests signed by botocore's own signers and shown as a server receives
them, and `check`, which verifies a request and proves the check is real (another secret fails).

Requests are signed by botocore's own signers, by boto3 clients and by apache-libcloud, either
in-process (AWSRequest) or sent over real HTTP(S) to a capture server that records the request
line, headers and body exactly as received. Every positive check also verifies that another
secret is refused, so a verifier that accepted anything would fail here.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.auth
import botocore.compat
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode

from translators.aws_auth import AuthError, AuthRequest, AuthResult, SignatureMismatch, authenticate

ACCESS_KEY = "AKIDCLOUDGATE0001"
SECRET = "s3cr3t/Key+with~odd=chars"
REGION = "eu-west-3"
CREDENTIALS = Credentials(ACCESS_KEY, SECRET)
S3_KEYS = [
    "plain.txt",
    "with space.txt",
    "plus+sign",
    "tilde~name",
    "equals=sign&amp",
    "double//slash",
    "ünïcødé/日本語",
    "dots/./and/../segments",
    "trailing/",
    "star*quote'paren()!",
    "percent%41literal",
]


def lookup(access_key: str) -> str | None:
    return SECRET if access_key == ACCESS_KEY else None


def check(request: AuthRequest, service: str, now: datetime | None = None) -> AuthResult:
    """Verify, and prove the check is real: the same request under another secret fails."""
    result = authenticate(request, service=service, lookup_secret=lookup, now=now)
    assert result.access_key == ACCESS_KEY
    with pytest.raises(SignatureMismatch):
        authenticate(request, service=service, lookup_secret=lambda _: SECRET + "x", now=now)
    return result


def reject(request: AuthRequest, service: str, now: datetime | None = None) -> AuthError:
    with pytest.raises(AuthError) as caught:
        authenticate(request, service=service, lookup_secret=lookup, now=now)
    return caught.value


def on_the_wire(
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    method: str = "GET",
    body: bytes | None = None,
    bucket: str | None = None,
) -> AuthRequest:
    """What a server receives for `url`: raw path and query, headers plus Host."""
    parts = urlsplit(url)
    pairs = [("Host", parts.netloc), *headers]
    return AuthRequest.from_wire(method, parts.path, parts.query, pairs, body=body, bucket=bucket)


def sign(auth: object, method: str, url: str, **kwargs: object) -> AuthRequest:
    """Sign an AWSRequest with a botocore signer and return it as the server sees it."""
    bucket = kwargs.pop("bucket", None)
    request = AWSRequest(method=method, url=url, **kwargs)  # type: ignore[arg-type]
    if bucket:
        # botocore signs the full /bucket/key path for virtual-hosted requests.
        request.auth_path = f"/{bucket}{urlsplit(url).path}"
    auth.add_auth(request)  # type: ignore[attr-defined]
    prepared = request.prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    return on_the_wire(
        prepared.url, list(request.headers.items()), method=method, body=body or b"", bucket=bucket
    )


def s3_url(key: str, host: str = "127.0.0.1:8789", bucket: str = "bkt") -> str:
    # botocore's rest serializer encodes a greedy key label with safe="/~".
    return f"http://{host}/{bucket}/{percent_encode(key, safe='/~')}"


def tampered(request: AuthRequest, **changes: object) -> AuthRequest:
    return replace(request, **changes)  # type: ignore[arg-type]


class FixedPayloadS3Auth(S3SigV4Auth):
    """S3SigV4Auth declaring a given x-amz-content-sha256 token (botocore itself only emits
    literal hashes, UNSIGNED-PAYLOAD and STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""

    def __init__(self, token: str) -> None:
        super().__init__(CREDENTIALS, "s3", REGION)
        self.token = token

    def payload(self, request: AWSRequest) -> str:
        return self.token


@contextmanager
def botocore_clock(moment: datetime) -> Iterator[None]:
    """botocore's SigV4 signers (headers and presigned URLs) sign as if it were `moment`: a
    client clock that is off, or a presigned URL already expired without sleeping until it is.
    No option sets their clock; they read it through `get_current_datetime`, imported into
    botocore.auth and, for the AWS Common Runtime's signers that botocore uses instead when
    awscrt is installed (it is: see pyproject.toml), into botocore.crt.auth."""
    utc = moment.astimezone(UTC)

    def clock(remove_tzinfo: bool = True) -> datetime:
        return utc.replace(tzinfo=None) if remove_tzinfo else utc

    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch.object(botocore.auth, "get_current_datetime", clock))
        if botocore.compat.HAS_CRT:
            crt_auth = importlib.import_module("botocore.crt.auth")
            patches.enter_context(mock.patch.object(crt_auth, "get_current_datetime", clock))
        yield


def s3_client(**config: object) -> object:
    return boto3.client(
        "s3",
        endpoint_url=config.pop("endpoint_url", "http://127.0.0.1:8789"),
        region_name=config.pop("region_name", REGION),
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=Config(**config),  # type: ignore[arg-type]
    )
