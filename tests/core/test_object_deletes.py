"""Deleting many objects at once (`core.object_deletes`, DeleteObjects' and the lifecycle's
path), on SQLite and MariaDB with the local object store: versioned and unversioned
buckets, what goes with a deleted object (tags, ACL), and PutBucketVersioning arriving while
the store deletes of an unversioned call are under way, forced deterministically."""

from __future__ import annotations

import threading
from typing import Any, cast

import sqlalchemy as sa

from core import bucket_acl, buckets, object_deletes, object_tags, object_versions
from core import object_version_listing as listing
from core.bucket_acl import ALL_USERS, Grant, ObjectAcl
from core.buckets import BucketHandle
from core.context import CallContext
from core.errors import InvalidParameter, NotFound
from core.object_deletes import DeleteRequest
from core.object_tags import ObjectTagging
from core.object_versions import NULL, Deleted, NoSuchVersion, ObjectVersion
from drivers.objectstore.base import ObjectStore
from tests.core.conftest import CoreHarness
from tests.core.test_object_versions import make_bucket, put, read


def bucket_id(core: CoreHarness) -> int:
    with core.db.read() as session:
        return session.scalar(sa.select(buckets.Bucket.id).where(buckets.Bucket.name == "versions"))


def tag(core: CoreHarness, key: str, version_id: str) -> None:
    with core.db.write() as session:
        object_tags.replace_tags(session, bucket_id(core), key, version_id, "etag", [("t", "v")])


def make_public(core: CoreHarness, ctx: CallContext, key: str) -> None:
    with core.db.write() as session:
        row = session.get_one(buckets.Bucket, bucket_id(core))
        bucket_acl.object_written(session, ctx, row, key, grants=[Grant("READ", group=ALL_USERS)])


def tagged(core: CoreHarness) -> set[tuple[str, str]]:
    with core.db.read() as session:
        rows = session.execute(sa.select(ObjectTagging.key, ObjectTagging.version_id)).all()
    return {(key.decode(), version_id) for key, version_id in rows}


def with_acl(core: CoreHarness) -> set[str]:
    with core.db.read() as session:
        return set(session.scalars(sa.select(ObjectAcl.key)))


def stored(store: ObjectStore, container: BucketHandle, key: str) -> bool:
    try:
        buckets.head_object(store, container, key)
    except NotFound:
        return False
    return True


def current_keys(core: CoreHarness, store: ObjectStore, bucket: BucketHandle) -> list[str]:
    page = listing.list_current(
        core.db, store, bucket, prefix="", delimiter=None, marker=None, limit=1000
    )
    return [item.key for item in page.objects]


def test_versioned_deletes_in_one_transaction(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, object_versions.ENABLED)
    old = put(core, store, bucket, "a", b"a1")
    put(core, store, bucket, "a", b"a2")
    only_b = put(core, store, bucket, "b", b"b")
    old_c = put(core, store, bucket, "c", b"c1")
    put(core, store, bucket, "c", b"c2")
    assert old and only_b and old_c
    tag(core, "a", old)
    for key in ("a", "b", "c"):
        make_public(core, alice, key)
    outcomes = object_deletes.delete_objects(
        core.db,
        store,
        bucket,
        [
            DeleteRequest("a"),  # a delete marker hides a2
            DeleteRequest("a", old),  # an older version, removed for good
            DeleteRequest("b", only_b),  # b's current version: the key is gone
            DeleteRequest("c", old_c),  # an older version: c's current object keeps its ACL
            DeleteRequest("b", "f" * 32),
        ],
    )
    marker, *removed, unknown = outcomes
    assert isinstance(marker, Deleted) and marker.delete_marker and marker.version_id
    assert removed == [Deleted(old, False), Deleted(only_b, False), Deleted(old_c, False)]
    assert isinstance(unknown, NoSuchVersion)
    versions = object_versions.versions_of(bucket)
    assert not any(stored(store, versions, version) for version in (old, only_b, old_c))
    assert read(core, store, bucket, "c") == b"c2"
    assert current_keys(core, store, bucket) == ["c"]
    assert tagged(core) == set()
    assert with_acl(core) == {"c"}


