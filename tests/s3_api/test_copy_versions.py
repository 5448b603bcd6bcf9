"""CopyObject and UploadPartCopy with bucket versioning, through boto3 on both backends: a copy
is a new version of a versioned target, `?versionId=` in the copy source reads that version
(its tags too), delete markers are refused as S3 refuses them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import error_of


def versioned_bucket(s3: BaseClient, make_bucket: Callable[[], str], status: str) -> str:
    name = make_bucket()
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    return name


@pytest.fixture
def versioned(s3: BaseClient, make_bucket: Callable[[], str]) -> str:
    return versioned_bucket(s3, make_bucket, "Enabled")


def put(s3: BaseClient, bucket: str, key: str, body: bytes, **extra: object) -> str | None:
    return s3.put_object(Bucket=bucket, Key=key, Body=body, **extra).get("VersionId")


def body_of(s3: BaseClient, bucket: str, key: str, **extra: object) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def version_ids(s3: BaseClient, bucket: str, key: str) -> list[str]:
    """The key's version ids (not delete markers), newest first."""
    page = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v["VersionId"] for v in page.get("Versions", []) if v["Key"] == key]


def test_a_copy_into_a_versioned_bucket_is_a_new_version(s3: BaseClient, versioned: str) -> None:
    source_version = put(s3, versioned, "source", b"content", Metadata={"m": "1"})
    first = s3.copy_object(
        Bucket=versioned, Key="copy", CopySource={"Bucket": versioned, "Key": "source"}
    )
    second = s3.copy_object(
        Bucket=versioned, Key="copy", CopySource={"Bucket": versioned, "Key": "source"}
    )
    assert first["CopySourceVersionId"] == second["CopySourceVersionId"] == source_version
    assert None not in (first.get("VersionId"), second.get("VersionId"))
    assert first["VersionId"] != second["VersionId"]
    assert version_ids(s3, versioned, "copy") == [second["VersionId"], first["VersionId"]]
    # Each copy is a version of its own, readable by its id, as HEAD and GET show.
    got = s3.get_object(Bucket=versioned, Key="copy", VersionId=first["VersionId"])
    assert (got["Body"].read(), got["VersionId"], got["Metadata"]) == (
        b"content",
        first["VersionId"],
        {"m": "1"},
    )
    assert s3.head_object(Bucket=versioned, Key="copy")["VersionId"] == second["VersionId"]
    # Deleting the newest copy by id makes the older one current again.
    s3.delete_object(Bucket=versioned, Key="copy", VersionId=second["VersionId"])
    assert s3.head_object(Bucket=versioned, Key="copy")["VersionId"] == first["VersionId"]
    assert body_of(s3, versioned, "source") == b"content"


def test_copy_of_a_named_version_and_a_restore_onto_the_key(s3: BaseClient, versioned: str) -> None:
    old = put(s3, versioned, "doc", b"old words", ContentType="text/old", Tagging="era=old")
    new = put(s3, versioned, "doc", b"new words", ContentType="text/new", Tagging="era=new")
    copied = s3.copy_object(
        Bucket=versioned,
        Key="other",
        CopySource={"Bucket": versioned, "Key": "doc", "VersionId": old},
    )
    assert copied["CopySourceVersionId"] == old
    got = s3.get_object(Bucket=versioned, Key="other")
    assert (got["Body"].read(), got["ContentType"]) == (b"old words", "text/old")
    # The named version's tags come with it (TaggingDirective COPY), not the current's.
    tagging = s3.get_object_tagging(Bucket=versioned, Key="other")
    assert tagging["TagSet"] == [{"Key": "era", "Value": "old"}]
    assert tagging["VersionId"] == copied["VersionId"]
    # Copying an older version onto its own key restores it (no REPLACE needed).
    restored = s3.copy_object(
        Bucket=versioned,
        Key="doc",
        CopySource={"Bucket": versioned, "Key": "doc", "VersionId": old},
    )
    assert body_of(s3, versioned, "doc") == b"old words"
    assert version_ids(s3, versioned, "doc") == [restored["VersionId"], new, old]
    assert body_of(s3, versioned, "doc", VersionId=new) == b"new words"
    # A plain copy of the current version onto itself still changes nothing: refused.
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=versioned, Key="doc", CopySource={"Bucket": versioned, "Key": "doc"})
    assert error_of(raised) == ("InvalidRequest", 400)
    assert len(version_ids(s3, versioned, "doc")) == 3


