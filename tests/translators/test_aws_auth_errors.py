"""The error paths of translators.aws_auth: a tampered signature, unknown keys, clock skew,
malformed or doubled credentials, incomplete presigned URLs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import HmacV1Auth, S3SigV4Auth

from tests.support.aws_signing import (
    ACCESS_KEY,
    CREDENTIALS,
    REGION,
    SECRET,
    check,
    on_the_wire,
    reject,
    s3_client,
    s3_url,
    sign,
    tampered,
)
from translators.aws_auth import (
    AuthError,
    AuthRequest,
    HeadersNotSigned,
    InvalidPresign,
    MalformedAuthorization,
    MissingCredentials,
    PayloadHashMismatch,
    PresignExpired,
    RequestTimeSkewed,
    SignatureMismatch,
    UnknownAccessKey,
    authenticate,
)


def fresh_s3_request() -> AuthRequest:
    return sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k"))


def test_tampered_signature_reports_the_canonical_request() -> None:
    request = fresh_s3_request()
    authorization = request.header("authorization") or ""
    flipped = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
    headers = {**request.headers, "authorization": (flipped,)}
    error = reject(tampered(request, headers=headers), "s3")
    assert isinstance(error, SignatureMismatch) and error.s3_code == "SignatureDoesNotMatch"
    assert error.canonical_request.startswith("GET\n/bkt/k\n")
    assert error.string_to_sign.startswith("AWS4-HMAC-SHA256\n")
    assert SECRET not in repr(vars(error))


def test_unknown_access_key() -> None:
    with pytest.raises(UnknownAccessKey) as caught:
        authenticate(fresh_s3_request(), service="s3", lookup_secret=lambda _: None)
    assert caught.value.access_key == ACCESS_KEY
    assert (caught.value.s3_code, caught.value.ec2_code) == ("InvalidAccessKeyId", "AuthFailure")


@pytest.mark.parametrize(("minutes", "ok"), [(-14, True), (14, True), (-16, False), (16, False)])
def test_header_clock_skew(minutes: int, ok: bool) -> None:
    request = fresh_s3_request()
    now = datetime.now(UTC) + timedelta(minutes=minutes)
    if ok:
        check(request, "s3", now=now)
    else:
        error = reject(request, "s3", now=now)
        assert isinstance(error, RequestTimeSkewed) and error.ec2_code == "RequestExpired"


def test_unsigned_x_amz_header_is_refused_for_s3() -> None:
    request = fresh_s3_request()
    headers = {**request.headers, "x-amz-acl": ("public-read",)}
    error = reject(tampered(request, headers=headers), "s3")
    assert isinstance(error, HeadersNotSigned) and error.names == ("x-amz-acl",)


def with_authorization(value: str) -> AuthRequest:
    request = fresh_s3_request()
    return tampered(request, headers={**request.headers, "authorization": (value,)})


def test_malformed_authorization_headers() -> None:
    good = fresh_s3_request().header("authorization") or ""
    credential = good.split("Credential=")[1].split(",")[0]
    date = credential.split("/")[1]
    bad = [
        "Bearer abc",
        "AWS4-HMAC-SHA256",
        good.split(", Signature=")[0],
        good.replace("SignedHeaders=", "Headers="),
        good.replace(credential, credential.rsplit("/", 1)[0]),
        good.replace("/aws4_request", "/aws5_request"),
        good.replace("/s3/", "/ec2/"),
        good.replace(f"/{date}/", "/20000101/"),
        good.replace(f"/{date}/", "/2000-1-1/"),
        "AWS no-colon-here",
    ]
    for value in bad:
        error = reject(with_authorization(value), "s3")
        assert isinstance(error, MalformedAuthorization), value
        assert error.s3_code == "AuthorizationHeaderMalformed" and error.message


def test_sigv2_header_is_not_accepted_for_ec2() -> None:
    request = sign(HmacV1Auth(CREDENTIALS), "GET", "http://127.0.0.1:8788/")
    assert isinstance(reject(request, "ec2"), MalformedAuthorization)


def test_missing_and_doubled_credentials() -> None:
    anonymous = on_the_wire(s3_url("k"))
    error = reject(anonymous, "s3")
    assert isinstance(error, MissingCredentials) and error.ec2_code == (
        "MissingAuthenticationToken"
    )
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}
    )
    authorization = fresh_s3_request().header("authorization") or ""
    both = on_the_wire(url, [("Authorization", authorization)])
    assert isinstance(reject(both, "s3"), MalformedAuthorization)


@pytest.mark.parametrize("drop", ["X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"])
def test_presign_with_missing_parameter(drop: str) -> None:
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}
    )
    base, query = url.split("?")
    kept = "&".join(p for p in query.split("&") if not p.startswith(drop + "="))
    assert isinstance(reject(on_the_wire(f"{base}?{kept}"), "s3"), InvalidPresign)


def test_every_error_is_an_auth_error_with_a_message() -> None:
    for error_type in (
        MissingCredentials,
        MalformedAuthorization,
        InvalidPresign,
        UnknownAccessKey,
        SignatureMismatch,
        PayloadHashMismatch,
        HeadersNotSigned,
        RequestTimeSkewed,
        PresignExpired,
    ):
        assert issubclass(error_type, AuthError)
        assert error_type.s3_code and error_type.ec2_code
