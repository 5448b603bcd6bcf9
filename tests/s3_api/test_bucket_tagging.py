"""Bucket tagging through boto3: the tag set replaced whole, S3's limits, isolation."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import (
    S3_NAMESPACE,
    Credentials,
    S3Server,
    assert_access_denied,
    error_of,
    signed_request,
)

TAGS = [{"Key": "cost-center", "Value": "42"}, {"Key": "team", "Value": "storage"}]


def put(s3: BaseClient, bucket: str, tags: list[dict[str, str]]) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})


def test_put_get_replace_delete(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(raised) == ("NoSuchTagSet", 404)
    put(s3, bucket, TAGS)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == TAGS
    put(s3, bucket, [{"Key": "only", "Value": ""}])  # the set is replaced, not merged
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": ""}]
    deleted = s3.delete_bucket_tagging(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(raised) == ("NoSuchTagSet", 404)


def test_get_renders_s3s_document(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    put(s3, bucket, TAGS[:1])
    response = signed_request(s3_server, "GET", f"/{bucket}", query="tagging=")
    assert response.status_code == 200
    text = response.text.replace("\n", "")
    assert f'<Tagging xmlns="{S3_NAMESPACE[1:-1]}"><TagSet><Tag><Key>cost-center</Key>' in text


def test_fifty_tags_at_most(s3: BaseClient, bucket: str) -> None:
    fifty = [{"Key": f"k{i:02}", "Value": str(i)} for i in range(50)]
    put(s3, bucket, fifty)
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    with pytest.raises(ClientError) as raised:
        put(s3, bucket, [*fifty, {"Key": "one-more", "Value": ""}])
    assert error_of(raised) == ("InvalidTag", 400)
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50


@pytest.mark.parametrize(
    "tags",
    [
        [{"Key": "k" * 129, "Value": ""}],
        [{"Key": "k", "Value": "v" * 257}],
        [{"Key": "aws:reserved", "Value": "v"}],
        [{"Key": "twice", "Value": "1"}, {"Key": "twice", "Value": "2"}],
    ],
)
def test_invalid_tags(s3: BaseClient, bucket: str, tags: list[dict[str, str]]) -> None:
    with pytest.raises(ClientError) as raised:
        put(s3, bucket, tags)
    assert error_of(raised) == ("InvalidTag", 400)


def test_limits_are_inclusive(s3: BaseClient, bucket: str) -> None:
    longest = [{"Key": "k" * 128, "Value": "v" * 256}]
    put(s3, bucket, longest)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == longest


def test_another_tenant_cannot_touch_the_tags(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    put(s3, bucket, TAGS)
    other = s3_server.client(other_tenant)
    assert_access_denied(
        lambda: other.get_bucket_tagging(Bucket=bucket),
        lambda: other.delete_bucket_tagging(Bucket=bucket),
        lambda: put(other, bucket, []),
    )
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == TAGS


def test_acl_grants_give_no_access_to_the_tags(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    """As on S3, the configuration of a bucket is its owner's: a public-read-write ACL lets
    others list and write objects, not read or change the bucket's tags."""
    put(s3, bucket, TAGS)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    other = s3_server.client(other_tenant)
    other.list_objects_v2(Bucket=bucket)  # the grant itself works
    assert_access_denied(
        lambda: other.get_bucket_tagging(Bucket=bucket),
        lambda: put(other, bucket, []),
    )
