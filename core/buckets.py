"""Buckets: a global namespace of names, each owned by one account, holding objects.

A bucket row is the truth about who owns a name; its objects live in the object store under
the owner account's namespace (its uuid: on Swift, the account `AUTH_<uuid>`). Only the
owning account — or a root admin — may read or write a bucket; anyone else is refused with
PermissionDenied. Unlike CloudStack's own resources, a bucket name is not hidden from other
tenants (the namespace is global, so "taken" already tells them it exists).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base, IdMixin
from core.errors import Conflict, InvalidParameter, NotFound, PermissionDenied, ResourceInUse
from core.identity import Account
from core.object_access import BucketHandle, translate_driver_errors

__all__ = [
    "Bucket",
    "BucketHandle",
    "BucketNameTaken",
    "create_bucket",
    "delete_bucket",
    "get_bucket_for",
    "handle_for",
    "list_buckets",
    "validate_bucket_name",
]

BUCKET = "bucket"
READ = "read"
WRITE = "write"
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Prefixes and suffixes AWS reserves for its own access points and directory buckets.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


class Bucket(IdMixin, Base):
    __tablename__ = "bucket"

    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    region: Mapped[str] = mapped_column(sa.String(64))


class BucketNameTaken(Conflict):
    """The global name is in use; S3 distinguishes "yours already" from "someone else's"."""

    def __init__(self, name: str, *, owned_by_caller: bool) -> None:
        whose = "you already own it" if owned_by_caller else "it belongs to another account"
        super().__init__(f"The bucket name {name} is not available: {whose}")
        self.name = name
        self.owned_by_caller = owned_by_caller


def validate_bucket_name(name: str) -> None:
    """AWS's naming rules for general purpose buckets; InvalidParameter otherwise."""
    problem = None
    if not _NAME.fullmatch(name):
        problem = "3 to 63 lowercase letters, digits, dots and hyphens, starting and ending "
        problem += "with a letter or digit"
    elif ".." in name:
        problem = "no two adjacent periods"
    elif _is_ip_address(name):
        problem = "not formatted as an IP address"
    elif name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        problem = "not a reserved prefix or suffix"
    if problem:
        raise InvalidParameter(
            f"The specified bucket is not valid: {name!r} (must be {problem})", parameter=BUCKET
        )


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def create_bucket(
    session: Session, ctx: CallContext, name: str, *, store: Any, region: str
) -> Bucket:
    """A new bucket owned by the caller's account, with its container in the object store."""
    validate_bucket_name(name)
    existing = session.scalar(sa.select(Bucket).where(Bucket.name == name))
    if existing is not None:
        raise BucketNameTaken(name, owned_by_caller=existing.account_id == ctx.account_id)
    bucket = Bucket(name=name, account_id=ctx.account_id, domain_id=ctx.domain_id, region=region)
    session.add(bucket)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        # Another server inserted the same name between our check and our insert.
        raise BucketNameTaken(name, owned_by_caller=False) from None
    # The container comes last: if it fails, the caller's transaction drops the row.
    with translate_driver_errors(bucket=name):
        store.create_container(namespace=ctx.account_uuid, container=name)
    return bucket


def delete_bucket(session: Session, ctx: CallContext, name: str, *, store: Any) -> None:
    """Delete an empty bucket: its row, then its container (ResourceInUse if not empty)."""
    bucket = get_bucket_for(session, ctx, name, action=WRITE)
    namespace = _owner_uuid(session, bucket)
    session.delete(bucket)
    session.flush()
    with translate_driver_errors(bucket=name, missing_ok=True):
        store.delete_container(namespace=namespace, container=name)


def list_buckets(session: Session, ctx: CallContext) -> list[Bucket]:
    """The caller's account's buckets, by name (S3 lists only the caller's own)."""
    query = sa.select(Bucket).where(Bucket.account_id == ctx.account_id).order_by(Bucket.name)
    return list(session.scalars(query))


def get_bucket_for(session: Session, ctx: CallContext, name: str, *, action: str) -> Bucket:
    """The bucket named `name` if the caller may `action` it (read or write)."""
    bucket = session.scalar(sa.select(Bucket).where(Bucket.name == name))
    if bucket is None:
        raise NotFound(BUCKET, name, f"The specified bucket {name} does not exist")
    if bucket.account_id != ctx.account_id and not ctx.is_root_admin:
        raise PermissionDenied(f"Access to {action} bucket {name} is denied")
    return bucket


def handle_for(session: Session, ctx: CallContext, name: str, *, action: str) -> BucketHandle:
    """What object operations need, once the caller's access to the bucket is checked."""
    bucket = get_bucket_for(session, ctx, name, action=action)
    owner = session.get_one(Account, bucket.account_id)
    return BucketHandle(
        name=bucket.name,
        namespace=owner.uuid,
        region=bucket.region,
        owner_uuid=owner.uuid,
        owner_name=owner.name,
    )


def _owner_uuid(session: Session, bucket: Bucket) -> str:
    return session.get_one(Account, bucket.account_id).uuid


_ = ResourceInUse  # re-exported meaning: a non-empty bucket surfaces as ResourceInUse
