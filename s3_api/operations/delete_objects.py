"""DeleteObjects: `POST /bucket?delete` with up to 1000 keys in a `<Delete>` document.

As S3 requires, the body must carry an integrity check — `Content-MD5` or one of the
`x-amz-checksum-*` headers (boto3 ≥ 1.36 sends CRC32) — and it is verified. Whether the
caller may delete each key (a bucket policy may deny s3:DeleteObject on some) is read in one
transaction; the deletes themselves are the core's `object_deletes.delete_objects`, which
decides from one locked read of the bucket's versioning state and runs the store's round
trips many at once outside any transaction. One key that fails is listed under `<Error>` and
the others go on; `Quiet` answers only the failures.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from core import bucket_acl, object_deletes
from core import buckets as core_buckets
from core.buckets import WRITE, BucketHandle
from core.errors import CloudgateError
from core.object_deletes import DeleteRequest
from core.object_versions import Deleted
from s3_api.call import S3Call
from s3_api.checksums import CHECKSUMS
from s3_api.errors import InvalidRequest, MalformedXML, from_core_error
from s3_api.operation import Level, Operation
from s3_api.operations.acl import DELETE_OBJECT
from s3_api.payload import DecodedBody
from s3_api.wire import parse_payload, render

MAX_KEYS = 1000


def delete_objects(call: S3Call) -> Response:
    """DeleteObjects, verbose or quiet."""
    _verify_body(call)
    request = parse_payload("DeleteObjects", call.body)
    objects = request.get("Objects") or []
    if not objects or len(objects) > MAX_KEYS or any(not o.get("Key") for o in objects):
        raise MalformedXML()
    wanted = [DeleteRequest(entry["Key"], entry.get("VersionId")) for entry in objects]
    bucket, denied = _permitted(call, wanted)
    allowed = [entry for index, entry in enumerate(wanted) if index not in denied]
    done = iter(object_deletes.delete_objects(call.runtime.db, call.store, bucket, allowed))
    deleted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, entry in enumerate(wanted):
        outcome = denied.get(index) or next(done)
        if isinstance(outcome, Deleted):
            deleted.append(_deleted_entry(entry, outcome))
        else:
            errors.append(_error_entry(entry, outcome))
    result: dict[str, Any] = {"Errors": errors}
    if not request.get("Quiet"):
        result["Deleted"] = deleted
    return render("DeleteObjects", result, request_id=call.request_id)


def _permitted(
    call: S3Call, wanted: list[DeleteRequest]
) -> tuple[BucketHandle, dict[int, CloudgateError]]:
    """The bucket (the caller must have WRITE on it), and the requests whose key the caller
    may not delete (a policy's Deny of s3:DeleteObject), all read in one transaction."""
    denied: dict[int, CloudgateError] = {}
    with call.runtime.db.read() as session:
        bucket = core_buckets.handle_for(session, call.ctx, call.bucket, action=WRITE)
        row = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=WRITE)
        for index, entry in enumerate(wanted):
            try:  # what get_bucket_for(…, key=…, s3_action=…) decides, the row read once
                bucket_acl.authorize(
                    session, call.ctx, row, WRITE, key=entry.key, s3_action=DELETE_OBJECT
                )
            except CloudgateError as error:
                denied[index] = error
    return bucket, denied


def _deleted_entry(entry: DeleteRequest, deleted: Deleted) -> dict[str, Any]:
    """A missing key counts as deleted, as in S3."""
    named = _named(entry)
    if deleted.delete_marker:
        return {**named, "DeleteMarker": True, "DeleteMarkerVersionId": deleted.version_id}
    return named


def _error_entry(entry: DeleteRequest, error: CloudgateError) -> dict[str, Any]:
    failure = from_core_error(error)
    return {**_named(entry), "Code": failure.code, "Message": failure.message}


def _named(entry: DeleteRequest) -> dict[str, Any]:
    return {"Key": entry.key, **({"VersionId": entry.version_id} if entry.version_id else {})}


def _verify_body(call: S3Call) -> None:
    """Content-MD5 or an x-amz-checksum-* header is required, and must match the body."""
    headers = dict(call.headers.items())
    if "content-md5" not in headers and not any(name in headers for name in CHECKSUMS):
        raise InvalidRequest("Missing required header for this request: Content-MD5")
    for _piece in DecodedBody(iter([call.body]), call.auth, headers):
        pass


OPERATIONS = (Operation("DeleteObjects", Level.BUCKET, "POST", "delete", delete_objects),)
