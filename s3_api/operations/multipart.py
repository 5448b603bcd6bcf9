"""Multipart uploads: CreateMultipartUpload (`POST ?uploads`), UploadPart and UploadPartCopy
(`PUT ?partNumber&uploadId`), ListParts (`GET ?uploadId`), CompleteMultipartUpload
(`POST ?uploadId`), AbortMultipartUpload (`DELETE ?uploadId`) and ListMultipartUploads
(`GET /bucket?uploads`).

Parts stream like PutObject bodies (aws-chunked framing off, Content-MD5 and
`x-amz-checksum-*` verified as they pass); the rules — part numbers, sizes, the part list a
completion names, the multipart ETag — are the core's (`core.multipart`,
`core.multipart_complete`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from core import checksum_algorithms, multipart
from core import multipart_complete as completion
from core.multipart import MultipartPart, MultipartUpload, UploadTarget
from s3_api import checksums, content_headers
from s3_api.call import S3Call
from s3_api.errors import (
    EntityTooLarge,
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
)
from s3_api.operation import Level, Operation
from s3_api.operations.acl import planned_object_acl, record_object_acl
from s3_api.operations.buckets import _encoder
from s3_api.operations.copy import parse_copy_source
from s3_api.operations.object_tagging import header_tags
from s3_api.operations.objects import META_PREFIX, _content_length, conditions_from
from s3_api.payload import DecodedBody
from s3_api.wire import parse_payload, render

MAX_LISTED = 1000
MAX_COMPLETE_BODY = 8 * 1024 * 1024  # 10,000 parts with checksums are about 2 MB of XML
CHECKSUM_ALGORITHMS = tuple(checksum_algorithms.ALGORITHMS)
CHECKSUM_TYPES = (checksum_algorithms.COMPOSITE, checksum_algorithms.FULL_OBJECT)
_COPY_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


def create_multipart_upload(call: S3Call) -> Response:
    """CreateMultipartUpload: the object's content type, metadata, content headers, ACL,
    tags and checksum algorithm are given now (and checked now), and kept for the
    completed object."""
    algorithm, checksum_type = _checksum_choice(call)
    metadata = {
        name[len(META_PREFIX) :]: value
        for name, value in call.headers.items()
        if name.startswith(META_PREFIX)
    }
    details = multipart.ObjectDetails(
        system_metadata=content_headers.stored(dict(call.headers.items())),
        tags=header_tags(call),
        grants=planned_object_acl(call, call.key),
    )
    with call.runtime.db.write() as session:
        target = multipart.create_upload(
            session,
            call.ctx,
            call.bucket,
            call.key,
            content_type=call.headers.get("content-type") or None,
            metadata=metadata,
            checksum_algorithm=algorithm,
            checksum_type=checksum_type,
            details=details,
        )
    result = {"Bucket": call.bucket, "Key": call.key, "UploadId": target.upload.uuid}
    result.update(_checksum_fields(target.upload))
    return render("CreateMultipartUpload", result, request_id=call.request_id)


def upload_part(call: S3Call) -> Response:
    """UploadPart: streamed into the store, then recorded (a part sent again replaces it).
    The answer carries the checksums the client sent, and, as S3's does, the part's checksum
    in the upload's algorithm even when the client sent none."""
    headers = dict(call.headers.items())
    content_length = _content_length(call, headers)
    body = DecodedBody(call.pieces, call.auth, headers)
    uploaded = multipart.upload_part(
        call.runtime.db,
        call.store,
        call.ctx,
        _address(call),
        body,
        content_length=content_length,
    )
    part = uploaded.part
    result = {"ETag": f'"{part.etag}"', **checksums.result_fields(_stored(body.verified))}
    if uploaded.checksum_algorithm is not None and part.checksum is not None:
        result[checksums.field_name(uploaded.checksum_algorithm.lower())] = part.checksum
    return render("UploadPart", result, request_id=call.request_id)


