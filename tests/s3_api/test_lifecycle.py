"""Bucket lifecycle through boto3 and the aws CLI, and one run of the expiration job against
the server's own database and object store, with a clock days ahead."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from core.bucket_acl import ObjectAcl
from core.buckets import Bucket
from core.db import Database
from core.lifecycle_run import run_lifecycle
from core.object_tags import ObjectTagging
from core.runtime import Runtime
from drivers.objectstore import load_object_store
from tests.s3_api.conftest import (
    Credentials,
    S3Server,
    assert_access_denied,
    aws_s3api,
    error_of,
    signed_request,
)

DATE = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
RULES: list[dict[str, Any]] = [
    {
        "ID": "logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 1},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
    },
    {
        "ID": "tmp",
        "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "kind", "Value": "scratch"}]}},
        "Status": "Disabled",
        "Expiration": {"Date": DATE},
    },
    {
        "ID": "old-versions",
        "Filter": {"Prefix": ""},
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    },
]


def put(s3: BaseClient, bucket: str, rules: list[dict[str, Any]]) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


@pytest.fixture
def server_runtime(s3_server: S3Server) -> Iterator[Runtime]:
    """The core as the server runs it: its database and its object store."""
    process = s3_server.process
    database = Database(process.database_url or f"sqlite:///{process.data_dir / 'cloudgate.db'}")
    if s3_server.backend == "swift":
        env = s3_server.swift_env
        store = load_object_store(
            "swift",
            auth_url=env["CLOUDGATE_SWIFT_AUTH_URL"],
            user=env["CLOUDGATE_SWIFT_USER"],
            key=env["CLOUDGATE_SWIFT_KEY"],
        )
    else:
        store = load_object_store("local", root=process.data_dir / "objects")
    yield Runtime(db=database, hypervisor=lambda _: None, msid="lifecycle-test", object_store=store)  # type: ignore[arg-type,return-value]
    database.dispose()


def test_put_get_delete(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(raised) == ("NoSuchLifecycleConfiguration", 404)
    put(s3, bucket, RULES)
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == RULES
    deleted = s3.delete_bucket_lifecycle(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(raised) == ("NoSuchLifecycleConfiguration", 404)


def test_filter_forms_round_trip(s3: BaseClient, bucket: str) -> None:
    rules = [
        {"ID": "a", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
         "Expiration": {"Days": 7}},
        {"ID": "b", "Filter": {"ObjectSizeGreaterThan": 1024}, "Status": "Enabled",
         "Expiration": {"Days": 3}},
        {"ID": "c", "Prefix": "legacy/", "Status": "Enabled", "Expiration": {"Days": 5}},
        {"ID": "d", "Filter": {}, "Status": "Enabled",
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]  # fmt: skip
    put(s3, bucket, rules)
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got[:3] == rules[:3]
    assert got[3]["Filter"] == {"Prefix": ""}
    assert got[3]["Expiration"] == {"ExpiredObjectDeleteMarker": True}


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 0}},
         ("InvalidArgument", 400)),
        ({"Filter": {"Prefix": ""}, "Status": "Enabled",
          "Expiration": {"Date": dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)}},
         ("InvalidArgument", 400)),
        ({"Status": "Enabled", "Expiration": {"Days": 1}}, ("MalformedXML", 400)),
        ({"Prefix": "a", "Filter": {"Prefix": "a"}, "Status": "Enabled",
          "Expiration": {"Days": 1}}, ("MalformedXML", 400)),
        ({"Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
          "Expiration": {"Days": 1}}, ("MalformedXML", 400)),
        ({"Filter": {"Prefix": ""}, "Status": "Enabled",
          "Expiration": {"Days": 1, "Date": DATE}}, ("MalformedXML", 400)),
        ({"Filter": {"Prefix": ""}, "Status": "Enabled"}, ("InvalidRequest", 400)),
        ({"Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
          "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
         ("InvalidArgument", 400)),
        ({"Filter": {"Prefix": ""}, "Status": "Enabled",
          "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}, ("NotImplemented", 501)),
    ],
)  # fmt: skip
def test_invalid_rules(
    s3: BaseClient, bucket: str, rule: dict[str, Any], code: tuple[str, int]
) -> None:
    with pytest.raises(ClientError) as raised:
        put(s3, bucket, [rule])
    assert error_of(raised) == code
    with pytest.raises(ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)


def test_duplicate_ids_and_bad_status(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    rule = {"ID": "same", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}
    with pytest.raises(ClientError) as raised:
        put(s3, bucket, [rule, rule])
    assert error_of(raised) == ("InvalidArgument", 400)
    body = (
        b"<LifecycleConfiguration><Rule><Filter><Prefix/></Filter><Status>On</Status>"
        b"<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"
    )
    response = signed_request(s3_server, "PUT", f"/{bucket}", query="lifecycle=", body=body)
    assert response.status_code == 400
    assert "<Code>MalformedXML</Code>" in response.text


def test_another_tenant_cannot_touch_the_configuration(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    put(s3, bucket, RULES)
    other = s3_server.client(other_tenant)
    assert_access_denied(
        lambda: other.get_bucket_lifecycle_configuration(Bucket=bucket),
        lambda: other.delete_bucket_lifecycle(Bucket=bucket),
        lambda: put(other, bucket, RULES[:1]),
    )
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == RULES


def test_objects_announce_their_expiration(s3: BaseClient, bucket: str) -> None:
    put(s3, bucket, RULES)
    written = s3.put_object(Bucket=bucket, Key="logs/today", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="logs/today")
    due = head["LastModified"].astimezone(dt.UTC) + dt.timedelta(days=2)
    expected = f'expiry-date="{due:%a, %d %b %Y} 00:00:00 GMT", rule-id="logs"'
    assert written["Expiration"] == expected
    assert head["Expiration"] == expected
    assert s3.get_object(Bucket=bucket, Key="logs/today")["Expiration"] == expected
    s3.put_object(Bucket=bucket, Key="data/kept", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="data/kept")


def test_the_job_expires_objects_seen_through_the_api(
    s3: BaseClient, bucket: str, server_runtime: Runtime
) -> None:
    for key in ("logs/1", "logs/2", "logs/deep/3", "data/keep", "tmp/scratch"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    stale = s3.create_multipart_upload(Bucket=bucket, Key="logs/big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="logs/big", UploadId=stale, PartNumber=1, Body=b"p")
    other = s3.create_multipart_upload(Bucket=bucket, Key="data/big")["UploadId"]
    put(s3, bucket, RULES)

    def expired_now(now: dt.datetime) -> list[str]:
        run = run_lifecycle(server_runtime, now=now)
        return sorted(key for name, key in run.expired if name == bucket)

    assert expired_now(dt.datetime.now(dt.UTC)) == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    assert expired_now(later) == ["logs/1", "logs/2", "logs/deep/3"]
    # The upload under logs/ was aborted (two days old by then); the other is left.
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [(upload["Key"], upload["UploadId"]) for upload in uploads] == [("data/big", other)]
    s3.abort_multipart_upload(Bucket=bucket, Key="data/big", UploadId=other)
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listed["Contents"]] == ["data/keep", "tmp/scratch"]
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="logs/1")
    assert error_of(raised) == ("404", 404)


def test_the_job_in_a_versioned_bucket(
    s3: BaseClient, bucket: str, server_runtime: Runtime
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="cur/a", Body=b"only")
    first = s3.put_object(Bucket=bucket, Key="kept", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="kept", Body=b"two")["VersionId"]
    put(
        s3,
        bucket,
        [
            {"ID": "current", "Filter": {"Prefix": "cur/"}, "Status": "Enabled",
             "Expiration": {"Days": 1}},
            {"ID": "old", "Filter": {"Prefix": ""}, "Status": "Enabled",
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
            {"ID": "markers", "Filter": {"Prefix": ""}, "Status": "Enabled",
             "Expiration": {"ExpiredObjectDeleteMarker": True}},
        ],
    )  # fmt: skip

    def versions() -> list[tuple[str, bool]]:
        listed = s3.list_object_versions(Bucket=bucket)
        found = [(v["Key"], v["VersionId"], False) for v in listed.get("Versions", [])]
        found += [(m["Key"], m["VersionId"], True) for m in listed.get("DeleteMarkers", [])]
        return sorted((key, marker) for key, _, marker in found)

    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    # First run: cur/a expires into a delete marker (as DeleteObject would), kept's
    # replaced version goes for good.
    run = run_lifecycle(server_runtime, now=start)
    assert [key for name, key in run.expired if name == bucket] == ["cur/a"]
    assert versions() == [("cur/a", False), ("cur/a", True), ("kept", False)]
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]
            if v["Key"] == "kept"] == [second]  # fmt: skip
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="kept", VersionId=first)
    # Later runs: the now noncurrent cur/a goes, then the delete marker left alone.
    run_lifecycle(server_runtime, now=start + dt.timedelta(hours=2))
    assert versions() == [("cur/a", True), ("kept", False)]
    run_lifecycle(server_runtime, now=start + dt.timedelta(hours=4))
    assert versions() == [("kept", False)]
    s3.delete_object(Bucket=bucket, Key="kept", VersionId=second)  # the bucket can go now


def leftovers(runtime: Runtime, bucket: str) -> tuple[set[str], set[str]]:
    """The keys of the bucket that still have an ACL row, and those with tag rows."""
    with runtime.db.read() as session:
        bucket_id = session.scalar(sa.select(Bucket.id).where(Bucket.name == bucket))
        acls = session.scalars(sa.select(ObjectAcl.key).where(ObjectAcl.bucket_id == bucket_id))
        tags = session.scalars(
            sa.select(ObjectTagging.key).where(ObjectTagging.bucket_id == bucket_id)
        )
        return set(acls), {key.decode() for key in tags}


def public(s3: BaseClient, bucket: str, key: str) -> bool:
    grants = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    return any(grant["Grantee"].get("URI", "").endswith("/AllUsers") for grant in grants)


def test_expired_objects_take_their_acl_and_tags_along(
    s3: BaseClient, bucket: str, server_runtime: Runtime
) -> None:
    for key in ("logs/old", "data/keep"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x", ACL="public-read", Tagging="kind=log")
    put(s3, bucket, RULES[:1])
    assert leftovers(server_runtime, bucket) == ({"logs/old", "data/keep"},) * 2
    run = run_lifecycle(server_runtime, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    assert [key for name, key in run.expired if name == bucket] == ["logs/old"]
    assert leftovers(server_runtime, bucket) == ({"data/keep"}, {"data/keep"})
    assert public(s3, bucket, "data/keep")
    # A new object at the expired key starts private, as after DeleteObject.
    s3.put_object(Bucket=bucket, Key="logs/old", Body=b"y")
    assert not public(s3, bucket, "logs/old")


def test_expiry_in_a_versioned_bucket_forgets_only_what_went(
    s3: BaseClient, bucket: str, server_runtime: Runtime
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="cur/a", Body=b"a", ACL="public-read", Tagging="t=a")
    first = s3.put_object(Bucket=bucket, Key="kept", Body=b"1", Tagging="t=1")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="kept", Body=b"2", ACL="public-read")["VersionId"]
    rules = [
        {"ID": "current", "Filter": {"Prefix": "cur/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "old", "Filter": {"Prefix": "kept"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ]  # fmt: skip
    put(s3, bucket, rules)
    assert leftovers(server_runtime, bucket) == ({"cur/a", "kept"}, {"cur/a", "kept"})
    run = run_lifecycle(server_runtime, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    assert [key for name, key in run.expired if name == bucket] == ["cur/a"]
    assert run.noncurrent_expired >= 1
    # cur/a is hidden by a delete marker: its ACL went, as with DeleteObject; its version's
    # tags stay with the version. kept's old version went with its tags, and the current
    # version of kept keeps its ACL (rows: GetObjectAcl does not read versioned objects yet).
    assert leftovers(server_runtime, bucket) == ({"kept"}, {"cur/a"})
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="kept", VersionId=first)
    s3.delete_object(Bucket=bucket, Key="kept", VersionId=second)


def test_aws_cli_put_bucket_lifecycle_configuration(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    document = tmp_path / "lifecycle.json"
    rules = [{"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
              "Expiration": {"Days": 30}}]  # fmt: skip
    document.write_text(json.dumps({"Rules": rules}))

    def s3api(*args: str) -> str:
        return aws_s3api(s3_server, *args, "--bucket", bucket)

    s3api("put-bucket-lifecycle-configuration", "--lifecycle-configuration", f"file://{document}")
    assert json.loads(s3api("get-bucket-lifecycle-configuration"))["Rules"] == rules
    s3api("delete-bucket-lifecycle")
