"""The lifecycle run: what a bucket's lifecycle rules (`core.bucket_lifecycle`) remove, as of
a given moment.

`run_lifecycle(runtime, now=…)` takes "now" as a parameter, so a test can run it with a clock
days ahead; the periodic task runs it with the real one. Every server runs the task; each
bucket's run is claimed with a conditional UPDATE of its `next_run` (only the server that
moves it from the value it read runs it), so that two servers never act on one bucket at
once. Each bucket's run acts as the bucket's owner and goes through the same core paths as
the API: objects and versions go through `object_deletes.delete_objects` (DeleteObjects'
path, which shares DeleteObject's row work: a versioned bucket gets a delete marker, tags go
with their versions and an expired object's ACL with it), a thousand at a time, and stale
multipart uploads through the multipart family's abort.

- Unversioned buckets are read from the object store's listing; versioned ones from their
  version rows: the current version expires by `Expiration`, older ones by
  `NoncurrentVersionExpiration` (counted from when a newer version replaced them), and a
  delete marker left with no versions behind it goes by `ExpiredObjectDeleteMarker`.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from core import buckets as core_buckets
from core import multipart, object_deletes, object_tags, object_versions
from core.bucket_lifecycle import BucketLifecycle, LifecycleRule, days_after, rules_of
from core.buckets import WRITE, Bucket, BucketHandle
from core.context import CallContext, Role
from core.db import utcnow
from core.errors import CloudgateError
from core.object_deletes import DeleteRequest
from core.object_versions import NULL, ObjectVersion
from core.runtime import Runtime
from core.scheduler import periodic

log = logging.getLogger(__name__)

CHECK_SECONDS = 300
RUN_INTERVAL = dt.timedelta(hours=1)  # each bucket at most this often
PAGE = 1000
BATCH = 1000  # deletes per object_deletes.delete_objects call, as in one DeleteObjects
_T = TypeVar("_T")


@dataclass
class LifecycleRun:
    """What one run did, for logs and tests."""

    buckets: int = 0
    expired: list[tuple[str, str]] = field(default_factory=list)  # (bucket, key)
    noncurrent_expired: int = 0
    delete_markers_removed: int = 0
    aborted_uploads: int = 0


@dataclass(frozen=True)
class _Claimed:
    handle: BucketHandle
    bucket_id: int
    owner: CallContext
    rules: list[LifecycleRule]  # the enabled ones
    versioned: bool


@dataclass(frozen=True)
class _Version:
    key: str
    version_id: str
    delete_marker: bool
    size: int
    etag: str
    last_modified: dt.datetime


@periodic("bucket-lifecycle", every_seconds=CHECK_SECONDS)
def run_due_lifecycles(runtime: Runtime) -> None:
    run = run_lifecycle(runtime, now=utcnow())
    if run.expired or run.noncurrent_expired or run.aborted_uploads:
        log.info("lifecycle run: %s", run)


def run_lifecycle(runtime: Runtime, *, now: dt.datetime) -> LifecycleRun:
    """Apply every due bucket's enabled rules as of `now`; each bucket is claimed first."""
    run = LifecycleRun()
    if runtime.object_store is None:
        return run
    with runtime.db.read() as session:
        due = session.execute(
            sa.select(BucketLifecycle.id, BucketLifecycle.next_run).where(
                BucketLifecycle.next_run <= now
            )
        ).all()
    for config_id, next_run in due:
        claimed = _claim(runtime, config_id, next_run, now)
        if claimed is None:
            continue
        run.buckets += 1
        try:
            _apply(runtime, claimed, now, run)
        except CloudgateError as error:  # one bucket's trouble must not stop the others
            log.warning("lifecycle of bucket %s stopped: %s", claimed.handle.name, error)
    return run


