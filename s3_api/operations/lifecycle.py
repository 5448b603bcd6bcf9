"""Bucket lifecycle: Put/Get/DeleteBucketLifecycleConfiguration.

The document's shape (one filter form per rule, no transitions) is checked here, where the
XML is; what the rules may say and their execution are the core's (`core.bucket_lifecycle`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from email.utils import format_datetime
from typing import Any

from starlette.responses import Response

from core import bucket_lifecycle
from core.bucket_lifecycle import LifecycleRule
from s3_api.call import S3Call
from s3_api.errors import MalformedXML, NotImplementedFeature
from s3_api.operation import Level, Operation
from s3_api.wire import parse_payload, render

_SIZES = ("ObjectSizeGreaterThan", "ObjectSizeLessThan")
LEGACY, AND, FILTER = "prefix", "and", "filter"  # how a rule's filter was written


def put_lifecycle(call: S3Call) -> Response:
    """PutBucketLifecycleConfiguration (and the older PutBucketLifecycle, same route)."""
    document = parse_payload("PutBucketLifecycleConfiguration", call.body)
    rules = [_rule(fields) for fields in document.get("Rules") or ()]
    with call.runtime.db.write() as session:
        bucket_lifecycle.put_lifecycle(session, call.ctx, call.bucket, rules)
    return Response()


def get_lifecycle(call: S3Call) -> Response:
    """GetBucketLifecycleConfiguration; NoSuchLifecycleConfiguration when there is none."""
    with call.runtime.db.read() as session:
        rules = bucket_lifecycle.get_lifecycle(session, call.ctx, call.bucket)
    result = {"Rules": [_fields(rule) for rule in rules]}
    return render("GetBucketLifecycleConfiguration", result, request_id=call.request_id)


def delete_lifecycle(call: S3Call) -> Response:
    """DeleteBucketLifecycle: 204, configured or not."""
    with call.runtime.db.write() as session:
        bucket_lifecycle.delete_lifecycle(session, call.ctx, call.bucket)
    return Response(status_code=204)


def expiration_fields(call: S3Call, size: int, last_modified: dt.datetime) -> dict[str, Any]:
    """`x-amz-expiration` for a GET, HEAD or PUT of the current version of an object that an
    enabled rule will expire (one small read per request; nothing for a bucket without rules)."""
    if call.param("versionId") is not None:
        return {}
    with call.runtime.db.read() as session:
        found = bucket_lifecycle.expiration_of(session, call.bucket, call.key, size, last_modified)
    if found is None:
        return {}
    when, rule_id = found
    expiry = format_datetime(when, usegmt=True)
    return {"Expiration": f'expiry-date="{expiry}", rule-id="{rule_id}"'}


# --- wire ⇄ core ----------------------------------------------------------------------------


def _rule(fields: Mapping[str, Any]) -> LifecycleRule:
    if fields.get("Transitions") or fields.get("NoncurrentVersionTransitions"):
        raise NotImplementedFeature(
            "Transitions are not implemented: this store has a single storage class"
        )
    expiration = fields.get("Expiration")
    if expiration is not None and not expiration:
        raise MalformedXML()
    expiration = expiration or {}
    date = expiration.get("Date")
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    return LifecycleRule(
        status=fields.get("Status", ""),
        id=fields.get("ID"),
        **_filter(fields),
        expiration_days=expiration.get("Days"),
        expiration_date=date,
        expired_object_delete_marker=expiration.get("ExpiredObjectDeleteMarker"),
        abort_incomplete_days=(fields.get("AbortIncompleteMultipartUpload") or {}).get(
            "DaysAfterInitiation"
        ),
        noncurrent_days=(fields.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
    )


def _filter(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's selection from exactly one of: the old rule-level `Prefix`, or a `Filter`
    holding one of Prefix, Tag, a size bound, or `And` (anything else is MalformedXML)."""
    has_filter = "Filter" in fields
    if has_filter == ("Prefix" in fields):
        raise MalformedXML()
    if not has_filter:
        return {"prefix": fields["Prefix"] or "", "filter_form": LEGACY}
    given = fields["Filter"] or {}
    if len(given) > 1:
        raise MalformedXML()
    if "And" in given:
        both = given["And"] or {}
        tags = tuple((tag["Key"], tag.get("Value", "")) for tag in both.get("Tags") or ())
        return {
            "prefix": both.get("Prefix") or "",
            "tags": tags,
            "size_greater_than": both.get("ObjectSizeGreaterThan"),
            "size_less_than": both.get("ObjectSizeLessThan"),
            "filter_form": AND,
        }
    tag = given.get("Tag")
    return {
        "prefix": given.get("Prefix") or "",
        "tags": ((tag["Key"], tag.get("Value", "")),) if tag else (),
        "size_greater_than": given.get("ObjectSizeGreaterThan"),
        "size_less_than": given.get("ObjectSizeLessThan"),
        "filter_form": FILTER,
    }


def _fields(rule: LifecycleRule) -> dict[str, Any]:
    fields: dict[str, Any] = {"Status": rule.status}
    if rule.id is not None:
        fields["ID"] = rule.id
    if rule.filter_form == LEGACY:
        fields["Prefix"] = rule.prefix
    else:
        fields["Filter"] = _filter_fields(rule)
    expiration: dict[str, Any] = {}
    if rule.expiration_days is not None:
        expiration["Days"] = rule.expiration_days
    if rule.expiration_date is not None:
        expiration["Date"] = rule.expiration_date
    if rule.expired_object_delete_marker is not None:
        expiration["ExpiredObjectDeleteMarker"] = rule.expired_object_delete_marker
    if expiration:
        fields["Expiration"] = expiration
    if rule.abort_incomplete_days is not None:
        fields["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule.abort_incomplete_days
        }
    if rule.noncurrent_days is not None:
        fields["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule.noncurrent_days}
    return fields


def _filter_fields(rule: LifecycleRule) -> dict[str, Any]:
    sizes = dict(zip(_SIZES, (rule.size_greater_than, rule.size_less_than), strict=True))
    present = {name: value for name, value in sizes.items() if value is not None}
    tags = [{"Key": key, "Value": value} for key, value in rule.tags]
    if rule.filter_form == AND:
        return {"And": {"Prefix": rule.prefix, "Tags": tags, **present}}
    if tags:
        return {"Tag": tags[0]}
    if present:
        return present
    return {"Prefix": rule.prefix}


OPERATIONS = (
    Operation("PutBucketLifecycleConfiguration", Level.BUCKET, "PUT", "lifecycle", put_lifecycle),
    Operation("GetBucketLifecycleConfiguration", Level.BUCKET, "GET", "lifecycle", get_lifecycle),
    Operation("DeleteBucketLifecycle", Level.BUCKET, "DELETE", "lifecycle", delete_lifecycle),
)
