"""The object resource: PutObject, GetObject (with Range), HeadObject, DeleteObject.

Conditional requests: If-Match / If-None-Match / If-(Un)Modified-Since on GET and HEAD (412
or 304, with HTTP's precedence: `core.object_copy.Conditions`), and on PUT `If-None-Match: *`
(only if the key is free) and `If-Match: <etag>` (only over that object), checked by the store
when the object is committed. Checksums verified on upload are stored with the object and
returned with `x-amz-checksum-mode: ENABLED` (whole-object reads only, as S3 does).

Bodies stream both ways. An upload's pieces go from the event loop through `DecodedBody`
(aws-chunked framing off, digests checked) into the blocking driver in this worker thread;
a download is the driver's chunk iterator, pulled one chunk at a time by the response.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from core import buckets as core_buckets
from core import object_parts
from core.buckets import READ, WRITE, BucketHandle, ByteRange, ObjectInfo
from core.object_copy import Conditions
from core.object_versions import Located
from s3_api import checksums, content_headers
from s3_api.call import S3Call
from s3_api.errors import (
    InvalidArgument,
    InvalidPartNumber,
    InvalidRange,
    InvalidRequest,
    MissingContentLength,
    NotImplementedFeature,
    ServiceUnavailable,
)
from s3_api.operation import Level, Operation
from s3_api.operations import lifecycle, versioning
from s3_api.operations.acl import DELETE_OBJECT, planned_object_acl, record_object_acl
from s3_api.payload import DecodedBody
from s3_api.wire import render, render_parts

META_PREFIX = "x-amz-meta-"
_PART_READ_ATTEMPTS = 3
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# GetObject's `response-*` query parameters override these response headers (presigned
# download links use them to name the file).
RESPONSE_OVERRIDES = {
    "response-content-type": "ContentType",
    "response-content-language": "ContentLanguage",
    "response-expires": "Expires",
    "response-cache-control": "CacheControl",
    "response-content-disposition": "ContentDisposition",
    "response-content-encoding": "ContentEncoding",
}


def put_object(call: S3Call) -> Response:
    """PutObject: the body is streamed into the store, never held whole."""
    headers = dict(call.headers.items())
    content_length = _content_length(call, headers)
    body = DecodedBody(call.pieces, call.auth, headers)
    metadata = {
        name[len(META_PREFIX) :]: value
        for name, value in headers.items()
        if name.startswith(META_PREFIX)
    }
    only_if_absent, only_if_etag = _put_conditions(call)
    grants = planned_object_acl(call, call.key)
    bucket = _bucket(call, WRITE)
    # Where: the key, or a new version's place; a versioned bucket checks conditions itself.
    pending = versioning.begin_write(call, bucket, only_if_absent, only_if_etag)
    only_if_absent, only_if_etag = pending.target.store_conditions
    info = core_buckets.put_object(
        call.store,
        pending.target.bucket,
        pending.target.key,
        body,
        content_type=headers.get("content-type") or None,
        metadata=metadata,
        content_length=content_length,
        # Lazy: the checksums of a trailer are only known once the body has been read.
        system_metadata=ChainMap(
            content_headers.stored(headers), checksums.StoredChecksums(body.verified)
        ),
        only_if_absent=only_if_absent,
        only_if_etag=only_if_etag,
    )
    version = versioning.finish_write(call, pending, info)
    record_object_acl(call, call.key, grants)
    result = {"ETag": f'"{info.etag}"', **checksums.result_fields(info.system_metadata)}
    result.update(version)
    result.update(lifecycle.expiration_fields(call, info.size, info.last_modified))
    if (kind := checksums.checksum_type(info.system_metadata)) is not None:
        result["ChecksumType"] = kind
    return render("PutObject", result, request_id=call.request_id)


def _put_conditions(call: S3Call) -> tuple[bool, str | None]:
    """(only if absent, only over this etag) from a PUT's If-None-Match / If-Match."""
    if_none_match = call.headers.get("if-none-match")
    if_match = call.headers.get("if-match")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise NotImplementedFeature("If-None-Match on PUT accepts only *")
    if if_none_match is not None and if_match is not None:
        raise NotImplementedFeature("If-Match and If-None-Match cannot be combined on PUT")
    if if_match is not None and (if_match.strip() in ("", "*") or "," in if_match):
        raise NotImplementedFeature("If-Match on PUT accepts one ETag")
    etag = if_match.strip().removeprefix("W/").strip('"') if if_match is not None else None
    return if_none_match is not None, etag


