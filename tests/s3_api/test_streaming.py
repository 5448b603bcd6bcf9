"""Streamed bodies: aws-chunked uploads (unsigned with trailer, as boto3 sends over HTTPS, and
chunk-signed, as other SDKs send), payload hash checks, and flat server memory."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import sys
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import REGION, S3Server, error_of, signed_request

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def force_trailing_checksum(params: dict[str, Any], **_: Any) -> None:
    """Make boto3 send what it sends over HTTPS (aws-chunked + trailing CRC32) over HTTP."""
    algorithm = params["context"].get("checksum", {}).get("request_algorithm")
    if algorithm:
        algorithm["in"] = "trailer"


def test_boto3_aws_chunked_upload_with_trailing_checksum(s3: BaseClient, bucket: str) -> None:
    sent: dict[str, Any] = {}
    s3.meta.events.register("before-call.s3.PutObject", force_trailing_checksum)
    # Names lowercased: botocore's signer with awscrt installed (the CRT one) sends them so.
    s3.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.update({k.lower(): v for k, v in request.headers.items()}),
    )
    data = bytes(range(256)) * 12_000  # 3 MB: several 1 MiB aws-chunked chunks
    put = s3.put_object(Bucket=bucket, Key="chunked", Body=io.BytesIO(data))
    assert sent["x-amz-content-sha256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert sent["content-encoding"] == b"aws-chunked"
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert put["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["ContentLength"] == len(data)
    assert got["Body"].read() == data  # the framing was decoded, never stored
    assert "ContentEncoding" not in got


def sign_v4(
    server: S3Server, path: str, headers: dict[str, str], payload: str
) -> tuple[dict[str, str], bytes, str, str]:
    """SigV4 for a PUT, written from the spec: (headers, signing key, seed signature, scope)."""
    now = dt.datetime.now(dt.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    headers = {
        **{name.lower(): value for name, value in headers.items()},
        "host": server.url.removeprefix("http://"),
        "x-amz-date": amz_date,
        "x-amz-content-sha256": payload,
    }
    names = sorted(headers)
    canonical = "\n".join(
        [
            "PUT",
            path,
            "",
            "".join(f"{name}:{headers[name]}\n" for name in names),
            ";".join(names),
            payload,
        ]
    )
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + server.admin.secret_key).encode()
    for part in (amz_date[:8], REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={server.admin.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return headers, key, signature, scope


def chunk_signed_put(
    server: S3Server, bucket: str, key: str, data: bytes, *, tamper: bool = False
) -> httpx.Response:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload in 64 KiB chunks, as the Java/Go SDKs do."""
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)] + [b""]
    framing_size = sum(len(f"{len(c):x};chunk-signature=") + 64 + 4 + len(c) for c in chunks)
    headers, signing_key, previous, scope = sign_v4(
        server,
        f"/{bucket}/{key}",
        {
            "content-encoding": "aws-chunked",
            "content-length": str(framing_size),
            "x-amz-decoded-content-length": str(len(data)),
        },
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    )
    amz_date = headers["x-amz-date"]
    body = bytearray()
    for index, chunk in enumerate(chunks):
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                amz_date,
                scope,
                previous,
                EMPTY_SHA256,
                hashlib.sha256(chunk).hexdigest(),
            ]
        )
        previous = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        sent = chunk
        if tamper and index == 1:
            sent = bytes([chunk[0] ^ 1]) + chunk[1:]
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    assert len(body) == framing_size
    return httpx.put(f"{server.url}/{bucket}/{key}", headers=headers, content=bytes(body))


def test_chunk_signed_upload(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    data = bytes(range(256)) * 1000  # 256,000 bytes: four chunks and a final one
    response = chunk_signed_put(s3_server, bucket, "signed-chunks", data)
    assert response.status_code == 200, response.text
    assert s3.get_object(Bucket=bucket, Key="signed-chunks")["Body"].read() == data


def test_a_tampered_chunk_is_refused_and_not_stored(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="target", Body=b"previous version")
    data = bytes(range(256)) * 1000
    response = chunk_signed_put(s3_server, bucket, "target", data, tamper=True)
    assert response.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in response.content
    assert s3.get_object(Bucket=bucket, Key="target")["Body"].read() == b"previous version"


def test_a_wrong_trailing_checksum_is_refused_and_not_stored(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    data = b"trailing checksum test" * 100
    wrong = base64.b64encode(zlib.crc32(b"something else").to_bytes(4, "big")).decode()
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n"
    body += f"x-amz-checksum-crc32:{wrong}\r\n\r\n".encode()
    headers, *_ = sign_v4(
        s3_server,
        f"/{bucket}/bad-trailer",
        {
            "content-encoding": "aws-chunked",
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-decoded-content-length": str(len(data)),
        },
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    response = httpx.put(f"{s3_server.url}/{bucket}/bad-trailer", headers=headers, content=body)
    assert response.status_code == 400
    assert b"<Code>BadDigest</Code>" in response.content
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="bad-trailer")
    assert error_of(raised) == ("404", 404)


def test_a_body_that_is_not_the_signed_one_is_refused(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    response = signed_request(
        s3_server, "PUT", f"/{bucket}/swapped", body=b"evil body!", signed_body=b"good body!"
    )
    assert response.status_code == 400
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in response.content
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="swapped")


def peak_memory_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_server_memory_stays_flat(
    s3_server: S3Server, s3: BaseClient, bucket: str, tmp_path: Path
) -> None:
    size = 96 * 1024 * 1024
    source = tmp_path / "large.bin"
    with source.open("wb") as file:
        block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
        for index in range(size // len(block)):
            file.write(index.to_bytes(8, "big") + block[8:])
    assert s3_server.process.process is not None
    pid = s3_server.process.process.pid
    before = peak_memory_kib(pid)
    with source.open("rb") as file:
        s3.put_object(Bucket=bucket, Key="large", Body=file)
    digest = hashlib.md5()
    received = 0
    for chunk in s3.get_object(Bucket=bucket, Key="large")["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
        received += len(chunk)
    assert received == size
    with source.open("rb") as file:
        assert digest.hexdigest() == hashlib.file_digest(file, "md5").hexdigest()
    grown_mib = (peak_memory_kib(pid) - before) / 1024
    assert grown_mib < 40, f"server peak memory grew {grown_mib:.0f} MiB for a 96 MiB object"