def upload_part_copy(call: S3Call) -> Response:
    """UploadPartCopy: a part from (a range of) an object the caller may read, copied
    through the store; `x-amz-copy-source-if-*` are checked against the source."""
    source_bucket, source_key, version_id = parse_copy_source(call.headers["x-amz-copy-source"])
    byte_range = _copy_range(call.headers.get("x-amz-copy-source-range"))
    conditions = conditions_from(call.headers, "x-amz-copy-source-")
    part, _source, source_version_id = multipart.upload_part_copy(
        call.runtime.db,
        call.store,
        call.ctx,
        _address(call),
        source_bucket=source_bucket,
        source_key=source_key,
        byte_range=byte_range,
        check_source=lambda info: conditions.require(source_key, info.etag, info.last_modified),
        source_version_id=version_id,
    )
    result = {"ETag": f'"{part.etag}"', "LastModified": part.last_modified}
    fields: dict[str, Any] = {"CopyPartResult": result}
    if source_version_id is not None:
        fields["CopySourceVersionId"] = source_version_id
    return render("UploadPartCopy", fields, request_id=call.request_id)


def list_parts(call: S3Call) -> Response:
    """ListParts, paged by part number (`part-number-marker`, `max-parts`)."""
    marker = _number(call, "part-number-marker", 0)
    limit = min(_number(call, "max-parts", MAX_LISTED), MAX_LISTED)
    with call.runtime.db.read() as session:
        target, parts, truncated = multipart.list_parts(
            session, call.ctx, call.bucket, call.key, _upload_id(call), marker=marker, limit=limit
        )
    upload = target.upload
    result: dict[str, Any] = {
        "Bucket": call.bucket,
        "Key": call.key,
        "UploadId": upload.uuid,
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": truncated,
        "Parts": [_part(part, upload) for part in parts],
        "Initiator": _initiator(upload),
        "Owner": _owner(target),
        "StorageClass": "STANDARD",
        **_checksum_fields(upload),
    }
    if truncated and parts:
        result["NextPartNumberMarker"] = parts[-1].part_number
    return render("ListParts", result, request_id=call.request_id)


def complete_multipart_upload(call: S3Call) -> Response:
    """CompleteMultipartUpload: the part list in the body (up to 10,000 parts, so the body
    is read here, verified, rather than as a small body). An `x-amz-checksum-type` must be
    the upload's own (InvalidRequest otherwise, as S3 answers)."""
    checksum_type = _choice(call, "x-amz-checksum-type", CHECKSUM_TYPES)
    requested = _requested_parts(_read_body(call))
    completed = completion.complete_upload(
        call.runtime.db,
        call.store,
        call.ctx,
        call.bucket,
        call.key,
        _upload_id(call),
        requested,
        client_checksums=_object_checksums(call),
        client_checksum_type=checksum_type,
    )
    # The new object is the completing account's, with the ACL its upload was created with
    # (never its predecessor's).
    record_object_acl(call, call.key, completed.grants)
    host = call.headers.get("host", "")
    result: dict[str, Any] = {
        "Location": f"http://{host}/{quote(call.bucket)}/{quote(call.key)}",
        "Bucket": call.bucket,
        "Key": call.key,
        "ETag": f'"{completed.etag}"',
    }
    if completed.version_id is not None:
        result["VersionId"] = completed.version_id
    if completed.checksum_algorithm and completed.checksum:
        result[checksums.field_name(completed.checksum_algorithm.lower())] = completed.checksum
        result["ChecksumType"] = completed.checksum_type
    return render("CompleteMultipartUpload", result, request_id=call.request_id)


def abort_multipart_upload(call: S3Call) -> Response:
    """AbortMultipartUpload: the parts are deleted; NoSuchUpload for an unknown id."""
    multipart.abort_upload(
        call.runtime.db, call.store, call.ctx, call.bucket, call.key, _upload_id(call)
    )
    return Response(status_code=204)


