"""ACLs: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, and the ACL headers of
CreateBucket, PutObject and CopyObject.

An ACL is asked for in one of three ways, never two at once: a canned ACL (`x-amz-acl`),
grant headers (`x-amz-grant-read: id="<account uuid>", uri="…/AllUsers"`), or (Put*Acl only)
an AccessControlPolicy document. A grantee is an account by its canonical id (the account's
uuid, as in Owner.ID) or a group; grants by e-mail address are refused
(UnresolvableGrantByEmailAddress), as in S3 outside its oldest regions. The decision itself,
and where ACLs are kept, is the core's (`core.bucket_acl`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from core import bucket_acl, object_versions
from core import buckets as core_buckets
from core.bucket_acl import AclSpec, AclView, Grant
from core.buckets import READ_ACP, WRITE, WRITE_ACP
from s3_api.call import S3Call
from s3_api.errors import (
    InvalidRequest,
    MalformedACLError,
    MalformedXML,
    NotImplementedFeature,
    UnresolvableGrantByEmailAddress,
)
from s3_api.operation import Level, Operation
from s3_api.wire import parse_payload, render

GRANT_HEADERS = {
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
    "x-amz-grant-full-control": "FULL_CONTROL",
}
DELETE_OBJECT = "s3:DeleteObject"
_GRANTEE = re.compile(r'\s*([A-Za-z]+)\s*=\s*"?([^",]*)"?\s*')


# --- the ACL a request asks for -----------------------------------------------------------


def requested_acl(call: S3Call) -> AclSpec | None:
    """The ACL of the request's headers (None: none asked for)."""
    canned = call.headers.get("x-amz-acl")
    grants = tuple(
        grant
        for header, permission in GRANT_HEADERS.items()
        if (value := call.headers.get(header)) is not None
        for grant in _header_grants(value, permission)
    )
    if canned is not None and grants:
        raise InvalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
    if canned is not None:
        return AclSpec(canned=canned.strip())
    return AclSpec(grants=grants) if grants else None


def _header_grants(value: str, permission: str) -> list[Grant]:
    grants = []
    for part in value.split(","):
        match = _GRANTEE.fullmatch(part)
        kind = match.group(1).lower() if match else ""
        if kind == "emailaddress":
            raise UnresolvableGrantByEmailAddress()
        if kind not in ("id", "uri"):
            raise InvalidRequest(f"Invalid grant header value {part.strip()!r}")
        grantee = match.group(2) if match else ""
        grants.append(
            Grant(permission, account_uuid=grantee)
            if kind == "id"
            else Grant(permission, group=grantee)
        )
    return grants


def _body_acl(call: S3Call, operation: str) -> AclSpec:
    try:
        document = parse_payload(operation, call.body)
    except MalformedXML:
        raise MalformedACLError() from None
    grants = []
    for item in document.get("Grants", []):
        grantee, permission = item.get("Grantee", {}), item.get("Permission")
        kind = grantee.get("Type")
        if kind == "AmazonCustomerByEmail":
            raise UnresolvableGrantByEmailAddress()
        if kind == "CanonicalUser" and grantee.get("ID") and permission:
            grants.append(Grant(permission, account_uuid=grantee["ID"]))
        elif kind == "Group" and grantee.get("URI") and permission:
            grants.append(Grant(permission, group=grantee["URI"]))
        else:
            raise MalformedACLError()
    return AclSpec(grants=tuple(grants))


def _put_acl(call: S3Call, operation: str) -> AclSpec:
    """The ACL of a Put*Acl request: its headers or its body, exactly one of them."""
    from_headers = requested_acl(call)
    if from_headers is not None and call.body.strip():
        raise InvalidRequest("This request does not support both ACL headers and a body")
    if from_headers is not None:
        return from_headers
    if not call.body.strip():
        raise MalformedACLError()
    return _body_acl(call, operation)


# --- bucket ACLs --------------------------------------------------------------------------


def get_bucket_acl(call: S3Call) -> Response:
    with call.runtime.db.read() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=READ_ACP)
        view = bucket_acl.bucket_acl(session, bucket)
    return render("GetBucketAcl", _acl_result(view), request_id=call.request_id)


def put_bucket_acl(call: S3Call) -> Response:
    spec = _put_acl(call, "PutBucketAcl")
    with call.runtime.db.write() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=WRITE_ACP)
        bucket_acl.apply_bucket_acl(session, bucket, spec)
    return Response()


def requested_bucket_acl(call: S3Call, session: Any) -> AclSpec | None:
    """CreateBucket's `x-amz-acl` / grant headers, checked before the bucket is made (its
    container must not be created for a request that then fails)."""
    spec = requested_acl(call)
    if spec is not None:
        owner = call.ctx.account_uuid
        bucket_acl.resolve(session, spec, owner_uuid=owner, bucket_owner_uuid=owner)
    return spec


