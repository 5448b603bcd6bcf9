"""Objects through boto3: put, get (whole, ranges, conditions), head, delete, transfers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import zlib
from pathlib import Path

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import error_of

CONTENT = b"0123456789abcdefghij"


def test_put_get_round_trip(s3: BaseClient, bucket: str) -> None:
    put = s3.put_object(
        Bucket=bucket,
        Key="docs/readme.txt",
        Body=CONTENT,
        ContentType="text/plain; charset=utf-8",
        Metadata={"colour": "blue", "owner-name": "Ada"},
    )
    etag = f'"{hashlib.md5(CONTENT).hexdigest()}"'
    assert put["ETag"] == etag
    got = s3.get_object(Bucket=bucket, Key="docs/readme.txt")
    assert got["Body"].read() == CONTENT
    assert got["ETag"] == etag
    assert got["ContentLength"] == len(CONTENT)
    assert got["ContentType"] == "text/plain; charset=utf-8"
    assert got["Metadata"] == {"colour": "blue", "owner-name": "Ada"}
    assert abs(got["LastModified"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)


def test_head_object(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=CONTENT, Metadata={"a": "1"})
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ContentLength"] == len(CONTENT)
    assert head["ETag"] == f'"{hashlib.md5(CONTENT).hexdigest()}"'
    assert head["Metadata"] == {"a": "1"}
    assert head["ContentType"] == "application/octet-stream"
    assert head["AcceptRanges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-4", CONTENT[0:5], "bytes 0-4/20"),
        ("bytes=15-", CONTENT[15:], "bytes 15-19/20"),
        ("bytes=-3", CONTENT[-3:], "bytes 17-19/20"),
        ("bytes=10-1000", CONTENT[10:], "bytes 10-19/20"),
        ("bytes=-1000", CONTENT, "bytes 0-19/20"),
    ],
)
def test_ranges(
    s3: BaseClient, bucket: str, header: str, expected: bytes, content_range: str
) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=CONTENT)
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(expected)
    assert got["Body"].read() == expected


@pytest.mark.parametrize("header", ["bytes=20-", "bytes=100-200", "bytes=-0"])
def test_unsatisfiable_range(s3: BaseClient, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=CONTENT)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert error_of(raised) == ("InvalidRange", 416)


def test_a_malformed_range_means_the_whole_object(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=CONTENT)
    got = s3.get_object(Bucket=bucket, Key="r", Range="lines=1-2")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == CONTENT


def test_missing_key(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="absent")
    assert error_of(raised) == ("NoSuchKey", 404)
    assert raised.value.response["Error"]["Key"] == "absent"
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="absent")
    assert error_of(raised) == ("404", 404)


def test_delete_object(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    deleted = s3.delete_object(Bucket=bucket, Key="gone")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="gone")
    assert error_of(raised) == ("NoSuchKey", 404)
    # S3 semantics: deleting what is not there succeeds.
    again = s3.delete_object(Bucket=bucket, Key="gone")
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_overwrite_replaces(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"v": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"second version")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second version"
    assert got["Metadata"] == {}


def test_empty_object(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0
    assert got["Body"].read() == b""
    assert got["ETag"] == f'"{hashlib.md5(b"").hexdigest()}"'


@pytest.mark.parametrize(
    "key",
    ["dir/ü ñ+%&=?#.txt", "a/../b", "./dot", "trailing/", "sp ace", "emoji-😀", "x" * 1024],
)
def test_unusual_keys(s3: BaseClient, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listed["Contents"]] == [key]


def test_key_too_long(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="x" * 1025, Body=b"x")
    assert error_of(raised) == ("KeyTooLongError", 400)


def test_upload_and_download_file(s3: BaseClient, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 20_000)  # 5 MB: single part (threshold 8 MiB)
    s3.upload_file(str(source), bucket, "files/source.bin")
    target = tmp_path / "target.bin"
    s3.download_file(bucket, "files/source.bin", str(target))
    assert target.read_bytes() == source.read_bytes()
    head = s3.head_object(Bucket=bucket, Key="files/source.bin")
    assert head["ETag"] == f'"{hashlib.md5(source.read_bytes()).hexdigest()}"'


def test_wrong_content_md5_is_refused_and_not_stored(s3: BaseClient, bucket: str) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"payload", ContentMD5=wrong)
    assert error_of(raised) == ("BadDigest", 400)
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="md5")
    assert error_of(raised) == ("404", 404)


def test_checksum_crc32(s3: BaseClient, bucket: str) -> None:
    crc = base64.b64encode(zlib.crc32(b"payload").to_bytes(4, "big")).decode()
    put = s3.put_object(Bucket=bucket, Key="crc", Body=b"payload", ChecksumCRC32=crc)
    assert put["ChecksumCRC32"] == crc
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="crc-wrong", Body=b"payload", ChecksumCRC32=wrong)
    assert error_of(raised) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="crc-wrong")


def test_conditional_requests(s3: BaseClient, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=CONTENT)["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == CONTENT
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert error_of(raised) == ("304", 304)


def test_response_header_overrides(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="report.csv", Body=b"a,b\n")
    got = s3.get_object(
        Bucket=bucket,
        Key="report.csv",
        ResponseContentType="text/csv",
        ResponseContentDisposition='attachment; filename="report.csv"',
    )
    assert got["ContentType"] == "text/csv"
    assert got["ContentDisposition"] == 'attachment; filename="report.csv"'
