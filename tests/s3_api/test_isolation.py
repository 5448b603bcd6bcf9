"""Tenant isolation: one global bucket namespace, but only the owner uses a bucket."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, empty_and_delete, error_of


@pytest.fixture
def other(s3_server: S3Server, other_tenant: Credentials) -> BaseClient:
    return s3_server.client(other_tenant)


def assert_denied(call: Callable[[], object], code: str = "AccessDenied") -> None:
    with pytest.raises(ClientError) as raised:
        call()
    assert error_of(raised) == (code, 403)


def test_another_tenant_cannot_touch_a_bucket(
    s3: BaseClient, other: BaseClient, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"owner's data")
    assert bucket not in [b["Name"] for b in other.list_buckets()["Buckets"]]
    assert_denied(lambda: other.head_bucket(Bucket=bucket), code="403")
    assert_denied(lambda: other.list_objects_v2(Bucket=bucket))
    assert_denied(lambda: other.get_object(Bucket=bucket, Key="secret.txt"))
    assert_denied(lambda: other.head_object(Bucket=bucket, Key="secret.txt"), code="403")
    assert_denied(lambda: other.put_object(Bucket=bucket, Key="secret.txt", Body=b"overwritten"))
    assert_denied(lambda: other.put_object(Bucket=bucket, Key="planted", Body=b"x"))
    assert_denied(lambda: other.delete_object(Bucket=bucket, Key="secret.txt"))
    assert_denied(lambda: other.delete_bucket(Bucket=bucket))
    # Nothing changed for the owner.
    assert s3.get_object(Bucket=bucket, Key="secret.txt")["Body"].read() == b"owner's data"
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["secret.txt"]


def test_a_taken_name_is_taken_for_everyone(other: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        other.create_bucket(Bucket=bucket)
    assert error_of(raised) == ("BucketAlreadyExists", 409)


def test_presigned_urls_carry_the_signer_identity(
    s3: BaseClient, other: BaseClient, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = other.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    response = httpx.get(url)
    assert response.status_code == 403
    assert b"<Code>AccessDenied</Code>" in response.content


def test_each_tenant_lists_only_its_own(s3: BaseClient, other: BaseClient, bucket: str) -> None:
    name = f"{bucket}-other"
    other.create_bucket(Bucket=name)
    try:
        other.put_object(Bucket=name, Key="mine", Body=b"other's data")
        assert name in [b["Name"] for b in other.list_buckets()["Buckets"]]
        assert bucket not in [b["Name"] for b in other.list_buckets()["Buckets"]]
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        # The root admin may still reach any bucket (CloudStack's root admin sees all).
        assert s3.get_object(Bucket=name, Key="mine")["Body"].read() == b"other's data"
    finally:
        empty_and_delete(other, name)


def test_two_ordinary_tenants_are_isolated(
    s3_server: S3Server, other: BaseClient, third_tenant: Credentials, bucket: str
) -> None:
    third = s3_server.client(third_tenant)
    name = f"{bucket}-b"
    other.create_bucket(Bucket=name)
    try:
        other.put_object(Bucket=name, Key="k", Body=b"b's data")
        assert_denied(lambda: third.get_object(Bucket=name, Key="k"))
        assert_denied(lambda: third.list_objects_v2(Bucket=name))
        assert_denied(lambda: third.put_object(Bucket=name, Key="k", Body=b"c"))
        assert_denied(lambda: third.delete_object(Bucket=name, Key="k"))
        assert other.get_object(Bucket=name, Key="k")["Body"].read() == b"b's data"
    finally:
        empty_and_delete(other, name)
