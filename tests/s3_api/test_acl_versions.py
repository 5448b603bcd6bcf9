"""Object ACLs and tags of versioned objects, through boto3 on both backends: GetObjectAcl /
PutObjectAcl find objects by their version rows (and `?versionId=`), and DeleteObject lets an
object's ACL and tags go by the same rule as DeleteObjects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.client import BaseClient

from tests.s3_api.conftest import error_of

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
PUBLIC = {(ALL_USERS, "READ")}


@pytest.fixture
def versioned(s3: BaseClient, make_bucket: Callable[[], str]) -> str:
    name = make_bucket()
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def public_grants(s3: BaseClient, bucket: str, key: str, **version: str) -> set[tuple[str, str]]:
    """The group grants of the object's ACL (the owner's own grant is always there)."""
    grants = s3.get_object_acl(Bucket=bucket, Key=key, **version)["Grants"]
    return {(g["Grantee"]["URI"], g["Permission"]) for g in grants if "URI" in g["Grantee"]}


def tags(s3: BaseClient, bucket: str, key: str) -> list[dict[str, str]]:
    return s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]


def test_object_acl_of_a_versioned_object(s3: BaseClient, versioned: str) -> None:
    older = s3.put_object(Bucket=versioned, Key="k", Body=b"1")["VersionId"]
    current = s3.put_object(Bucket=versioned, Key="k", Body=b"2", ACL="public-read")["VersionId"]
    assert public_grants(s3, versioned, "k") == PUBLIC
    # ACLs are kept per key: every existing version answers with the key's ACL.
    assert public_grants(s3, versioned, "k", VersionId=older) == PUBLIC
    s3.put_object_acl(Bucket=versioned, Key="k", ACL="private")
    assert public_grants(s3, versioned, "k", VersionId=current) == set()
    s3.put_object_acl(Bucket=versioned, Key="k", VersionId=current, ACL="public-read")
    assert public_grants(s3, versioned, "k") == PUBLIC

    with pytest.raises(s3.exceptions.ClientError) as unknown:
        s3.get_object_acl(Bucket=versioned, Key="k", VersionId="f" * 32)
    assert error_of(unknown) == ("NoSuchVersion", 404)
    with pytest.raises(s3.exceptions.ClientError) as unknown:
        s3.put_object_acl(Bucket=versioned, Key="k", VersionId="f" * 32, ACL="private")
    assert error_of(unknown) == ("NoSuchVersion", 404)
    # An older version has no ACL of its own to replace: refused, the key's ACL unchanged.
    with pytest.raises(s3.exceptions.ClientError) as older_acl:
        s3.put_object_acl(Bucket=versioned, Key="k", VersionId=older, ACL="private")
    assert error_of(older_acl) == ("NotImplemented", 501)
    assert public_grants(s3, versioned, "k") == PUBLIC

    marker = s3.delete_object(Bucket=versioned, Key="k")["VersionId"]
    with pytest.raises(s3.exceptions.ClientError) as hidden:
        s3.get_object_acl(Bucket=versioned, Key="k")
    assert error_of(hidden) == ("NoSuchKey", 404)
    with pytest.raises(s3.exceptions.ClientError) as by_marker:
        s3.put_object_acl(Bucket=versioned, Key="k", VersionId=marker, ACL="private")
    assert error_of(by_marker) == ("MethodNotAllowed", 405)


def test_version_id_in_an_unversioned_bucket(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert public_grants(s3, bucket, "k", VersionId="null") == PUBLIC
    with pytest.raises(s3.exceptions.ClientError) as raised:
        s3.get_object_acl(Bucket=bucket, Key="k", VersionId="f" * 32)
    assert error_of(raised) == ("InvalidArgument", 400)


def test_deleting_an_older_version_keeps_the_current_acl_and_tags(
    s3: BaseClient, versioned: str
) -> None:
    older = s3.put_object(Bucket=versioned, Key="k", Body=b"1", Tagging="age=old")["VersionId"]
    s3.put_object(Bucket=versioned, Key="k", Body=b"2", ACL="public-read", Tagging="age=new")
    s3.delete_object(Bucket=versioned, Key="k", VersionId=older)
    assert public_grants(s3, versioned, "k") == PUBLIC
    assert tags(s3, versioned, "k") == [{"Key": "age", "Value": "new"}]


def test_deleting_the_current_version_drops_its_acl(s3: BaseClient, versioned: str) -> None:
    s3.put_object(Bucket=versioned, Key="k", Body=b"1", Tagging="age=old")
    current = s3.put_object(
        Bucket=versioned, Key="k", Body=b"2", ACL="public-read", Tagging="age=new"
    )["VersionId"]
    s3.delete_object(Bucket=versioned, Key="k", VersionId=current)
    # The older version is current again: with its own tags, and not the deleted one's ACL.
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"1"
    assert public_grants(s3, versioned, "k") == set()
    assert tags(s3, versioned, "k") == [{"Key": "age", "Value": "old"}]


def test_a_delete_marker_drops_the_acl(s3: BaseClient, versioned: str) -> None:
    s3.put_object(Bucket=versioned, Key="k", Body=b"1", ACL="public-read")
    marker = s3.delete_object(Bucket=versioned, Key="k")
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=versioned, Key="k", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"1"
    assert public_grants(s3, versioned, "k") == set()


def test_unversioned_delete_drops_acl_and_tags(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"1", ACL="public-read", Tagging="a=b")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(s3.exceptions.ClientError) as gone:
        s3.get_object_acl(Bucket=bucket, Key="k")
    assert error_of(gone) == ("NoSuchKey", 404)
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    assert public_grants(s3, bucket, "k") == set()
    assert tags(s3, bucket, "k") == []
    # Versioning switched on afterwards adopts what is there, nothing that was deleted.
    s3.delete_object(Bucket=bucket, Key="k")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)