def _claim(
    runtime: Runtime, config_id: int, next_run: dt.datetime, now: dt.datetime
) -> _Claimed | None:
    """Move the configuration's next run past `now`; None if another server did first."""
    with runtime.db.write() as session:
        moved = session.execute(
            sa.update(BucketLifecycle)
            .where(BucketLifecycle.id == config_id, BucketLifecycle.next_run == next_run)
            .values(next_run=now + RUN_INTERVAL)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return None
        bucket_id = session.get_one(BucketLifecycle, config_id).bucket_id
        bucket = session.get_one(Bucket, bucket_id)
        owner = CallContext(
            user_id=0, account_id=bucket.account_id, domain_id=bucket.domain_id, role=Role.USER
        )
        handle = core_buckets.handle_for(session, owner, bucket.name, action=WRITE)
        rules = [rule for rule in rules_of(session, bucket_id) or () if rule.enabled]
        versioned = object_versions.versioned_bucket_id(session, handle) is not None
        return _Claimed(handle, bucket_id, owner, rules, versioned)


def _apply(runtime: Runtime, bucket: _Claimed, now: dt.datetime, run: LifecycleRun) -> None:
    if bucket.versioned:
        _expire_versions(runtime, bucket, now, run)
    else:
        _expire_objects(runtime, bucket, now, run)
    for rule in bucket.rules:
        if rule.abort_incomplete_days is not None:
            cutoff = now - dt.timedelta(days=rule.abort_incomplete_days)
            run.aborted_uploads += _abort_uploads(runtime, bucket, rule.prefix, cutoff)


# --- current objects ------------------------------------------------------------------------


def _expire_objects(
    runtime: Runtime, bucket: _Claimed, now: dt.datetime, run: LifecycleRun
) -> None:
    """An unversioned bucket: its objects as the store lists them."""
    expiring = [rule for rule in bucket.rules if rule.expiration_days or rule.expiration_date]
    store = runtime.object_store
    for prefix in _covering_prefixes([rule.prefix for rule in expiring]):
        listed = (
            _Version(item.key, NULL, False, item.size, item.etag, item.last_modified)
            for item in _listing(store, bucket.handle, prefix)
        )
        expired = (
            DeleteRequest(current.key)
            for current in listed
            if _expires(runtime, bucket, current, expiring, now)
        )
        for batch in _batches(expired):
            for request, done in zip(batch, _delete(runtime, bucket, batch), strict=True):
                if done:
                    run.expired.append((bucket.handle.name, request.key))


def _expires(
    runtime: Runtime,
    bucket: _Claimed,
    version: _Version,
    rules: list[LifecycleRule],
    now: dt.datetime,
) -> bool:
    """Whether an expiring rule selects this current version and its day has come (its tags
    are read only when a rule with a tag filter otherwise selects it)."""
    tags: dict[str, str] | None = None
    for rule in rules:
        selected_but_tags = rule.selects(version.key, version.size, dict(rule.tags))
        if rule.tags and tags is None and selected_but_tags:
            tags = _tags(runtime, bucket, version)
        when = rule.expires_at(version.last_modified)
        if rule.selects(version.key, version.size, tags) and when is not None and when <= now:
            return True
    return False


def _tags(runtime: Runtime, bucket: _Claimed, version: _Version) -> dict[str, str]:
    with runtime.db.read() as session:
        found = object_tags.tags_of(
            session, bucket.bucket_id, version.key, version.version_id, version.etag
        )
    return dict(found)


def _covering_prefixes(prefixes: list[str]) -> list[str]:
    """The fewest prefixes whose listings cover all of these (a prefix covers its
    extensions), so that no object is listed twice."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not any(prefix.startswith(other) for other in kept):
            kept.append(prefix)
    return kept


def _listing(store: Any, handle: BucketHandle, prefix: str) -> Iterator[core_buckets.ObjectSummary]:
    marker = None
    while True:
        page = core_buckets.list_objects(
            store, handle, prefix=prefix, delimiter=None, marker=marker, limit=PAGE
        )
        yield from page.objects
        if not page.is_truncated or not page.next_marker:
            return
        marker = page.next_marker


def _batches(items: Iterable[_T]) -> Iterator[list[_T]]:
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _delete(runtime: Runtime, bucket: _Claimed, requests: list[DeleteRequest]) -> list[bool]:
    """Delete as DeleteObjects does: a delete marker in a versioned bucket, the version itself
    when one is named, the object otherwise; tags and ACL go with what goes. Whether each
    request was done (a failure is logged; the next run tries again)."""
    outcomes = object_deletes.delete_objects(
        runtime.db, runtime.object_store, bucket.handle, requests
    )
    for request, outcome in zip(requests, outcomes, strict=True):
        if isinstance(outcome, CloudgateError):
            log.warning("lifecycle: %s of %s not deleted: %s", request, bucket.handle.name, outcome)
    return [not isinstance(outcome, CloudgateError) for outcome in outcomes]


# --- versions -------------------------------------------------------------------------------


def _expire_versions(
    runtime: Runtime, bucket: _Claimed, now: dt.datetime, run: LifecycleRun
) -> None:
    """A versioned bucket: each key's versions, newest first."""
    for batch in _batches(_expired_versions(runtime, bucket, now)):
        requests = [request for request, _ in batch]
        for (request, why), done in zip(batch, _delete(runtime, bucket, requests), strict=True):
            if not done:
                continue
            if why is _Why.EXPIRED:
                run.expired.append((bucket.handle.name, request.key))
            elif why is _Why.NONCURRENT:
                run.noncurrent_expired += 1
            else:
                run.delete_markers_removed += 1


class _Why(enum.Enum):
    EXPIRED = "expired"  # the current version: a delete marker hides it
    NONCURRENT = "noncurrent"
    LONE_MARKER = "lone delete marker"


def _expired_versions(
    runtime: Runtime, bucket: _Claimed, now: dt.datetime
) -> Iterator[tuple[DeleteRequest, _Why]]:
    expiring = [rule for rule in bucket.rules if rule.expiration_days or rule.expiration_date]
    noncurrent = [rule for rule in bucket.rules if rule.noncurrent_days is not None]
    markers = [rule for rule in bucket.rules if rule.expired_object_delete_marker]
    for key, versions in _versions_by_key(runtime, bucket.bucket_id):
        current = versions[0]
        if not current.delete_marker and _expires(runtime, bucket, current, expiring, now):
            yield DeleteRequest(key), _Why.EXPIRED
            continue
        for newer, older in itertools.pairwise(versions):
            # A version is noncurrent from the moment a newer one replaced it.
            if any(
                rule.selects(key, older.size)
                and days_after(newer.last_modified, rule.noncurrent_days or 0) <= now
                for rule in noncurrent
            ):
                yield DeleteRequest(key, older.version_id), _Why.NONCURRENT
        lone_marker = len(versions) == 1 and current.delete_marker
        if lone_marker and any(rule.selects(key, 0) for rule in markers):
            yield DeleteRequest(key, current.version_id), _Why.LONE_MARKER


def _versions_by_key(runtime: Runtime, bucket_id: int) -> Iterator[tuple[str, list[_Version]]]:
    """The bucket's keys, each with its versions newest first (read once, before acting)."""
    columns = (
        ObjectVersion.key,
        ObjectVersion.version_id,
        ObjectVersion.delete_marker,
        ObjectVersion.size,
        ObjectVersion.etag,
        ObjectVersion.last_modified,
    )
    with runtime.db.read() as session:
        rows = session.execute(
            sa.select(*columns)
            .where(ObjectVersion.bucket_id == bucket_id)
            .order_by(ObjectVersion.key, ObjectVersion.id.desc())
        ).all()
    for raw_key, group in itertools.groupby(rows, key=lambda row: row[0]):
        key = raw_key.decode("utf-8", "surrogatepass")
        yield key, [_Version(key, *row[1:]) for row in group]


# --- multipart uploads ----------------------------------------------------------------------


def _abort_uploads(runtime: Runtime, bucket: _Claimed, prefix: str, cutoff: dt.datetime) -> int:
    """Abort the bucket's uploads under `prefix` initiated before `cutoff`, through the
    multipart family's own abort (parts and segments go with them)."""
    upload = multipart.MultipartUpload
    with runtime.db.read() as session:
        stale = session.execute(
            sa.select(upload.key, upload.uuid).where(
                upload.bucket_id == bucket.bucket_id,
                upload.state == multipart.UPLOADING,
                upload.created < cutoff,
            )
        ).all()
    aborted = 0
    for key, upload_id in stale:
        if not key.startswith(prefix):
            continue
        try:
            multipart.abort_upload(
                runtime.db, runtime.object_store, bucket.owner, bucket.handle.name, key, upload_id
            )
        except CloudgateError as error:  # completed or aborted meanwhile
            log.info("lifecycle: upload %s not aborted: %s", upload_id, error)
            continue
        aborted += 1
    return aborted