def list_multipart_uploads(call: S3Call) -> Response:
    """ListMultipartUploads: uploads in progress by key and initiation, with prefix,
    delimiter, key-marker/upload-id-marker paging and `encoding-type=url`."""
    encode = _encoder(call.param("encoding-type"))
    prefix = call.param("prefix") or ""
    delimiter = call.param("delimiter") or ""
    key_marker = call.param("key-marker") or ""
    upload_id_marker = call.param("upload-id-marker") or ""
    limit = min(_number(call, "max-uploads", MAX_LISTED), MAX_LISTED)
    with call.runtime.db.read() as session:
        listing = completion.list_uploads(
            session,
            call.ctx,
            call.bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker if key_marker else "",
            limit=limit,
        )
    owner = {"ID": listing.bucket.owner_uuid, "DisplayName": listing.bucket.owner_name}
    result: dict[str, Any] = {
        "Bucket": call.bucket,
        "KeyMarker": encode(key_marker),
        "UploadIdMarker": upload_id_marker,
        "Prefix": encode(prefix),
        "MaxUploads": limit,
        "IsTruncated": listing.is_truncated,
        "Uploads": [_upload(upload, encode, owner) for upload in listing.uploads],
        "CommonPrefixes": [{"Prefix": encode(name)} for name in listing.common_prefixes],
    }
    if delimiter:
        result["Delimiter"] = encode(delimiter)
    if call.param("encoding-type") is not None:
        result["EncodingType"] = "url"
    if listing.is_truncated:
        result["NextKeyMarker"] = encode(listing.next_key_marker or "")
        result["NextUploadIdMarker"] = listing.next_upload_id_marker or ""
    return render("ListMultipartUploads", result, request_id=call.request_id)


# --- request parsing ----------------------------------------------------------------------


def _upload_id(call: S3Call) -> str:
    return call.param("uploadId") or ""


def _address(call: S3Call) -> multipart.PartAddress:
    return multipart.PartAddress(call.bucket, call.key, _upload_id(call), _part_number(call))


def _part_number(call: S3Call) -> int:
    value = call.param("partNumber") or ""
    if not value.isdigit() or not 1 <= int(value) <= multipart.MAX_PART_NUMBER:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=value,
        )
    return int(value)


def _number(call: S3Call, name: str, default: int) -> int:
    value = call.param(name)
    if value is None:
        return default
    if not value.isdigit():
        raise InvalidArgument(
            f"Provided {name} not an integer or within integer range", ArgumentName=name
        )
    return int(value)


def _checksum_choice(call: S3Call) -> tuple[str | None, str | None]:
    """The upload's checksum algorithm and type (FULL_OBJECT: CRCs only; COMPOSITE: all but
    CRC64NVME); without a type, S3's default for the algorithm."""
    algorithm = _choice(call, "x-amz-checksum-algorithm", CHECKSUM_ALGORITHMS)
    checksum_type = _choice(call, "x-amz-checksum-type", CHECKSUM_TYPES)
    if algorithm is None:
        if checksum_type is not None:
            raise InvalidRequest(
                "The x-amz-checksum-type header can only be used with the"
                " x-amz-checksum-algorithm header."
            )
        return None, None
    checksum_type = checksum_type or checksum_algorithms.default_type(algorithm)
    if not checksum_algorithms.allows(algorithm, checksum_type):
        raise InvalidRequest(
            f"The {checksum_type} checksum type cannot be used with the"
            f" {algorithm.lower()} checksum algorithm."
        )
    return algorithm, checksum_type


def _choice(call: S3Call, header: str, allowed: tuple[str, ...]) -> str | None:
    value = call.headers.get(header)
    if value is None:
        return None
    if value.upper() not in allowed:
        raise InvalidRequest(f"Value for {header} header is invalid.")
    return value.upper()


def _copy_range(header: str | None) -> tuple[int, int] | None:
    """`x-amz-copy-source-range`: only `bytes=first-last` (S3 takes no other form)."""
    if header is None:
        return None
    match = _COPY_RANGE.fullmatch(header.strip())
    if match is None or int(match.group(2)) < int(match.group(1)):
        raise InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where"
            " first and last are the zero-based offsets of the first and last bytes to copy",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=header,
        )
    return int(match.group(1)), int(match.group(2))


