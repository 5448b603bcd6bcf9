"""On the swift backend, a bucket is a container in the Swift account AUTH_<account uuid>:
what S3 writes, plain Swift clients read."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from swiftclient import client as swift

from tests.s3_api.conftest import Credentials, S3Server, empty_and_delete

# Only the swift backend has a Swift layout: run these on that server alone.
pytestmark = pytest.mark.parametrize(
    "s3_server", [pytest.param("swift", marks=pytest.mark.swift)], indirect=True
)


@pytest.fixture
def swift_session(s3_server: S3Server) -> tuple[str, str]:
    """(proxy URL root, token) for the reseller admin the server itself uses."""
    env = s3_server.swift_env
    storage_url, token = swift.get_auth(
        env["CLOUDGATE_SWIFT_AUTH_URL"],
        env["CLOUDGATE_SWIFT_USER"],
        env["CLOUDGATE_SWIFT_KEY"],
        auth_version="1.0",
    )
    return storage_url.rsplit("/", 1)[0], token


def account_uuid(client: BaseClient) -> str:
    # S3's canonical owner id is the cloudgate account uuid.
    return client.list_buckets()["Owner"]["ID"]


def test_bucket_is_a_container_in_the_owner_account(
    s3: BaseClient, bucket: str, swift_session: tuple[str, str]
) -> None:
    root, token = swift_session
    s3.put_object(Bucket=bucket, Key="dir/seen-by-swift.txt", Body=b"hello swift")
    account_url = f"{root}/AUTH_{account_uuid(s3)}"
    _, containers = swift.get_account(account_url, token)
    assert bucket in [container["name"] for container in containers]
    _, objects = swift.get_container(account_url, token, bucket)
    assert [item["name"] for item in objects] == ["dir/seen-by-swift.txt"]
    headers, body = swift.get_object(account_url, token, bucket, "dir/seen-by-swift.txt")
    assert body == b"hello swift"
    assert headers["etag"] == s3.head_object(Bucket=bucket, Key="dir/seen-by-swift.txt")[
        "ETag"
    ].strip('"')


def test_tenants_live_in_separate_swift_accounts(
    s3_server: S3Server,
    s3: BaseClient,
    other_tenant: Credentials,
    bucket: str,
    swift_session: tuple[str, str],
) -> None:
    root, token = swift_session
    other = s3_server.client(other_tenant)
    name = f"{bucket}-other"
    other.create_bucket(Bucket=name)
    try:
        other_account = f"{root}/AUTH_{account_uuid(other)}"
        admin_account = f"{root}/AUTH_{account_uuid(s3)}"
        assert name in [c["name"] for c in swift.get_account(other_account, token)[1]]
        assert name not in [c["name"] for c in swift.get_account(admin_account, token)[1]]
        assert bucket not in [c["name"] for c in swift.get_account(other_account, token)[1]]
    finally:
        empty_and_delete(other, name)
    assert name not in [c["name"] for c in swift.get_account(other_account, token)[1]]
