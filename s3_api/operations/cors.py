"""Bucket CORS: Put/Get/DeleteBucketCors, the unsigned preflight `OPTIONS`, and the
Access-Control-* headers of actual (signed) requests that carry an `Origin`.

Which rule allows a request is the core's decision (`core.bucket_cors`); this module only
reads the browser's headers and writes S3's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from core import bucket_cors
from core.bucket_cors import CorsMatch, CorsRule
from core.runtime import Runtime
from s3_api.call import S3Call
from s3_api.errors import AccessForbidden, BadRequest
from s3_api.operation import Level, Operation
from s3_api.wire import parse_payload, render

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
_FIELDS = {  # botocore's CORSRule members ⇄ the core's CorsRule fields
    "AllowedOrigins": "allowed_origins",
    "AllowedMethods": "allowed_methods",
    "AllowedHeaders": "allowed_headers",
    "ExposeHeaders": "expose_headers",
}


def put_bucket_cors(call: S3Call) -> Response:
    """PutBucketCors: replaces the whole configuration."""
    document = parse_payload("PutBucketCors", call.body)
    rules = [_rule(fields) for fields in document.get("CORSRules") or ()]
    with call.runtime.db.write() as session:
        bucket_cors.put_cors(session, call.ctx, call.bucket, rules)
    return Response()


def get_bucket_cors(call: S3Call) -> Response:
    """GetBucketCors; NoSuchCORSConfiguration when the bucket has none."""
    with call.runtime.db.read() as session:
        rules = bucket_cors.get_cors(session, call.ctx, call.bucket)
    result = {"CORSRules": [_fields(rule) for rule in rules]}
    return render("GetBucketCors", result, request_id=call.request_id)


def delete_bucket_cors(call: S3Call) -> Response:
    """DeleteBucketCors: 204, configured or not."""
    with call.runtime.db.write() as session:
        bucket_cors.delete_cors(session, call.ctx, call.bucket)
    return Response(status_code=204)


def preflight(runtime: Runtime, bucket: str, key: str, headers: Mapping[str, str]) -> Response:
    """The answer to a browser's preflight `OPTIONS` (unsigned: it carries no credentials):
    200 with the allowing rule's headers, or 403 AccessForbidden when no rule allows it."""
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    if not origin:
        raise BadRequest("Insufficient information. Origin request header needed.")
    if not method:
        raise BadRequest("Invalid Access-Control-Request-Method: null")
    requested = [
        name.strip()
        for name in headers.get("access-control-request-headers", "").split(",")
        if name.strip()
    ]
    match = None
    if bucket:
        with runtime.db.read() as session:
            match = bucket_cors.matching_rule(
                session, bucket, origin=origin, method=method, request_headers=requested
            )
    if match is None:
        raise AccessForbidden(Method=method, ResourceType="OBJECT" if key else "BUCKET")
    response_headers = access_control_headers(match)
    if requested:
        response_headers["Access-Control-Allow-Headers"] = ", ".join(requested)
    return Response(headers=response_headers)


def actual_request_headers(
    runtime: Runtime, bucket: str, method: str, headers: Mapping[str, str]
) -> dict[str, str]:
    """The Access-Control-* headers for a signed request from a browser page (`Origin`
    present) that a rule of the bucket allows; none otherwise."""
    origin = headers.get("origin")
    if not origin or not bucket:
        return {}
    with runtime.db.read() as session:
        match = bucket_cors.matching_rule(session, bucket, origin=origin, method=method)
    return access_control_headers(match) if match is not None else {}


def access_control_headers(match: CorsMatch) -> dict[str, str]:
    """S3's answer for an allowing rule: `*` for a rule open to any origin, else the origin
    echoed with credentials allowed."""
    rule = match.rule
    headers = {
        "Access-Control-Allow-Origin": "*" if rule.any_origin() else match.origin,
        "Access-Control-Allow-Methods": ", ".join(rule.allowed_methods),
        "Vary": VARY,
    }
    if not rule.any_origin():
        headers["Access-Control-Allow-Credentials"] = "true"
    if rule.expose_headers:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule.expose_headers)
    if rule.max_age_seconds is not None:
        headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
    return headers


def _rule(fields: Mapping[str, Any]) -> CorsRule:
    values = {name: tuple(fields.get(member) or ()) for member, name in _FIELDS.items()}
    return CorsRule(
        **values,
        max_age_seconds=fields.get("MaxAgeSeconds"),
        id=fields.get("ID"),
    )


def _fields(rule: CorsRule) -> dict[str, Any]:
    fields: dict[str, Any] = {
        member: list(getattr(rule, name)) for member, name in _FIELDS.items() if getattr(rule, name)
    }
    if rule.id is not None:
        fields["ID"] = rule.id
    if rule.max_age_seconds is not None:
        fields["MaxAgeSeconds"] = rule.max_age_seconds
    return fields


OPERATIONS = (
    Operation("PutBucketCors", Level.BUCKET, "PUT", "cors", put_bucket_cors),
    Operation("GetBucketCors", Level.BUCKET, "GET", "cors", get_bucket_cors),
    Operation("DeleteBucketCors", Level.BUCKET, "DELETE", "cors", delete_bucket_cors),
)
