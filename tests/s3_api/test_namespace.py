"""The global bucket namespace across tenants: one owner per name, AWS's errors for a taken
name (this endpoint is a region other than us-east-1, so "already yours" is a 409 too),
AWS's naming rules, and names free again once deleted, with nothing of the old bucket."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, empty_and_delete, error_of


def denied(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised)


def fresh_name() -> str:
    return f"ns-{uuid.uuid4().hex[:16]}"


def test_a_name_taken_by_another_account(
    s3: BaseClient, s3_server: S3Server, other_tenant: Credentials
) -> None:
    other = s3_server.client(other_tenant)
    name = fresh_name()
    other.create_bucket(Bucket=name)
    try:
        assert denied(lambda: s3.create_bucket(Bucket=name)) == ("BucketAlreadyExists", 409)
        assert denied(lambda: other.create_bucket(Bucket=name)) == (
            "BucketAlreadyOwnedByYou",
            409,
        )
        # the other account's bucket is not listed for the admin, and stays the other's
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert name in [b["Name"] for b in other.list_buckets()["Buckets"]]
    finally:
        other.delete_bucket(Bucket=name)


def test_a_name_is_free_again_after_delete_and_keeps_nothing(
    s3_server: S3Server, other_tenant: Credentials, third_tenant: Credentials
) -> None:
    first, second = s3_server.client(other_tenant), s3_server.client(third_tenant)
    name = fresh_name()
    first.create_bucket(Bucket=name, ACL="public-read")
    first.put_object(Bucket=name, Key="old", Body=b"old data")
    first.put_bucket_policy(
        Bucket=name,
        Policy=(
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",'
            f' "Resource": "arn:aws:s3:::{name}/*"}}]}}'
        ),
    )
    assert httpx.get(f"{s3_server.url}/{name}/old").status_code == 200
    assert denied(lambda: first.delete_bucket(Bucket=name)) == ("BucketNotEmpty", 409)
    first.delete_object(Bucket=name, Key="old")
    first.delete_bucket(Bucket=name)
    second.create_bucket(Bucket=name)
    try:
        assert second.list_objects_v2(Bucket=name)["KeyCount"] == 0
        # neither the old ACL, nor the old policy, nor the old owner's access carries over
        assert httpx.get(f"{s3_server.url}/{name}").status_code == 403
        acl = second.get_bucket_acl(Bucket=name)
        assert [(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]] == [
            (acl["Owner"]["ID"], "FULL_CONTROL")
        ]
        assert denied(lambda: second.get_bucket_policy(Bucket=name)) == (
            "NoSuchBucketPolicy",
            404,
        )
        assert denied(lambda: first.list_objects_v2(Bucket=name)) == ("AccessDenied", 403)
        second.put_object(Bucket=name, Key="new", Body=b"new")
        assert httpx.get(f"{s3_server.url}/{name}/new").status_code == 403
    finally:
        empty_and_delete(second, name)


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # too short
        "a" * 64,  # too long
        "Upper-Case",
        "under_score",
        "-leading-hyphen",
        "trailing-hyphen-",
        "two..dots",
        "192.168.5.4",
        "xn--punycode",
        "sthree-reserved",
        "name-s3alias",
        "name--ol-s3",
    ],
)
def test_invalid_bucket_names(s3: BaseClient, name: str) -> None:
    assert denied(lambda: s3.create_bucket(Bucket=name)) == ("InvalidBucketName", 400)


def test_valid_edge_names(s3: BaseClient) -> None:
    unique = uuid.uuid4().hex  # 32 characters
    for name in (unique[:3], unique + "a" * 31, f"my.dotted.{unique[:8]}-1", f"0{unique[:6]}9"):
        s3.create_bucket(Bucket=name)
        empty_and_delete(s3, name)


def test_concurrent_creates_of_one_name_have_one_winner(
    s3_server: S3Server, other_tenant: Credentials, third_tenant: Credentials
) -> None:
    clients = [s3_server.client(other_tenant), s3_server.client(third_tenant)] * 3
    name = fresh_name()

    def create(client: BaseClient) -> str:
        try:
            client.create_bucket(Bucket=name)
        except ClientError as error:
            return error.response["Error"]["Code"]
        return "created"

    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = list(pool.map(create, clients))
    assert outcomes.count("created") == 1, outcomes
    assert set(outcomes) <= {"created", "BucketAlreadyExists", "BucketAlreadyOwnedByYou"}
    winner = clients[outcomes.index("created")]
    assert name in [b["Name"] for b in winner.list_buckets()["Buckets"]]
    winner.delete_bucket(Bucket=name)
