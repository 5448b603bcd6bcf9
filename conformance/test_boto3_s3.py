"""boto3 with its default settings against a real cloudgate S3 listener, over HTTP and HTTPS.

boto3 ≥ 1.36 checksums every upload by default (`request_checksum_calculation=when_supported`):
over HTTP it sends `x-amz-checksum-crc32` with a signed body; over HTTPS a file-like body goes
out as an unsigned `aws-chunked` stream with the CRC32 in a trailer (no Content-Length). Both
must store exactly the bytes given. Presigned URLs (SigV4 in the query) are fetched by curl and
httpx, as a browser or a download script would, with their expiry enforced.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from conformance.s3_support import (
    EVERY_ENDPOINT,
    Endpoint,
    bucket_name,
    endpoint_fixture,
    require_tool,
)
from tests.s3_api.conftest import empty_and_delete, error_of
from tests.support.aws_signing import botocore_clock

MiB = 1024 * 1024


endpoint = endpoint_fixture(*EVERY_ENDPOINT)


@pytest.fixture
def s3(endpoint: Endpoint) -> BaseClient:
    return endpoint.client()


@pytest.fixture
def bucket(s3: BaseClient) -> Iterator[str]:
    name = bucket_name("boto3")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


def crc32_header(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_default_checksums_put_get_list_delete(
    endpoint: Endpoint, s3: BaseClient, bucket: str
) -> None:
    as_bytes = os.urandom(100_000)
    as_file = os.urandom(300_001)
    put = s3.put_object(Bucket=bucket, Key="bytes.bin", Body=as_bytes)
    sent: dict[str, bytes] = {}
    s3.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.update({k.lower(): v for k, v in request.headers.items()}),
    )
    # A file-like body: over HTTPS boto3 streams it as unsigned aws-chunked with a trailer.
    put_file = s3.put_object(Bucket=bucket, Key="dir/file.bin", Body=io.BytesIO(as_file))
    if endpoint.secure:
        assert sent["x-amz-content-sha256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert sent["content-encoding"] == b"aws-chunked"
        assert sent["x-amz-trailer"] == b"x-amz-checksum-crc32"
    else:
        assert sent["x-amz-checksum-crc32"] == crc32_header(as_file).encode()
    assert put["ETag"] == f'"{hashlib.md5(as_bytes).hexdigest()}"'
    assert put_file["ETag"] == f'"{hashlib.md5(as_file).hexdigest()}"'
    assert put_file["ChecksumCRC32"] == crc32_header(as_file)

    got = s3.get_object(Bucket=bucket, Key="dir/file.bin")
    assert got["ContentLength"] == len(as_file)
    assert got["Body"].read() == as_file  # no chunk framing stored with the object
    head = s3.head_object(Bucket=bucket, Key="bytes.bin")
    assert (head["ContentLength"], head["ETag"]) == (len(as_bytes), put["ETag"])
    ranged = s3.get_object(Bucket=bucket, Key="bytes.bin", Range="bytes=10-19")
    assert ranged["Body"].read() == as_bytes[10:20]

    listed = s3.list_objects_v2(Bucket=bucket)
    assert {(o["Key"], o["Size"]) for o in listed["Contents"]} == {
        ("bytes.bin", len(as_bytes)),
        ("dir/file.bin", len(as_file)),
    }
    by_folder = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in by_folder["CommonPrefixes"]] == ["dir/"]

    s3.delete_object(Bucket=bucket, Key="bytes.bin")
    # DeleteObjects: boto3 sends a CRC32 of the document instead of Content-MD5.
    deleted = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "dir/file.bin"}, {"Key": "never-was"}]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["dir/file.bin", "never-was"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="bytes.bin")
    assert error_of(raised) == ("404", 404)


def test_a_wrong_checksum_is_refused(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.put_object(
            Bucket=bucket, Key="bad", Body=b"actual bytes", ChecksumCRC32=crc32_header(b"other")
        )
    assert error_of(raised) == ("BadDigest", 400)
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="bad")
    assert error_of(raised) == ("404", 404)


def test_upload_file_and_download_file(s3: BaseClient, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(2 * MiB + 17))
    # Below the threshold: one PutObject from a file (aws-chunked over HTTPS).
    s3.upload_file(str(source), bucket, "small.bin", Config=TransferConfig(max_concurrency=2))
    back = tmp_path / "small-back.bin"
    s3.download_file(bucket, "small.bin", str(back))
    assert back.read_bytes() == source.read_bytes()

    large = tmp_path / "large.bin"
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(MiB + 3)]
    large.write_bytes(b"".join(parts))
    config = TransferConfig(
        multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2
    )
    s3.upload_file(str(large), bucket, "large.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="large.bin")
    part_digests = b"".join(hashlib.md5(part).digest() for part in parts)
    assert head["ETag"] == f'"{hashlib.md5(part_digests).hexdigest()}-3"'
    assert head["ContentLength"] == large.stat().st_size
    back = tmp_path / "large-back.bin"
    s3.download_file(bucket, "large.bin", str(back), Config=config)
    assert back.read_bytes() == large.read_bytes()


def test_presigned_get_and_put(endpoint: Endpoint, s3: BaseClient, bucket: str) -> None:
    presigner = endpoint.client(signature_version="s3v4")
    verify = endpoint.verify
    put_url = presigner.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "shared/report.txt"}, ExpiresIn=300
    )
    uploaded = httpx.put(put_url, content=b"uploaded by httpx\n", verify=verify, timeout=30)
    assert uploaded.status_code == 200, uploaded.text
    assert s3.get_object(Bucket=bucket, Key="shared/report.txt")["Body"].read() == (
        b"uploaded by httpx\n"
    )

    get_url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared/report.txt"}, ExpiresIn=300
    )
    fetched = httpx.get(get_url, verify=verify, timeout=30)
    assert (fetched.status_code, fetched.content) == (200, b"uploaded by httpx\n")
    curl = [require_tool("curl"), "--silent", "--show-error", "--fail"]
    if endpoint.ca_bundle:
        curl += ["--cacert", endpoint.ca_bundle]
    by_curl = subprocess.run([*curl, get_url], capture_output=True, timeout=30, check=True)
    assert by_curl.stdout == b"uploaded by httpx\n"

    # The URL is the credential: another key, a longer expiry, a tampered signature all fail.
    tampered = httpx.get(get_url.replace("report.txt", "other.txt"), verify=verify, timeout=30)
    assert (tampered.status_code, code_of(tampered)) == (403, "SignatureDoesNotMatch")


def test_presigned_expiry_is_enforced(endpoint: Endpoint, s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    presigner = endpoint.client(signature_version="s3v4")
    verify = endpoint.verify
    params = {"Bucket": bucket, "Key": "k"}
    # Signed ten seconds ago, valid for the shortest time SigV4 allows: expired nine seconds ago.
    with botocore_clock(datetime.now(UTC) - timedelta(seconds=10)):
        short = presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=1)
    expired = httpx.get(short, verify=verify, timeout=30)
    assert (expired.status_code, code_of(expired)) == (403, "AccessDenied")
    assert b"Request has expired" in expired.content

    week = presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=604800)
    assert httpx.get(week, verify=verify, timeout=30).content == b"v"
    too_long = presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=604801)
    refused = httpx.get(too_long, verify=verify, timeout=30)
    assert (refused.status_code, code_of(refused)) == (400, "AuthorizationQueryParametersError")


def test_another_tenant_cannot_use_or_sign_for_the_bucket(
    endpoint: Endpoint, s3: BaseClient, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="private", Body=b"mine")
    other = endpoint.client(endpoint.create_tenant("boto3-other"), signature_version="s3v4")
    with pytest.raises(ClientError) as raised:
        other.get_object(Bucket=bucket, Key="private")
    assert error_of(raised) == ("AccessDenied", 403)
    url = other.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "private"})
    denied = httpx.get(url, verify=endpoint.verify, timeout=30)
    assert (denied.status_code, code_of(denied)) == (403, "AccessDenied")


def code_of(response: httpx.Response) -> str:
    """The `<Code>` of an S3 XML error document."""
    text = response.text
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""
