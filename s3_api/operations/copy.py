"""CopyObject: `PUT /bucket/key` with `x-amz-copy-source: /source-bucket/source-key`.

The copy happens inside the object store (`core.object_copy`); the caller needs READ on the
source object (possibly another account's, when its ACL or bucket policy allows) and WRITE on
the target bucket. The copy is the caller's, with the request's ACL (`x-amz-acl`, grant
headers) or private: never the source's ACL, as in S3. `x-amz-metadata-directive` COPY
(the default) keeps the source's content type, user metadata and content headers, REPLACE
takes the request's; `x-amz-tagging-directive` COPY (the default) keeps the source's tags,
REPLACE takes `x-amz-tagging`. `x-amz-copy-source-if-*` are checked against the source.
Whole-object checksums stay with the copy (the bytes are the same).

`?versionId=` in the copy source reads that version (never a delete marker); in a
versioned target bucket the copy is a new version (`x-amz-version-id`), and
`x-amz-copy-source-version-id` names the source version read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from core import buckets as core_buckets
from core import object_copy
from core.buckets import READ, WRITE
from core.object_copy import NewFields
from s3_api import checksums, content_headers
from s3_api.call import S3Call
from s3_api.errors import InvalidArgument
from s3_api.operation import Level, Operation
from s3_api.operations import lifecycle
from s3_api.operations.acl import planned_object_acl, record_object_acl
from s3_api.operations.object_tagging import header_tags
from s3_api.operations.objects import META_PREFIX, conditions_from
from s3_api.wire import render

DIRECTIVES = ("COPY", "REPLACE")
TAGGING_DIRECTIVE = "x-amz-tagging-directive"


def copy_object(call: S3Call) -> Response:
    """CopyObject; the result names the new object's ETag, LastModified and checksums, and
    the version ids of the source read and of the copy where their buckets are versioned."""
    source_bucket, source_key, version_id = parse_copy_source(call.headers["x-amz-copy-source"])
    replace = _new_fields(call)
    tags = header_tags(call) if _directive(call, TAGGING_DIRECTIVE) == "REPLACE" else None
    grants = planned_object_acl(call, call.key)  # the copy's own ACL; never the source's
    with call.runtime.db.read() as session:
        source = core_buckets.handle_for(
            session, call.ctx, source_bucket, action=READ, key=source_key
        )
        target = core_buckets.handle_for(session, call.ctx, call.bucket, action=WRITE, key=call.key)
    copied = object_copy.copy_object(
        call.runtime.db,
        call.store,
        source,
        source_key,
        target,
        call.key,
        source_version_id=version_id,
        conditions=conditions_from(call.headers, "x-amz-copy-source-"),
        replace=replace,
        tags=tags,
    )
    record_object_acl(call, call.key, grants)
    result: dict[str, Any] = {
        "ETag": f'"{copied.info.etag}"',
        "LastModified": copied.info.last_modified,
        **checksums.result_fields(copied.info.system_metadata),
    }
    if (kind := checksums.checksum_type(copied.info.system_metadata)) is not None:
        result["ChecksumType"] = kind
    fields: dict[str, Any] = {"CopyObjectResult": result}
    if copied.version_id is not None:
        fields["VersionId"] = copied.version_id
    if copied.source_version_id is not None:
        fields["CopySourceVersionId"] = copied.source_version_id
    fields.update(lifecycle.expiration_fields(call, copied.info.size, copied.info.last_modified))
    return render("CopyObject", fields, request_id=call.request_id)


def parse_copy_source(header: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) from `x-amz-copy-source`: `[/]bucket/key[?versionId=v]`,
    the key URL-encoded (also used by UploadPartCopy)."""
    path, _, query = header.strip().partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    version_id = None
    if query:
        name, _, value = query.partition("=")
        if name != "versionId":
            raise InvalidArgument("Unsupported copy source parameter.", ArgumentName=name)
        version_id = unquote(value)
    if not bucket or not key:
        raise InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=header,
        )
    return bucket, key, version_id


def _directive(call: S3Call, header: str) -> str:
    value = (call.headers.get(header) or "COPY").upper()
    if value not in DIRECTIVES:
        raise InvalidArgument(f"Unknown {header}.", ArgumentName=header, ArgumentValue=value)
    return value


def _new_fields(call: S3Call) -> NewFields | None:
    """The request's content type and metadata under REPLACE; None under COPY."""
    if _directive(call, "x-amz-metadata-directive") == "COPY":
        return None
    metadata = {
        name[len(META_PREFIX) :]: value
        for name, value in call.headers.items()
        if name.startswith(META_PREFIX)
    }
    headers = dict(call.headers.items())
    return NewFields(headers.get("content-type") or None, metadata, content_headers.stored(headers))


OPERATIONS = (
    Operation("CopyObject", Level.OBJECT, "PUT", None, copy_object, header="x-amz-copy-source"),
)
