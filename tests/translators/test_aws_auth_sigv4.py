"""SigV4 in the Authorization header, verified by translators.aws_auth: S3 paths and
queries, payload hashes and tokens, EC2 path normalisation and form bodies.
"""

from __future__ import annotations

import hashlib

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest

from tests.support.aws_signing import (
    CREDENTIALS,
    REGION,
    S3_KEYS,
    FixedPayloadS3Auth,
    check,
    lookup,
    reject,
    s3_url,
    sign,
    tampered,
)
from translators.aws_auth import (
    MalformedAuthorization,
    PayloadHashMismatch,
    PayloadMode,
    SignatureMismatch,
    authenticate,
)


@pytest.mark.parametrize("key", S3_KEYS)
@pytest.mark.parametrize(
    "params",
    [
        None,
        {"prefix": "a b+c~d/é", "delimiter": "/"},
        {"versionId": ""},
        [("tag", "2"), ("tag", "1"), ("Tag", "0")],
    ],
)
def test_s3_header_sigv4_paths_and_queries(key: str, params: object) -> None:
    request = sign(
        S3SigV4Auth(CREDENTIALS, "s3", REGION),
        "PUT",
        s3_url(key),
        data=b"object body",
        params=params,
        headers={"x-amz-meta-note": "  lots   of   spaces ", "Content-Type": "text/plain"},
    )
    result = check(request, "s3")
    assert (result.region, result.service, result.signature_version) == (REGION, "s3", 4)
    assert result.payload is PayloadMode.SIGNED


@pytest.mark.parametrize("query", ["acl", "uploads", "acl=", "uploadId=abc%2Bdef&partNumber=2"])
def test_s3_header_sigv4_subresource_in_url(query: str) -> None:
    request = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k") + "?" + query)
    check(request, "s3")


def test_s3_path_signed_as_sent_or_in_rfc3986_form() -> None:
    as_sent = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k").replace("k", "a!b'c"))
    check(as_sent, "s3")
    # A client may send `!` and `'` unencoded yet sign the RFC 3986 encoding of the key.
    encoded = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("a!b'c"))
    assert encoded.path == "/bkt/a%21b%27c"
    check(tampered(encoded, path="/bkt/a!b'c"), "s3")


def test_s3_header_sigv4_repeated_header_values_are_joined() -> None:
    headers = AWSRequest().headers
    headers["X-Amz-Meta-Multi"] = "first"
    headers["X-Amz-Meta-Multi"] = "second"
    request = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k"), headers=headers)
    assert request.headers["x-amz-meta-multi"] == ("first", "second")
    check(request, "s3")


def test_s3_sigv4_with_date_header_instead_of_x_amz_date() -> None:
    request = sign(
        S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k"), headers={"Date": "x"}
    )
    assert request.header("x-amz-date") is None and request.header("date")
    check(request, "s3")


def test_s3_sigv4_body_hash_is_checked_when_the_body_is_at_hand() -> None:
    request = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "PUT", s3_url("k"), data=b"hello")
    with pytest.raises(PayloadHashMismatch):
        authenticate(tampered(request, body=b"hellO"), service="s3", lookup_secret=lookup)
    # Streaming front ends pass no body: the signed hash comes back to be checked later.
    result = check(tampered(request, body=None), "s3")
    assert result.expected_content_sha256 == hashlib.sha256(b"hello").hexdigest()


@pytest.mark.parametrize("mode", [m for m in PayloadMode if m is not PayloadMode.SIGNED])
def test_s3_sigv4_payload_tokens(mode: PayloadMode) -> None:
    request = sign(FixedPayloadS3Auth(mode.value), "PUT", s3_url("k"), data=b"ignored")
    result = check(tampered(request, body=None), "s3")
    assert result.payload is mode
    assert result.expected_content_sha256 is None
    assert (result.chunk_signing is not None) == mode.chunk_signed


def test_s3_sigv4_unknown_payload_token_is_malformed() -> None:
    request = sign(
        FixedPayloadS3Auth("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"), "PUT", s3_url("k")
    )
    assert isinstance(reject(tampered(request, body=None), "s3"), MalformedAuthorization)


@pytest.mark.parametrize(
    "path", ["/", "/a%20b", "/x/./y/../z", "//double//slash/", "/%7Euser/~tilde", "/%C3%BC+"]
)
def test_ec2_sigv4_normalizes_and_double_encodes_the_path(path: str) -> None:
    request = sign(SigV4Auth(CREDENTIALS, "ec2", REGION), "GET", f"http://127.0.0.1:8788{path}")
    check(request, "ec2")


def test_ec2_sigv4_form_post_and_tampered_body() -> None:
    body = (
        "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b"
    )
    request = sign(
        SigV4Auth(CREDENTIALS, "ec2", REGION),
        "POST",
        "http://127.0.0.1:8788/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert check(request, "ec2").payload is PayloadMode.SIGNED
    forged = body.replace("a+b", "evil").encode()
    assert isinstance(reject(tampered(request, body=forged), "ec2"), SignatureMismatch)


def test_ec2_unsigned_payload_only_with_an_empty_body() -> None:
    request = sign(
        SigV4Auth(CREDENTIALS, "ec2", REGION),
        "POST",
        "http://127.0.0.1:8788/",
        headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    check(request, "ec2")
    with pytest.raises(PayloadHashMismatch):
        authenticate(
            tampered(request, body=b"Action=RunInstances"), service="ec2", lookup_secret=lookup
        )
