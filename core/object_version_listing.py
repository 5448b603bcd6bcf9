"""Listings of a bucket whose versioning was ever configured, read from its version rows.

`list_current` is ListObjects (the current version of every key that has one that is not a
delete marker), `list_versions` ListObjectVersions (every version and delete marker, newest
first within a key). A never-versioned bucket is listed by the store, as before; its objects
appear in ListObjectVersions as their `null` versions.

Keys are compared as UTF-8 bytes (the `key` column is binary), the order S3 lists in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

import drivers.objectstore.base as objectstore
from core import buckets as core_buckets
from core.buckets import BucketHandle, ObjectListing, ObjectSummary
from core.db import Database
from core.object_versions import NULL, ObjectVersion, encode_key, versioned_bucket_id

_BATCH = 200


@dataclass(frozen=True, slots=True)
class VersionEntry:
    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int
    etag: str
    last_modified: object


@dataclass(frozen=True, slots=True)
class VersionListing:
    versions: list[VersionEntry]  # versions and delete markers, in listing order
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None


def list_current(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    *,
    prefix: str,
    delimiter: str | None,
    marker: str | None,
    limit: int,
) -> ObjectListing:
    """ListObjects: from the store for a never-versioned bucket, else from the rows."""
    with db.read() as session:
        bucket_id = versioned_bucket_id(session, bucket)
        if bucket_id is not None:
            return objectstore.fold_listing(
                lambda after: _current_after(session, bucket_id, prefix, after),
                prefix=prefix,
                delimiter=delimiter or None,
                marker=marker or None,
                limit=limit,
            )
    return core_buckets.list_objects(
        store, bucket, prefix=prefix, delimiter=delimiter, marker=marker, limit=limit
    )


def _current_after(
    session: Session, bucket_id: int, prefix: str, after: str
) -> Iterator[ObjectSummary]:
    """The current versions (not delete markers) of the keys after `after`, by key."""
    start = encode_key(after)
    while True:
        newest = (
            sa.select(sa.func.max(ObjectVersion.id))
            .where(ObjectVersion.bucket_id == bucket_id, ObjectVersion.key > start)
            .where(*_prefix_conditions(prefix))
            .group_by(ObjectVersion.key)
            .order_by(ObjectVersion.key)
            .limit(_BATCH)
        )
        ids = list(session.scalars(newest))
        if not ids:
            return
        rows = session.scalars(
            sa.select(ObjectVersion).where(ObjectVersion.id.in_(ids)).order_by(ObjectVersion.key)
        ).all()
        for row in rows:
            if not row.delete_marker:
                yield ObjectSummary(row.object_key, row.size, row.etag, row.last_modified)
        start = rows[-1].key


def list_versions(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    *,
    prefix: str,
    delimiter: str | None,
    key_marker: str | None,
    version_id_marker: str | None,
    limit: int,
) -> VersionListing:
    """ListObjectVersions: versions and delete markers by key, newest first within a key,
    after (`key_marker`, `version_id_marker`), keys rolled up at `delimiter`."""
    with db.read() as session:
        bucket_id = versioned_bucket_id(session, bucket)
        if bucket_id is not None:
            return _versions_from_rows(
                session, bucket_id, prefix, delimiter or None, key_marker, version_id_marker, limit
            )
    page = core_buckets.list_objects(
        store, bucket, prefix=prefix, delimiter=delimiter, marker=key_marker, limit=limit
    )
    entries = [
        VersionEntry(item.key, NULL, True, False, item.size, item.etag, item.last_modified)
        for item in page.objects
    ]
    return VersionListing(entries, page.common_prefixes, page.is_truncated, page.next_marker, None)


def _versions_from_rows(
    session: Session,
    bucket_id: int,
    prefix: str,
    delimiter: str | None,
    key_marker: str | None,
    version_id_marker: str | None,
    limit: int,
) -> VersionListing:
    entries: list[ObjectVersion | str] = []
    for entry in _scan(session, bucket_id, prefix, delimiter, key_marker, version_id_marker):
        entries.append(entry)
        if len(entries) > limit:
            break
    truncated = len(entries) > limit
    page = entries[:limit]
    latest = _latest_ids(session, bucket_id, [e.key for e in page if not isinstance(e, str)])
    versions = [_entry(row, row.id in latest) for row in page if not isinstance(row, str)]
    next_key = next_version = None
    if truncated and page:
        last = page[-1]
        if isinstance(last, str):
            next_key = last
        else:
            next_key, next_version = last.object_key, last.version_id
    prefixes = [entry for entry in page if isinstance(entry, str)]
    return VersionListing(versions, prefixes, truncated, next_key, next_version)


def _scan(
    session: Session,
    bucket_id: int,
    prefix: str,
    delimiter: str | None,
    key_marker: str | None,
    version_id_marker: str | None,
) -> Iterator[ObjectVersion | str]:
    """Rows by (key, newest first) after the markers, each common prefix once instead of
    its keys."""
    position = _start(session, bucket_id, key_marker, version_id_marker)
    while True:
        rows = session.scalars(
            sa.select(ObjectVersion)
            .where(ObjectVersion.bucket_id == bucket_id, *_prefix_conditions(prefix))
            .where(_after(position))
            .order_by(ObjectVersion.key, ObjectVersion.id.desc())
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            key = row.object_key
            end = key.find(delimiter, len(prefix)) if delimiter else -1
            if end < 0:
                yield row
                position = (row.key, row.id)
                continue
            rolled_up = key[: end + len(delimiter or "")]
            if rolled_up != key_marker:
                yield rolled_up
            position = (_past(encode_key(rolled_up)), None)
            break  # read on after the whole common prefix


def _start(
    session: Session, bucket_id: int, key_marker: str | None, version_id_marker: str | None
) -> tuple[bytes, int | None]:
    """(key, row id) to list after: the row of version_id_marker, or past the whole key."""
    if not key_marker:
        return (b"", None)
    key = encode_key(key_marker)
    if version_id_marker:
        row_id = session.scalar(
            sa.select(ObjectVersion.id).where(
                ObjectVersion.bucket_id == bucket_id,
                ObjectVersion.key == key,
                ObjectVersion.version_id == version_id_marker,
            )
        )
        if row_id is not None:
            return (key, row_id)
    return (key + b"\x00", None)  # keys hold no NUL: this is past every version of `key`


def _after(position: tuple[bytes, int | None]) -> sa.ColumnElement[bool]:
    key, row_id = position
    if row_id is None:
        return ObjectVersion.key >= key
    return sa.or_(
        ObjectVersion.key > key, sa.and_(ObjectVersion.key == key, ObjectVersion.id < row_id)
    )


def _past(prefix: bytes) -> bytes:
    """The smallest byte string after every string that starts with `prefix`."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return b"\xff" * (objectstore.MAX_KEY_BYTES + 1)
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _prefix_conditions(prefix: str) -> list[sa.ColumnElement[bool]]:
    if not prefix:
        return []
    start = encode_key(prefix)
    return [ObjectVersion.key >= start, ObjectVersion.key < _past(start)]


def _latest_ids(session: Session, bucket_id: int, keys: list[bytes]) -> set[int]:
    if not keys:
        return set()
    query = (
        sa.select(sa.func.max(ObjectVersion.id))
        .where(ObjectVersion.bucket_id == bucket_id, ObjectVersion.key.in_(set(keys)))
        .group_by(ObjectVersion.key)
    )
    return set(session.scalars(query))


def _entry(row: ObjectVersion, is_latest: bool) -> VersionEntry:
    return VersionEntry(
        key=row.object_key,
        version_id=row.version_id,
        is_latest=is_latest,
        delete_marker=row.delete_marker,
        size=row.size,
        etag=row.etag,
        last_modified=row.last_modified,
    )
