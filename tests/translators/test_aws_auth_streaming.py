"""Streaming uploads (aws-chunked): chunk and trailer signatures, checked against the
signature specification and AWS's published examples.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from tests.support.aws_signing import (
    REGION,
    SECRET,
    FixedPayloadS3Auth,
    check,
    s3_url,
    sign,
    tampered,
)
from translators.aws_auth import (
    AuthRequest,
    AuthResult,
    PayloadMode,
    SignatureMismatch,
    authenticate,
)
from translators.sigv4 import ChunkVerifier


def spec_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = b"AWS4" + secret.encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def spec_chunk_signature(key: bytes, amz_date: str, scope: str, previous: str, data: bytes) -> str:
    """The string to sign from AWS's "Transferring Payload in Multiple Chunks" page."""
    text = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            scope,
            previous,
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(data).hexdigest(),
        ]
    )
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def spec_trailer_signature(
    key: bytes, amz_date: str, scope: str, previous: str, trailer: str
) -> str:
    digest = hashlib.sha256(trailer.encode()).hexdigest()
    text = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous, digest])
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def streaming_upload(mode: PayloadMode) -> tuple[AuthResult, list[bytes], list[str], bytes, str]:
    """A botocore-signed streaming PUT plus its chunk signatures computed per the spec."""
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "70000",
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    request = sign(FixedPayloadS3Auth(mode.value), "PUT", s3_url("big"), headers=headers)
    result = check(tampered(request, body=None), "s3")
    amz_date = request.header("x-amz-date") or ""
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    key = spec_signing_key(SECRET, amz_date[:8], REGION, "s3")
    chunks = [b"a" * 65536, b"b" * 4464, b""]
    signatures, previous = [], request.header("authorization").rsplit("=", 1)[1]  # type: ignore[union-attr]
    for chunk in chunks:
        previous = spec_chunk_signature(key, amz_date, scope, previous, chunk)
        signatures.append(previous)
    trailer = "x-amz-checksum-crc32:AAAAAA==\n"
    return (
        result,
        chunks,
        signatures,
        key,
        spec_trailer_signature(key, amz_date, scope, previous, trailer),
    )


def test_chunk_signatures_verify_and_chain() -> None:
    result, chunks, signatures, _, _ = streaming_upload(PayloadMode.STREAMING_SIGNED)
    assert result.chunk_signing is not None
    verifier = ChunkVerifier(result.chunk_signing)
    for chunk, signature in zip(chunks, signatures, strict=True):
        verifier.chunk(hashlib.sha256(chunk).hexdigest(), signature)

    altered = ChunkVerifier(result.chunk_signing)
    with pytest.raises(SignatureMismatch):
        altered.chunk(hashlib.sha256(b"A" + chunks[0][1:]).hexdigest(), signatures[0])
    reordered = ChunkVerifier(result.chunk_signing)
    with pytest.raises(SignatureMismatch):
        reordered.chunk(hashlib.sha256(chunks[1]).hexdigest(), signatures[1])


def test_trailer_signature() -> None:
    result, chunks, signatures, _, trailer_signature = streaming_upload(
        PayloadMode.STREAMING_SIGNED_TRAILER
    )
    assert result.chunk_signing is not None and result.payload.has_trailer
    verifier = ChunkVerifier(result.chunk_signing)
    for chunk, signature in zip(chunks, signatures, strict=True):
        verifier.chunk(hashlib.sha256(chunk).hexdigest(), signature)
    before_trailer = verifier.previous_signature
    verifier.trailer([("x-amz-checksum-crc32", "AAAAAA==")], trailer_signature)
    verifier.previous_signature = before_trailer
    with pytest.raises(SignatureMismatch):
        verifier.trailer([("x-amz-checksum-crc32", "AAAAAB==")], trailer_signature)


AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_CHUNKS = [b"a" * 65536, b"a" * 1024, b""]


@pytest.mark.parametrize(
    ("mode", "signed_headers", "seed", "chunk_signatures", "trailer"),
    [
        (
            PayloadMode.STREAMING_SIGNED,
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            [
                "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
            ],
            None,
        ),
        (
            PayloadMode.STREAMING_SIGNED_TRAILER,
            "content-encoding;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
            "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            [
                "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
            ],
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
        ),
    ],
)
def test_aws_published_streaming_examples(
    mode: PayloadMode,
    signed_headers: str,
    seed: str,
    chunk_signatures: list[str],
    trailer: str | None,
) -> None:
    """The documented PUT chunkObject.txt examples from the S3 API reference."""
    headers = {
        "Host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": mode.value,
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
        f"s3/aws4_request, SignedHeaders={signed_headers}, Signature={seed}",
        **({"x-amz-trailer": "x-amz-checksum-crc32c"} if trailer else {"Content-Length": "66824"}),
    }
    request = AuthRequest.from_wire("PUT", "/examplebucket/chunkObject.txt", "", headers)
    result = authenticate(
        request,
        service="s3",
        lookup_secret={"AKIAIOSFODNN7EXAMPLE": AWS_EXAMPLE_SECRET}.get,
        now=datetime(2013, 5, 24, 0, 1, tzinfo=UTC),
    )
    assert result.chunk_signing is not None and result.payload is mode
    verifier = ChunkVerifier(result.chunk_signing)
    for chunk, signature in zip(AWS_CHUNKS, chunk_signatures, strict=True):
        verifier.chunk(hashlib.sha256(chunk).hexdigest(), signature)
    if trailer:
        verifier.trailer([("x-amz-checksum-crc32c", "sOO8/Q==")], trailer)
