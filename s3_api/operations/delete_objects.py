"""DeleteObjects: `POST /bucket?delete` with up to 1000 keys in a `<Delete>` document.

As S3 requires, the body must carry an integrity check — `Content-MD5` or one of the
`x-amz-checksum-*` headers (boto3 ≥ 1.36 sends CRC32) — and it is verified. Each key is
deleted on its own, several at a time (a Swift DELETE is a round trip; a thousand in a row
would outlast clients' timeouts): one that fails is listed under `<Error>` and the others go
on. In an unversioned bucket the store deletes run many at once outside any transaction
(`object_versions.delete_unversioned`); a versioned bucket's deletes each hold a write
transaction, so only a few run at once. `Quiet` answers only the failures.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from core import bucket_acl, object_tags, object_versions
from core import buckets as core_buckets
from core.buckets import WRITE, BucketHandle
from core.errors import CloudgateError
from s3_api.call import S3Call
from s3_api.checksums import CHECKSUMS
from s3_api.errors import InvalidRequest, MalformedXML, S3Error, from_core_error
from s3_api.operation import Level, Operation
from s3_api.operations.acl import check_object_delete, forget_object_acl
from s3_api.payload import DecodedBody
from s3_api.wire import parse_payload, render

MAX_KEYS = 1000
PARALLEL_DELETES = 4  # versioned buckets: each delete holds a write transaction
PARALLEL_STORE_DELETES = 24  # unversioned: store round trips only, no transaction held


def delete_objects(call: S3Call) -> Response:
    """DeleteObjects, verbose or quiet."""
    _verify_body(call)
    request = parse_payload("DeleteObjects", call.body)
    objects = request.get("Objects") or []
    if not objects or len(objects) > MAX_KEYS or any(not o.get("Key") for o in objects):
        raise MalformedXML()
    with call.runtime.db.read() as session:
        bucket = core_buckets.handle_for(session, call.ctx, call.bucket, action=WRITE)
    deleted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    outcomes = _delete_unversioned(call, bucket, objects)
    if outcomes is None:  # versioned: key by key, each its own write transaction
        with ThreadPoolExecutor(PARALLEL_DELETES, thread_name_prefix="delete-objects") as pool:
            outcomes = list(pool.map(lambda entry: _delete_one(call, bucket, entry), objects))
    for outcome in outcomes:
        (errors if "Code" in outcome else deleted).append(outcome)
    result: dict[str, Any] = {"Errors": errors}
    if not request.get("Quiet"):
        result["Deleted"] = deleted
    return render("DeleteObjects", result, request_id=call.request_id)


def _delete_unversioned(
    call: S3Call, bucket: BucketHandle, objects: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """The plain keys of an unversioned bucket at once (None when it is versioned): the
    store deletes run concurrently, outside any transaction; the rest go one by one."""
    plain: list[str] = []
    denied: dict[str, dict[str, Any]] = {}
    for entry in objects:
        if entry.get("VersionId"):
            continue
        try:
            check_object_delete(call, entry["Key"])
        except (CloudgateError, S3Error) as error:
            denied[entry["Key"]] = _error_entry({"Key": entry["Key"]}, error)
        else:
            plain.append(entry["Key"])
    failed = object_versions.delete_unversioned(
        call.runtime.db, call.store, bucket, plain, forget=_forget, workers=PARALLEL_STORE_DELETES
    )
    if failed is None:
        return None
    outcomes = []
    for entry in objects:
        key = entry["Key"]
        if entry.get("VersionId"):
            outcomes.append(_delete_one(call, bucket, entry))
        elif key in denied:
            outcomes.append(denied[key])
        elif key in failed:
            outcomes.append(_error_entry({"Key": key}, failed[key]))
        else:
            outcomes.append({"Key": key})
    return outcomes


def _forget(session: Session, bucket_id: int, key: str, version_id: str) -> None:
    """A deleted object's tags and ACL go with it."""
    object_tags.forget(session, bucket_id, key, version_id)
    bucket_acl.object_deleted(session, session.get(core_buckets.Bucket, bucket_id), key)


def _error_entry(named: dict[str, Any], error: CloudgateError | S3Error) -> dict[str, Any]:
    failure = from_core_error(error) if isinstance(error, CloudgateError) else error
    return {**named, "Code": failure.code, "Message": failure.message}


def _delete_one(call: S3Call, bucket: BucketHandle, entry: dict[str, Any]) -> dict[str, Any]:
    """`{"Key": …}` when deleted (a missing key counts as deleted), else its Error entry."""
    key, version_id = entry["Key"], entry.get("VersionId")
    named = {"Key": key, **({"VersionId": version_id} if version_id else {})}
    try:
        check_object_delete(call, key)  # a policy may deny s3:DeleteObject on some keys
        # As DeleteObject: a delete marker, a version removed for good, or the plain delete.
        deleted = object_versions.delete(
            call.runtime.db, call.store, bucket, key, version_id, forget=object_tags.forget
        )
    except (CloudgateError, S3Error) as error:
        return _error_entry(named, error)
    forget_object_acl(call, key)
    if deleted.delete_marker:
        return {**named, "DeleteMarker": True, "DeleteMarkerVersionId": deleted.version_id}
    return named


def _verify_body(call: S3Call) -> None:
    """Content-MD5 or an x-amz-checksum-* header is required, and must match the body."""
    headers = dict(call.headers.items())
    if "content-md5" not in headers and not any(name in headers for name in CHECKSUMS):
        raise InvalidRequest("Missing required header for this request: Content-MD5")
    for _piece in DecodedBody(iter([call.body]), call.auth, headers):
        pass


OPERATIONS = (Operation("DeleteObjects", Level.BUCKET, "POST", "delete", delete_objects),)
