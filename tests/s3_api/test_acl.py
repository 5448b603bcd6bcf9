"""Bucket and object ACLs, enforced per account: canned ACLs, grant headers, ACL documents,
anonymous access (plain httpx and boto3 UNSIGNED), cross-tenant access with two users' keys."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import (
    Credentials,
    S3Server,
    empty_and_delete,
    error_of,
    signed_request,
)

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


@pytest.fixture
def other(s3_server: S3Server, other_tenant: Credentials) -> BaseClient:
    return s3_server.client(other_tenant)


@pytest.fixture
def anonymous(s3_server: S3Server) -> BaseClient:
    return s3_server.client(signature_version=UNSIGNED)


@pytest.fixture
def acl_bucket(s3: BaseClient) -> Iterator[Callable[..., str]]:
    """Buckets created by the admin with CreateBucket's ACL arguments."""
    created: list[str] = []

    def make(**acl: str) -> str:
        name = f"acl-{uuid.uuid4().hex[:16]}"
        s3.create_bucket(Bucket=name, **acl)
        created.append(name)
        return name

    yield make
    for name in created:
        empty_and_delete(s3, name)


def account_id(client: BaseClient) -> str:
    """The caller's canonical id (its account's uuid), as ListBuckets shows it."""
    return client.list_buckets()["Owner"]["ID"]


def denied(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised)


def grants_of(acl: dict) -> set[tuple[str, str]]:
    return {
        (grant["Grantee"].get("ID") or grant["Grantee"]["URI"], grant["Permission"])
        for grant in acl["Grants"]
    }


def test_default_acl_is_the_owner_with_full_control(s3: BaseClient, bucket: str) -> None:
    me = account_id(s3)
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"] == me
    assert grants_of(acl) == {(me, "FULL_CONTROL")}
    assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k")) == {(me, "FULL_CONTROL")}


