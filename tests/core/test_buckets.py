"""Bucket and object use cases at the service layer, on SQLite and MariaDB, with the local
object store (and the swift adapter aimed at nothing, for a backend that is down)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core import buckets
from core.buckets import (
    READ,
    WRITE,
    Bucket,
    BucketHandle,
    BucketNameTaken,
    KeyTooLong,
    RangeNotSatisfiable,
)
from core.context import CallContext
from core.errors import (
    CloudgateError,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    ResourceInUse,
    ResourceUnavailable,
)
from drivers.objectstore import load_object_store
from drivers.objectstore.base import ObjectStore
from tests.core.conftest import CoreHarness


@pytest.fixture
def bob(core: CoreHarness) -> CallContext:
    return core.new_tenant("bob")


def create(core: CoreHarness, ctx: CallContext, name: str, store: ObjectStore) -> None:
    with core.db.write() as session:
        buckets.create_bucket(session, ctx, name, store=store, region="cloudgate")


def handle(core: CoreHarness, ctx: CallContext, name: str, action: str = READ) -> BucketHandle:
    with core.db.read() as session:
        return buckets.handle_for(session, ctx, name, action=action)


def names(core: CoreHarness, ctx: CallContext) -> list[str]:
    with core.db.read() as session:
        return [bucket.name for bucket in buckets.list_buckets(session, ctx)]


def test_create_and_list(
    core: CoreHarness, alice: CallContext, bob: CallContext, store: ObjectStore
) -> None:
    create(core, alice, "photos", store)
    create(core, alice, "archive", store)
    assert names(core, alice) == ["archive", "photos"]
    assert names(core, bob) == []
    assert store.container_exists(alice.account_uuid, "photos")
    with core.db.read() as session:
        bucket = session.scalar(sa.select(Bucket).where(Bucket.name == "photos"))
        assert bucket is not None
        assert (bucket.account_id, bucket.domain_id) == (alice.account_id, alice.domain_id)
        assert bucket.region == "cloudgate"
        assert bucket.created is not None


def test_the_namespace_is_global(
    core: CoreHarness, alice: CallContext, bob: CallContext, store: ObjectStore
) -> None:
    create(core, alice, "shared-name", store)
    with pytest.raises(BucketNameTaken) as mine:
        create(core, alice, "shared-name", store)
    assert mine.value.owned_by_caller is True
    with pytest.raises(BucketNameTaken) as theirs:
        create(core, bob, "shared-name", store)
    assert theirs.value.owned_by_caller is False
    assert names(core, bob) == []


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("abc", True),
        ("my.bucket-1", True),
        ("a" * 63, True),
        ("ab", False),
        ("a" * 64, False),
        ("Caps", False),
        ("under_score", False),
        ("-start", False),
        ("end.", False),
        ("a..b", False),
        ("10.0.0.1", False),
        ("xn--punycode", False),
        ("sthree-bucket", False),
        ("bucket--ol-s3", False),
        ("bucket.mrap", False),
    ],
)
def test_bucket_name_rules(name: str, valid: bool) -> None:
    if valid:
        buckets.validate_bucket_name(name)
    else:
        with pytest.raises(InvalidParameter) as raised:
            buckets.validate_bucket_name(name)
        assert raised.value.parameter == "bucket"


def test_only_the_owner_or_a_root_admin_gets_in(
    core: CoreHarness, alice: CallContext, bob: CallContext, store: ObjectStore
) -> None:
    create(core, alice, "private", store)
    with core.db.read() as session:
        assert buckets.get_bucket_for(session, alice, "private", action=WRITE).name == "private"
        with pytest.raises(PermissionDenied):
            buckets.get_bucket_for(session, bob, "private", action=READ)
        admin = core.admin_context()
        assert buckets.get_bucket_for(session, admin, "private", action=WRITE).name == "private"
        with pytest.raises(NotFound) as raised:
            buckets.get_bucket_for(session, alice, "nonexistent", action=READ)
        assert raised.value.kind == buckets.BUCKET


def test_objects_live_in_the_owner_namespace_even_when_an_admin_writes(
    core: CoreHarness, alice: CallContext, store: ObjectStore
) -> None:
    create(core, alice, "owned", store)
    bucket = handle(core, core.admin_context(), "owned", WRITE)
    assert bucket.namespace == alice.account_uuid
    buckets.put_object(
        store, bucket, "k", [b"by ", b"admin"], content_type=None, metadata={}, content_length=8
    )
    assert store.head_object(alice.account_uuid, "owned", "k").size == 8


def test_delete_bucket(
    core: CoreHarness, alice: CallContext, bob: CallContext, store: ObjectStore
) -> None:
    create(core, alice, "to-delete", store)
    bucket = handle(core, alice, "to-delete", WRITE)
    buckets.put_object(store, bucket, "k", [b"x"], content_type=None, metadata={}, content_length=1)
    with core.db.write() as session, pytest.raises(PermissionDenied):
        buckets.delete_bucket(session, bob, "to-delete", store=store)
    with pytest.raises(ResourceInUse), core.db.write() as session:
        buckets.delete_bucket(session, alice, "to-delete", store=store)
    assert names(core, alice) == ["to-delete"]  # the refused delete kept the row

    buckets.delete_object(store, bucket, "k")
    with core.db.write() as session:
        buckets.delete_bucket(session, alice, "to-delete", store=store)
    assert names(core, alice) == []
    assert not store.container_exists(alice.account_uuid, "to-delete")
    create(core, bob, "to-delete", store)  # the name is free again, for anyone
    assert names(core, bob) == ["to-delete"]


def test_a_failing_object_store_leaves_no_bucket_row(core: CoreHarness, alice: CallContext) -> None:
    # The real swift adapter, pointed at a port nothing listens on: a backend that is down.
    down = load_object_store(
        "swift", auth_url="http://127.0.0.1:9/auth/v1.0", user="test:tester", key="testing"
    )
    with pytest.raises(ResourceUnavailable):
        create(core, alice, "never-made", down)
    assert names(core, alice) == []


def test_object_use_cases(core: CoreHarness, alice: CallContext, store: ObjectStore) -> None:
    create(core, alice, "objects", store)
    bucket = handle(core, alice, "objects", WRITE)
    info = buckets.put_object(
        store,
        bucket,
        "dir/file.txt",
        iter([b"0123", b"456789"]),
        content_type="text/plain",
        metadata={"Colour": "blue"},
        content_length=10,
    )
    assert (info.size, info.etag) == (10, "781e5e245d69b566979b86e28d23f2c7")
    head = buckets.head_object(store, bucket, "dir/file.txt")
    assert (head.content_type, dict(head.metadata)) == ("text/plain", {"colour": "blue"})
    got, chunks = buckets.get_object(store, bucket, "dir/file.txt", byte_range=(2, 5))
    assert b"".join(chunks) == b"2345"
    assert buckets.selected_bytes((2, 5), got.size) == (2, 5)
    assert buckets.selected_bytes((-3, None), got.size) == (7, 9)
    with pytest.raises(RangeNotSatisfiable) as raised:
        buckets.get_object(store, bucket, "dir/file.txt", byte_range=(10, None))
    assert raised.value.size == 10
    with pytest.raises(NotFound) as missing:
        buckets.head_object(store, bucket, "absent")
    assert missing.value.kind == buckets.OBJECT
    with pytest.raises(KeyTooLong) as too_long:
        buckets.put_object(
            store, bucket, "k" * 1025, [b"x"], content_type=None, metadata={}, content_length=1
        )
    assert (too_long.value.size, too_long.value.limit) == (1025, 1024)
    with pytest.raises(InvalidParameter) as bad_key:
        buckets.put_object(
            store, bucket, "nul\x00key", [b"x"], content_type=None, metadata={}, content_length=1
        )
    assert bad_key.value.parameter == "key"

    for key in ("dir/a", "dir/sub/b", "top"):
        buckets.put_object(
            store, bucket, key, [b"x"], content_type=None, metadata={}, content_length=1
        )
    page = buckets.list_objects(store, bucket, prefix="dir/", delimiter="/", marker=None, limit=2)
    assert [item.key for item in page.objects] == ["dir/a", "dir/file.txt"]
    assert page.is_truncated and page.next_marker == "dir/file.txt"
    rest = buckets.list_objects(
        store, bucket, prefix="dir/", delimiter="/", marker=page.next_marker, limit=2
    )
    assert (rest.objects, rest.common_prefixes, rest.is_truncated) == ([], ["dir/sub/"], False)
    with pytest.raises(InvalidParameter):
        buckets.list_objects(store, bucket, prefix="", delimiter=None, marker=None, limit=1001)
    buckets.delete_object(store, bucket, "top")
    buckets.delete_object(store, bucket, "top")  # a missing key is not an error
    with pytest.raises(NotFound):
        buckets.head_object(store, bucket, "top")


def test_an_upload_that_fails_midway_stores_nothing(
    core: CoreHarness, alice: CallContext, store: ObjectStore
) -> None:
    create(core, alice, "uploads", store)
    bucket = handle(core, alice, "uploads", WRITE)

    def broken_body():  # what a client disconnect looks like to the use case
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        buckets.put_object(
            store, bucket, "k", broken_body(), content_type=None, metadata={}, content_length=None
        )
    with pytest.raises(NotFound):
        buckets.head_object(store, bucket, "k")


def test_concurrent_creates_of_one_name(
    core: CoreHarness, alice: CallContext, bob: CallContext, store: ObjectStore
) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def attempt(ctx: CallContext) -> None:
        start.wait()
        try:
            create(core, ctx, "contested", store)
            outcomes.append("created")
        except CloudgateError as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=attempt, args=(ctx,)) for ctx in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["BucketNameTaken", "created"]
    assert len(names(core, alice) + names(core, bob)) == 1
