"""Access control lists of buckets and objects, and the access decision that uses them.

A grant gives a permission (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL) to an account
(by its uuid: S3's canonical user id) or to a group: everyone (AllUsers, anonymous callers
included) or every signed caller (AuthenticatedUsers). On a bucket READ lists it and WRITE
creates, replaces and deletes its objects; on an object READ reads it. READ_ACP/WRITE_ACP
read and replace the ACL itself; FULL_CONTROL is all of them.

A bucket or object without a row has the default ACL: its owner has FULL_CONTROL. An
object's owner is the account that uploaded it (S3's "ObjectWriter" ownership), so another
tenant's upload into a bucket it may write is not readable by the bucket owner unless the
uploader grants it (`bucket-owner-read`, `bucket-owner-full-control`), as in S3.

`authorize` is the one decision, in AWS's order: an explicit Deny of the bucket policy
refuses (even the owner, except for managing the policy itself); then ownership, a root
admin, an Allow of the policy, and the ACL's grants allow. Anonymous callers are a
`Requester` with `anonymous=True`; only AllUsers grants and `"*"` policies reach them.
Bucket policies govern S3 requests (a `Requester`, with the facts their conditions test);
the core's own work on a bucket (lifecycle expiry, a template registered from an object)
acts with a plain CallContext and is decided by ownership and ACLs alone, as AWS's own
services are not subject to a bucket's policy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import bucket_policy
from core.context import CallContext, Role
from core.db import Base
from core.errors import InvalidParameter, PermissionDenied
from core.identity import Account

READ = "read"
WRITE = "write"
READ_ACP = "read_acp"
WRITE_ACP = "write_acp"
OWNER = "owner"  # only the bucket's owner (DeleteBucket); the policy's Deny still applies
POLICY = "policy"  # policy management: the owner even against the policy's Deny

FULL_CONTROL = "FULL_CONTROL"
PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
CANNED = (
    "private", "public-read", "public-read-write", "authenticated-read",
    "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write",
)  # fmt: skip
ACL = "acl"  # InvalidParameter.parameter of a bad grant or canned ACL name


class BucketRef(Protocol):
    """What the decision needs of a bucket row (core.buckets.Bucket has it)."""

    id: int
    name: str
    account_id: int


@dataclass(frozen=True, slots=True)
class Requester(CallContext):
    """A caller of the object-storage API: its context plus the facts that bucket policies
    test. Being a CallContext, it goes wherever the core takes one."""

    anonymous: bool = False
    principals: frozenset[str] = frozenset()  # account number and ARNs (policy principals)
    source_ip: str | None = None
    secure: bool = False


def anonymous_requester(*, source_ip: str | None, secure: bool) -> Requester:
    """An unsigned caller: no account (id 0 owns nothing), never an admin."""
    return Requester(
        user_id=0, account_id=0, domain_id=0, role=Role.USER, username="anonymous",
        anonymous=True, source_ip=source_ip, secure=secure,
    )  # fmt: skip


def is_anonymous(ctx: CallContext) -> bool:
    return isinstance(ctx, Requester) and ctx.anonymous


@dataclass(frozen=True, slots=True)
class Grant:
    permission: str
    account_uuid: str | None = None  # a canonical user …
    group: str | None = None  # … or a group URI


@dataclass(frozen=True, slots=True)
class AclSpec:
    """An ACL as a request states it: a canned name or explicit grants (not both)."""

    canned: str | None = None
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True, slots=True)
class AclView:
    owner_uuid: str
    owner_name: str
    grants: tuple[tuple[Grant, str], ...]  # each grant with the grantee's display name


class BucketAcl(Base):
    __tablename__ = "bucket_acl"

    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), primary_key=True
    )
    grants: Mapped[str] = mapped_column(sa.Text)


class ObjectAcl(Base):
    """Only objects whose owner is not the bucket's or whose ACL is not the default."""

    __tablename__ = "object_acl"
    __table_args__ = (sa.UniqueConstraint("bucket_id", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    bucket_id: Mapped[int] = mapped_column(sa.ForeignKey("bucket.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(sa.String(64))  # keys are too long to index
    key: Mapped[str] = mapped_column(sa.Text)
    owner_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    grants: Mapped[str] = mapped_column(sa.Text)


# --- ACLs ---------------------------------------------------------------------------------


def resolve(
    session: Session, spec: AclSpec, *, owner_uuid: str, bucket_owner_uuid: str
) -> list[Grant]:
    """The grants `spec` stands for (canned ACLs expanded; grantee accounts must exist)."""
    if spec.canned is not None:
        return _canned(spec.canned, owner_uuid, bucket_owner_uuid)
    for grant in spec.grants:
        if grant.permission not in PERMISSIONS:
            raise InvalidParameter(f"Invalid permission {grant.permission!r}", parameter=ACL)
        if grant.group is not None and grant.group not in GROUPS:
            raise InvalidParameter(f"Invalid group uri {grant.group!r}", parameter=ACL)
        if grant.account_uuid is not None and _account(session, grant.account_uuid) is None:
            raise InvalidParameter(f"Invalid id {grant.account_uuid!r}", parameter=ACL)
    return list(spec.grants)


def _canned(name: str, owner: str, bucket_owner: str) -> list[Grant]:
    grants = [Grant(FULL_CONTROL, account_uuid=owner)]
    extra = {
        "private": [],
        "public-read": [Grant("READ", group=ALL_USERS)],
        "public-read-write": [Grant("READ", group=ALL_USERS), Grant("WRITE", group=ALL_USERS)],
        "authenticated-read": [Grant("READ", group=AUTHENTICATED_USERS)],
        "bucket-owner-read": [Grant("READ", account_uuid=bucket_owner)],
        "bucket-owner-full-control": [Grant(FULL_CONTROL, account_uuid=bucket_owner)],
        "log-delivery-write": [
            Grant("WRITE", group=LOG_DELIVERY),
            Grant("READ_ACP", group=LOG_DELIVERY),
        ],
    }.get(name)
    if extra is None:
        raise InvalidParameter(f"Invalid canned ACL {name!r}", parameter=ACL)
    return grants + [grant for grant in extra if grant != grants[0]]


def apply_bucket_acl(session: Session, bucket: BucketRef, spec: AclSpec) -> None:
    """PutBucketAcl (or CreateBucket's ACL headers): replace the bucket's grants."""
    owner = session.get_one(Account, bucket.account_id).uuid
    grants = _dump(resolve(session, spec, owner_uuid=owner, bucket_owner_uuid=owner))
    row = session.get(BucketAcl, bucket.id)
    if row is None:
        session.add(BucketAcl(bucket_id=bucket.id, grants=grants))
    else:
        row.grants = grants
    session.flush()


def bucket_acl(session: Session, bucket: BucketRef) -> AclView:
    """GetBucketAcl: the owner and the grants (the default ACL when none was set)."""
    owner = session.get_one(Account, bucket.account_id)
    row = session.get(BucketAcl, bucket.id)
    grants = _load(row.grants) if row else [Grant(FULL_CONTROL, account_uuid=owner.uuid)]
    return _view(session, owner, grants)


def new_object_grants(
    session: Session, ctx: CallContext, bucket: BucketRef, spec: AclSpec
) -> list[Grant]:
    """The grants `spec` gives an object that `ctx` is about to write into `bucket`."""
    bucket_owner = session.get_one(Account, bucket.account_id).uuid
    owner = session.get_one(Account, _writer_id(ctx, bucket)).uuid
    return resolve(session, spec, owner_uuid=owner, bucket_owner_uuid=bucket_owner)


def object_written(
    session: Session, ctx: CallContext, bucket: BucketRef, key: str, *,
    grants: Sequence[Grant] | None,
) -> None:  # fmt: skip
    """Record who owns the object `ctx` just wrote, with `grants` (None: private). Every write
    path calls this, so an overwritten object never keeps its predecessor's grants.
    Anonymous writes (a public-read-write bucket) belong to the bucket's owner."""
    _record(session, bucket, key, _writer_id(ctx, bucket), grants)


def _writer_id(ctx: CallContext, bucket: BucketRef) -> int:
    return bucket.account_id if is_anonymous(ctx) else ctx.account_id


def _record(
    session: Session, bucket: BucketRef, key: str, owner_id: int, grants: Sequence[Grant] | None
) -> None:
    object_deleted(session, bucket, key)
    if owner_id == bucket.account_id and grants is None:
        return  # the default: no row
    if grants is None:
        grants = [Grant(FULL_CONTROL, account_uuid=session.get_one(Account, owner_id).uuid)]
    session.add(
        ObjectAcl(
            bucket_id=bucket.id, key_hash=_hash(key), key=key,
            owner_account_id=owner_id, grants=_dump(grants),
        )
    )  # fmt: skip
    session.flush()


def object_deleted(session: Session, bucket: BucketRef, key: str) -> None:
    session.execute(
        sa.delete(ObjectAcl).where(
            ObjectAcl.bucket_id == bucket.id, ObjectAcl.key_hash == _hash(key)
        )
    )


def object_owner_id(session: Session, bucket: BucketRef, key: str) -> int:
    row = _object_row(session, bucket, key)
    return row.owner_account_id if row else bucket.account_id


def apply_object_acl(session: Session, bucket: BucketRef, key: str, spec: AclSpec) -> None:
    """PutObjectAcl: new grants, same owner."""
    owner_id = object_owner_id(session, bucket, key)
    owner = session.get_one(Account, owner_id).uuid
    bucket_owner = session.get_one(Account, bucket.account_id).uuid
    grants = resolve(session, spec, owner_uuid=owner, bucket_owner_uuid=bucket_owner)
    _record(session, bucket, key, owner_id, grants)


def object_acl(session: Session, bucket: BucketRef, key: str) -> AclView:
    row = _object_row(session, bucket, key)
    owner = session.get_one(Account, row.owner_account_id if row else bucket.account_id)
    grants = _load(row.grants) if row else [Grant(FULL_CONTROL, account_uuid=owner.uuid)]
    return _view(session, owner, grants)


def _object_row(session: Session, bucket: BucketRef, key: str) -> ObjectAcl | None:
    return session.scalar(
        sa.select(ObjectAcl).where(
            ObjectAcl.bucket_id == bucket.id, ObjectAcl.key_hash == _hash(key)
        )
    )


def _view(session: Session, owner: Account, grants: Iterable[Grant]) -> AclView:
    named = []
    for grant in grants:
        account = _account(session, grant.account_uuid) if grant.account_uuid else None
        named.append((grant, account.name if account else ""))
    return AclView(owner.uuid, owner.name, tuple(named))


def _account(session: Session, uuid: str) -> Account | None:
    return session.scalar(sa.select(Account).where(Account.uuid == uuid))


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _dump(grants: Iterable[Grant]) -> str:
    return json.dumps(
        [[grant.permission, grant.account_uuid, grant.group] for grant in grants],
        separators=(",", ":"),
    )


def _load(text: str) -> list[Grant]:
    return [Grant(permission, uuid, group) for permission, uuid, group in json.loads(text)]


# --- the access decision ------------------------------------------------------------------


_POLICY_ACTIONS = {
    # (permission, names an object) -> the policy action checked by default
    (READ, False): "s3:ListBucket",
    (READ, True): "s3:GetObject",
    (WRITE, False): "s3:PutObject",
    (WRITE, True): "s3:PutObject",
    (READ_ACP, False): "s3:GetBucketAcl",
    (READ_ACP, True): "s3:GetObjectAcl",
    (WRITE_ACP, False): "s3:PutBucketAcl",
    (WRITE_ACP, True): "s3:PutObjectAcl",
    (OWNER, False): "s3:DeleteBucket",
    (POLICY, False): "s3:PutBucketPolicy",
}


def authorize(
    session: Session,
    ctx: CallContext,
    bucket: BucketRef,
    permission: str,
    *,
    key: str | None = None,
    s3_action: str | None = None,
) -> None:
    """PermissionDenied unless `ctx` may use `permission` on the bucket (or its object `key`:
    READ, READ_ACP and WRITE_ACP are then checked on the object's ACL; WRITE is always the
    bucket's). `s3_action` names the request for the policy (default from the permission)."""
    is_owner = ctx.account_id == bucket.account_id and not is_anonymous(ctx)
    if permission == POLICY:
        if is_owner or ctx.is_root_admin:
            return
        raise PermissionDenied(f"Only the owner of bucket {bucket.name} manages its policy")
    on_object = key is not None and permission in (READ, READ_ACP, WRITE_ACP)
    action = s3_action or _POLICY_ACTIONS.get(
        (permission, key is not None), _POLICY_ACTIONS[(permission, False)]
    )
    effect = None
    if isinstance(ctx, Requester):  # an S3 request; not the core's own jobs (lifecycle …)
        request = _policy_request(ctx, bucket, key, action)
        effect = bucket_policy.evaluate(session, bucket.id, request)
    if effect is bucket_policy.Effect.DENY:
        raise PermissionDenied(f"Access denied by the policy of bucket {bucket.name}")
    owner_id = object_owner_id(session, bucket, key) if on_object and key else bucket.account_id
    if (ctx.account_id == owner_id and not is_anonymous(ctx)) or ctx.is_root_admin:
        return
    if permission == OWNER:
        raise PermissionDenied(f"Only the owner of bucket {bucket.name} may do this")
    if effect is bucket_policy.Effect.ALLOW:
        return
    if _granted(session, ctx, bucket, key if on_object else None, permission):
        return
    raise PermissionDenied(f"Access denied: may not {permission} bucket {bucket.name}")


def _granted(
    session: Session, ctx: CallContext, bucket: BucketRef, key: str | None, permission: str
) -> bool:
    if key is None:
        row = session.get(BucketAcl, bucket.id)
        grants = _load(row.grants) if row else []
    else:
        object_row = _object_row(session, bucket, key)
        grants = _load(object_row.grants) if object_row else []
    wanted = {permission.upper(), FULL_CONTROL}
    return any(grant.permission in wanted and _grantee(ctx, grant) for grant in grants)


def _grantee(ctx: CallContext, grant: Grant) -> bool:
    if grant.group == ALL_USERS:
        return True
    if is_anonymous(ctx):
        return False
    return grant.group == AUTHENTICATED_USERS or grant.account_uuid == ctx.account_uuid


def _policy_request(
    ctx: Requester, bucket: BucketRef, key: str | None, action: str
) -> bucket_policy.PolicyRequest:
    resource = f"arn:aws:s3:::{bucket.name}" + (f"/{key}" if key is not None else "")
    return bucket_policy.PolicyRequest(
        principals=ctx.principals,
        account_uuid="" if ctx.anonymous else ctx.account_uuid,
        action=action,
        resource=resource,
        source_ip=ctx.source_ip,
        secure=ctx.secure,
    )