def get_object(call: S3Call) -> Response:
    """GetObject, whole or one byte range; the response pulls the body chunk by chunk."""
    byte_range = _byte_range(call.headers.get("range"))
    part = _part_number(call)
    if part is not None and byte_range is not None:
        raise InvalidRequest("Cannot specify both Range header and partNumber query parameter")
    bucket = _bucket(call, READ)
    located = versioning.read_target(call, bucket)
    info, chunks, selected = _read(call, located, byte_range, part)
    try:
        not_modified = not conditions_from(call.headers).modified(
            call.key, info.etag, info.last_modified
        )
        whole = byte_range is None and (selected is None or selected.count is None)
        result = _info_fields(call, info, whole=whole)
        result.update(versioning.read_fields(call, located, info))
        for parameter, field in RESPONSE_OVERRIDES.items():
            if (value := call.param(parameter)) is not None:
                result[field] = value
        status = 200
        if byte_range is not None:
            first, last = core_buckets.selected_bytes(byte_range, info.size)
            result["ContentLength"] = last - first + 1
            result["ContentRange"] = f"bytes {first}-{last}/{info.size}"
            status = 206
        if selected is not None:
            result.update(selected.fields(info.size))
            result.update(_part_checksum_fields(call, located, info, part, selected))
            status = 206
    except BaseException:
        _close(chunks)
        raise
    headers = render_parts("GetObject", result, request_id=call.request_id)["headers"]
    if not_modified:
        _close(chunks)
        return _not_modified(headers)
    return StreamingResponse(_stream(chunks), status_code=status, headers=headers)


def head_object(call: S3Call) -> Response:
    """HeadObject: the object's headers, no body."""
    part = _part_number(call)
    bucket = _bucket(call, READ)
    located = versioning.read_target(call, bucket)
    info = core_buckets.head_object(call.store, located.bucket, located.key)
    selected = _selected_part(call, located, info, part) if part is not None else None
    conditions = conditions_from(call.headers)
    not_modified = not conditions.modified(call.key, info.etag, info.last_modified)
    result = _info_fields(call, info, whole=selected is None or selected.count is None)
    result.update(versioning.read_fields(call, located, info))
    status = 200
    if selected is not None:
        result.pop("AcceptRanges", None)
        result.update(selected.fields(info.size))
        result.update(_part_checksum_fields(call, located, info, part, selected))
        status = 206
    headers = render_parts("HeadObject", result, request_id=call.request_id)["headers"]
    return _not_modified(headers) if not_modified else Response(status_code=status, headers=headers)


def _part_number(call: S3Call) -> int | None:
    """`?partNumber=N` (1..10000), checked against the object by `_check_part`."""
    value = call.param("partNumber")
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=value,
        )
    return int(value)


@dataclass(frozen=True, slots=True)
class _SelectedPart:
    """The bytes `?partNumber=N` selects: a part of a multipart object (`count` parts), or
    the whole of an object uploaded in one piece (its only part, `count` None)."""

    first: int
    last: int
    count: int | None

    def fields(self, size: int) -> dict[str, Any]:
        fields: dict[str, Any] = {"ContentLength": self.last - self.first + 1}
        if size:  # an empty object has no byte to name
            fields["ContentRange"] = f"bytes {self.first}-{self.last}/{size}"
        if self.count is not None:
            fields["PartsCount"] = self.count
        return fields


def _selected_part(call: S3Call, located: Located, info: ObjectInfo, part: int) -> _SelectedPart:
    """Where part `part` of the object lies (InvalidPartNumber past its last part). A
    multipart object completed before part sizes were recorded is answered as one part."""
    sizes = object_parts.part_sizes(call.runtime.db, located, info.etag)
    if sizes is None:
        if part != 1:
            raise InvalidPartNumber()
        return _SelectedPart(0, info.size - 1, None)
    span = object_parts.span(sizes, part)
    if span is None:
        raise InvalidPartNumber()
    return _SelectedPart(span.first, span.last, span.count)


def _part_checksum_fields(
    call: S3Call, located: Located, info: ObjectInfo, part: int | None, selected: _SelectedPart
) -> dict[str, Any]:
    """With checksum mode, part `part`'s own checksum if the object is a COMPOSITE multipart
    one (its `<base64>-N` checksum describes no single part); nothing for a FULL_OBJECT one,
    as S3 answers. An object in one piece got its checksum with the whole object's fields."""
    if part is None or selected.count is None or not _checksum_mode(call):
        return {}
    composite = [
        name
        for name, value in checksums.result_fields(info.system_metadata).items()
        if "-" in value
    ]
    if not composite:
        return {}
    checksum = object_parts.part_checksum(call.runtime.db, located, info.etag, part)
    if checksum is None:
        return {}
    return {composite[0]: checksum, "ChecksumType": "COMPOSITE"}


def _checksum_mode(call: S3Call) -> bool:
    return (call.headers.get("x-amz-checksum-mode") or "").upper() == "ENABLED"


