"""The object resource: PutObject, GetObject (with Range), HeadObject, DeleteObject.

Bodies stream both ways. An upload's pieces go from the event loop through `DecodedBody`
(aws-chunked framing off, digests checked) into the blocking driver in this worker thread;
a download is the driver's chunk iterator, pulled one chunk at a time by the response.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from core import buckets as core_buckets
from core.buckets import READ, WRITE, BucketHandle, ByteRange, ObjectInfo
from s3_api.call import S3Call
from s3_api.errors import InvalidRange, MissingContentLength, PreconditionFailed
from s3_api.payload import DecodedBody
from s3_api.wire import render, render_parts

META_PREFIX = "x-amz-meta-"
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
    bucket = _bucket(call, WRITE)
    info = core_buckets.put_object(
        call.store,
        bucket,
        call.key,
        body,
        content_type=headers.get("content-type") or None,
        metadata=metadata,
        content_length=content_length,
    )
    checksums = {
        "Checksum" + name.removeprefix("x-amz-checksum-").upper(): value
        for name, value in body.verified.items()
    }
    return render("PutObject", {"ETag": f'"{info.etag}"', **checksums}, request_id=call.request_id)


def get_object(call: S3Call) -> Response:
    """GetObject, whole or one byte range; the response pulls the body chunk by chunk."""
    byte_range = _byte_range(call.headers.get("range"))
    bucket = _bucket(call, READ)
    info, chunks = core_buckets.get_object(call.store, bucket, call.key, byte_range=byte_range)
    try:
        not_modified = _check_preconditions(call, info)
        result = _info_fields(info)
        for parameter, field in RESPONSE_OVERRIDES.items():
            if (value := call.param(parameter)) is not None:
                result[field] = value
        status = 200
        if byte_range is not None:
            first, last = core_buckets.selected_bytes(byte_range, info.size)
            result["ContentLength"] = last - first + 1
            result["ContentRange"] = f"bytes {first}-{last}/{info.size}"
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
    bucket = _bucket(call, READ)
    info = core_buckets.head_object(call.store, bucket, call.key)
    not_modified = _check_preconditions(call, info)
    headers = render_parts("HeadObject", _info_fields(info), request_id=call.request_id)["headers"]
    return _not_modified(headers) if not_modified else Response(headers=headers)


def delete_object(call: S3Call) -> Response:
    """DeleteObject: 204 whether or not the key existed."""
    bucket = _bucket(call, WRITE)
    core_buckets.delete_object(call.store, bucket, call.key)
    return Response(status_code=204)


def _bucket(call: S3Call, action: str) -> BucketHandle:
    with call.runtime.db.read() as session:
        return core_buckets.handle_for(session, call.ctx, call.bucket, action=action)


def _info_fields(info: ObjectInfo) -> dict[str, Any]:
    return {
        "ContentLength": info.size,
        "ETag": f'"{info.etag}"',
        "LastModified": info.last_modified,
        "ContentType": info.content_type,
        "Metadata": dict(info.metadata),
        "AcceptRanges": "bytes",
    }


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


def _check_preconditions(call: S3Call, info: ObjectInfo) -> bool:
    """PreconditionFailed for If-Match/If-Unmodified-Since; True means "not modified"."""
    etag = f'"{info.etag}"'
    if_match = call.headers.get("if-match")
    if if_match is not None and not _etag_matches(if_match, etag):
        raise PreconditionFailed(Condition="If-Match")
    since = _http_date(call.headers.get("if-unmodified-since"))
    if if_match is None and since is not None and info.last_modified > since:
        raise PreconditionFailed(Condition="If-Unmodified-Since")
    if_none_match = call.headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etag)
    since = _http_date(call.headers.get("if-modified-since"))
    return since is not None and info.last_modified <= since


def _etag_matches(condition: str, etag: str) -> bool:
    candidates = {part.strip() for part in condition.split(",")}
    return "*" in candidates or etag in candidates or etag.strip('"') in candidates


def _http_date(value: str | None) -> Any:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # S3 ignores an unparseable condition date


def _not_modified(headers: dict[str, str]) -> Response:
    kept = {name: value for name, value in headers.items() if name.lower() != "content-length"}
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
