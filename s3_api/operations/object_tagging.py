"""Object tagging: PutObjectTagging, GetObjectTagging, DeleteObjectTagging (`?versionId=`
names a version), and the `x-amz-tagging` header of PutObject (URL-encoded `k=v&k2=v2`).

The tag set of a version is kept by `core.object_tags`; GET and HEAD show its size as
`x-amz-tagging-count` (versioning.py's `read_fields`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.responses import Response

from core import buckets as core_buckets
from core import object_tags
from core.buckets import READ, WRITE, BucketHandle
from s3_api.call import S3Call
from s3_api.errors import InvalidArgument
from s3_api.operation import Level, Operation
from s3_api.wire import parse_payload, render

TAGGING_HEADER = "x-amz-tagging"


def get_object_tagging(call: S3Call) -> Response:
    tags, version_id = object_tags.get_object_tagging(
        call.runtime.db, call.store, bucket_handle(call, READ), call.key, call.param("versionId")
    )
    result = {"TagSet": [{"Key": key, "Value": value} for key, value in tags]}
    if version_id is not None:
        result["VersionId"] = version_id  # type: ignore[assignment]
    return render("GetObjectTagging", result, request_id=call.request_id)


def put_object_tagging(call: S3Call) -> Response:
    """PutObjectTagging: the version's tag set is replaced whole."""
    document = parse_payload("PutObjectTagging", call.body)
    tags = [(tag.get("Key", ""), tag.get("Value", "")) for tag in document.get("TagSet", [])]
    return _put(call, "PutObjectTagging", tags, status=200)


def delete_object_tagging(call: S3Call) -> Response:
    return _put(call, "DeleteObjectTagging", [], status=204)


def _put(call: S3Call, operation: str, tags: list[tuple[str, str]], *, status: int) -> Response:
    version_id = object_tags.put_object_tagging(
        call.runtime.db,
        call.store,
        bucket_handle(call, WRITE),
        call.key,
        call.param("versionId"),
        tags,
    )
    result = {"VersionId": version_id} if version_id is not None else {}
    return render(operation, result, request_id=call.request_id, status=status)


def header_tags(call: S3Call) -> list[tuple[str, str]]:
    """The checked tag set of PutObject's `x-amz-tagging` header (empty without one)."""
    value = call.headers.get(TAGGING_HEADER)
    if not value:
        return []
    try:
        tags = parse_qsl(value, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidArgument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query"
            " parameters without tag name duplicates.",
            ArgumentName=TAGGING_HEADER,
            ArgumentValue=value,
        ) from None
    return object_tags.validate_tags(tags)


def bucket_handle(call: S3Call, action: str) -> BucketHandle:
    """The bucket, once the caller's access is checked (also for versioning.py)."""
    with call.runtime.db.read() as session:
        return core_buckets.handle_for(session, call.ctx, call.bucket, action=action)


OPERATIONS = (
    Operation("GetObjectTagging", Level.OBJECT, "GET", "tagging", get_object_tagging),
    Operation("PutObjectTagging", Level.OBJECT, "PUT", "tagging", put_object_tagging),
    Operation("DeleteObjectTagging", Level.OBJECT, "DELETE", "tagging", delete_object_tagging),
)
