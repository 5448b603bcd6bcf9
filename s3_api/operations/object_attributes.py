"""GetObjectAttributes: `GET /bucket/key?attributes`, the attributes named in
`x-amz-object-attributes` (ETag, Checksum, ObjectParts, StorageClass, ObjectSize) without
the object's body.

As in S3, the ETag here is unquoted. ObjectParts gives the part count of a multipart object
(read from its `…-N` ETag); the parts themselves are not listed.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from core import buckets as core_buckets
from core.buckets import READ, ObjectInfo
from s3_api import checksums
from s3_api.call import S3Call
from s3_api.errors import InvalidArgument, InvalidRequest
from s3_api.operation import Level, Operation
from s3_api.operations import versioning
from s3_api.wire import render

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")


def get_object_attributes(call: S3Call) -> Response:
    """The requested attributes of the object (HEAD's data, as XML)."""
    wanted = _wanted(call.headers.get("x-amz-object-attributes"))
    with call.runtime.db.read() as session:
        bucket = core_buckets.handle_for(session, call.ctx, call.bucket, action=READ)
    located = versioning.read_target(call, bucket)  # `?versionId=`, delete markers
    info = core_buckets.head_object(call.store, located.bucket, located.key)
    values = _attributes(info)
    result = {name: values[name] for name in wanted if name in values}
    result["LastModified"] = info.last_modified
    if located.version_id is not None:
        result["VersionId"] = located.version_id
    return render("GetObjectAttributes", result, request_id=call.request_id)


def _wanted(header: str | None) -> list[str]:
    names = [name.strip() for name in (header or "").split(",") if name.strip()]
    if not names:
        raise InvalidRequest(
            "The x-amz-object-attributes header specifying the attributes"
            " to be retrieved is either missing or empty"
        )
    for name in names:
        if name not in ATTRIBUTES:
            raise InvalidArgument(
                "Invalid attribute name specified.",
                ArgumentName="x-amz-object-attributes",
                ArgumentValue=name,
            )
    return names


def _attributes(info: ObjectInfo) -> dict[str, Any]:
    values: dict[str, Any] = {
        "ETag": info.etag,
        "StorageClass": "STANDARD",
        "ObjectSize": info.size,
    }
    checksum = checksums.result_fields(info.system_metadata)
    if checksum:
        checksum["ChecksumType"] = checksums.checksum_type(info.system_metadata) or ""
        values["Checksum"] = checksum
    _, dash, count = info.etag.rpartition("-")
    if dash and count.isdigit():
        values["ObjectParts"] = {"TotalPartsCount": int(count)}
    return values


OPERATIONS = (
    Operation("GetObjectAttributes", Level.OBJECT, "GET", "attributes", get_object_attributes),
)
