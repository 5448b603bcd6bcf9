"""What a completed multipart upload is, beyond its bytes, on both backends: the content
headers, ACL and tags given to CreateMultipartUpload, and its parts addressable with GET/HEAD
`?partNumber=N` (206, Content-Range, x-amz-mp-parts-count) as on AWS."""

from __future__ import annotations

import datetime as dt
import os

import httpx
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, error_of
from tests.s3_api.test_multipart import MiB, complete, multipart_etag, upload_parts

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
EXPIRES = dt.datetime(2031, 5, 17, 8, 30, tzinfo=dt.UTC)
CONTENT_HEADERS = {
    "ContentType": "text/csv",
    "CacheControl": "max-age=600, public",
    "ContentDisposition": 'attachment; filename="report.csv"',
    "ContentEncoding": "identity",
    "ContentLanguage": "fr-CA",
    "Expires": EXPIRES,
}


@pytest.fixture(scope="module")
def parts() -> list[bytes]:
    """Two full-size parts of different sizes and a short last one."""
    return [os.urandom(5 * MiB), os.urandom(5 * MiB + 3), os.urandom(1000)]


def status_of(answer: dict) -> int:
    return int(answer["ResponseMetadata"]["HTTPStatusCode"])


def grants_of(acl: dict) -> set[tuple[str, str]]:
    return {
        (grant["Grantee"].get("ID") or grant["Grantee"]["URI"], grant["Permission"])
        for grant in acl["Grants"]
    }


# ---------------------------------------------------------------- what creation says


def test_content_headers_canned_acl_and_tags_reach_the_object(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    body = [b"only part"]
    upload_id = upload_parts(
        s3, bucket, "report.csv", body, ACL="public-read", Tagging="team=data&kind=csv%20file",
        Metadata={"source": "mpu"}, **CONTENT_HEADERS,
    )  # fmt: skip
    # Nothing of it shows before completion.
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="report.csv")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    complete(s3, bucket, "report.csv", upload_id, body)
    for answer in (
        s3.head_object(Bucket=bucket, Key="report.csv"),
        s3.get_object(Bucket=bucket, Key="report.csv"),
    ):
        assert {name: answer[name] for name in CONTENT_HEADERS} == CONTENT_HEADERS
        assert answer["Metadata"] == {"source": "mpu"}
        assert answer["TagCount"] == 2
    tags = s3.get_object_tagging(Bucket=bucket, Key="report.csv")["TagSet"]
    assert tags == [{"Key": "team", "Value": "data"}, {"Key": "kind", "Value": "csv file"}]
    me = s3.list_buckets()["Owner"]["ID"]
    acl = s3.get_object_acl(Bucket=bucket, Key="report.csv")
    assert grants_of(acl) == {(me, "FULL_CONTROL"), (ALL_USERS, "READ")}
    # The canned ACL is enforced, not only shown: anyone may read.
    anonymous = httpx.get(f"{s3_server.url}/{bucket}/report.csv")
    assert (anonymous.status_code, anonymous.content) == (200, b"only part")
    assert anonymous.headers["content-disposition"] == CONTENT_HEADERS["ContentDisposition"]