def _read(
    call: S3Call, located: Located, byte_range: ByteRange | None, part: int | None
) -> tuple[ObjectInfo, Iterator[bytes], _SelectedPart | None]:
    """The object's info and bytes (`byte_range` of them, or its part `part`). A part's
    offsets are known from the object's ETag, so the object is read where they say and
    read again if it was replaced in between (its ETag differs)."""
    if part is None:
        info, chunks = core_buckets.get_object(
            call.store, located.bucket, located.key, byte_range=byte_range
        )
        return info, chunks, None
    for _attempt in range(_PART_READ_ATTEMPTS):
        info = core_buckets.head_object(call.store, located.bucket, located.key)
        selected = _selected_part(call, located, info, part)
        if selected.count is None:  # the whole object: no offsets to get wrong
            read, chunks = core_buckets.get_object(
                call.store, located.bucket, located.key, byte_range=None
            )
        else:
            read, chunks = core_buckets.get_object(
                call.store, located.bucket, located.key, byte_range=(selected.first, selected.last)
            )
        if read.etag == info.etag:
            return read, chunks, selected
        _close(chunks)
    raise ServiceUnavailable("The object is being replaced; retry the request")


def delete_object(call: S3Call) -> Response:
    """DeleteObject: 204 whether or not the key existed."""
    bucket = _bucket(call, WRITE, DELETE_OBJECT)
    # A delete marker in a versioned bucket; tags and ACL go as DeleteObjects lets them go.
    return versioning.delete(call, bucket)


def _bucket(call: S3Call, action: str, s3_action: str | None = None) -> BucketHandle:
    """The bucket, once the caller may `action` this object (READ: the object's ACL)."""
    with call.runtime.db.read() as session:
        return core_buckets.handle_for(
            session, call.ctx, call.bucket, action=action, key=call.key, s3_action=s3_action
        )


def _info_fields(call: S3Call, info: ObjectInfo, *, whole: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ContentLength": info.size,
        "ETag": f'"{info.etag}"',
        "LastModified": info.last_modified,
        "ContentType": info.content_type,
        "Metadata": dict(info.metadata),
        "AcceptRanges": "bytes",
        **content_headers.result_fields(info.system_metadata),
        **lifecycle.expiration_fields(call, info.size, info.last_modified),
    }
    if whole and _checksum_mode(call):
        fields.update(checksums.result_fields(info.system_metadata))
        if (kind := checksums.checksum_type(info.system_metadata)) is not None:
            fields["ChecksumType"] = kind
    return fields


def conditions_from(headers: Any, prefix: str = "") -> Conditions:
    """The request's If-* conditions (`prefix` "x-amz-copy-source-" for a copy source)."""
    return Conditions(
        if_match=headers.get(prefix + "if-match"),
        if_none_match=headers.get(prefix + "if-none-match"),
        if_modified_since=_http_date(headers.get(prefix + "if-modified-since")),
        if_unmodified_since=_http_date(headers.get(prefix + "if-unmodified-since")),
    )


def _content_length(call: S3Call, headers: dict[str, str]) -> int | None:
    """The object's declared size: the decoded length of an aws-chunked body, else the
    Content-Length; an upload with neither a length nor chunked framing is refused."""
    declared = headers.get("x-amz-decoded-content-length")
    if not call.auth.payload.aws_chunked:
        declared = headers.get("content-length")
    if declared is None:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return None
        raise MissingContentLength()
    try:
        return int(declared)
    except ValueError:
        raise MissingContentLength(f"Invalid content length {declared!r}") from None


def _byte_range(header: str | None) -> ByteRange | None:
    """`bytes=a-b`, `bytes=a-` or `bytes=-n`; like S3, anything else means the whole object."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if not first:
        if int(last) == 0:
            raise InvalidRange(RangeRequested=header)
        return (-int(last), None)
    return (int(first), int(last) if last else None)


def _http_date(value: str | None) -> Any:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # S3 ignores an unparseable condition date
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _not_modified(headers: dict[str, str]) -> Response:
    # No checksum headers: a 304 has no body they could describe (and botocore, seeing
    # one, would try to validate the body it does not have).
    kept = {
        name: value
        for name, value in headers.items()
        if name.lower() != "content-length" and not name.lower().startswith("x-amz-checksum-")
    }
    return Response(status_code=304, headers=kept)


async def _stream(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The driver's blocking iterator, one chunk per worker-thread hop; closed however the
    response ends (a client that disconnects must not leave a backend connection open)."""
    try:
        while (chunk := await run_in_threadpool(next, chunks, None)) is not None:
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):  # a disconnect cancels us; close all the same
            await run_in_threadpool(_close, chunks)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


OPERATIONS = (
    Operation("PutObject", Level.OBJECT, "PUT", None, put_object, streams_body=True),
    Operation("GetObject", Level.OBJECT, "GET", None, get_object),
    Operation("HeadObject", Level.OBJECT, "HEAD", None, head_object),
    Operation("GetObject", Level.OBJECT, "GET", "partNumber", get_object),
    Operation("HeadObject", Level.OBJECT, "HEAD", "partNumber", head_object),
    Operation("DeleteObject", Level.OBJECT, "DELETE", None, delete_object),
)