def test_private_bucket_refuses_other_tenants_and_anonymous(
    s3_server: S3Server, bucket: str, s3: BaseClient, other: BaseClient, anonymous: BaseClient
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    for client in (other, anonymous):
        assert denied(lambda c=client: c.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
        assert denied(lambda c=client: c.get_object(Bucket=bucket, Key="k")) == (
            "AccessDenied",
            403,
        )
        assert denied(lambda c=client: c.put_object(Bucket=bucket, Key="n", Body=b"")) == (
            "AccessDenied",
            403,
        )
        assert denied(lambda c=client: c.get_bucket_acl(Bucket=bucket)) == ("AccessDenied", 403)
    response = httpx.get(f"{s3_server.url}/{bucket}/k")
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text


def test_public_read_bucket_lists_anonymously_but_objects_stay_private(
    s3_server: S3Server, acl_bucket: Callable[..., str], s3: BaseClient, anonymous: BaseClient
) -> None:
    name = acl_bucket(ACL="public-read")
    assert (ALL_USERS, "READ") in grants_of(s3.get_bucket_acl(Bucket=name))
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"hello")
    listed = anonymous.list_objects_v2(Bucket=name)
    assert [item["Key"] for item in listed["Contents"]] == ["doc.txt"]
    plain = httpx.get(f"{s3_server.url}/{name}", params={"list-type": "2"})
    assert plain.status_code == 200 and "<Key>doc.txt</Key>" in plain.text
    # READ on the bucket is listing; the object itself is private.
    assert denied(lambda: anonymous.get_object(Bucket=name, Key="doc.txt")) == (
        "AccessDenied",
        403,
    )
    # and READ is not WRITE
    assert denied(lambda: anonymous.put_object(Bucket=name, Key="x", Body=b"")) == (
        "AccessDenied",
        403,
    )
    assert httpx.delete(f"{s3_server.url}/{name}/doc.txt").status_code == 403


def test_public_read_object_is_readable_anonymously(
    s3_server: S3Server, bucket: str, s3: BaseClient, anonymous: BaseClient
) -> None:
    s3.put_object(Bucket=bucket, Key="pub/a.txt", Body=b"public!", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="priv/b.txt", Body=b"private")
    assert anonymous.get_object(Bucket=bucket, Key="pub/a.txt")["Body"].read() == b"public!"
    assert anonymous.head_object(Bucket=bucket, Key="pub/a.txt")["ContentLength"] == 7
    response = httpx.get(f"{s3_server.url}/{bucket}/pub/a.txt")
    assert (response.status_code, response.content) == (200, b"public!")
    assert httpx.head(f"{s3_server.url}/{bucket}/pub/a.txt").status_code == 200
    assert httpx.get(f"{s3_server.url}/{bucket}/priv/b.txt").status_code == 403
    # the bucket is still private: no anonymous listing
    assert httpx.get(f"{s3_server.url}/{bucket}").status_code == 403
    # an overwrite without an ACL makes the new object private again
    s3.put_object(Bucket=bucket, Key="pub/a.txt", Body=b"replaced")
    assert httpx.get(f"{s3_server.url}/{bucket}/pub/a.txt").status_code == 403
    # PutObjectAcl opens it up again; private closes it
    s3.put_object_acl(Bucket=bucket, Key="pub/a.txt", ACL="public-read")
    assert httpx.get(f"{s3_server.url}/{bucket}/pub/a.txt").content == b"replaced"
    s3.put_object_acl(Bucket=bucket, Key="pub/a.txt", ACL="private")
    assert httpx.get(f"{s3_server.url}/{bucket}/pub/a.txt").status_code == 403


def test_deleted_object_does_not_pass_its_acl_on(
    s3_server: S3Server, bucket: str, s3: BaseClient
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"1", ACL="public-read")
    s3.delete_object(Bucket=bucket, Key="k")
    assert httpx.get(f"{s3_server.url}/{bucket}/k").status_code == 403
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    assert httpx.get(f"{s3_server.url}/{bucket}/k").status_code == 403


def test_public_read_write_bucket_takes_anonymous_uploads(
    s3_server: S3Server, acl_bucket: Callable[..., str], s3: BaseClient, anonymous: BaseClient
) -> None:
    name = acl_bucket(ACL="public-read-write")
    anonymous.put_object(Bucket=name, Key="drop.bin", Body=b"anon data")
    response = httpx.put(f"{s3_server.url}/{name}/plain.bin", content=b"via httpx")
    assert response.status_code == 200, response.text
    # objects written anonymously belong to the bucket owner
    assert s3.get_object(Bucket=name, Key="plain.bin")["Body"].read() == b"via httpx"
    owner = s3.get_object_acl(Bucket=name, Key="drop.bin")["Owner"]["ID"]
    assert owner == account_id(s3)
    assert httpx.delete(f"{s3_server.url}/{name}/plain.bin").status_code == 204
    # anonymous callers still cannot change the ACL or delete the bucket
    assert denied(lambda: anonymous.put_bucket_acl(Bucket=name, ACL="private")) == (
        "AccessDenied",
        403,
    )
    assert httpx.delete(f"{s3_server.url}/{name}").status_code == 403


def test_authenticated_read_admits_other_tenants_not_anonymous(
    acl_bucket: Callable[..., str], other: BaseClient, anonymous: BaseClient
) -> None:
    name = acl_bucket(ACL="authenticated-read")
    assert other.list_objects_v2(Bucket=name)["KeyCount"] == 0
    assert denied(lambda: anonymous.list_objects_v2(Bucket=name)) == ("AccessDenied", 403)


def test_grants_to_another_account(
    bucket: str, s3: BaseClient, other: BaseClient, third_tenant: Credentials,
    s3_server: S3Server,
) -> None:  # fmt: skip
    me, them = account_id(s3), account_id(other)
    third = s3_server.client(third_tenant)
    s3.put_object(Bucket=bucket, Key="mine", Body=b"owner's")
    # READ (list) by the grant header, by canonical id
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{them}"', GrantFullControl=f'id="{me}"')
    assert grants_of(s3.get_bucket_acl(Bucket=bucket)) == {(them, "READ"), (me, "FULL_CONTROL")}
    assert [item["Key"] for item in other.list_objects_v2(Bucket=bucket)["Contents"]] == ["mine"]
    assert denied(lambda: third.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert denied(lambda: other.put_object(Bucket=bucket, Key="theirs", Body=b"")) == (
        "AccessDenied",
        403,
    )
    assert denied(lambda: other.get_object(Bucket=bucket, Key="mine")) == ("AccessDenied", 403)
    assert denied(lambda: other.get_bucket_acl(Bucket=bucket)) == ("AccessDenied", 403)
    # WRITE and READ_ACP by an AccessControlPolicy document
    s3.put_bucket_acl(
        Bucket=bucket,
        AccessControlPolicy={
            "Owner": {"ID": me},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": me}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "CanonicalUser", "ID": them}, "Permission": "WRITE"},
                {"Grantee": {"Type": "CanonicalUser", "ID": them}, "Permission": "READ_ACP"},
            ],
        },
    )
    assert {(g, p) for g, p in grants_of(other.get_bucket_acl(Bucket=bucket))} == {
        (me, "FULL_CONTROL"),
        (them, "WRITE"),
        (them, "READ_ACP"),
    }
    other.put_object(Bucket=bucket, Key="theirs", Body=b"uploaded by them")
    assert denied(lambda: other.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert denied(lambda: other.put_bucket_acl(Bucket=bucket, ACL="public-read")) == (
        "AccessDenied",
        403,
    )
    # a grant never lets another account delete the bucket
    assert denied(lambda: other.delete_bucket(Bucket=bucket)) == ("AccessDenied", 403)
    other.delete_object(Bucket=bucket, Key="theirs")


def test_object_owner_is_the_uploading_account(
    bucket: str, s3: BaseClient, other: BaseClient, s3_server: S3Server,
    third_tenant: Credentials,
) -> None:  # fmt: skip
    me, them = account_id(s3), account_id(other)
    third = s3_server.client(third_tenant)
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=_acl(me, (them, "WRITE")))
    other.put_object(Bucket=bucket, Key="private-upload", Body=b"p")
    other.put_object(Bucket=bucket, Key="shared-upload", Body=b"s", ACL="bucket-owner-full-control")
    other.put_object(Bucket=bucket, Key="read-only", Body=b"r", ACL="bucket-owner-read")
    acl = other.get_object_acl(Bucket=bucket, Key="private-upload")
    assert acl["Owner"]["ID"] == them
    assert grants_of(acl) == {(them, "FULL_CONTROL")}
    assert grants_of(other.get_object_acl(Bucket=bucket, Key="shared-upload")) == {
        (them, "FULL_CONTROL"),
        (me, "FULL_CONTROL"),
    }
    assert grants_of(other.get_object_acl(Bucket=bucket, Key="read-only")) == {
        (them, "FULL_CONTROL"),
        (me, "READ"),
    }
    assert denied(lambda: third.get_object_acl(Bucket=bucket, Key="private-upload")) == (
        "AccessDenied",
        403,
    )


def test_tenant_bucket_owner_needs_a_grant_to_read_uploads_of_others(
    s3_server: S3Server, other_tenant: Credentials, third_tenant: Credentials
) -> None:
    owner, writer = s3_server.client(other_tenant), s3_server.client(third_tenant)
    name = f"acl-{uuid.uuid4().hex[:16]}"
    owner.create_bucket(Bucket=name, GrantWrite=f'id="{account_id(writer)}"')
    try:
        owner.put_object(Bucket=name, Key="own", Body=b"o")
        writer.put_object(Bucket=name, Key="theirs", Body=b"t")
        writer.put_object(Bucket=name, Key="given", Body=b"g", ACL="bucket-owner-read")
        assert denied(lambda: owner.get_object(Bucket=name, Key="theirs")) == (
            "AccessDenied",
            403,
        )
        assert owner.get_object(Bucket=name, Key="given")["Body"].read() == b"g"
        assert writer.get_object(Bucket=name, Key="theirs")["Body"].read() == b"t"
        # the bucket owner can still list and delete whatever is in its bucket
        keys = [item["Key"] for item in owner.list_objects_v2(Bucket=name)["Contents"]]
        assert keys == ["given", "own", "theirs"]
        assert denied(lambda: writer.get_object(Bucket=name, Key="own")) == ("AccessDenied", 403)
    finally:
        empty_and_delete(owner, name)


def test_object_read_acp_and_write_acp(bucket: str, s3: BaseClient, other: BaseClient) -> None:
    me, them = account_id(s3), account_id(other)
    grants = {"GrantReadACP": f'id="{them}"', "GrantFullControl": f'id="{me}"'}
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", **grants)
    assert grants_of(other.get_object_acl(Bucket=bucket, Key="k")) == {
        (me, "FULL_CONTROL"),
        (them, "READ_ACP"),
    }
    assert denied(lambda: other.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
    assert denied(lambda: other.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")) == (
        "AccessDenied",
        403,
    )
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=_acl(me, (them, "WRITE_ACP")))
    other.put_object_acl(Bucket=bucket, Key="k", GrantRead=f'uri="{ALL_USERS}"')
    # the owner stays the owner; the new ACL is exactly what was put
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert acl["Owner"]["ID"] == me
    assert grants_of(acl) == {(ALL_USERS, "READ")}
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_acl_errors(bucket: str, s3: BaseClient, s3_server: S3Server) -> None:
    me = account_id(s3)
    assert denied(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="world-writable")) == (
        "InvalidArgument",
        400,
    )
    unknown = "00000000-0000-0000-0000-000000000000"
    assert denied(lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{unknown}"')) == (
        "InvalidArgument",
        400,
    )
    assert denied(
        lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead='emailAddress="a@example.com"')
    ) == ("UnresolvableGrantByEmailAddress", 400)
    assert denied(
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read", GrantRead=f'id="{me}"')
    ) == ("InvalidRequest", 400)
    assert denied(
        lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead='uri="http://example.com/Everyone"')
    ) == ("InvalidArgument", 400)
    assert denied(
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"", ACL="no-such-canned-acl")
    ) == ("InvalidArgument", 400)
    # a refused ACL leaves nothing written
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert denied(lambda: s3.get_object_acl(Bucket=bucket, Key="missing")) == ("NoSuchKey", 404)
    assert denied(lambda: s3.get_bucket_acl(Bucket="no-such-bucket-acl-test")) == (
        "NoSuchBucket",
        404,
    )
    response = signed_request(s3_server, "PUT", f"/{bucket}", query="acl", body=b"<oops")
    assert response.status_code == 400 and "<Code>MalformedACLError</Code>" in response.text
    # the ACL is unchanged by all of that
    assert grants_of(s3.get_bucket_acl(Bucket=bucket)) == {(me, "FULL_CONTROL")}


