"""Additional checksums on both backends: verified on upload (header and aws-chunked
trailer), stored with the object, returned with `x-amz-checksum-mode: ENABLED` and by
GetObjectAttributes; boto3's default configuration round-trips. CRC32C and CRC64NVME are
computed by botocore with awscrt, a dependency of cloudgate (multipart checksums:
test_multipart_checksums.py)."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib

import google_crc32c
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.httpchecksum import CrtCrc64NvmeChecksum

from tests.s3_api.conftest import S3Server, error_of, signed_request
from tests.s3_api.test_streaming import force_trailing_checksum

CONTENT = b"checksummed content " * 5000


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def crc64nvme(data: bytes) -> str:
    """botocore's CRC64NVME, the reference the server is checked against."""
    checksum = CrtCrc64NvmeChecksum()
    checksum.update(data)
    return checksum.b64digest()


EXPECTED = {
    "crc32": b64(zlib.crc32(CONTENT).to_bytes(4, "big")),
    "crc32c": b64(google_crc32c.value(CONTENT).to_bytes(4, "big")),
    "crc64nvme": crc64nvme(CONTENT),
    "sha1": b64(hashlib.sha1(CONTENT).digest()),
    "sha256": b64(hashlib.sha256(CONTENT).digest()),
}


def field(algorithm: str) -> str:
    return "Checksum" + algorithm.upper()


def test_boto3_defaults_round_trip(s3: BaseClient, bucket: str) -> None:
    """PutObject with boto3's default CRC32, GetObject validated by boto3 itself."""
    put = s3.put_object(Bucket=bucket, Key="k", Body=CONTENT)
    assert put["ChecksumCRC32"] == EXPECTED["crc32"]
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == EXPECTED["crc32"]
    assert got["ChecksumType"] == "FULL_OBJECT"
    assert got["Body"].read() == CONTENT
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == EXPECTED["crc32"]
    assert "ChecksumCRC32" not in s3.head_object(Bucket=bucket, Key="k")
    # A streamed upload (file-like body; chunked with a trailer where boto3 chooses so).
    s3.upload_fileobj(io.BytesIO(CONTENT), bucket, "streamed")
    head = s3.head_object(Bucket=bucket, Key="streamed", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == EXPECTED["crc32"]


def test_a_trailing_checksum_is_stored(s3: BaseClient, bucket: str) -> None:
    """aws-chunked with the CRC32 in a trailer (boto3 over HTTPS): known only at the end."""
    s3.meta.events.register("before-call.s3.PutObject", force_trailing_checksum)
    put = s3.put_object(Bucket=bucket, Key="trailer", Body=io.BytesIO(CONTENT))
    assert put["ChecksumCRC32"] == EXPECTED["crc32"]
    head = s3.head_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == EXPECTED["crc32"]
    assert head["ETag"] == f'"{hashlib.md5(CONTENT).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="trailer")["Body"].read() == CONTENT


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "crc32", "crc32c", "crc64nvme"])
def test_each_algorithm_is_stored_and_returned(s3: BaseClient, bucket: str, algorithm: str) -> None:
    put = s3.put_object(
        Bucket=bucket, Key=algorithm, Body=CONTENT, ChecksumAlgorithm=algorithm.upper()
    )
    assert put[field(algorithm)] == EXPECTED[algorithm]
    assert put["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
    assert head[field(algorithm)] == EXPECTED[algorithm]
    # boto3 validates the body against the checksum (it would raise on a mismatch).
    got = s3.get_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
    assert (got[field(algorithm)], got["Body"].read()) == (EXPECTED[algorithm], CONTENT)
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key=algorithm, ObjectAttributes=["Checksum", "ObjectSize", "ETag"]
    )
    assert attributes["Checksum"][field(algorithm)] == EXPECTED[algorithm]
    assert attributes["ObjectSize"] == len(CONTENT)
    assert attributes["ETag"] == hashlib.md5(CONTENT).hexdigest()


@pytest.mark.parametrize(("algorithm", "other"), [("crc32c", "crc32"), ("crc64nvme", "crc32")])
def test_crc_in_a_header(s3_server: S3Server, bucket: str, algorithm: str, other: str) -> None:
    """The header sent by hand: right, of the wrong algorithm's size, and wrong."""
    header = f"x-amz-checksum-{algorithm}"
    headers = {header: EXPECTED[algorithm]}
    response = signed_request(s3_server, "PUT", f"/{bucket}/c", headers=headers, body=CONTENT)
    assert response.status_code == 200, response.text
    assert response.headers[header] == EXPECTED[algorithm]
    head = signed_request(
        s3_server, "HEAD", f"/{bucket}/c", headers={"x-amz-checksum-mode": "ENABLED"}
    )
    assert head.headers[header] == EXPECTED[algorithm]
    wrong = {header: EXPECTED[other]}
    response = signed_request(s3_server, "PUT", f"/{bucket}/c2", headers=wrong, body=CONTENT)
    assert response.status_code == 400
    expected = b"<Code>BadDigest</Code>" if algorithm == "crc32c" else b"<Code>InvalidRequest"
    assert expected in response.content  # a CRC32 is too short for a CRC64NVME
    of_other_content = {
        "crc32c": b64(google_crc32c.value(b"other").to_bytes(4, "big")),
        "crc64nvme": crc64nvme(b"other"),
    }
    wrong = {header: of_other_content[algorithm]}
    response = signed_request(s3_server, "PUT", f"/{bucket}/c3", headers=wrong, body=CONTENT)
    assert b"<Code>BadDigest</Code>" in response.content


def test_a_wrong_checksum_is_bad_digest_and_stores_nothing(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=CONTENT, ChecksumSHA256=EXPECTED["sha1"])
    assert error_of(raised) == ("InvalidRequest", 400)  # a SHA-1 is too short for SHA-256
    wrong = b64(hashlib.sha256(b"other").digest())
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=CONTENT, ChecksumSHA256=wrong)
    assert error_of(raised) == ("BadDigest", 400)
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(raised)[1] == 404


def test_two_checksums_are_refused(s3_server: S3Server, bucket: str) -> None:
    headers = {
        "x-amz-checksum-crc32": EXPECTED["crc32"],
        "x-amz-checksum-sha1": EXPECTED["sha1"],
    }
    response = signed_request(s3_server, "PUT", f"/{bucket}/k", headers=headers, body=CONTENT)
    assert response.status_code == 400
    assert b"<Code>InvalidRequest</Code>" in response.content


def test_ranges_carry_no_whole_object_checksum(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=CONTENT)
    got = s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" not in got
    assert got["Body"].read() == CONTENT[:10]


def test_copies_keep_the_checksum(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=CONTENT, ChecksumAlgorithm="SHA256")
    copied = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
    assert copied["CopyObjectResult"]["ChecksumSHA256"] == EXPECTED["sha256"]
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == EXPECTED["sha256"]


def test_checksums_are_not_user_metadata(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=CONTENT, Metadata={"a": "b"})
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"a": "b"}
    assert s3.get_object(Bucket=bucket, Key="k")["Metadata"] == {"a": "b"}


def test_object_attributes(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=CONTENT)
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=["StorageClass", "ObjectParts", "ObjectSize"]
    )
    assert attributes["StorageClass"] == "STANDARD"
    assert attributes["ObjectSize"] == len(CONTENT)
    assert "ObjectParts" not in attributes  # a simple object has no parts
    assert "ETag" not in attributes
    assert attributes["LastModified"]
    with pytest.raises(ClientError) as raised:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Colour"])
    assert error_of(raised) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
    assert error_of(raised) == ("NoSuchKey", 404)
