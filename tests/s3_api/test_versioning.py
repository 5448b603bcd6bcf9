"""Bucket versioning through boto3 (and `aws s3api`), on both backends: versions, delete
markers, the `null` version, ListObjectVersions and its paging, tenant isolation."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, aws_env, error_of


@pytest.fixture
def versioned(s3: BaseClient, make_bucket: Callable[[], str]) -> str:
    name = make_bucket()
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def body_of(s3: BaseClient, bucket: str, key: str, **extra: Any) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def versions(s3: BaseClient, bucket: str, **extra: Any) -> list[tuple[str, str, bool, bool]]:
    """(key, version id, is latest, is delete marker) in listing order."""
    page = s3.list_object_versions(Bucket=bucket, **extra)
    found = [(v["Key"], v["VersionId"], v["IsLatest"], False) for v in page.get("Versions", [])]
    found += [
        (m["Key"], m["VersionId"], m["IsLatest"], True) for m in page.get("DeleteMarkers", [])
    ]
    return sorted(found, key=lambda entry: entry[0])  # stable: newest first within a key


def test_status_never_enabled_enabled_suspended(s3: BaseClient, make_bucket: Callable[[], str]):
    name = make_bucket()
    answer = s3.get_bucket_versioning(Bucket=name)
    assert "Status" not in answer
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Sometimes"})
    assert error_of(raised) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_versioning(Bucket=f"missing-{uuid.uuid4().hex[:12]}")
    assert error_of(raised) == ("NoSuchBucket", 404)


def test_each_put_is_a_version(s3: BaseClient, versioned: str) -> None:
    first = s3.put_object(Bucket=versioned, Key="doc.txt", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=versioned, Key="doc.txt", Body=b"two!")["VersionId"]
    assert first and second and first != second and "null" not in (first, second)

    current = s3.get_object(Bucket=versioned, Key="doc.txt")
    assert (current["Body"].read(), current["VersionId"]) == (b"two!", second)
    assert body_of(s3, versioned, "doc.txt", VersionId=first) == b"one"
    head = s3.head_object(Bucket=versioned, Key="doc.txt", VersionId=first)
    assert (head["VersionId"], head["ContentLength"]) == (first, 3)
    assert versions(s3, versioned) == [
        ("doc.txt", second, True, False),
        ("doc.txt", first, False, False),
    ]
    # ListObjects shows only the current version.
    (item,) = s3.list_objects_v2(Bucket=versioned)["Contents"]
    assert (item["Key"], item["Size"]) == ("doc.txt", 4)

    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=versioned, Key="doc.txt", VersionId=uuid.uuid4().hex)
    assert error_of(raised) == ("NoSuchVersion", 404)


def test_delete_marker(s3: BaseClient, versioned: str) -> None:
    kept = s3.put_object(Bucket=versioned, Key="k", Body=b"kept")["VersionId"]
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    assert marker not in (kept, "null")

    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=versioned, Key="k")
    assert error_of(raised) == ("NoSuchKey", 404)
    headers = raised.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=versioned, Key="k")
    assert error_of(raised) == ("404", 404)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=versioned, Key="k", VersionId=marker)
    assert error_of(raised) == ("MethodNotAllowed", 405)
    assert raised.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"

    assert "Contents" not in s3.list_objects_v2(Bucket=versioned)
    assert versions(s3, versioned) == [("k", kept, False, False), ("k", marker, True, True)]
    assert body_of(s3, versioned, "k", VersionId=kept) == b"kept"

    # Removing the marker by its version id brings the object back.
    undone = s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    assert (undone["DeleteMarker"], undone["VersionId"]) == (True, marker)
    assert body_of(s3, versioned, "k") == b"kept"


def test_deleting_a_version_for_good(s3: BaseClient, versioned: str) -> None:
    old = s3.put_object(Bucket=versioned, Key="k", Body=b"old")["VersionId"]
    new = s3.put_object(Bucket=versioned, Key="k", Body=b"new")["VersionId"]
    answer = s3.delete_object(Bucket=versioned, Key="k", VersionId=new)
    assert answer["VersionId"] == new and "DeleteMarker" not in answer
    current = s3.get_object(Bucket=versioned, Key="k")
    assert (current["Body"].read(), current["VersionId"]) == (b"old", old)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=versioned, Key="k", VersionId=new)
    assert error_of(raised) == ("NoSuchVersion", 404)
    s3.delete_object(Bucket=versioned, Key="k", VersionId=old)
    assert versions(s3, versioned) == []
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=versioned, Key="k")
    assert error_of(raised) == ("NoSuchKey", 404)


def test_objects_before_versioning_are_null_versions(
    s3: BaseClient, make_bucket: Callable[[], str]
) -> None:
    name = make_bucket()
    plain = s3.put_object(Bucket=name, Key="early", Body=b"from before")
    assert "VersionId" not in plain
    assert versions(s3, name) == [("early", "null", True, False)]
    assert body_of(s3, name, "early", VersionId="null") == b"from before"

    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert versions(s3, name) == [("early", "null", True, False)]
    later = s3.put_object(Bucket=name, Key="early", Body=b"later")["VersionId"]
    assert versions(s3, name) == [("early", later, True, False), ("early", "null", False, False)]
    assert body_of(s3, name, "early") == b"later"
    assert body_of(s3, name, "early", VersionId="null") == b"from before"


def test_suspended_writes_the_null_version(s3: BaseClient, versioned: str) -> None:
    kept = s3.put_object(Bucket=versioned, Key="k", Body=b"versioned")["VersionId"]
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=versioned, Key="k", Body=b"null 1")["VersionId"] == "null"
    assert s3.put_object(Bucket=versioned, Key="k", Body=b"null 2")["VersionId"] == "null"
    # The null version was replaced, the versioned one kept.
    assert versions(s3, versioned) == [("k", "null", True, False), ("k", kept, False, False)]
    assert body_of(s3, versioned, "k") == b"null 2"

    # A delete while suspended is a null delete marker that replaces the null version.
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert (deleted["DeleteMarker"], deleted["VersionId"]) == (True, "null")
    assert versions(s3, versioned) == [("k", kept, False, False), ("k", "null", True, True)]
    assert body_of(s3, versioned, "k", VersionId=kept) == b"versioned"


def test_list_object_versions_prefix_delimiter_paging(s3: BaseClient, versioned: str) -> None:
    expected: list[tuple[str, str]] = []
    for key in ("a/1", "a/2", "b", "c/x/y", "d"):
        ids = [
            s3.put_object(Bucket=versioned, Key=key, Body=key.encode() * n)["VersionId"]
            for n in (1, 2)
        ]
        expected += [(key, ids[1]), (key, ids[0])]
    marker = s3.delete_object(Bucket=versioned, Key="d")["VersionId"]
    expected.insert(len(expected) - 2, ("d", marker))  # the newest of "d"

    # Page by page, two entries at a time, as the paginator does.
    seen: list[tuple[str, str]] = []
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=versioned, PaginationConfig={"PageSize": 2}
    )
    for page in pages:
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        assert len(entries) <= 2
        seen += sorted(
            ((e["Key"], e["VersionId"]) for e in entries), key=lambda kv: expected.index(kv)
        )
    assert seen == expected

    rolled = s3.list_object_versions(Bucket=versioned, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/", "c/"]
    assert {v["Key"] for v in rolled["Versions"]} == {"b", "d"}
    assert [(m["Key"], m["IsLatest"]) for m in rolled["DeleteMarkers"]] == [("d", True)]

    under_a = s3.list_object_versions(Bucket=versioned, Prefix="a/")
    assert [(v["Key"], v["IsLatest"]) for v in under_a["Versions"]] == [
        ("a/1", True), ("a/1", False), ("a/2", True), ("a/2", False),
    ]  # fmt: skip
    after = s3.list_object_versions(Bucket=versioned, KeyMarker="b")
    assert {v["Key"] for v in after["Versions"]} == {"c/x/y", "d"}
    middle = s3.list_object_versions(
        Bucket=versioned, KeyMarker="a/1", VersionIdMarker=expected[0][1], MaxKeys=2
    )
    assert [(v["Key"], v["VersionId"]) for v in middle["Versions"]] == expected[1:3]
    assert middle["IsTruncated"] is True
    assert (middle["NextKeyMarker"], middle["NextVersionIdMarker"]) == expected[2]

    # ListObjects of a versioned bucket: current versions only, rolled up the same way.
    current = s3.list_objects_v2(Bucket=versioned, Delimiter="/")
    assert [c["Key"] for c in current["Contents"]] == ["b"]
    assert [p["Prefix"] for p in current["CommonPrefixes"]] == ["a/", "c/"]
    assert [c["Key"] for c in s3.list_objects(Bucket=versioned, Prefix="a/")["Contents"]] == [
        "a/1",
        "a/2",
    ]


def test_a_bucket_with_versions_is_not_empty(s3: BaseClient, make_bucket: Callable[[], str]):
    name = make_bucket()
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=name, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=name, Key="k")["VersionId"]
    with pytest.raises(ClientError) as raised:
        s3.delete_bucket(Bucket=name)
    assert error_of(raised) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=name, Key="k", VersionId=version)
    with pytest.raises(ClientError) as raised:  # the delete marker still counts
        s3.delete_bucket(Bucket=name)
    assert error_of(raised) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=name, Key="k", VersionId=marker)
    s3.delete_bucket(Bucket=name)
    # The name is free again, and a new bucket of that name starts unversioned.
    s3.create_bucket(Bucket=name)
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    assert s3.list_object_versions(Bucket=name).get("Versions", []) == []


def test_unversioned_bucket_is_unchanged(s3: BaseClient, make_bucket: Callable[[], str]) -> None:
    name = make_bucket()
    assert "VersionId" not in s3.put_object(Bucket=name, Key="k", Body=b"1")
    assert "VersionId" not in s3.get_object(Bucket=name, Key="k")
    deleted = s3.delete_object(Bucket=name, Key="k")
    assert "DeleteMarker" not in deleted and "VersionId" not in deleted
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=name, Key="k")
    assert error_of(raised) == ("NoSuchKey", 404)
    assert "x-amz-delete-marker" not in raised.value.response["ResponseMetadata"]["HTTPHeaders"]


def test_another_tenant_sees_no_versions(
    s3_server: S3Server, s3: BaseClient, versioned: str, other_tenant: Credentials
) -> None:
    version = s3.put_object(Bucket=versioned, Key="secret", Body=b"mine")["VersionId"]
    other = s3_server.client(other_tenant)
    attempts: list[Callable[[], object]] = [
        lambda: other.get_bucket_versioning(Bucket=versioned),
        lambda: other.put_bucket_versioning(
            Bucket=versioned, VersioningConfiguration={"Status": "Suspended"}
        ),
        lambda: other.list_object_versions(Bucket=versioned),
        lambda: other.get_object(Bucket=versioned, Key="secret", VersionId=version),
        lambda: other.delete_object(Bucket=versioned, Key="secret", VersionId=version),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as raised:
            attempt()
        assert error_of(raised) == ("AccessDenied", 403)
    assert s3.get_bucket_versioning(Bucket=versioned)["Status"] == "Enabled"
    assert body_of(s3, versioned, "secret", VersionId=version) == b"mine"


def test_awscli_s3api_versioning(s3_server: S3Server, s3: BaseClient, make_bucket) -> None:
    name = make_bucket()

    def s3api(*args: str) -> Any:
        done = subprocess.run(
            ["aws", "--endpoint-url", s3_server.url, "s3api", *args, "--bucket", name],
            env=aws_env(s3_server), capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return json.loads(done.stdout) if done.stdout.strip() else None

    s3api("put-bucket-versioning", "--versioning-configuration", "Status=Enabled")
    assert s3api("get-bucket-versioning") == {"Status": "Enabled"}
    one = s3.put_object(Bucket=name, Key="cli", Body=b"1")["VersionId"]
    two = s3.put_object(Bucket=name, Key="cli", Body=b"2")["VersionId"]
    listed = s3api("list-object-versions")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
        (two, True), (one, False),
    ]  # fmt: skip
    removed = s3api("delete-object", "--key", "cli", "--version-id", two)
    assert removed["VersionId"] == two
    assert body_of(s3, name, "cli") == b"1"


def test_delete_objects_in_a_versioned_bucket(s3: BaseClient, versioned: str) -> None:
    one = s3.put_object(Bucket=versioned, Key="one", Body=b"1")["VersionId"]
    s3.put_object(Bucket=versioned, Key="two", Body=b"2")
    answer = s3.delete_objects(
        Bucket=versioned,
        Delete={"Objects": [{"Key": "one", "VersionId": one}, {"Key": "two"}]},
    )
    deleted = {entry["Key"]: entry for entry in answer["Deleted"]}
    assert deleted["one"]["VersionId"] == one and "DeleteMarker" not in deleted["one"]
    assert deleted["two"]["DeleteMarker"] is True
    marker = deleted["two"]["DeleteMarkerVersionId"]
    assert [entry[:2] for entry in versions(s3, versioned) if entry[3]] == [("two", marker)]
    assert "one" not in [entry[0] for entry in versions(s3, versioned)]


def test_conditional_put_looks_at_the_current_version(s3: BaseClient, versioned: str) -> None:
    etag = s3.put_object(Bucket=versioned, Key="k", Body=b"1")["ETag"]
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=versioned, Key="k", Body=b"2", IfNoneMatch="*")
    assert error_of(raised) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=versioned, Key="k", Body=b"2", IfMatch=etag)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=versioned, Key="k", Body=b"3", IfMatch=etag)
    assert error_of(raised) == ("PreconditionFailed", 412)
    assert len(versions(s3, versioned)) == 2  # the refused writes left no version
    s3.delete_object(Bucket=versioned, Key="k")
    s3.put_object(Bucket=versioned, Key="k", Body=b"4", IfNoneMatch="*")  # a marker is absence
    assert body_of(s3, versioned, "k") == b"4"
