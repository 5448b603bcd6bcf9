"""Conditional requests on both backends: GET/HEAD with If-Match, If-None-Match,
If-Modified-Since, If-Unmodified-Since (S3's precedence), conditional PUT, and partNumber."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from email.utils import format_datetime
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import S3Server, error_of, signed_request

CONTENT = b"conditional content"
ETAG = f'"{hashlib.md5(CONTENT).hexdigest()}"'


@pytest.fixture
def stored(s3: BaseClient, bucket: str) -> dt.datetime:
    s3.put_object(Bucket=bucket, Key="k", Body=CONTENT)
    modified: dt.datetime = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    return modified


def status_of(s3: BaseClient, bucket: str, method: str, **conditions: Any) -> int:
    call = s3.get_object if method == "GET" else s3.head_object
    try:
        response = call(Bucket=bucket, Key="k", **conditions)
    except ClientError as error:
        return int(error.response["ResponseMetadata"]["HTTPStatusCode"])
    return int(response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_precedence_of_the_four_conditions(
    s3: BaseClient, bucket: str, stored: dt.datetime, method: str
) -> None:
    earlier = stored - dt.timedelta(hours=1)
    later = stored + dt.timedelta(hours=1)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"IfMatch": ETAG}, 200),
        ({"IfMatch": '"other"'}, 412),
        ({"IfMatch": "*"}, 200),
        ({"IfMatch": f'"other", {ETAG}'}, 200),
        ({"IfNoneMatch": ETAG}, 304),
        ({"IfNoneMatch": '"other"'}, 200),
        ({"IfModifiedSince": earlier}, 200),
        ({"IfModifiedSince": later}, 304),
        ({"IfUnmodifiedSince": later}, 200),
        ({"IfUnmodifiedSince": earlier}, 412),
        # If-Match true and If-Unmodified-Since false: 200 (the ETag decides).
        ({"IfMatch": ETAG, "IfUnmodifiedSince": earlier}, 200),
        # If-None-Match false and If-Modified-Since true: 304.
        ({"IfNoneMatch": ETAG, "IfModifiedSince": earlier}, 304),
        # If-None-Match true makes If-Modified-Since irrelevant.
        ({"IfNoneMatch": '"other"', "IfModifiedSince": later}, 200),
        # A failed If-Match wins over "not modified".
        ({"IfMatch": '"other"', "IfNoneMatch": ETAG}, 412),
    ]
    for conditions, expected in cases:
        assert status_of(s3, bucket, method, **conditions) == expected, conditions


def test_not_modified_keeps_the_etag_and_has_no_body(
    s3_server: S3Server, bucket: str, stored: dt.datetime
) -> None:
    response = signed_request(s3_server, "GET", f"/{bucket}/k", headers={"If-None-Match": ETAG})
    assert response.status_code == 304
    assert response.headers["etag"] == ETAG
    assert response.content == b""
    failed = signed_request(s3_server, "GET", f"/{bucket}/k", headers={"If-Match": '"x"'})
    assert failed.status_code == 412
    assert b"<Code>PreconditionFailed</Code>" in failed.content
    assert b"<Condition>If-Match</Condition>" in failed.content


def test_unparseable_dates_are_ignored(
    s3_server: S3Server, bucket: str, stored: dt.datetime
) -> None:
    for header in ("If-Modified-Since", "If-Unmodified-Since"):
        response = signed_request(s3_server, "GET", f"/{bucket}/k", headers={header: "not a date"})
        assert response.status_code == 200
        assert response.content == CONTENT


def test_http_dates_in_other_forms(s3_server: S3Server, bucket: str, stored: dt.datetime) -> None:
    later = format_datetime((stored + dt.timedelta(hours=1)).astimezone(dt.UTC), usegmt=True)
    response = signed_request(
        s3_server, "GET", f"/{bucket}/k", headers={"If-Modified-Since": later}
    )
    assert response.status_code == 304


def test_put_if_none_match_star(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="new", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="new", Body=b"second", IfNoneMatch="*")
    assert error_of(raised) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == b"first"


def test_put_if_match(s3: BaseClient, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"first")["ETag"]
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfMatch='"0123"')
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=first)
    assert error_of(raised)[1] in (404, 412)
    s3.put_object(Bucket=bucket, Key="k", Body=b"third", IfMatch=first)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"third"


def test_racing_conditional_puts_have_one_winner(s3_server: S3Server, bucket: str) -> None:
    outcomes: list[int] = []
    lock = threading.Lock()

    def put(index: int) -> None:
        client = s3_server.client()
        try:
            client.put_object(Bucket=bucket, Key="race", Body=b"%d" % index, IfNoneMatch="*")
            status = 200
        except ClientError as error:
            status = error_of_response(error)
        with lock:
            outcomes.append(status)

    threads = [threading.Thread(target=put, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(200) == 1, outcomes
    assert all(status in (200, 409, 412) for status in outcomes), outcomes


def error_of_response(error: ClientError) -> int:
    return int(error.response["ResponseMetadata"]["HTTPStatusCode"])


def test_part_number_of_a_simple_object(s3: BaseClient, bucket: str, stored: dt.datetime) -> None:
    got = s3.get_object(Bucket=bucket, Key="k", PartNumber=1)
    assert got["Body"].read() == CONTENT
    assert s3.head_object(Bucket=bucket, Key="k", PartNumber=1)["ContentLength"] == len(CONTENT)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", PartNumber=2)
    assert error_of(raised) == ("InvalidPartNumber", 416)


def test_part_number_and_attributes_of_a_multipart_object(s3: BaseClient, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for number, body in ((1, b"a" * 5 * 1024 * 1024), (2, b"tail")):
        etag = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts", "ETag", "ObjectSize"]
    )
    assert attributes["ObjectParts"]["TotalPartsCount"] == 2
    assert attributes["ETag"].endswith("-2")
    assert attributes["ObjectSize"] == 5 * 1024 * 1024 + 4
    # Each part is addressable (tests/s3_api/test_multipart.py has the details).
    tail = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert (tail["Body"].read(), tail["PartsCount"]) == (b"tail", 2)
