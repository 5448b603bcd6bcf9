"""Buckets and their objects: a global namespace of names, each owned by one account.

A bucket row is the truth about who owns a name; its objects live in the object store under
the owner account's namespace (the account uuid: on Swift, the account `AUTH_<uuid>`). The
owning account and root admins use a bucket; others (anonymous callers included) only as its
ACL grants or its policy allows (`core.bucket_acl.authorize`), else PermissionDenied.
Unlike CloudStack's own resources, a bucket's existence is not hidden from other tenants:
the namespace is global, so "name taken" tells them anyway.

Object use cases take a `BucketHandle`, which only `handle_for` (the access check) makes, and
run outside any database transaction: an upload may last minutes and must not hold one.
Driver errors become core errors here, so front ends never see the driver's vocabulary.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

import drivers.objectstore.base as objectstore
from core import bucket_acl
from core.bucket_acl import OWNER, POLICY, READ_ACP, WRITE_ACP
from core.context import CallContext
from core.db import Base, IdMixin
from core.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    OperationFailed,
    PermissionDenied,
    ResourceInUse,
    ResourceUnavailable,
)
from core.identity import Account
from drivers.objectstore.base import (
    ByteRange,
    ObjectInfo,
    ObjectListing,
    ObjectStore,
    ObjectSummary,
    resolve_range,
)

__all__ = [
    "BUCKET",
    "OBJECT",
    "OWNER",
    "POLICY",
    "READ_ACP",
    "WRITE_ACP",
    "Bucket",
    "BucketHandle",
    "BucketNameTaken",
    "ByteRange",
    "IncompleteUpload",
    "KeyTooLong",
    "ObjectInfo",
    "ObjectListing",
    "ObjectSummary",
    "PreconditionNotMet",
    "RangeNotSatisfiable",
]

BUCKET = "bucket"
OBJECT = "object"
READ = "read"
WRITE = "write"
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Prefixes and suffixes AWS reserves for its own access points and directory buckets.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


# Called as hook(session, bucket, namespace, store) before a bucket is deleted, by families that
# keep more of a bucket than its container (object versions, ...): raise to refuse
# (ResourceInUse: not empty), or remove what is theirs.
BUCKET_DELETING_HOOKS: list[Callable[[Session, Bucket, str, ObjectStore], None]] = []


class Bucket(IdMixin, Base):
    __tablename__ = "bucket"

    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    region: Mapped[str] = mapped_column(sa.String(64))


@dataclass(frozen=True, slots=True)
class BucketHandle:
    """A bucket the caller was found allowed to use, with what object calls need."""

    name: str
    namespace: str  # the owner account's uuid: where the objects live in the store
    region: str
    owner_uuid: str
    owner_name: str


class BucketNameTaken(Conflict):
    """The global name is in use; S3 distinguishes "yours already" from "someone else's"."""

    def __init__(self, name: str, *, owned_by_caller: bool) -> None:
        whose = "you already own it" if owned_by_caller else "it belongs to another account"
        super().__init__(f"The bucket name {name} is not available: {whose}")
        self.name = name
        self.owned_by_caller = owned_by_caller


class RangeNotSatisfiable(InvalidParameter):
    def __init__(self, byte_range: ByteRange, size: int | None) -> None:
        super().__init__(f"Range {byte_range} is not satisfiable", parameter="range")
        self.byte_range = byte_range
        self.size = size


class PreconditionNotMet(Conflict):
    """A conditional request (If-Match, If-None-Match … on the object) did not hold."""

    def __init__(self, key: str, condition: str) -> None:
        super().__init__(f"The condition {condition} does not hold for {key}")
        self.key = key
        self.condition = condition


class KeyTooLong(InvalidParameter):
    def __init__(self, size: int) -> None:
        super().__init__(
            f"The key is {size} bytes long; at most {objectstore.MAX_KEY_BYTES} are allowed",
            parameter="key",
        )
        self.size = size
        self.limit = objectstore.MAX_KEY_BYTES


class IncompleteUpload(InvalidParameter):
    """The body ended before (or ran past) the length the client declared."""

    def __init__(self, expected: int, received: int) -> None:
        super().__init__(
            f"Expected {expected} bytes but received {received}", parameter="content-length"
        )
        self.expected = expected
        self.received = received


# --- buckets ------------------------------------------------------------------------------


def validate_bucket_name(name: str) -> None:
    """AWS's naming rules for general purpose buckets; InvalidParameter otherwise."""
    problem = None
    if not _NAME.fullmatch(name):
        problem = "3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending "
        problem += "with a letter or digit"
    elif ".." in name:
        problem = "without two adjacent periods"
    elif _is_ip_address(name):
        problem = "not formatted as an IP address"
    elif name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        problem = "without a reserved prefix or suffix"
    if problem:
        raise InvalidParameter(
            f"The specified bucket is not valid: {name!r} must be {problem}", parameter=BUCKET
        )


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def create_bucket(
    session: Session, ctx: CallContext, name: str, *, store: ObjectStore, region: str
) -> Bucket:
    """A new bucket owned by the caller's account, with its container in the object store."""
    if bucket_acl.is_anonymous(ctx):
        raise PermissionDenied("Anonymous users cannot create buckets")
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
    with _driver_errors(name):
        store.create_container(ctx.account_uuid, name)
    return bucket


