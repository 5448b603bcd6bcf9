"""The bucket resource: CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and
ListObjects (V1 and V2, `?list-type=2`)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from starlette.responses import Response

from core import bucket_acl, object_version_listing
from core import buckets as core_buckets
from core.buckets import READ, BucketHandle, ObjectSummary
from s3_api.call import S3Call
from s3_api.errors import InvalidArgument, InvalidLocationConstraint
from s3_api.operation import Level, Operation
from s3_api.operations.acl import requested_bucket_acl
from s3_api.wire import parse_location_constraint, render

MAX_KEYS = 1000
_TOKEN_TAG = "cg1:"


def create_bucket(call: S3Call) -> Response:
    """CreateBucket, with or without a CreateBucketConfiguration body."""
    location = parse_location_constraint(call.body)
    if location is not None and location != call.region:
        raise InvalidLocationConstraint(
            f"The specified location-constraint {location!r} is not valid here; this endpoint"
            f" serves region {call.region!r}.",
            LocationConstraint=location,
        )
    with call.runtime.db.write() as session:
        acl = requested_bucket_acl(call, session)
        bucket = core_buckets.create_bucket(
            session, call.ctx, call.bucket, store=call.store, region=call.region
        )
        if acl is not None:
            bucket_acl.apply_bucket_acl(session, bucket, acl)
    return Response(headers={"Location": f"/{call.bucket}"})


def head_bucket(call: S3Call) -> Response:
    """HeadBucket: 200 if the bucket exists and the caller may read it."""
    with call.runtime.db.read() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=READ)
    return Response(headers={"x-amz-bucket-region": bucket.region})


def delete_bucket(call: S3Call) -> Response:
    """DeleteBucket: only an empty bucket (BucketNotEmpty otherwise)."""
    with call.runtime.db.write() as session:
        core_buckets.delete_bucket(session, call.ctx, call.bucket, store=call.store)
    return Response(status_code=204)


def get_location(call: S3Call) -> Response:
    """GetBucketLocation."""
    with call.runtime.db.read() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=READ)
    return render(
        "GetBucketLocation", {"LocationConstraint": bucket.region}, request_id=call.request_id
    )


def list_objects(call: S3Call) -> Response:
    """ListObjectsV2 (`list-type=2`) or the original ListObjects (`marker`)."""
    v2 = call.param("list-type") == "2"
    prefix = call.param("prefix") or ""
    delimiter = call.param("delimiter") or ""
    encode = _encoder(call.param("encoding-type"))
    max_keys = _max_keys(call.param("max-keys"))
    token = call.param("continuation-token") if v2 else None
    start_after = call.param("start-after" if v2 else "marker") or ""
    with call.runtime.db.read() as session:
        bucket = core_buckets.handle_for(session, call.ctx, call.bucket, action=READ)
    # A bucket that has versions lists their current ones (core.object_version_listing).
    page = object_version_listing.list_current(
        call.runtime.db,
        call.store,
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        marker=_decode_token(token) if token is not None else start_after,
        limit=max_keys,
    )
    # V1 always names the owner; V2 only when asked to.
    owner_of = _owner(bucket) if not v2 or call.param("fetch-owner") == "true" else None
    result: dict[str, Any] = {
        "Name": call.bucket,
        "Prefix": encode(prefix),
        "MaxKeys": max_keys,
        "IsTruncated": page.is_truncated,
        "Contents": [_content(item, encode, owner_of) for item in page.objects],
        "CommonPrefixes": [{"Prefix": encode(name)} for name in page.common_prefixes],
    }
    if delimiter:
        result["Delimiter"] = encode(delimiter)
    if call.param("encoding-type") is not None:
        result["EncodingType"] = "url"
    if not v2:
        result["Marker"] = encode(start_after)
        if page.is_truncated and delimiter:  # without one, clients continue from the last key
            result["NextMarker"] = encode(page.next_marker or "")
        return render("ListObjects", result, request_id=call.request_id)
    result["KeyCount"] = len(page.objects) + len(page.common_prefixes)
    if token is not None:
        result["ContinuationToken"] = token
    if start_after:
        result["StartAfter"] = encode(start_after)
    if page.is_truncated:
        result["NextContinuationToken"] = _encode_token(page.next_marker or "")
    return render("ListObjectsV2", result, request_id=call.request_id)


def _content(
    item: ObjectSummary, encode: Callable[[str], str], owner_of: dict[str, str] | None
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "Key": encode(item.key),
        "LastModified": item.last_modified,
        "ETag": f'"{item.etag}"',
        "Size": item.size,
        "StorageClass": "STANDARD",
    }
    if owner_of is not None:
        content["Owner"] = owner_of
    return content


def _owner(bucket: BucketHandle) -> dict[str, str]:
    return {"ID": bucket.owner_uuid, "DisplayName": bucket.owner_name}


def _encoder(encoding_type: str | None) -> Callable[[str], str]:
    if encoding_type is None:
        return lambda text: text
    if encoding_type != "url":
        raise InvalidArgument(
            "Invalid Encoding Method specified in Request", ArgumentName="encoding-type"
        )
    # Form-style percent-encoding that keeps '/' (a space becomes '+', a '+' %2B), as S3
    # does; botocore decodes it with unquote_plus.
    return lambda text: quote_plus(text, safe="/")


def _max_keys(value: str | None) -> int:
    if value is None:
        return MAX_KEYS
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise InvalidArgument(
            "Provided max-keys not an integer or within integer range", ArgumentName="max-keys"
        )
    return min(number, MAX_KEYS)


def _encode_token(marker: str) -> str:
    # Opaque to clients, as S3's own tokens are; the store's marker underneath, tagged so
    # that a token we did not issue is refused rather than read as some other marker.
    return base64.urlsafe_b64encode((_TOKEN_TAG + marker).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_TOKEN_TAG):
        raise InvalidArgument(
            "The continuation token provided is incorrect", ArgumentName="continuation-token"
        )
    return text[len(_TOKEN_TAG) :]


OPERATIONS = (
    Operation("ListObjects", Level.BUCKET, "GET", None, list_objects),
    Operation("GetBucketLocation", Level.BUCKET, "GET", "location", get_location),
    Operation("CreateBucket", Level.BUCKET, "PUT", None, create_bucket),
    Operation("HeadBucket", Level.BUCKET, "HEAD", None, head_bucket),
    Operation("DeleteBucket", Level.BUCKET, "DELETE", None, delete_bucket),
)