def test_suspended_bucket_replaces_the_null_version(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, None)
    put(core, store, bucket, "k", b"null version")
    with core.db.write() as session:
        object_versions.set_status(session, alice, "versions", "Suspended", store=store)
    tag(core, "k", NULL)
    (outcome,) = object_deletes.delete_objects(core.db, store, bucket, [DeleteRequest("k")])
    assert outcome == Deleted(NULL, True)
    assert not stored(store, bucket, "k")
    with core.db.read() as session:
        rows = session.execute(sa.select(ObjectVersion.version_id, ObjectVersion.delete_marker))
        assert rows.all() == [(NULL, True)]
    assert tagged(core) == set()


def test_unversioned_deletes(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, None)
    for key in ("a", "b", "keep"):
        put(core, store, bucket, key, key.encode())
        tag(core, key, NULL)
        make_public(core, alice, key)
    outcomes = object_deletes.delete_objects(
        core.db,
        store,
        bucket,
        [DeleteRequest("a"), DeleteRequest("b", NULL), DeleteRequest("a", "0" * 32)],
        workers=2,
    )
    assert outcomes[:2] == [Deleted(None, False), Deleted(NULL, False)]
    assert isinstance(outcomes[2], InvalidParameter)
    assert current_keys(core, store, bucket) == ["keep"]
    assert tagged(core) == {("keep", NULL)}
    assert with_acl(core) == {"keep"}


class SwitchesVersioningOn:
    """The local store, except that the first delete first has PutBucketVersioning run to
    its end, and every delete waits for that: the adoption sees every object, then the
    call's store deletes remove the bytes of what it adopted."""

    def __init__(self, core: CoreHarness, ctx: CallContext, store: ObjectStore) -> None:
        self._core, self._ctx, self._store = core, ctx, store
        self._first = threading.Lock()
        self._switched = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def delete_object(self, namespace: str, container: str, key: str) -> None:
        if self._first.acquire(blocking=False):
            with self._core.db.write() as session:
                object_versions.set_status(
                    session, self._ctx, "versions", object_versions.ENABLED, store=self._store
                )
            self._switched.set()
        assert self._switched.wait(60)
        self._store.delete_object(namespace, container, key)


def test_versioning_switched_on_while_the_store_deletes_run(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, None)
    doomed = [f"k{index}" for index in range(30)]
    for key in [*doomed, "keep"]:
        put(core, store, bucket, key, key.encode())
        make_public(core, alice, key)
    racing = cast(ObjectStore, SwitchesVersioningOn(core, alice, store))
    outcomes = object_deletes.delete_objects(
        core.db, racing, bucket, [DeleteRequest(key) for key in doomed], workers=8
    )
    assert outcomes == [Deleted(None, False)] * len(doomed)
    with core.db.read() as session:
        assert object_versions.get_status(session, alice, "versions") == "Enabled"
        rows = session.execute(sa.select(ObjectVersion.key, ObjectVersion.version_id)).all()
    # The deletes came first: no version row is left pointing at bytes they removed …
    assert [(key.decode(), version_id) for key, version_id in rows] == [("keep", NULL)]
    # … and what PutBucketVersioning adopted and nobody deleted is intact.
    assert current_keys(core, store, bucket) == ["keep"]
    assert read(core, store, bucket, "keep", NULL) == b"keep"
    assert with_acl(core) == {"keep"}
    # From now on, deletes keep the data: a delete marker over the null version.
    (marker,) = object_deletes.delete_objects(core.db, store, bucket, [DeleteRequest("keep")])
    assert isinstance(marker, Deleted) and marker.delete_marker
    assert read(core, store, bucket, "keep", NULL) == b"keep"