def test_grant_headers_give_another_account_access(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    other = s3_server.client(other_tenant)
    me, them = s3.list_buckets()["Owner"]["ID"], other.list_buckets()["Owner"]["ID"]
    body = [b"shared"]
    upload_id = upload_parts(
        s3, bucket, "shared", body, GrantRead=f'id="{them}"', GrantFullControl=f'id="{me}"'
    )
    complete(s3, bucket, "shared", upload_id, body)
    assert other.get_object(Bucket=bucket, Key="shared")["Body"].read() == b"shared"
    acl = s3.get_object_acl(Bucket=bucket, Key="shared")
    assert grants_of(acl) == {(them, "READ"), (me, "FULL_CONTROL")}
    # Without grants the next upload of the key is private again.
    upload_id = upload_parts(s3, bucket, "shared", body)
    complete(s3, bucket, "shared", upload_id, body)
    with pytest.raises(ClientError) as raised:
        other.get_object(Bucket=bucket, Key="shared")
    assert error_of(raised) == ("AccessDenied", 403)
    assert s3.get_object_tagging(Bucket=bucket, Key="shared")["TagSet"] == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"Tagging": "a=1&a=2"}, ("InvalidTag", 400)),  # a repeated tag key
        ({"Tagging": "not-a-query"}, ("InvalidArgument", 400)),
        ({"Tagging": "k=" + "v" * 257}, ("InvalidTag", 400)),
        ({"ACL": "public-read", "GrantRead": 'uri="' + ALL_USERS + '"'}, ("InvalidRequest", 400)),
        ({"GrantRead": 'emailAddress="a@example.com"'}, ("UnresolvableGrantByEmailAddress", 400)),
    ],
)  # fmt: skip
def test_bad_tags_or_acl_are_refused_at_creation(
    s3: BaseClient, bucket: str, arguments: dict, expected: tuple[str, int]
) -> None:
    with pytest.raises(ClientError) as raised:
        s3.create_multipart_upload(Bucket=bucket, Key="k", **arguments)
    assert error_of(raised) == expected
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_tags_and_headers_of_a_version(s3: BaseClient, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    body = [b"v1"]
    upload_id = upload_parts(s3, bucket, "v", body, Tagging="n=1", CacheControl="no-store")
    done = complete(s3, bucket, "v", upload_id, body)
    s3.put_object(Bucket=bucket, Key="v", Body=b"v2", Tagging="n=2")
    old = s3.head_object(Bucket=bucket, Key="v", VersionId=done["VersionId"])
    assert (old["CacheControl"], old["TagCount"]) == ("no-store", 1)
    tags = s3.get_object_tagging(Bucket=bucket, Key="v", VersionId=done["VersionId"])["TagSet"]
    assert tags == [{"Key": "n", "Value": "1"}]


# ---------------------------------------------------------------- ?partNumber=N


def test_each_part_is_addressable(s3: BaseClient, bucket: str, parts: list[bytes]) -> None:
    complete(s3, bucket, "mp", upload_parts(s3, bucket, "mp", parts), parts)
    total = sum(len(part) for part in parts)
    first = 0
    for number, part in enumerate(parts, start=1):
        last = first + len(part) - 1
        got = s3.get_object(Bucket=bucket, Key="mp", PartNumber=number)
        assert got["Body"].read() == part
        assert status_of(got) == 206
        assert got["ContentRange"] == f"bytes {first}-{last}/{total}"
        assert (got["ContentLength"], got["PartsCount"]) == (len(part), len(parts))
        assert got["ETag"] == multipart_etag(parts)  # the object's, not the part's
        head = s3.head_object(Bucket=bucket, Key="mp", PartNumber=number)
        assert status_of(head) == 206
        assert (head["ContentLength"], head["PartsCount"]) == (len(part), len(parts))
        assert head["ContentRange"] == f"bytes {first}-{last}/{total}"
        first = last + 1
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as raised:
            call(Bucket=bucket, Key="mp", PartNumber=len(parts) + 1)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="mp", PartNumber=len(parts) + 1)
    assert error_of(raised) == ("InvalidPartNumber", 416)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="mp", PartNumber=1, Range="bytes=0-1")
    assert error_of(raised) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="mp", PartNumber=10001)
    assert error_of(raised) == ("InvalidArgument", 400)


def test_a_simple_object_is_its_only_part(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="one", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="one", PartNumber=1)
    assert (status_of(got), got["Body"].read()) == (206, b"0123456789")
    assert got["ContentRange"] == "bytes 0-9/10"
    assert "PartsCount" not in got
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="one", PartNumber=2)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_parts_follow_the_object_a_key_holds(
    s3: BaseClient, bucket: str, parts: list[bytes]
) -> None:
    """An overwrite by PutObject leaves one part; another upload brings its own sizes."""
    complete(s3, bucket, "k", upload_parts(s3, bucket, "k", parts), parts)
    s3.put_object(Bucket=bucket, Key="k", Body=b"plain")
    assert s3.get_object(Bucket=bucket, Key="k", PartNumber=1)["Body"].read() == b"plain"
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", PartNumber=2)
    assert error_of(raised) == ("InvalidPartNumber", 416)
    other = [parts[1], parts[2]]
    complete(s3, bucket, "k", upload_parts(s3, bucket, "k", other), other)
    assert s3.get_object(Bucket=bucket, Key="k", PartNumber=2)["Body"].read() == parts[2]
    assert s3.head_object(Bucket=bucket, Key="k", PartNumber=1)["PartsCount"] == 2


def test_parts_of_each_version(s3: BaseClient, bucket: str, parts: list[bytes]) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    older = complete(s3, bucket, "v", upload_parts(s3, bucket, "v", parts), parts)["VersionId"]
    newer_parts = [parts[0], b"short"]
    complete(s3, bucket, "v", upload_parts(s3, bucket, "v", newer_parts), newer_parts)
    old = s3.get_object(Bucket=bucket, Key="v", PartNumber=3, VersionId=older)
    assert (old["Body"].read(), old["PartsCount"], old["VersionId"]) == (parts[2], 3, older)
    new = s3.get_object(Bucket=bucket, Key="v", PartNumber=2)
    assert (new["Body"].read(), new["PartsCount"]) == (b"short", 2)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="v", PartNumber=3)
    assert error_of(raised) == ("InvalidPartNumber", 416)
