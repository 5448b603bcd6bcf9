"""Bucket versioning: each bucket's state, and the versions and delete markers of its keys.

A bucket whose versioning was never configured has no row here and stays exactly as the
object store holds it (one object per key, listed by the store). From the first
PutBucketVersioning on, the database is the truth about which versions a key has and which
is current (the newest row of the key); the store only holds bytes, which never move:

- the `null` version (objects from before versioning, writes while it is suspended) lives at
  the plain key of the bucket's container, so a null write replaces the null version there;
- every other version lives in the companion container `<bucket>+versions` under its
  version id (bucket names cannot contain "+", so no bucket can take that name).

Front ends ask `prepare_write` where to stream an upload and `record_write` to make it a
version, `locate` what a GET or HEAD reads, `record_delete` for the rows of a delete
(DeleteObject and DeleteObjects, both in `core.object_deletes`); multipart completion and
copies use the same pair. The listings live in `core.object_version_listing`.

A write that streams first and records afterwards can leave bytes without a row when the
database fails in between; they are removed on that path, and otherwise harmless.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

import drivers.objectstore.base as objectstore
from core import buckets as core_buckets
from core.buckets import OBJECT, WRITE, BucketHandle, KeyTooLong, ObjectInfo, PreconditionNotMet
from core.context import CallContext
from core.db import Base, Database
from core.errors import InvalidParameter, NotFound, ResourceInUse

ENABLED = "Enabled"
SUSPENDED = "Suspended"
NULL = "null"
VERSION = "version"
VERSIONS_SUFFIX = "+versions"
_ADOPT_PAGE = 1000
# Object keys as UTF-8 bytes, so that both databases order them as S3 lists (by byte).
KEY_TYPE = sa.LargeBinary(objectstore.MAX_KEY_BYTES).with_variant(
    mysql.VARBINARY(objectstore.MAX_KEY_BYTES), "mysql", "mariadb"
)


class BucketVersioning(Base):
    __tablename__ = "bucket_versioning"

    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(sa.String(16))


class ObjectVersion(Base):
    """One version or delete marker; a key's newest row (highest id) is its current one."""

    __tablename__ = "object_version"
    __table_args__ = (sa.UniqueConstraint("bucket_id", "key", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[bytes] = mapped_column(KEY_TYPE)
    version_id: Mapped[str] = mapped_column(sa.String(32))
    delete_marker: Mapped[bool] = mapped_column(default=False)
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    etag: Mapped[str] = mapped_column(sa.String(64), default="")
    last_modified: Mapped[dt.datetime]

    @property
    def object_key(self) -> str:
        return self.key.decode("utf-8", "surrogatepass")


class NoSuchVersion(NotFound):
    def __init__(self, key: str, version_id: str) -> None:
        super().__init__(VERSION, version_id, "The specified version does not exist.")
        self.key = key
        self.version_id = version_id


class DeleteMarkerFound(NotFound):
    """The key's current version, or the version asked for, is a delete marker: S3 answers
    404 (current) or 405 (asked by version id), both naming the marker in headers."""

    def __init__(self, key: str, marker: ObjectVersion, *, by_version_id: bool) -> None:
        super().__init__(OBJECT, key, f"The specified key {key} does not exist")
        self.version_id = marker.version_id
        self.last_modified = marker.last_modified
        self.by_version_id = by_version_id


@dataclass(frozen=True, slots=True)
class Located:
    """Where a version's bytes are, and the version id to show (None: unversioned)."""

    bucket: BucketHandle  # the container to read from (the bucket or its versions container)
    key: str  # the key to read there
    object_key: str
    version_id: str | None
    bucket_id: int


@dataclass(frozen=True, slots=True)
class Deleted:
    version_id: str | None
    delete_marker: bool


def encode_key(key: str) -> bytes:
    return key.encode("utf-8", "surrogatepass")


def versions_of(bucket: BucketHandle) -> BucketHandle:
    """The handle of the companion container that holds a bucket's non-null versions."""
    return dataclasses.replace(bucket, name=bucket.name + VERSIONS_SUFFIX)


# --- configuration ------------------------------------------------------------------------


def get_status(session: Session, ctx: CallContext, name: str) -> str | None:
    """GetBucketVersioning: Enabled, Suspended, or None for a never-configured bucket."""
    bucket = core_buckets.get_bucket_for(session, ctx, name, action=core_buckets.READ)
    row = session.get(BucketVersioning, bucket.id)
    return row.status if row is not None else None


def set_status(
    session: Session, ctx: CallContext, name: str, status: str, *, store: objectstore.ObjectStore
) -> None:
    """PutBucketVersioning. The first time, the bucket's objects become its null versions."""
    if status not in (ENABLED, SUSPENDED):
        raise InvalidParameter(f"Unknown versioning status {status!r}", parameter="Status")
    bucket = core_buckets.get_bucket_for(session, ctx, name, action=WRITE)
    # The lock `locked_status` takes, so that what DeleteObjects decides from it holds.
    bucket_row = sa.select(core_buckets.Bucket.id).where(core_buckets.Bucket.id == bucket.id)
    session.execute(bucket_row.with_for_update())
    row = session.get(BucketVersioning, bucket.id, with_for_update=True)
    if row is not None:
        row.status = status
        session.flush()
        return
    session.add(BucketVersioning(bucket_id=bucket.id, status=status))
    handle = core_buckets.handle_for(session, ctx, name, action=WRITE)
    _adopt_objects(session, store, handle, bucket.id)
    session.flush()


def _adopt_objects(
    session: Session, store: objectstore.ObjectStore, bucket: BucketHandle, bucket_id: int
) -> None:
    """Record the objects already in the bucket as their keys' null versions."""
    marker = None
    while True:
        page = core_buckets.list_objects(
            store, bucket, prefix="", delimiter=None, marker=marker, limit=_ADOPT_PAGE
        )
        for item in page.objects:
            session.add(_row(bucket_id, item.key, NULL, item.etag, item.size, item.last_modified))
        if not page.is_truncated or not page.objects:
            return
        marker = page.objects[-1].key


def versioned_bucket_id(session: Session, bucket: BucketHandle) -> int | None:
    """The bucket's id if its versioning was ever configured (its keys are rows here)."""
    query = (
        sa.select(core_buckets.Bucket.id)
        .join(BucketVersioning, BucketVersioning.bucket_id == core_buckets.Bucket.id)
        .where(core_buckets.Bucket.name == bucket.name)
    )
    return session.scalar(query)


def bucket_id_of(session: Session, bucket: BucketHandle) -> int:
    query = sa.select(core_buckets.Bucket.id).where(core_buckets.Bucket.name == bucket.name)
    bucket_id = session.scalar(query)
    if bucket_id is None:
        raise NotFound(core_buckets.BUCKET, bucket.name)
    return bucket_id


def locked_status(session: Session, bucket: BucketHandle) -> tuple[int, str | None]:
    """The bucket's id and versioning status, its bucket (and versioning) row locked for the
    caller's write transaction: PutBucketVersioning takes the same lock, so the status cannot
    change before the caller commits what it decided from it."""
    return _status(session, bucket, lock=True)


def _status(
    session: Session, bucket: BucketHandle, *, lock: bool = False
) -> tuple[int, str | None]:
    query = (
        sa.select(core_buckets.Bucket.id, BucketVersioning.status)
        .outerjoin(BucketVersioning, BucketVersioning.bucket_id == core_buckets.Bucket.id)
        .where(core_buckets.Bucket.name == bucket.name)
    )
    if lock:
        query = query.with_for_update()
    found = session.execute(query).one_or_none()
    if found is None:
        raise NotFound(core_buckets.BUCKET, bucket.name)
    return found[0], found[1]


# --- writes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteTarget:
    """Where a new object's bytes go; `version_id` None means an unversioned bucket."""

    bucket: BucketHandle  # the container to write into
    key: str  # the key to write there
    object_key: str
    version_id: str | None
    bucket_id: int
    # A conditional PUT's If-None-Match: * / If-Match: <etag>, on the key's current version.
    only_if_absent: bool = False
    only_if_etag: str | None = None

    @property
    def store_conditions(self) -> tuple[bool, str | None]:
        """The conditions for the store to check as it commits (only_if_absent,
        only_if_etag): in an unversioned bucket the key's object is the current one; in a
        versioned one the rows say what is current, so they are checked here instead."""
        if self.version_id is None:
            return self.only_if_absent, self.only_if_etag
        return False, None


def prepare_write(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    key: str,
    *,
    only_if_absent: bool = False,
    only_if_etag: str | None = None,
) -> WriteTarget:
    """Where an upload of `key` must be streamed: the plain key, or a new version's place.
    In a versioned bucket a conditional PUT is checked now (nothing is streamed in vain)
    and again as the version is recorded."""
    size = len(encode_key(key))
    if size > objectstore.MAX_KEY_BYTES:
        raise KeyTooLong(size)
    conditions = {"only_if_absent": only_if_absent, "only_if_etag": only_if_etag}
    with db.read() as session:
        bucket_id, status = _status(session, bucket)
        if status is None:
            return WriteTarget(bucket, key, key, None, bucket_id, **conditions)
        _check_conditions(session, bucket_id, key, only_if_absent, only_if_etag)
    if status == SUSPENDED:
        return WriteTarget(bucket, key, key, NULL, bucket_id, **conditions)
    versions = versions_of(bucket)
    with _store_errors(bucket.name):
        store.create_container(versions.namespace, versions.name)  # idempotent
    version_id = uuid.uuid4().hex
    return WriteTarget(versions, version_id, key, version_id, bucket_id, **conditions)


def _check_conditions(
    session: Session, bucket_id: int, key: str, only_if_absent: bool, only_if_etag: str | None
) -> None:
    current = current_version(session, bucket_id, key)
    if current is not None and current.delete_marker:
        current = None
    if only_if_absent and current is not None:
        raise PreconditionNotMet(key, "If-None-Match")
    if only_if_etag is not None and (current is None or current.etag != only_if_etag):
        raise PreconditionNotMet(key, "If-Match")


def record_write(
    db: Database,
    store: objectstore.ObjectStore,
    target: WriteTarget,
    info: ObjectInfo,
    *,
    after: Callable[[Session, str], None] | None = None,
) -> str | None:
    """Make the written object its key's current version; `after(session, version_id)` runs
    in the same transaction (tags). Returns the version id to show (None: unversioned)."""
    version_id = _version_id_of(target)
    try:
        with db.write() as session:
            if target.version_id is not None:
                _lock(session, target.bucket_id)
                if version_id != NULL:  # a null write replaced the null version already
                    _check_conditions(
                        session,
                        target.bucket_id,
                        target.object_key,
                        target.only_if_absent,
                        target.only_if_etag,
                    )
                if version_id == NULL:
                    _drop_null(session, target.bucket_id, target.object_key)
                session.add(
                    _row(
                        target.bucket_id,
                        target.object_key,
                        version_id,
                        info.etag,
                        info.size,
                        info.last_modified,
                    )
                )
                session.flush()
            if after is not None:
                after(session, version_id)
    except BaseException:
        if target.version_id not in (None, NULL):
            _forget_bytes(store, target.bucket, target.key)
        raise
    return None if target.version_id is None else version_id


def _version_id_of(target: WriteTarget) -> str:
    return NULL if target.version_id is None else target.version_id


def _lock(session: Session, bucket_id: int) -> None:
    """Writers of one versioned bucket take turns (a key's newest row must stay newest)."""
    session.get(BucketVersioning, bucket_id, with_for_update=True)


def _drop_null(session: Session, bucket_id: int, key: str) -> None:
    session.execute(
        sa.delete(ObjectVersion).where(
            ObjectVersion.bucket_id == bucket_id,
            ObjectVersion.key == encode_key(key),
            ObjectVersion.version_id == NULL,
        )
    )


def _row(
    bucket_id: int, key: str, version_id: str, etag: str, size: int, modified: dt.datetime
) -> ObjectVersion:
    return ObjectVersion(
        bucket_id=bucket_id,
        key=encode_key(key),
        version_id=version_id,
        delete_marker=False,
        size=size,
        etag=etag,
        last_modified=modified,
    )


# --- reads --------------------------------------------------------------------------------


def locate(db: Database, bucket: BucketHandle, key: str, version_id: str | None) -> Located:
    """What GET/HEAD of `key` (or of one of its versions) reads. NoSuchVersion for an
    unknown version id; DeleteMarkerFound when the answer is a delete marker."""
    with db.read() as session:
        bucket_id, status = _status(session, bucket)
        if status is None:
            if version_id not in (None, NULL):
                raise InvalidParameter("Invalid version id specified", parameter="versionId")
            return Located(bucket, key, key, None if version_id is None else NULL, bucket_id)
        if version_id in (None, NULL) and current_version(session, bucket_id, key) is None:
            # No rows: only an object a write path did not record can be there, at the
            # plain key, as a null version (the store answers NoSuchKey otherwise).
            return Located(bucket, key, key, NULL, bucket_id)
        row = _find(session, bucket_id, key, version_id)
    if row.delete_marker:
        raise DeleteMarkerFound(key, row, by_version_id=version_id is not None)
    return _located(bucket, row, bucket_id)


def current_version(session: Session, bucket_id: int, key: str) -> ObjectVersion | None:
    query = (
        sa.select(ObjectVersion)
        .where(ObjectVersion.bucket_id == bucket_id, ObjectVersion.key == encode_key(key))
        .order_by(ObjectVersion.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def is_current(
    session: Session, bucket_id: int, key: str, version_id: str | None, *, unversioned: bool
) -> bool:
    """Whether `version_id` (None: the key itself) names the key's current object.

    A key without version rows (written before versioning was enabled) keeps its one object
    at the plain key, and what a version id means for it is the caller's: `unversioned` is
    the answer then. An ACL there is its current object's (True), while deleting some
    version id of it hides nothing (False)."""
    if version_id is None:
        return True
    current = current_version(session, bucket_id, key)
    if current is None:
        return unversioned
    return current.version_id == version_id


def _find(session: Session, bucket_id: int, key: str, version_id: str | None) -> ObjectVersion:
    if version_id is None:
        row = current_version(session, bucket_id, key)
        if row is None:
            raise NotFound(OBJECT, key, f"The specified key {key} does not exist")
        return row
    row = session.scalar(
        sa.select(ObjectVersion).where(
            ObjectVersion.bucket_id == bucket_id,
            ObjectVersion.key == encode_key(key),
            ObjectVersion.version_id == version_id,
        )
    )
    if row is None:
        raise NoSuchVersion(key, version_id)
    return row


def _located(bucket: BucketHandle, row: ObjectVersion, bucket_id: int) -> Located:
    key = row.object_key
    if row.version_id == NULL:
        return Located(bucket, key, key, NULL, bucket_id)
    return Located(versions_of(bucket), row.version_id, key, row.version_id, bucket_id)


# --- deletes ------------------------------------------------------------------------------


def record_delete(
    session: Session,
    bucket: BucketHandle,
    bucket_id: int,
    status: str,
    key: str,
    version_id: str | None,
    forget: Callable[[Session, int, str, str], None] | None = None,
) -> tuple[Deleted, Located | None]:
    """The rows of one delete in a versioned bucket whose status the caller read and locked
    (`locked_status`): a delete marker, or the version removed. Returns where the removed
    version's bytes are (None: no bytes go), for the caller to delete once it may."""
    if version_id is not None:
        return _remove_version(session, bucket, bucket_id, key, version_id, forget)
    marker_id = uuid.uuid4().hex if status == ENABLED else NULL
    doomed = None
    if marker_id == NULL:  # suspended: the null version makes way for a null marker
        _, doomed = _remove_version(session, bucket, bucket_id, key, NULL, forget, missing_ok=True)
    session.add(
        ObjectVersion(
            bucket_id=bucket_id,
            key=encode_key(key),
            version_id=marker_id,
            delete_marker=True,
            last_modified=dt.datetime.now(dt.UTC).replace(microsecond=0),
        )
    )
    session.flush()
    return Deleted(marker_id, True), doomed


def _remove_version(
    session: Session,
    bucket: BucketHandle,
    bucket_id: int,
    key: str,
    version_id: str,
    forget: Callable[[Session, int, str, str], None] | None,
    *,
    missing_ok: bool = False,
) -> tuple[Deleted, Located | None]:
    try:
        row = _find(session, bucket_id, key, version_id)
    except NoSuchVersion:
        if missing_ok:
            return Deleted(version_id, False), None
        raise
    marker = row.delete_marker
    session.delete(row)
    session.flush()
    if forget is not None:
        forget(session, bucket_id, key, version_id)
    return Deleted(version_id, marker), None if marker else _located(bucket, row, bucket_id)


def _forget_bytes(store: objectstore.ObjectStore, bucket: BucketHandle, key: str) -> None:
    with contextlib.suppress(Exception):  # best effort: the caller must see the first failure
        core_buckets.delete_object(store, bucket, key)


# --- the bucket's end ---------------------------------------------------------------------


def bucket_deleting(
    session: Session, bucket: core_buckets.Bucket, namespace: str, store: objectstore.ObjectStore
) -> None:
    """A bucket with versions or delete markers is not empty; once it is, its versions
    container goes with it (its rows go by cascade)."""
    if session.get(BucketVersioning, bucket.id) is None:
        return
    left = session.scalar(
        sa.select(ObjectVersion.id).where(ObjectVersion.bucket_id == bucket.id).limit(1)
    )
    if left is not None:
        raise ResourceInUse(f"The bucket {bucket.name} is not empty")
    try:
        with _store_errors(bucket.name):
            store.delete_container(namespace, bucket.name + VERSIONS_SUFFIX)
    except NotFound:
        pass


def _store_errors(bucket: str) -> AbstractContextManager[None]:
    return core_buckets.driver_errors(bucket)


core_buckets.BUCKET_DELETING_HOOKS.append(bucket_deleting)
