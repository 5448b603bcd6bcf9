"""Deleting many objects at once (DeleteObjects, the lifecycle run), with what goes along
with a deleted object besides its bytes: its tags and its ACL.

`delete_object` (DeleteObject) deletes one key in one write transaction, its store round
trip included, deciding from the same locked read of the versioning state. A thousand keys
cannot go that way: a write transaction held across a thousand Swift round
trips serialises every writer of the database. So `delete_objects` decides once for the
whole call, from one locked read of the bucket's versioning state
(`object_versions.locked_status`, the lock PutBucketVersioning takes too):

- versioned: that same write transaction records every delete marker and removes every
  version row asked for (`object_versions.record_delete`, DeleteObject's own row work), the
  removed versions' tags and the hidden objects' ACLs with them. The removed versions' bytes
  go after the commit, concurrently: nothing can reach them any more, so a failed store
  delete only leaves garbage behind (logged).
- unversioned: the store is the truth, so the bytes go first, concurrently and outside any
  transaction, then tags and ACLs in one write transaction, so that a failure loses
  nothing. That transaction takes the lock and reads the status again: if
  PutBucketVersioning came in between, its adoption may have recorded as null versions
  objects whose bytes this call then removed. Those rows point at nothing; they are dropped,
  as if the deletes had come first (which they did, in the store).

A deleted object's ACL goes with it when the object stops being its key's current one (a
plain delete, a delete marker, or its own version deleted); deleting an older version
leaves the current object's ACL alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

import drivers.objectstore.base as objectstore
from core import bucket_acl, object_tags, object_versions
from core import buckets as core_buckets
from core.buckets import BucketHandle
from core.db import Database
from core.errors import CloudgateError, InvalidParameter, NotFound
from core.object_versions import NULL, Deleted, ObjectVersion

log = logging.getLogger(__name__)

PARALLEL_STORE_DELETES = 24  # store round trips in flight at once, no transaction held


@dataclass(frozen=True, slots=True)
class DeleteRequest:
    """One key to delete, or one of its versions (`version_id`)."""

    key: str
    version_id: str | None = None


Outcome = Deleted | CloudgateError


def delete_objects(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    requests: Sequence[DeleteRequest],
    *,
    workers: int = PARALLEL_STORE_DELETES,
) -> list[Outcome]:
    """Delete every request, each as DeleteObject would; one outcome per request, in order:
    what was deleted, or why that one was not (the others go on). The caller checked that
    the requester may delete these keys."""
    if not requests:
        return []
    outcomes: list[Outcome] = []
    doomed: list[object_versions.Located] = []
    with db.write() as session:
        bucket_id, status = object_versions.locked_status(session, bucket)
        if status is not None:
            outcomes, doomed = _record_versioned(session, bucket, bucket_id, status, requests)
    if status is None:
        return _delete_unversioned(db, store, bucket, bucket_id, requests, workers)
    places = [(place.bucket, place.key) for place in doomed]
    for (container, key), error in zip(places, delete_stored(store, places, workers), strict=True):
        if error is not None:  # unreachable already: garbage, not a failed delete
            log.warning("deleted version's bytes %s/%s left: %s", container.name, key, error)
    return outcomes


def delete_object(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    key: str,
    version_id: str | None,
) -> Deleted:
    """DeleteObject. Without a version id a versioned bucket gets a delete marker (a `null`
    one while suspended, replacing the null version); with one, that version is removed for
    good and the one before it becomes current. Tags and ACL go as `delete_objects` lets
    them go. The caller checked that the requester may delete `key`."""
    with db.write() as session:
        bucket_id, status = object_versions.locked_status(session, bucket)
        if status is None:
            if version_id not in (None, NULL):
                raise InvalidParameter("Invalid version id specified", parameter="versionId")
            # Under the lock: a first PutBucketVersioning waits, and so cannot adopt as a
            # null version the object whose bytes go now.
            core_buckets.delete_object(store, bucket, key)
            forget_object(session, bucket_id, key, NULL)
            return Deleted(None if version_id is None else NULL, False)
        deleted, doomed = _record_one(session, bucket, bucket_id, status, key, version_id)
        if doomed is not None:
            # The row goes with this transaction: a failure here keeps the version.
            core_buckets.delete_object(store, doomed.bucket, doomed.key)
        return deleted


def delete_stored(
    store: objectstore.ObjectStore,
    places: Sequence[tuple[BucketHandle, str]],
    workers: int = PARALLEL_STORE_DELETES,
) -> list[CloudgateError | None]:
    """Delete these (container, key) objects from the store, `workers` at a time, outside
    any transaction; for each, None or why it failed (a missing object is no failure)."""

    def one(place: tuple[BucketHandle, str]) -> CloudgateError | None:
        try:
            core_buckets.delete_object(store, *place)
        except CloudgateError as error:
            return error
        return None

    if not places:
        return []
    with ThreadPoolExecutor(min(max(1, workers), len(places)), "object-deletes") as pool:
        return list(pool.map(one, places))


def forget_object(session: Session, bucket_id: int, key: str, version_id: str) -> None:
    """A deleted object's tags and ACL go with it (an unversioned bucket's delete)."""
    object_tags.forget(session, bucket_id, key, version_id)
    bucket_acl.object_deleted(session, session.get_one(core_buckets.Bucket, bucket_id), key)


# --- versioned buckets -----------------------------------------------------------------------


def _record_versioned(
    session: Session,
    bucket: BucketHandle,
    bucket_id: int,
    status: str,
    requests: Sequence[DeleteRequest],
) -> tuple[list[Outcome], list[object_versions.Located]]:
    """Every request's rows, in the caller's transaction; and the bytes to delete after it."""
    outcomes: list[Outcome] = []
    doomed: list[object_versions.Located] = []
    for request in requests:
        try:
            deleted, place = _record_one(
                session, bucket, bucket_id, status, request.key, request.version_id
            )
        except CloudgateError as error:  # raised before this request wrote anything
            outcomes.append(error)
            continue
        if place is not None:
            doomed.append(place)
        outcomes.append(deleted)
    return outcomes, doomed


def _record_one(
    session: Session,
    bucket: BucketHandle,
    bucket_id: int,
    status: str,
    key: str,
    version_id: str | None,
) -> tuple[Deleted, object_versions.Located | None]:
    """One delete's rows (`object_versions.record_delete`), the removed versions' tags, and
    the key's ACL if the delete hides its current object (an older version's delete leaves
    it alone: ACLs are kept per key)."""
    hides_current = object_versions.is_current(
        session, bucket_id, key, version_id, unversioned=False
    )
    deleted, place = object_versions.record_delete(
        session, bucket, bucket_id, status, key, version_id, object_tags.forget
    )
    if hides_current:
        bucket_acl.object_deleted(session, session.get_one(core_buckets.Bucket, bucket_id), key)
    return deleted, place


# --- unversioned buckets ---------------------------------------------------------------------


def _delete_unversioned(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    bucket_id: int,
    requests: Sequence[DeleteRequest],
    workers: int,
) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(requests)
    plain: list[int] = []  # the requests that name the object itself ("null" is its version)
    for index, request in enumerate(requests):
        if request.version_id in (None, NULL):
            plain.append(index)
        else:
            outcomes[index] = InvalidParameter(
                "Invalid version id specified", parameter="versionId"
            )
    places = [(bucket, requests[index].key) for index in plain]
    gone: list[str] = []
    for index, error in zip(plain, delete_stored(store, places, workers), strict=True):
        outcomes[index] = error or Deleted(requests[index].version_id, False)
        if error is None:
            gone.append(requests[index].key)
    with db.write() as session:
        _, status = object_versions.locked_status(session, bucket)
        if status is not None:  # versioning was switched on since this call decided
            _drop_vanished_nulls(session, store, bucket, bucket_id, gone)
        for key in dict.fromkeys(gone):
            forget_object(session, bucket_id, key, NULL)
    return [outcome for outcome in outcomes if outcome is not None]


def _drop_vanished_nulls(
    session: Session,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    bucket_id: int,
    keys: list[str],
) -> None:
    """The null versions of `keys` whose bytes are gone from the store: adopted by the first
    PutBucketVersioning while this call's store deletes were under way. A null version
    whose bytes are there (written since) stays."""
    if not keys:
        return
    rows = session.scalars(
        sa.select(ObjectVersion).where(
            ObjectVersion.bucket_id == bucket_id,
            ObjectVersion.version_id == NULL,
            ObjectVersion.delete_marker.is_(False),
            ObjectVersion.key.in_([object_versions.encode_key(key) for key in set(keys)]),
        )
    ).all()
    for row in rows:
        try:
            core_buckets.head_object(store, bucket, row.object_key)
        except NotFound:
            session.delete(row)
    session.flush()