def delete_bucket(session: Session, ctx: CallContext, name: str, *, store: ObjectStore) -> None:
    """Delete an empty bucket (ResourceInUse if it still holds objects)."""
    bucket = get_bucket_for(session, ctx, name, action=OWNER)
    namespace = session.get_one(Account, bucket.account_id).uuid
    for hook in BUCKET_DELETING_HOOKS:
        hook(session, bucket, namespace, store)
    session.delete(bucket)
    session.flush()
    # The row goes in the caller's transaction, so a refused container delete keeps it.
    try:
        with _driver_errors(name):
            store.delete_container(namespace, name)
    except NotFound:
        pass  # the container is already gone: deleting the row finishes the job


def list_buckets(session: Session, ctx: CallContext) -> list[Bucket]:
    """The caller's account's buckets, by name (S3 lists only the caller's own)."""
    if bucket_acl.is_anonymous(ctx):
        raise PermissionDenied("Anonymous users cannot list buckets")
    query = sa.select(Bucket).where(Bucket.account_id == ctx.account_id).order_by(Bucket.name)
    return list(session.scalars(query))


def get_bucket_for(
    session: Session,
    ctx: CallContext,
    name: str,
    *,
    action: str,
    key: str | None = None,
    s3_action: str | None = None,
) -> Bucket:
    """The bucket named `name` if the caller may `action` it (READ, WRITE, READ_ACP,
    WRITE_ACP, OWNER, POLICY; with `key`, READ and the ACP actions are the object's):
    owner, ACL grants and bucket policy decide, in `bucket_acl.authorize`."""
    bucket = session.scalar(sa.select(Bucket).where(Bucket.name == name))
    if bucket is None:
        raise NotFound(BUCKET, name, f"The specified bucket {name} does not exist")
    bucket_acl.authorize(session, ctx, bucket, action, key=key, s3_action=s3_action)
    return bucket


def handle_for(
    session: Session,
    ctx: CallContext,
    name: str,
    *,
    action: str,
    key: str | None = None,
    s3_action: str | None = None,
) -> BucketHandle:
    """What object use cases need, once the caller's access to the bucket is checked."""
    bucket = get_bucket_for(session, ctx, name, action=action, key=key, s3_action=s3_action)
    owner = session.get_one(Account, bucket.account_id)
    return BucketHandle(
        name=bucket.name,
        namespace=owner.uuid,
        region=bucket.region,
        owner_uuid=owner.uuid,
        owner_name=owner.name,
    )


# --- objects ------------------------------------------------------------------------------


