"""Object tagging through boto3 (and `aws s3api`), on both backends: the tagging
sub-resource, the `x-amz-tagging` header, `x-amz-tagging-count`, S3's limits, versions."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, aws_env, error_of
from tests.s3_api.test_versioning import versioned  # noqa: F401 - a fixture


def tag_set(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"TagSet": [{"Key": key, "Value": value} for key, value in pairs]}


def tags_of(s3: BaseClient, bucket: str, key: str, **extra: Any) -> list[tuple[str, str]]:
    answer = s3.get_object_tagging(Bucket=bucket, Key=key, **extra)
    return [(tag["Key"], tag["Value"]) for tag in answer["TagSet"]]


def test_put_get_delete_tagging(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    assert tags_of(s3, bucket, "doc") == []
    assert "TagCount" not in s3.head_object(Bucket=bucket, Key="doc")

    s3.put_object_tagging(Bucket=bucket, Key="doc", Tagging=tag_set(("a", "1"), ("b", "two")))
    assert tags_of(s3, bucket, "doc") == [("a", "1"), ("b", "two")]
    assert (
        s3.head_object(Bucket=bucket, Key="doc")["ResponseMetadata"]["HTTPHeaders"][
            "x-amz-tagging-count"
        ]
        == "2"
    )
    assert s3.get_object(Bucket=bucket, Key="doc")["TagCount"] == 2

    # A put replaces the whole set.
    s3.put_object_tagging(Bucket=bucket, Key="doc", Tagging=tag_set(("c", "")))
    assert tags_of(s3, bucket, "doc") == [("c", "")]

    answer = s3.delete_object_tagging(Bucket=bucket, Key="doc")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "doc") == []


def test_tagging_header_on_put_object(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="project=blue%20sky&empty=")
    assert tags_of(s3, bucket, "k") == [("project", "blue sky"), ("empty", "")]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2

    # An overwrite without the header leaves the new object untagged.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert tags_of(s3, bucket, "k") == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")

    # A deleted object takes its tags along: a new object of the key has none.
    s3.put_object(Bucket=bucket, Key="k", Body=b"y", Tagging="a=1")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as raised:
        s3.get_object_tagging(Bucket=bucket, Key="k")
    assert error_of(raised) == ("NoSuchKey", 404)
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert tags_of(s3, bucket, "k") == []


def test_limits(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="kept=yes")
    eleven = [(f"k{n}", "v") for n in range(11)]
    refused: list[tuple[list[tuple[str, str]], str]] = [
        (eleven, "BadRequest"),
        ([("k" * 129, "v")], "InvalidTag"),
        ([("k", "v" * 257)], "InvalidTag"),
        ([("aws:owner", "me")], "InvalidTag"),
        ([("same", "1"), ("same", "2")], "InvalidTag"),
    ]
    for tags, code in refused:
        with pytest.raises(ClientError) as raised:
            s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(*tags))
        assert error_of(raised) == (code, 400), tags
    # The longest allowed key and value, ten tags: accepted.
    ten = [("k" * 128, "v" * 256)] + [(f"k{n}", "v") for n in range(9)]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(*ten))
    assert len(tags_of(s3, bucket, "k")) == 10

    # The header obeys the same limits, and a refused upload stores nothing.
    header = "&".join(f"{key}={value}" for key, value in eleven)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="new", Body=b"x", Tagging=header)
    assert error_of(raised) == ("BadRequest", 400)
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="new")
    assert error_of(raised) == ("404", 404)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="new", Body=b"x", Tagging="aws:x=1")
    assert error_of(raised) == ("InvalidTag", 400)


def test_missing_object(s3: BaseClient, bucket: str) -> None:
    for call in (
        lambda: s3.get_object_tagging(Bucket=bucket, Key="absent"),
        lambda: s3.put_object_tagging(Bucket=bucket, Key="absent", Tagging=tag_set(("a", "b"))),
        lambda: s3.delete_object_tagging(Bucket=bucket, Key="absent"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("NoSuchKey", 404)


def test_tags_per_version(s3: BaseClient, versioned: str) -> None:  # noqa: F811
    old = s3.put_object(Bucket=versioned, Key="k", Body=b"1", Tagging="gen=old")["VersionId"]
    new = s3.put_object(Bucket=versioned, Key="k", Body=b"2")["VersionId"]
    assert tags_of(s3, versioned, "k") == []
    assert tags_of(s3, versioned, "k", VersionId=old) == [("gen", "old")]
    assert s3.get_object(Bucket=versioned, Key="k", VersionId=old)["TagCount"] == 1

    answer = s3.put_object_tagging(
        Bucket=versioned, Key="k", VersionId=old, Tagging=tag_set(("gen", "older"))
    )
    assert answer["VersionId"] == old
    answer = s3.put_object_tagging(Bucket=versioned, Key="k", Tagging=tag_set(("gen", "new")))
    assert answer["VersionId"] == new
    assert s3.get_object_tagging(Bucket=versioned, Key="k")["VersionId"] == new
    assert tags_of(s3, versioned, "k", VersionId=old) == [("gen", "older")]

    deleted = s3.delete_object_tagging(Bucket=versioned, Key="k", VersionId=old)
    assert deleted["VersionId"] == old
    assert tags_of(s3, versioned, "k", VersionId=old) == []
    assert tags_of(s3, versioned, "k") == [("gen", "new")]

    marker = s3.delete_object(Bucket=versioned, Key="k")["VersionId"]
    with pytest.raises(ClientError) as raised:
        s3.get_object_tagging(Bucket=versioned, Key="k")
    assert error_of(raised) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as raised:
        s3.get_object_tagging(Bucket=versioned, Key="k", VersionId="0" * 32)
    assert error_of(raised) == ("NoSuchVersion", 404)
    s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    assert tags_of(s3, versioned, "k") == [("gen", "new")]


def test_another_tenant_cannot_tag(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="owner=me")
    other = s3_server.client(other_tenant)
    attempts: list[Callable[[], object]] = [
        lambda: other.get_object_tagging(Bucket=bucket, Key="k"),
        lambda: other.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(("a", "b"))),
        lambda: other.delete_object_tagging(Bucket=bucket, Key="k"),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as raised:
            attempt()
        assert error_of(raised) == ("AccessDenied", 403)
    assert tags_of(s3, bucket, "k") == [("owner", "me")]


def test_awscli_s3api_tagging(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cli", Body=b"x")

    def s3api(*args: str) -> Any:
        done = subprocess.run(
            ["aws", "--endpoint-url", s3_server.url, "s3api", *args,
             "--bucket", bucket, "--key", "cli"],
            env=aws_env(s3_server), capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return json.loads(done.stdout) if done.stdout.strip() else None

    s3api("put-object-tagging", "--tagging", "TagSet=[{Key=team,Value=storage}]")
    assert s3api("get-object-tagging")["TagSet"] == [{"Key": "team", "Value": "storage"}]
    s3api("delete-object-tagging")
    assert s3api("get-object-tagging")["TagSet"] == []