def test_canned_acl_on_create_bucket_refused_leaves_no_bucket(s3: BaseClient) -> None:
    name = f"acl-{uuid.uuid4().hex[:16]}"
    assert denied(lambda: s3.create_bucket(Bucket=name, ACL="bogus")) == ("InvalidArgument", 400)
    assert denied(lambda: s3.head_bucket(Bucket=name))[1] == 404
    s3.create_bucket(Bucket=name)  # the name is free, the container was never made
    s3.delete_bucket(Bucket=name)


def test_anonymous_requests_for_account_operations_are_refused(s3_server: S3Server) -> None:
    assert httpx.get(s3_server.url + "/").status_code == 403
    response = httpx.put(f"{s3_server.url}/anon-made-bucket-test")
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text
    assert httpx.get(f"{s3_server.url}/anon-made-bucket-test").status_code == 404


def _acl(owner: str, *grants: tuple[str, str]) -> dict:
    return {
        "Owner": {"ID": owner},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": grantee}, "Permission": permission}
            for grantee, permission in grants
        ],
    }


def test_copy_needs_read_on_the_source_object_and_takes_its_own_acl(
    s3_server: S3Server, bucket: str, s3: BaseClient, other: BaseClient
) -> None:
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    s3.put_object(Bucket=bucket, Key="shared", Body=b"shared data", ACL="public-read")
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{account_id(other)}"')  # listing only
    target = f"acl-{uuid.uuid4().hex[:16]}"
    other.create_bucket(Bucket=target)
    try:
        source = {"Bucket": bucket, "Key": "secret"}
        assert denied(lambda: other.copy_object(Bucket=target, Key="x", CopySource=source)) == (
            "AccessDenied",
            403,
        )
        other.copy_object(Bucket=target, Key="x", CopySource={"Bucket": bucket, "Key": "shared"})
        assert other.get_object(Bucket=target, Key="x")["Body"].read() == b"shared data"
    finally:
        empty_and_delete(other, target)
    # a copy is private unless the copy request says otherwise; the source's ACL stays put
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "shared"})
    assert httpx.get(f"{s3_server.url}/{bucket}/copy").status_code == 403
    s3.copy_object(
        Bucket=bucket,
        Key="copy2",
        CopySource={"Bucket": bucket, "Key": "secret"},
        ACL="public-read",
    )
    assert httpx.get(f"{s3_server.url}/{bucket}/copy2").content == b"s"
    assert httpx.get(f"{s3_server.url}/{bucket}/secret").status_code == 403


def test_multipart_completion_replaces_the_acl_of_the_object_it_overwrites(
    s3_server: S3Server, bucket: str, s3: BaseClient, anonymous: BaseClient
) -> None:
    s3.put_object(Bucket=bucket, Key="big", Body=b"old", ACL="public-read")
    assert httpx.get(f"{s3_server.url}/{bucket}/big").status_code == 200
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"new")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    assert httpx.get(f"{s3_server.url}/{bucket}/big").status_code == 403
    # multipart uploads need a signature, whatever the bucket's ACL
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert denied(lambda: anonymous.create_multipart_upload(Bucket=bucket, Key="anon")) == (
        "AccessDenied",
        403,
    )
