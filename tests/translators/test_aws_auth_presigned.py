"""SigV4 presigned URLs (query authentication), verified by translators.aws_auth: boto3 and
botocore presigners, EC2 presigned queries, the expiry window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4QueryAuth

from tests.support.aws_signing import (
    CREDENTIALS,
    REGION,
    S3_KEYS,
    check,
    on_the_wire,
    reject,
    s3_client,
    s3_url,
    sign,
    tampered,
)
from translators.aws_auth import InvalidPresign, PayloadMode, PresignExpired, SignatureMismatch


@pytest.mark.parametrize("key", S3_KEYS)
@pytest.mark.parametrize("style", ["path", "virtual"])
def test_boto3_presigned_sigv4(key: str, style: str) -> None:
    client = s3_client(
        endpoint_url="http://s3.example.test:8789",
        signature_version="s3v4",
        s3={"addressing_style": style},
    )
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object",
        Params={"Bucket": "bkt", "Key": key, "ResponseContentDisposition": 'inline; f="a b"'},
        ExpiresIn=900,
    )
    result = check(on_the_wire(url), "s3")
    assert result.presigned and result.payload is PayloadMode.UNSIGNED
    assert result.expires_at == result.signed_at + timedelta(seconds=900)
    other_key = (
        url.replace("/bkt/", "/bkt/x") if style == "path" else url.replace(":8789/", ":8789/x")
    )
    assert isinstance(reject(on_the_wire(other_key), "s3"), SignatureMismatch)


def test_presigned_put_with_botocore_query_signer() -> None:
    request = sign(S3SigV4QueryAuth(CREDENTIALS, "s3", REGION, expires=60), "PUT", s3_url("a b"))
    assert check(tampered(request, body=None, method="PUT"), "s3").presigned
    assert isinstance(reject(tampered(request, method="GET"), "s3"), SignatureMismatch)


def test_ec2_presigned_query() -> None:
    request = sign(
        SigV4QueryAuth(CREDENTIALS, "ec2", REGION, expires=60),
        "GET",
        "http://127.0.0.1:8788/?Action=DescribeRegions&Version=2016-11-15",
    )
    assert check(request, "ec2").presigned


def test_presign_expiry_window() -> None:
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=3600
    )
    now = datetime.now(UTC)
    check(on_the_wire(url), "s3", now=now + timedelta(seconds=3500))
    late = reject(on_the_wire(url), "s3", now=now + timedelta(seconds=3700))
    assert isinstance(late, PresignExpired) and late.message == "Request has expired"
    early = reject(on_the_wire(url), "s3", now=now - timedelta(minutes=20))
    assert isinstance(early, PresignExpired) and "not valid yet" in early.message


@pytest.mark.parametrize(("expires", "ok"), [(604800, True), (604801, False)])
def test_presign_longer_than_a_week_is_refused(expires: int, ok: bool) -> None:
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=expires
    )
    if ok:
        check(on_the_wire(url), "s3")
    else:
        error = reject(on_the_wire(url), "s3")
        assert isinstance(error, InvalidPresign) and error.s3_code == (
            "AuthorizationQueryParametersError"
        )
