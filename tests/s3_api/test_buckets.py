"""Buckets through boto3: create (with and without a location), head, list, delete, names."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import REGION, error_of


def unique_name() -> str:
    return f"bkt-{uuid.uuid4().hex[:20]}"


def test_create_head_list_delete(s3: BaseClient) -> None:
    name = unique_name()
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == REGION
    listed = s3.list_buckets()
    assert name in [bucket["Name"] for bucket in listed["Buckets"]]
    assert listed["Owner"]["ID"]
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as raised:
        s3.head_bucket(Bucket=name)
    assert error_of(raised) == ("404", 404)
    assert name not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]


def test_create_with_location_constraint(s3: BaseClient) -> None:
    name = unique_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == REGION
    finally:
        s3.delete_bucket(Bucket=name)


def test_a_foreign_location_constraint_is_refused(s3: BaseClient) -> None:
    name = unique_name()
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_of(raised) == ("InvalidLocationConstraint", 400)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)


def test_creating_your_own_bucket_again(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(Bucket=bucket)
    assert error_of(raised) == ("BucketAlreadyOwnedByYou", 409)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "x" * 64,
        "UpperCase",
        "under_score",
        "-leading-hyphen",
        "trailing-hyphen-",
        "two..periods",
        "192.168.5.4",
        "xn--reserved-prefix",
        "reserved-suffix-s3alias",
    ],
)
def test_invalid_bucket_names(s3: BaseClient, name: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(Bucket=name)
    assert error_of(raised) == ("InvalidBucketName", 400)


def test_a_non_empty_bucket_is_not_deleted(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    with pytest.raises(ClientError) as raised:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(raised) == ("BucketNotEmpty", 409)
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"


def test_missing_bucket(s3: BaseClient) -> None:
    name = unique_name()
    for call in (
        lambda: s3.delete_bucket(Bucket=name),
        lambda: s3.list_objects_v2(Bucket=name),
        lambda: s3.put_object(Bucket=name, Key="k", Body=b"x"),
        lambda: s3.get_object(Bucket=name, Key="k"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("NoSuchBucket", 404)


def test_name_is_free_again_after_delete(s3: BaseClient, make_bucket: Callable[[], str]) -> None:
    name = make_bucket()
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
