"""Object versions and tags at the service layer, on SQLite and MariaDB, with the local
object store: byte-ordered listings of the version rows, the null version, cascades."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from core import buckets, object_deletes, object_tags, object_versions
from core import object_version_listing as listing
from core.buckets import READ, WRITE, BucketHandle
from core.context import CallContext
from core.errors import InvalidParameter, ResourceInUse
from core.object_tags import ObjectTagging
from core.object_versions import NULL, DeleteMarkerFound, NoSuchVersion, ObjectVersion
from drivers.objectstore.base import ObjectStore
from tests.core.conftest import CoreHarness


def make_bucket(core: CoreHarness, ctx: CallContext, store: ObjectStore, status: str | None):
    with core.db.write() as session:
        buckets.create_bucket(session, ctx, "versions", store=store, region="cloudgate")
    if status is not None:
        with core.db.write() as session:
            object_versions.set_status(session, ctx, "versions", status, store=store)
    with core.db.read() as session:
        return buckets.handle_for(session, ctx, "versions", action=WRITE)


def put(core: CoreHarness, store: ObjectStore, bucket: BucketHandle, key: str, data: bytes):
    target = object_versions.prepare_write(core.db, store, bucket, key)
    info = buckets.put_object(
        store,
        target.bucket,
        target.key,
        io.BytesIO(data),
        content_type=None,
        metadata={},
        content_length=len(data),
    )
    return object_versions.record_write(core.db, store, target, info)


def read(core: CoreHarness, store: ObjectStore, bucket: BucketHandle, key: str, version=None):
    located = object_versions.locate(core.db, bucket, key, version)
    _, chunks = buckets.get_object(store, located.bucket, located.key, byte_range=None)
    return b"".join(chunks)


def test_current_listing_orders_keys_by_utf8_bytes(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, object_versions.ENABLED)
    keys = ["z", "é", "a/b", "a/c", "\U0001f600", "ÿ", "Z"]
    for key in keys:
        put(core, store, bucket, key, key.encode())
    object_deletes.delete_object(core.db, store, bucket, "z", None)
    page = listing.list_current(
        core.db, store, bucket, prefix="", delimiter="/", marker=None, limit=1000
    )
    expected = sorted((k for k in keys if k != "z" and "/" not in k), key=str.encode)
    assert [item.key for item in page.objects] == expected
    assert page.common_prefixes == ["a/"]
    first = listing.list_current(
        core.db, store, bucket, prefix="", delimiter=None, marker=None, limit=2
    )
    assert [item.key for item in first.objects] == ["Z", "a/b"] and first.is_truncated


def test_versions_paging_and_null_version(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, None)
    assert put(core, store, bucket, "k", b"null") is None
    with core.db.write() as session:
        object_versions.set_status(session, alice, "versions", object_versions.ENABLED, store=store)
    newer = [put(core, store, bucket, "k", f"v{n}".encode()) for n in range(3)]
    assert read(core, store, bucket, "k") == b"v2"
    assert read(core, store, bucket, "k", NULL) == b"null"
    order = [newer[2], newer[1], newer[0], NULL]
    seen: list[str] = []
    key_marker = version_marker = None
    while True:
        page = listing.list_versions(
            core.db, store, bucket, prefix="", delimiter=None,
            key_marker=key_marker, version_id_marker=version_marker, limit=3,
        )  # fmt: skip
        seen += [entry.version_id for entry in page.versions]
        if not page.is_truncated:
            break
        key_marker, version_marker = page.next_key_marker, page.next_version_id_marker
    assert seen == order
    with pytest.raises(NoSuchVersion):
        object_versions.locate(core.db, bucket, "k", "f" * 32)


def test_delete_markers_and_the_end_of_a_bucket(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, object_versions.ENABLED)
    version = put(core, store, bucket, "k", b"data")
    assert version is not None
    with core.db.write() as session:
        object_tags.replace_tags(session, _bucket_id(core), "k", version, "x", [("a", "b")])
    marker = object_deletes.delete_object(core.db, store, bucket, "k", None)
    assert marker.delete_marker
    with pytest.raises(DeleteMarkerFound) as found:
        object_versions.locate(core.db, bucket, "k", None)
    assert found.value.version_id == marker.version_id and not found.value.by_version_id
    with core.db.write() as session, pytest.raises(ResourceInUse):
        buckets.delete_bucket(session, alice, "versions", store=store)
    object_deletes.delete_object(core.db, store, bucket, "k", version)
    object_deletes.delete_object(core.db, store, bucket, "k", marker.version_id)
    with core.db.write() as session:
        buckets.delete_bucket(session, alice, "versions", store=store)
    with core.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ObjectVersion)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(ObjectTagging)) == 0
    assert not store.container_exists(bucket.namespace, "versions+versions")


def test_unversioned_buckets_refuse_other_version_ids(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, None)
    put(core, store, bucket, "k", b"x")
    assert read(core, store, bucket, "k", NULL) == b"x"
    with pytest.raises(InvalidParameter):
        object_versions.locate(core.db, bucket, "k", "0" * 32)
    with core.db.read() as session:
        assert object_versions.get_status(session, alice, "versions") is None
        buckets.handle_for(session, alice, "versions", action=READ)


def _bucket_id(core: CoreHarness) -> int:
    with core.db.read() as session:
        return session.scalar(sa.select(buckets.Bucket.id).where(buckets.Bucket.name == "versions"))
