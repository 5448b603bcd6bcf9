"""CopyObject through boto3 and awscli `s3api`, on both backends: metadata and tagging
directives, content headers, conditions, copies onto themselves, across accounts, and the
errors S3 gives (versions: test_copy_versions.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from collections.abc import Callable

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from core import object_copy
from s3_api import content_headers
from tests.s3_api.conftest import Credentials, S3Server, aws_env, empty_and_delete, error_of

CONTENT = b"the source object " * 1000
ETAG = f'"{hashlib.md5(CONTENT).hexdigest()}"'


@pytest.fixture
def source(s3: BaseClient, bucket: str) -> str:
    s3.put_object(
        Bucket=bucket,
        Key="dir/source key+ü.txt",
        Body=CONTENT,
        ContentType="text/plain",
        Metadata={"colour": "blue"},
    )
    return "dir/source key+ü.txt"


def test_copy_keeps_content_and_metadata(s3: BaseClient, bucket: str, source: str) -> None:
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": source})
    result = copied["CopyObjectResult"]
    assert result["ETag"] == ETAG
    assert abs(result["LastModified"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)
    got = s3.get_object(Bucket=bucket, Key="copy")
    assert got["Body"].read() == CONTENT
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"colour": "blue"}


def test_copy_with_replaced_metadata_into_another_bucket(
    s3: BaseClient, bucket: str, source: str, make_bucket: Callable[[], str]
) -> None:
    other = make_bucket()
    s3.copy_object(
        Bucket=other,
        Key="k",
        CopySource=f"{bucket}/{source}",
        MetadataDirective="REPLACE",
        ContentType="application/json",
        Metadata={"shape": "round"},
    )
    head = s3.head_object(Bucket=other, Key="k")
    assert head["Metadata"] == {"shape": "round"}
    assert head["ContentType"] == "application/json"
    assert head["ETag"] == ETAG
    assert s3.head_object(Bucket=bucket, Key=source)["Metadata"] == {"colour": "blue"}


def test_copy_onto_itself_needs_replace(s3: BaseClient, bucket: str, source: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=bucket, Key=source, CopySource={"Bucket": bucket, "Key": source})
    assert error_of(raised) == ("InvalidRequest", 400)
    s3.copy_object(
        Bucket=bucket,
        Key=source,
        CopySource={"Bucket": bucket, "Key": source},
        MetadataDirective="REPLACE",
        Metadata={"colour": "red"},
    )
    got = s3.get_object(Bucket=bucket, Key=source)
    assert got["Metadata"] == {"colour": "red"}
    assert got["Body"].read() == CONTENT


def test_copy_source_conditions(s3: BaseClient, bucket: str, source: str) -> None:
    copy_source = {"Bucket": bucket, "Key": source}
    modified = s3.head_object(Bucket=bucket, Key=source)["LastModified"]
    earlier = modified - dt.timedelta(hours=1)
    later = modified + dt.timedelta(hours=1)
    passing = [
        {"CopySourceIfMatch": ETAG},
        {"CopySourceIfNoneMatch": '"0123"'},
        {"CopySourceIfModifiedSince": earlier},
        {"CopySourceIfUnmodifiedSince": later},
        # A matching If-Match makes a failing If-Unmodified-Since irrelevant (S3's rule).
        {"CopySourceIfMatch": ETAG, "CopySourceIfUnmodifiedSince": earlier},
    ]
    for conditions in passing:
        s3.copy_object(Bucket=bucket, Key="c", CopySource=copy_source, **conditions)
    failing = [
        {"CopySourceIfMatch": '"0123"'},
        {"CopySourceIfNoneMatch": ETAG},
        {"CopySourceIfModifiedSince": later},
        {"CopySourceIfUnmodifiedSince": earlier},
        # A failing If-None-Match fails even with a passing If-Modified-Since.
        {"CopySourceIfNoneMatch": ETAG, "CopySourceIfModifiedSince": earlier},
    ]
    for conditions in failing:
        with pytest.raises(ClientError) as raised:
            s3.copy_object(Bucket=bucket, Key="c2", CopySource=copy_source, **conditions)
        assert error_of(raised) == ("PreconditionFailed", 412), conditions
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="c2")


def test_copy_errors(s3: BaseClient, bucket: str, source: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_of(raised) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket=bucket, Key="k", CopySource={"Bucket": "no-such-bucket-x1", "Key": "k"}
        )
    assert error_of(raised) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket=bucket,
            Key="k",
            CopySource={"Bucket": bucket, "Key": source},
            MetadataDirective="MOVE",
        )
    assert error_of(raised) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket=bucket,
            Key="k",
            CopySource={"Bucket": bucket, "Key": source, "VersionId": "v123"},
        )
    assert error_of(raised) == ("InvalidArgument", 400)
    # The "null" version is the object of an unversioned bucket.
    s3.copy_object(
        Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": source, "VersionId": "null"}
    )


def test_copy_across_accounts_needs_read_on_the_source(
    s3_server: S3Server,
    bucket: str,
    source: str,
    other_tenant: Credentials,
    third_tenant: Credentials,
) -> None:
    other, third = s3_server.client(other_tenant), s3_server.client(third_tenant)
    name = f"{bucket}-x"
    other.create_bucket(Bucket=name)
    third_bucket = f"{bucket}-y"
    third.create_bucket(Bucket=third_bucket)
    try:
        with pytest.raises(ClientError) as raised:
            other.copy_object(Bucket=name, Key="k", CopySource={"Bucket": bucket, "Key": source})
        assert error_of(raised) == ("AccessDenied", 403)
        third.put_object(Bucket=third_bucket, Key="mine", Body=b"x")
        with pytest.raises(ClientError) as raised:  # nor write into someone else's bucket
            third.copy_object(
                Bucket=name, Key="k", CopySource={"Bucket": third_bucket, "Key": "mine"}
            )
        assert error_of(raised) == ("AccessDenied", 403)
        assert "Contents" not in other.list_objects_v2(Bucket=name)
        # Once the source object is readable by everyone, the other account may copy it.
        s3_server.client().put_object_acl(Bucket=bucket, Key=source, ACL="public-read")
        other.copy_object(Bucket=name, Key="k", CopySource={"Bucket": bucket, "Key": source})
        assert other.get_object(Bucket=name, Key="k")["Body"].read() == CONTENT
    finally:
        empty_and_delete(other, name)
        empty_and_delete(third, third_bucket)


def test_awscli_s3api_copy_object(s3_server: S3Server, bucket: str, source: str) -> None:
    output = subprocess.run(
        [
            "aws", "--endpoint-url", s3_server.url, "s3api", "copy-object",
            "--bucket", bucket, "--key", "cli-copy",
            "--copy-source", f"{bucket}/{source}",
            "--metadata-directive", "REPLACE", "--metadata", "via=cli",
        ],
        env=aws_env(s3_server), capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert json.loads(output)["CopyObjectResult"]["ETag"] == ETAG
    head = s3_server.client().head_object(Bucket=bucket, Key="cli-copy")
    assert head["Metadata"] == {"via": "cli"}


CONTENT_HEADERS = {
    "CacheControl": "max-age=60",
    "ContentDisposition": 'attachment; filename="page.html"',
    "ContentEncoding": "gzip",
    "ContentLanguage": "de",
    "ContentType": "text/html",
}
EXPIRES = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_content_headers_follow_the_directive(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="page", Body=b"<p>", Expires=EXPIRES, **CONTENT_HEADERS)
    s3.copy_object(Bucket=bucket, Key="kept", CopySource={"Bucket": bucket, "Key": "page"})
    kept = s3.head_object(Bucket=bucket, Key="kept")
    assert {name: kept.get(name) for name in CONTENT_HEADERS} == CONTENT_HEADERS
    assert kept["Expires"] == EXPIRES
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource={"Bucket": bucket, "Key": "page"},
        MetadataDirective="REPLACE",
        CacheControl="no-store",
        ContentType="text/plain",
        Expires=EXPIRES + dt.timedelta(days=1),
    )
    replaced = s3.get_object(Bucket=bucket, Key="replaced")
    assert replaced["Body"].read() == b"<p>"
    assert (replaced["CacheControl"], replaced["ContentType"]) == ("no-store", "text/plain")
    assert replaced["Expires"] == EXPIRES + dt.timedelta(days=1)
    for dropped in ("ContentDisposition", "ContentEncoding", "ContentLanguage"):
        assert dropped not in replaced, dropped


def test_tags_follow_the_tagging_directive(s3: BaseClient, bucket: str, source: str) -> None:
    s3.put_object_tagging(
        Bucket=bucket,
        Key=source,
        Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]},
    )
    copy_source = {"Bucket": bucket, "Key": source}

    def tags(key: str) -> dict[str, str]:
        tag_set = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        return {tag["Key"]: tag["Value"] for tag in tag_set}

    s3.copy_object(Bucket=bucket, Key="copied", CopySource=copy_source)
    assert tags("copied") == {"a": "1", "b": "2"}
    assert s3.get_object(Bucket=bucket, Key="copied")["TagCount"] == 2
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource=copy_source,
        TaggingDirective="REPLACE",
        Tagging="c=3&d=",
    )
    assert tags("replaced") == {"c": "3", "d": ""}
    s3.copy_object(
        Bucket=bucket, Key="replaced", CopySource=copy_source, TaggingDirective="REPLACE"
    )
    assert tags("replaced") == {}
    # The copy's tags are its own: changing them leaves the source's alone.
    s3.delete_object_tagging(Bucket=bucket, Key="copied")
    assert tags(source) == {"a": "1", "b": "2"}
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=bucket, Key="never", CopySource=copy_source, TaggingDirective="MERGE")
    assert error_of(raised) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket=bucket,
            Key="never",
            CopySource=copy_source,
            TaggingDirective="REPLACE",
            Tagging="a=1&a=2",
        )
    assert error_of(raised) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="never")
    assert error_of(raised) == ("404", 404)


def test_a_copy_announces_its_expiration(s3: BaseClient, bucket: str, source: str) -> None:
    rule = {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled"}
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [{**rule, "Expiration": {"Days": 2}}]}
    )
    copy_source = {"Bucket": bucket, "Key": source}
    copied = s3.copy_object(Bucket=bucket, Key="logs/copy", CopySource=copy_source)
    assert copied["Expiration"] == s3.head_object(Bucket=bucket, Key="logs/copy")["Expiration"]
    assert 'rule-id="logs"' in copied["Expiration"]
    kept = s3.copy_object(Bucket=bucket, Key="data/copy", CopySource=copy_source)
    assert "Expiration" not in kept


def test_the_core_keeps_what_the_front_end_stores() -> None:
    """A copy keeps the content headers under the name s3_api.content_headers stores them."""
    assert object_copy.CONTENT_HEADER_PREFIX == content_headers.PREFIX
