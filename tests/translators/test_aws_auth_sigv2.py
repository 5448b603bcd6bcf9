"""SigV2 for S3 (HMAC-SHA1 headers and query strings) and for EC2, made by botocore and
boto3, verified by translators.aws_auth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from urllib.parse import quote

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth, SigV2Auth
from botocore.utils import percent_encode

from tests.support.aws_signing import (
    ACCESS_KEY,
    CREDENTIALS,
    S3_KEYS,
    SECRET,
    check,
    on_the_wire,
    reject,
    s3_client,
    s3_url,
    sign,
    tampered,
)
from translators.aws_auth import PresignExpired, RequestTimeSkewed, SignatureMismatch


@pytest.mark.parametrize("key", S3_KEYS)
@pytest.mark.parametrize(
    "query",
    [
        "",
        "acl",
        "uploads",
        "delete=",
        "uploadId=abc%2Bdef&partNumber=3",
        "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22"
        "&response-content-type=text%2Fplain",
        "versionId=v1&prefix=not-a-subresource&max-keys=3",
    ],
)
def test_s3_sigv2_header(key: str, query: str) -> None:
    url = s3_url(key) + ("?" + query if query else "")
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-MD5": base64.b64encode(hashlib.md5(b"x").digest()).decode(),
        "x-amz-meta-Note": " padded ",
        "x-amz-acl": "private",
    }
    result = check(sign(HmacV1Auth(CREDENTIALS), "PUT", url, data=b"x", headers=headers), "s3")
    assert (result.signature_version, result.region) == (2, None)


@pytest.mark.parametrize("key", ["k", "a b/ü", ""])
def test_s3_sigv2_virtual_hosted_signs_the_bucket(key: str) -> None:
    url = f"http://bkt.s3.example.test:8789/{percent_encode(key, safe='/~')}"
    request = sign(HmacV1Auth(CREDENTIALS), "GET", url, bucket="bkt")
    check(request, "s3")
    assert isinstance(reject(tampered(request, bucket="other"), "s3"), SignatureMismatch)


def test_s3_sigv2_with_x_amz_date_and_empty_date_line() -> None:
    """s3cmd sends x-amz-date and no Date, and signs an empty Date line (AWS's rule)."""
    amz_date = formatdate(usegmt=True)
    string_to_sign = f"GET\n\n\n\nx-amz-date:{amz_date}\n/bkt/a%20b?acl"
    signature = base64.b64encode(
        hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    headers = [("x-amz-date", amz_date), ("Authorization", f"AWS {ACCESS_KEY}:{signature}")]
    check(on_the_wire("http://127.0.0.1:8789/bkt/a%20b?acl", headers), "s3")


def test_s3_sigv2_with_both_date_headers_signs_an_empty_date_line() -> None:
    """AWS: "if you include the x-amz-date header, use the empty string for the Date"."""
    date = formatdate(usegmt=True)
    string_to_sign = f"GET\n\n\n\nx-amz-date:{date}\n/bkt/k"
    signature = base64.b64encode(
        hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    headers = [
        ("Date", date),
        ("x-amz-date", date),
        ("Authorization", f"AWS {ACCESS_KEY}:{signature}"),
    ]
    check(on_the_wire("http://127.0.0.1:8789/bkt/k", headers), "s3")


def test_s3_sigv2_header_clock_skew() -> None:
    request = sign(HmacV1Auth(CREDENTIALS), "GET", s3_url("k"))
    check(request, "s3", now=datetime.now(UTC) + timedelta(minutes=14))
    late = reject(request, "s3", now=datetime.now(UTC) + timedelta(minutes=16))
    assert isinstance(late, RequestTimeSkewed) and late.s3_code == "RequestTimeTooSkewed"


@pytest.mark.parametrize("style", ["path", "virtual"])
@pytest.mark.parametrize("key", ["plain", "a b/ü+~=x"])
def test_boto3_default_presign_is_sigv2(style: str, key: str) -> None:
    """In us-east-1 boto3 presigns S3 URLs with SigV2 unless signature_version="s3v4" is set."""
    client = s3_client(
        endpoint_url="http://s3.example.test:8789",
        region_name="us-east-1",
        s3={"addressing_style": style},
    )
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": key, "ResponseContentType": "a/b"}
    )
    assert "AWSAccessKeyId=" in url
    request = on_the_wire(url, bucket="bkt" if style == "virtual" else None)
    result = check(request, "s3")
    assert result.presigned and result.signature_version == 2
    assert isinstance(
        reject(request, "s3", now=result.expires_at + timedelta(seconds=1)), PresignExpired
    )


def test_s3_sigv2_query_signature_with_an_unencoded_plus() -> None:
    """Some tools paste the base64 signature into the URL as is; '+' must not become ' '."""
    for expires in range(2_000_000_000, 2_000_001_000):
        digest = hmac.new(SECRET.encode(), f"GET\n\n\n{expires}\n/bkt/k".encode(), hashlib.sha1)
        signature = base64.b64encode(digest.digest()).decode()
        if "+" in signature:
            break
    url = f"http://127.0.0.1:8789/bkt/k?AWSAccessKeyId={ACCESS_KEY}&Expires={expires}"
    request = on_the_wire(f"{url}&Signature={signature}")
    check(request, "s3", now=datetime.fromtimestamp(expires - 60, UTC))


def test_s3_sigv2_query_signer_with_headers_moved_to_query() -> None:
    request = sign(
        HmacV1QueryAuth(CREDENTIALS, expires=60),
        "PUT",
        s3_url("k"),
        headers={"Content-Type": "text/plain", "x-amz-acl": "public-read"},
    )
    check(tampered(request, headers={"host": request.headers["host"]}), "s3")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_ec2_sigv2_botocore(method: str) -> None:
    params = {"Action": "DescribeImages", "Owner.1": "self", "Filter.1.Value.1": "a b+c~ü*"}
    kwargs: dict[str, object] = (
        {"params": params}
        if method == "GET"
        else {
            "data": params,
            "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        }
    )
    request = sign(SigV2Auth(CREDENTIALS), method, "http://127.0.0.1:8788/", **kwargs)
    result = check(request, "ec2")
    assert result.signature_version == 2
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert isinstance(reject(request, "ec2", now=later), RequestTimeSkewed)


@pytest.mark.parametrize("signed_host", ["EC2.Example.Test:8788", "ec2.example.test:8788"])
def test_ec2_sigv2_hmac_sha1(signed_host: str) -> None:
    """AWS signs the lowercased Host; botocore and libcloud sign it as configured."""
    params = {
        "Action": "DescribeRegions",
        "AWSAccessKeyId": ACCESS_KEY,
        "SignatureVersion": "2",
        "SignatureMethod": "HmacSHA1",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    query = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items())
    )
    string_to_sign = f"GET\n{signed_host}\n/\n{query}"
    digest = hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1)
    signature = quote(base64.b64encode(digest.digest()).decode(), safe="")
    check(on_the_wire(f"http://EC2.Example.Test:8788/?{query}&Signature={signature}"), "ec2")
