"""Bucket versioning: PutBucketVersioning, GetBucketVersioning, ListObjectVersions, and the
hooks that make the plain object operations version-aware.

The object operations (objects.py) ask `begin_write` where to stream an upload and
`finish_write` to record it (its version and its `x-amz-tagging` tags), `read_target` which
version a GET or HEAD reads (`?versionId=`, delete markers) and `read_fields` for the
`x-amz-version-id` and `x-amz-tagging-count` headers, `delete` for DeleteObject. For a bucket
whose versioning was never configured they change nothing but those headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from core import object_deletes, object_tags, object_versions
from core import object_version_listing as listing
from core.buckets import READ, BucketHandle, ObjectInfo
from core.object_versions import Located, WriteTarget
from s3_api.call import S3Call
from s3_api.errors import MalformedXML, NotImplementedFeature
from s3_api.operation import Level, Operation
from s3_api.operations.buckets import _encoder, _max_keys
from s3_api.operations.object_tagging import bucket_handle, header_tags
from s3_api.wire import parse_payload, render

# --- bucket configuration -----------------------------------------------------------------


def put_bucket_versioning(call: S3Call) -> Response:
    """PutBucketVersioning: Enabled or Suspended (MFA delete is not supported)."""
    configuration = parse_payload("PutBucketVersioning", call.body)
    status = configuration.get("Status")
    if status not in (object_versions.ENABLED, object_versions.SUSPENDED):
        raise MalformedXML()
    if configuration.get("MFADelete") == "Enabled":
        raise NotImplementedFeature("MFA delete is not implemented")
    with call.runtime.db.write() as session:
        object_versions.set_status(session, call.ctx, call.bucket, status, store=call.store)
    return Response()


def get_bucket_versioning(call: S3Call) -> Response:
    """GetBucketVersioning: a bucket whose versioning was never configured shows no Status."""
    with call.runtime.db.read() as session:
        status = object_versions.get_status(session, call.ctx, call.bucket)
    result = {"Status": status} if status is not None else {}
    return render("GetBucketVersioning", result, request_id=call.request_id)


def list_object_versions(call: S3Call) -> Response:
    """ListObjectVersions: versions and delete markers by key, newest first within a key."""
    prefix = call.param("prefix") or ""
    delimiter = call.param("delimiter") or ""
    key_marker = call.param("key-marker") or ""
    version_id_marker = call.param("version-id-marker") or ""
    encode = _encoder(call.param("encoding-type"))
    max_keys = _max_keys(call.param("max-keys"))
    bucket = bucket_handle(call, READ)
    page = listing.list_versions(
        call.runtime.db,
        call.store,
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        version_id_marker=version_id_marker,
        limit=max_keys,
    )
    owner = {"ID": bucket.owner_uuid, "DisplayName": bucket.owner_name}
    result: dict[str, Any] = {
        "Name": call.bucket,
        "Prefix": encode(prefix),
        "KeyMarker": encode(key_marker),
        "VersionIdMarker": version_id_marker,
        "MaxKeys": max_keys,
        "IsTruncated": page.is_truncated,
        "Versions": [_entry(e, encode, owner) for e in page.versions if not e.delete_marker],
        "DeleteMarkers": [_entry(e, encode, owner) for e in page.versions if e.delete_marker],
        "CommonPrefixes": [{"Prefix": encode(name)} for name in page.common_prefixes],
    }
    if delimiter:
        result["Delimiter"] = encode(delimiter)
    if call.param("encoding-type") is not None:
        result["EncodingType"] = "url"
    if page.is_truncated:
        result["NextKeyMarker"] = encode(page.next_key_marker or "")
        if page.next_version_id_marker is not None:
            result["NextVersionIdMarker"] = page.next_version_id_marker
    return render("ListObjectVersions", result, request_id=call.request_id)


def _entry(entry: listing.VersionEntry, encode: Any, owner: dict[str, str]) -> dict[str, Any]:
    """A `Version` or, without ETag, size and storage class, a `DeleteMarker`."""
    shown: dict[str, Any] = {
        "Key": encode(entry.key),
        "VersionId": entry.version_id,
        "IsLatest": entry.is_latest,
        "LastModified": entry.last_modified,
        "Owner": owner,
    }
    if not entry.delete_marker:
        shown.update(ETag=f'"{entry.etag}"', Size=entry.size, StorageClass="STANDARD")
    return shown


# --- hooks of the object operations -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingWrite:
    target: WriteTarget
    tags: list[tuple[str, str]]


def begin_write(
    call: S3Call,
    bucket: BucketHandle,
    only_if_absent: bool = False,
    only_if_etag: str | None = None,
) -> PendingWrite:
    """Where PutObject streams its body: `target.bucket` / `target.key`, with the conditions
    the store must check (`target.store_conditions`). Its `x-amz-tagging` is checked before
    a byte is stored."""
    tags = header_tags(call)
    target = object_versions.prepare_write(
        call.runtime.db,
        call.store,
        bucket,
        call.key,
        only_if_absent=only_if_absent,
        only_if_etag=only_if_etag,
    )
    return PendingWrite(target, tags)


def finish_write(call: S3Call, pending: PendingWrite, info: ObjectInfo) -> dict[str, Any]:
    """Record the stored object as its key's current version with its tags; the fields to
    add to the answer (`VersionId` in a versioned bucket)."""

    def store_tags(session: Any, version_id: str) -> None:
        target = pending.target
        object_tags.replace_tags(
            session, target.bucket_id, target.object_key, version_id, info.etag, pending.tags
        )

    version_id = object_versions.record_write(
        call.runtime.db, call.store, pending.target, info, after=store_tags
    )
    return {"VersionId": version_id} if version_id is not None else {}


def read_target(call: S3Call, bucket: BucketHandle) -> Located:
    """What GET/HEAD reads: `located.bucket` / `located.key` (`?versionId=` honoured)."""
    return object_versions.locate(call.runtime.db, bucket, call.key, call.param("versionId"))


def read_fields(call: S3Call, located: Located, info: ObjectInfo) -> dict[str, Any]:
    """`x-amz-version-id` (versioned buckets) and `x-amz-tagging-count` (tagged objects)."""
    fields: dict[str, Any] = {}
    if located.version_id is not None:
        fields["VersionId"] = located.version_id
    if count := object_tags.tag_count(call.runtime.db, located, info.etag):
        fields["TagCount"] = count
    return fields


def delete(call: S3Call, bucket: BucketHandle) -> Response:
    """DeleteObject: a delete marker, a version removed for good, or the plain delete."""
    deleted = object_deletes.delete_object(
        call.runtime.db, call.store, bucket, call.key, call.param("versionId")
    )
    result: dict[str, Any] = {}
    if deleted.version_id is not None:
        result["VersionId"] = deleted.version_id
    if deleted.delete_marker:
        result["DeleteMarker"] = True
    return render("DeleteObject", result, request_id=call.request_id, status=204)


OPERATIONS = (
    Operation("PutBucketVersioning", Level.BUCKET, "PUT", "versioning", put_bucket_versioning),
    Operation("GetBucketVersioning", Level.BUCKET, "GET", "versioning", get_bucket_versioning),
    Operation("ListObjectVersions", Level.BUCKET, "GET", "versions", list_object_versions),
)