def _read_body(call: S3Call) -> bytes:
    # The x-amz-checksum-* headers of a completion are the object's, not the XML body's.
    headers = {
        name: value
        for name, value in call.headers.items()
        if not name.startswith(checksums.HEADER_PREFIX)
    }
    body = bytearray()
    for piece in DecodedBody(call.pieces, call.auth, headers):
        body += piece
        if len(body) > MAX_COMPLETE_BODY:
            raise EntityTooLarge("The CompleteMultipartUpload request body is too large")
    return bytes(body)


def _object_checksums(call: S3Call) -> dict[str, str]:
    """The completed object's checksums as the client computed them (`CRC32` → base64)."""
    return {
        name.removeprefix(checksums.HEADER_PREFIX).upper(): value
        for name, value in call.headers.items()
        if name.removeprefix(checksums.HEADER_PREFIX) in checksums.ALGORITHMS
    }


def _requested_parts(body: bytes) -> list[completion.RequestedPart]:
    """The `<CompleteMultipartUpload><Part>…` list (MalformedXML for anything else)."""
    parts = parse_payload("CompleteMultipartUpload", body).get("Parts") or []
    if not parts:
        raise MalformedXML()  # as S3 answers a list without parts
    try:
        return [
            completion.RequestedPart(
                part_number=int(part["PartNumber"]),
                etag=str(part["ETag"]).strip().strip('"').lower(),
                checksum=next(
                    (str(v) for name, v in part.items() if name.startswith("Checksum") and v),
                    None,
                ),
            )
            for part in parts
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedXML() from error


def _stored(verified: dict[str, str]) -> dict[str, str]:
    return dict(checksums.StoredChecksums(verified))


# --- rendering ----------------------------------------------------------------------------


def _checksum_fields(upload: MultipartUpload) -> dict[str, str]:
    if upload.checksum_algorithm is None:
        return {}
    return {
        "ChecksumAlgorithm": upload.checksum_algorithm,
        "ChecksumType": upload.checksum_type or "COMPOSITE",
    }


def _part(part: MultipartPart, upload: MultipartUpload) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "PartNumber": part.part_number,
        "LastModified": part.last_modified,
        "ETag": f'"{part.etag}"',
        "Size": part.size,
    }
    if part.checksum and upload.checksum_algorithm:
        fields[checksums.field_name(upload.checksum_algorithm.lower())] = part.checksum
    return fields


def _initiator(upload: MultipartUpload) -> dict[str, str]:
    return {"ID": upload.initiator_uuid, "DisplayName": upload.initiator_name}


def _owner(target: UploadTarget) -> dict[str, str]:
    return {"ID": target.bucket.owner_uuid, "DisplayName": target.bucket.owner_name}


def _upload(
    upload: MultipartUpload, encode: Callable[[str], str], owner: dict[str, str]
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "UploadId": upload.uuid,
        "Key": encode(upload.key),
        "Initiated": upload.created,
        "StorageClass": "STANDARD",
        "Owner": owner,
        "Initiator": _initiator(upload),
    }
    if upload.checksum_algorithm:
        fields["ChecksumAlgorithm"] = upload.checksum_algorithm
        fields["ChecksumType"] = upload.checksum_type or "COMPOSITE"
    return fields


OPERATIONS = (
    Operation("CreateMultipartUpload", Level.OBJECT, "POST", "uploads", create_multipart_upload),
    Operation("UploadPart", Level.OBJECT, "PUT", "uploadId", upload_part, streams_body=True),
    Operation(
        "UploadPartCopy",
        Level.OBJECT,
        "PUT",
        "uploadId",
        upload_part_copy,
        header="x-amz-copy-source",
    ),
    Operation("ListParts", Level.OBJECT, "GET", "uploadId", list_parts),
    Operation(
        "CompleteMultipartUpload",
        Level.OBJECT,
        "POST",
        "uploadId",
        complete_multipart_upload,
        streams_body=True,
    ),
    Operation("AbortMultipartUpload", Level.OBJECT, "DELETE", "uploadId", abort_multipart_upload),
    Operation("ListMultipartUploads", Level.BUCKET, "GET", "uploads", list_multipart_uploads),
)