def test_copy_sources_that_are_delete_markers_or_unknown_versions(
    s3: BaseClient, versioned: str
) -> None:
    kept = put(s3, versioned, "gone", b"bytes")
    marker = s3.delete_object(Bucket=versioned, Key="gone")["VersionId"]
    source = {"Bucket": versioned, "Key": "gone"}
    # The current version is a delete marker: the key does not exist (as GET says).
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=versioned, Key="t", CopySource=source)
    assert error_of(raised) == ("NoSuchKey", 404)
    # A delete marker named by its version id is a request S3 refuses.
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=versioned, Key="t", CopySource={**source, "VersionId": marker})
    assert error_of(raised) == ("InvalidRequest", 400)
    assert "delete marker" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=versioned, Key="t", CopySource={**source, "VersionId": "0" * 32})
    assert error_of(raised) == ("NoSuchVersion", 404)
    assert "Versions" not in s3.list_object_versions(Bucket=versioned, Prefix="t")
    # The version before the marker is still there to copy.
    s3.copy_object(Bucket=versioned, Key="t", CopySource={**source, "VersionId": kept})
    assert body_of(s3, versioned, "t") == b"bytes"


def test_copies_between_suspended_unversioned_and_versioned_buckets(
    s3: BaseClient, make_bucket: Callable[[], str], versioned: str
) -> None:
    suspended = versioned_bucket(s3, make_bucket, "Suspended")
    plain = make_bucket()
    source_version = put(s3, versioned, "v", b"from versioned")
    put(s3, plain, "p", b"from plain")
    # Into a suspended bucket a copy is the null version, replacing the one before.
    for _ in range(2):
        into_suspended = s3.copy_object(
            Bucket=suspended, Key="s", CopySource={"Bucket": versioned, "Key": "v"}
        )
        assert into_suspended["VersionId"] == "null"
        assert into_suspended["CopySourceVersionId"] == source_version
    assert version_ids(s3, suspended, "s") == ["null"]
    # Into an unversioned bucket: no version of the copy; the source's is still named.
    into_plain = s3.copy_object(Bucket=plain, Key="c", CopySource={"Bucket": versioned, "Key": "v"})
    assert "VersionId" not in into_plain
    assert into_plain["CopySourceVersionId"] == source_version
    # From an unversioned bucket: the copy is versioned, the source has no version to name.
    from_plain = s3.copy_object(Bucket=versioned, Key="c", CopySource={"Bucket": plain, "Key": "p"})
    assert "CopySourceVersionId" not in from_plain
    assert version_ids(s3, versioned, "c") == [from_plain["VersionId"]]
    assert body_of(s3, versioned, "c") == b"from plain"


def test_a_copy_that_fails_leaves_no_version(s3: BaseClient, versioned: str) -> None:
    put(s3, versioned, "src", b"x", Tagging="a=1")
    too_many = "&".join(f"k{n}=v" for n in range(11))
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket=versioned,
            Key="dst",
            CopySource={"Bucket": versioned, "Key": "src"},
            TaggingDirective="REPLACE",
            Tagging=too_many,
        )
    assert error_of(raised) == ("BadRequest", 400)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket=versioned,
            Key="dst",
            CopySource={"Bucket": versioned, "Key": "src"},
            CopySourceIfMatch='"0123"',
        )
    assert error_of(raised) == ("PreconditionFailed", 412)
    assert version_ids(s3, versioned, "dst") == []


def test_upload_part_copy_from_a_named_version(s3: BaseClient, versioned: str) -> None:
    old = put(s3, versioned, "src", b"first content")
    put(s3, versioned, "src", b"second content")
    marker = s3.delete_object(Bucket=versioned, Key="src")["VersionId"]
    upload = s3.create_multipart_upload(Bucket=versioned, Key="joined")["UploadId"]
    source = {"Bucket": versioned, "Key": "src"}
    with pytest.raises(ClientError) as raised:  # the current version is a delete marker
        s3.upload_part_copy(
            Bucket=versioned, Key="joined", UploadId=upload, PartNumber=1, CopySource=source
        )
    assert error_of(raised) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as raised:
        s3.upload_part_copy(
            Bucket=versioned,
            Key="joined",
            UploadId=upload,
            PartNumber=1,
            CopySource={**source, "VersionId": marker},
        )
    assert error_of(raised) == ("InvalidRequest", 400)
    part = s3.upload_part_copy(
        Bucket=versioned,
        Key="joined",
        UploadId=upload,
        PartNumber=1,
        CopySource={**source, "VersionId": old},
        CopySourceRange="bytes=0-4",
    )
    assert part["CopySourceVersionId"] == old
    s3.complete_multipart_upload(
        Bucket=versioned,
        Key="joined",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]},
    )
    assert body_of(s3, versioned, "joined") == b"first"


def test_upload_part_copy_of_the_current_version(
    s3: BaseClient, versioned: str, make_bucket: Callable[[], str]
) -> None:
    put(s3, versioned, "src", b"older")
    current = put(s3, versioned, "src", b"newer")
    plain = make_bucket()
    upload = s3.create_multipart_upload(Bucket=plain, Key="joined")["UploadId"]
    part = s3.upload_part_copy(
        Bucket=plain,
        Key="joined",
        UploadId=upload,
        PartNumber=1,
        CopySource={"Bucket": versioned, "Key": "src"},
    )
    assert part["CopySourceVersionId"] == current
    s3.complete_multipart_upload(
        Bucket=plain,
        Key="joined",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]},
    )
    assert body_of(s3, plain, "joined") == b"newer"