# --- object ACLs --------------------------------------------------------------------------


def get_object_acl(call: S3Call) -> Response:
    """GetObjectAcl: the key's ACL (ACLs are kept per key: `?versionId=` names a version
    that must exist, and the answer is the key's ACL)."""
    _existing_object(call, READ_ACP)
    with call.runtime.db.read() as session:
        bucket = core_buckets.get_bucket_for(
            session, call.ctx, call.bucket, action=READ_ACP, key=call.key
        )
        view = bucket_acl.object_acl(session, bucket, call.key)
    return render("GetObjectAcl", _acl_result(view), request_id=call.request_id)


def put_object_acl(call: S3Call) -> Response:
    """PutObjectAcl: replaces the key's ACL, so `?versionId=` may only name the current
    version (an older one has no ACL of its own to replace)."""
    spec = _put_acl(call, "PutObjectAcl")
    located = _existing_object(call, WRITE_ACP)
    if call.param("versionId") is not None and not _is_current(call, located):
        raise NotImplementedFeature(
            "Object ACLs are kept per key: only the current version's ACL can be replaced"
        )
    with call.runtime.db.write() as session:
        bucket = core_buckets.get_bucket_for(
            session, call.ctx, call.bucket, action=WRITE_ACP, key=call.key
        )
        bucket_acl.apply_object_acl(session, bucket, call.key, spec)
    return Response()


def _existing_object(call: S3Call, action: str) -> object_versions.Located:
    """The object (or its version `?versionId=`) as GET would find it: NoSuchKey for an
    absent key or a delete marker, NoSuchVersion for an unknown version (after the access
    check, as S3 answers)."""
    with call.runtime.db.read() as session:
        handle = core_buckets.handle_for(
            session, call.ctx, call.bucket, action=action, key=call.key
        )
    located = object_versions.locate(call.runtime.db, handle, call.key, call.param("versionId"))
    core_buckets.head_object(call.store, located.bucket, located.key)
    return located


def _is_current(call: S3Call, located: object_versions.Located) -> bool:
    with call.runtime.db.read() as session:
        return object_versions.is_current(
            session, located.bucket_id, call.key, located.version_id, unversioned=True
        )


def planned_object_acl(call: S3Call, key: str) -> list[Grant] | None:
    """The grants a new object `key` is to get from the request's ACL headers, checked before
    any byte is stored (None: none asked for, the object is private)."""
    spec = requested_acl(call)
    if spec is None:
        return None
    with call.runtime.db.read() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=WRITE, key=key)
        return bucket_acl.new_object_grants(session, call.ctx, bucket, spec)


def record_object_acl(call: S3Call, key: str, grants: list[Grant] | None) -> None:
    """After a write of `key` (PutObject, CopyObject …): the uploader owns it, with `grants`
    (from `planned_object_acl`); any earlier object's ACL is dropped."""
    with call.runtime.db.write() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=WRITE, key=key)
        bucket_acl.object_written(session, call.ctx, bucket, key, grants=grants)


def check_object_delete(call: S3Call, key: str) -> None:
    """AccessDenied unless the caller may delete `key` (WRITE on the bucket, and no Deny of
    s3:DeleteObject on this key): for paths that checked the bucket only (DeleteObjects)."""
    with call.runtime.db.read() as session:
        core_buckets.get_bucket_for(
            session, call.ctx, call.bucket, action=WRITE, key=key, s3_action=DELETE_OBJECT
        )


# --- rendering ----------------------------------------------------------------------------


def _acl_result(view: AclView) -> dict[str, Any]:
    return {
        "Owner": {"ID": view.owner_uuid, "DisplayName": view.owner_name},
        "Grants": [
            {"Grantee": _grantee(grant, name), "Permission": grant.permission}
            for grant, name in view.grants
        ],
    }


def _grantee(grant: Grant, display_name: str) -> Mapping[str, str]:
    if grant.group is not None:
        return {"Type": "Group", "URI": grant.group}
    return {"Type": "CanonicalUser", "ID": grant.account_uuid or "", "DisplayName": display_name}


OPERATIONS = (
    Operation("GetBucketAcl", Level.BUCKET, "GET", "acl", get_bucket_acl),
    Operation("PutBucketAcl", Level.BUCKET, "PUT", "acl", put_bucket_acl),
    Operation("GetObjectAcl", Level.OBJECT, "GET", "acl", get_object_acl),
    Operation("PutObjectAcl", Level.OBJECT, "PUT", "acl", put_object_acl),
)
