"""DeleteObjects on both backends: verbose and quiet, limits, the integrity check S3
requires, errors, and awscli `s3api delete-objects`."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, aws_env, error_of, signed_request


def fill(s3: BaseClient, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())


def remaining(s3: BaseClient, bucket: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_verbose_delete(s3: BaseClient, bucket: str) -> None:
    fill(s3, bucket, ["a", "b/c", "spaced key ü", "keep"])
    answer = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b/c"}, {"Key": "spaced key ü"}, {"Key": "x"}]},
    )
    # A key that did not exist counts as deleted, as in S3.
    assert sorted(item["Key"] for item in answer["Deleted"]) == ["a", "b/c", "spaced key ü", "x"]
    assert "Errors" not in answer
    assert remaining(s3, bucket) == ["keep"]


def test_quiet_delete_answers_only_errors(s3: BaseClient, bucket: str) -> None:
    fill(s3, bucket, ["a", "b"])
    answer = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v1"}], "Quiet": True},
    )
    assert "Deleted" not in answer
    # Not a version of this unversioned bucket: an error entry, and "b" stays.
    assert [(e["Key"], e["VersionId"]) for e in answer["Errors"]] == [("b", "v1")]
    assert answer["Errors"][0]["Code"] in ("NoSuchVersion", "InvalidArgument")
    assert remaining(s3, bucket) == ["b"]


def test_a_thousand_keys_at_most(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    fill(s3, bucket, ["k0", "k1"])
    keys = [{"Key": f"k{index}"} for index in range(1000)]
    patient = s3_server.client(read_timeout=300)  # a thousand Swift round trips on a busy box
    started = time.monotonic()
    answer = patient.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    print(f"1000 deletes on {s3_server.backend}: {time.monotonic() - started:.1f} s")
    assert "Errors" not in answer
    assert remaining(s3, bucket) == []
    with pytest.raises(ClientError) as raised:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [*keys, {"Key": "one-more"}]})
    assert error_of(raised) == ("MalformedXML", 400)


def test_a_thousand_keys_and_versions_in_a_versioned_bucket(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    """The versioned path, timed as the unversioned one above is (printed, not asserted):
    a thousand delete markers in one call, then a thousand deletes by version id — the
    markers and real versions whose bytes the store deletes."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    stored = [f"k{index}" for index in range(24)]
    fill(s3, bucket, stored)
    patient = s3_server.client(read_timeout=300)
    keys = [{"Key": f"k{index}"} for index in range(1000)]
    started = time.monotonic()
    answer = patient.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    print(f"1000 delete markers on {s3_server.backend}: {time.monotonic() - started:.1f} s")
    assert "Errors" not in answer and len(answer["Deleted"]) == 1000
    assert all(entry["DeleteMarker"] for entry in answer["Deleted"])
    assert remaining(s3, bucket) == []
    listed = s3.list_object_versions(Bucket=bucket)
    versions = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listed["Versions"]]
    assert sorted(item["Key"] for item in versions) == sorted(stored)
    markers = [
        {"Key": entry["Key"], "VersionId": entry["DeleteMarkerVersionId"]}
        for entry in answer["Deleted"]
    ]
    by_version = versions + markers[: 1000 - len(versions)]
    started = time.monotonic()
    answer = patient.delete_objects(Bucket=bucket, Delete={"Objects": by_version, "Quiet": True})
    print(f"1000 deletes by version id on {s3_server.backend}: {time.monotonic() - started:.1f} s")
    assert "Errors" not in answer
    listed = s3.list_object_versions(Bucket=bucket)
    assert "Versions" not in listed
    assert len(listed["DeleteMarkers"]) == len(versions)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key=stored[0], VersionId=versions[0]["VersionId"])
    assert error_of(raised) == ("NoSuchVersion", 404)


def test_suspended_bucket(s3: BaseClient, bucket: str) -> None:
    """A suspended bucket: a null delete marker replaces a key's null version, and a version
    named by id goes for good, in one call."""
    fill(s3, bucket, ["before"])  # an unversioned object: the null version once configured
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="after", Body=b"v")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    answer = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "before"}, {"Key": "after", "VersionId": version}]},
    )
    deleted = {entry["Key"]: entry for entry in answer["Deleted"]}
    assert (
        deleted["before"]["DeleteMarker"] and deleted["before"]["DeleteMarkerVersionId"] == "null"
    )
    assert deleted["after"] == {"Key": "after", "VersionId": version}
    listed = s3.list_object_versions(Bucket=bucket)
    assert "Versions" not in listed
    assert [(m["Key"], m["VersionId"]) for m in listed["DeleteMarkers"]] == [("before", "null")]


def delete_document(*keys: str) -> bytes:
    objects = "".join(f"<Object><Key>{key}</Key></Object>" for key in keys)
    return f"<Delete>{objects}</Delete>".encode()


def test_integrity_check_is_required_and_verified(s3_server: S3Server, bucket: str) -> None:
    s3_server.client().put_object(Bucket=bucket, Key="a", Body=b"x")
    body = delete_document("a")
    response = signed_request(s3_server, "POST", f"/{bucket}", query="delete=", body=body)
    assert response.status_code == 400
    assert b"<Code>InvalidRequest</Code>" in response.content
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    response = signed_request(
        s3_server, "POST", f"/{bucket}", query="delete=", body=body,
        headers={"Content-MD5": wrong_md5},
    )  # fmt: skip
    assert response.status_code == 400
    assert b"<Code>BadDigest</Code>" in response.content
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    response = signed_request(
        s3_server, "POST", f"/{bucket}", query="delete=", body=body, headers={"Content-MD5": md5}
    )
    assert response.status_code == 200, response.text
    assert b"<Deleted><Key>a</Key></Deleted>" in response.content


@pytest.mark.parametrize(
    "body", [b"<Delete></Delete>", b"<Delete><Object></Object></Delete>", b"not xml", b""]
)
def test_malformed_documents(s3_server: S3Server, bucket: str, body: bytes) -> None:
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    response = signed_request(
        s3_server, "POST", f"/{bucket}", query="delete=", body=body, headers={"Content-MD5": md5}
    )
    assert response.status_code == 400
    assert b"<Code>MalformedXML</Code>" in response.content


def test_another_account_cannot_delete(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    fill(s3, bucket, ["a"])
    other = s3_server.client(other_tenant)
    with pytest.raises(ClientError) as raised:
        other.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}]})
    assert error_of(raised) == ("AccessDenied", 403)
    assert remaining(s3, bucket) == ["a"]


def test_awscli_s3api_delete_objects(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    fill(s3, bucket, ["one", "two", "three"])
    output = subprocess.run(
        [
            "aws", "--endpoint-url", s3_server.url, "s3api", "delete-objects",
            "--bucket", bucket, "--delete", "Objects=[{Key=one},{Key=two}]",
        ],
        env=aws_env(s3_server), capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert sorted(item["Key"] for item in json.loads(output)["Deleted"]) == ["one", "two"]
    assert remaining(s3, bucket) == ["three"]