def put_object(
    store: ObjectStore,
    bucket: BucketHandle,
    key: str,
    body: Iterable[bytes],
    *,
    content_type: str | None,
    metadata: Mapping[str, str],
    content_length: int | None,
    system_metadata: Mapping[str, str] | None = None,
    only_if_absent: bool = False,
    only_if_etag: str | None = None,
) -> ObjectInfo:
    """Stream `body` into the object `key`, replacing any previous one atomically
    (PreconditionNotMet when a condition on the key's current object does not hold)."""
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > objectstore.MAX_KEY_BYTES:
        raise KeyTooLong(size)
    condition = "If-None-Match" if only_if_absent else "If-Match"
    with _driver_errors(bucket.name, key, condition=condition):
        return store.put_object(
            bucket.namespace,
            bucket.name,
            key,
            body,
            content_type=content_type,
            metadata=metadata,
            content_length=content_length,
            system_metadata=system_metadata,
            only_if_absent=only_if_absent,
            only_if_etag=only_if_etag,
        )


def get_object(
    store: ObjectStore, bucket: BucketHandle, key: str, *, byte_range: ByteRange | None
) -> tuple[ObjectInfo, Iterator[bytes]]:
    """The object's info and a stream of its content (or of `byte_range`)."""
    with _driver_errors(bucket.name, key):
        return store.get_object(bucket.namespace, bucket.name, key, byte_range=byte_range)


def selected_bytes(byte_range: ByteRange, size: int) -> tuple[int, int]:
    """The inclusive (first, last) offsets a satisfiable `byte_range` selects."""
    with _driver_errors(""):
        return resolve_range(byte_range, size)


def head_object(store: ObjectStore, bucket: BucketHandle, key: str) -> ObjectInfo:
    with _driver_errors(bucket.name, key):
        return store.head_object(bucket.namespace, bucket.name, key)


def delete_object(store: ObjectStore, bucket: BucketHandle, key: str) -> None:
    """Delete the object; a missing key is not an error (S3 semantics)."""
    with _driver_errors(bucket.name, key):
        store.delete_object(bucket.namespace, bucket.name, key)


def list_objects(
    store: ObjectStore,
    bucket: BucketHandle,
    *,
    prefix: str,
    delimiter: str | None,
    marker: str | None,
    limit: int,
) -> ObjectListing:
    """One page of the bucket's keys after `marker`, rolled up at `delimiter`."""
    if not 0 <= limit <= objectstore.MAX_LIST_LIMIT:
        limit_range = f"0..{objectstore.MAX_LIST_LIMIT}"
        raise InvalidParameter(f"limit must be within {limit_range}", parameter="limit")
    with _driver_errors(bucket.name):
        return store.list_objects(
            bucket.namespace,
            bucket.name,
            prefix=prefix,
            delimiter=delimiter or None,
            marker=marker or None,
            limit=limit,
        )


def driver_errors(
    bucket: str, key: str | None = None, *, condition: str = ""
) -> AbstractContextManager[None]:
    """The store's errors as the core's, for families that call the store themselves."""
    return _driver_errors(bucket, key, condition=condition)


@contextmanager
def _driver_errors(bucket: str, key: str | None = None, *, condition: str = "") -> Iterator[None]:
    """Translate the object store's errors into the core's (the driver's words stop here)."""
    try:
        yield
    except objectstore.ConditionFailed:
        raise PreconditionNotMet(key or "", condition) from None
    except objectstore.NoSuchContainer:
        raise NotFound(BUCKET, bucket, f"The specified bucket {bucket} does not exist") from None
    except objectstore.NoSuchObject:
        raise NotFound(OBJECT, key, f"The specified key {key} does not exist") from None
    except objectstore.ContainerNotEmpty:
        raise ResourceInUse(f"The bucket {bucket} is not empty") from None
    except objectstore.InvalidRange as error:
        raise RangeNotSatisfiable(error.byte_range, error.size) from None
    except objectstore.IncompleteBody as error:
        raise IncompleteUpload(error.expected, error.received) from None
    except objectstore.InvalidArgument as error:
        raise InvalidParameter(str(error), parameter=error.kind) from None
    except objectstore.ObjectStoreUnavailable as error:
        raise ResourceUnavailable(f"The object store is unavailable: {error.reason}") from None
    except objectstore.DriverError as error:
        raise OperationFailed(f"Object store operation failed: {error}") from error
