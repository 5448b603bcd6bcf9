"""The object-store contract: one behavioural suite, run against every backend.

Each test gets `store` (local on a tmp dir, or the real Swift all-in-one) and a fresh
`namespace`; see conftest.py.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drivers.objectstore import load_object_store
from drivers.objectstore.base import (
    ContainerNotEmpty,
    IncompleteBody,
    InvalidArgument,
    InvalidRange,
    NoSuchContainer,
    NoSuchObject,
    ObjectInfo,
    ObjectListing,
    ObjectStore,
    ObjectStoreUnavailable,
)

MiB = 1024 * 1024


def put(store: ObjectStore, namespace: str, container: str, key: str, data: bytes, **kw):
    kw.setdefault("content_type", None)
    kw.setdefault("metadata", {})
    # Several chunks, to exercise streaming rather than one buffer.
    chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)] or [b""]
    return store.put_object(namespace, container, key, iter(chunks), **kw)


def read(store: ObjectStore, namespace: str, container: str, key: str, **kw) -> bytes:
    _info, chunks = store.get_object(namespace, container, key, **kw)
    return b"".join(chunks)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll `check`: Swift updates account statistics asynchronously."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def all_keys(store: ObjectStore, namespace: str, container: str, **kw) -> list[str]:
    return [entry.key for entry in store.list_objects(namespace, container, **kw).objects]


# ---------------------------------------------------------------- registry


def test_registry_builds_backends_by_name(tmp_path: Path) -> None:
    store = load_object_store("local", root=tmp_path)
    assert isinstance(store, ObjectStore)
    with pytest.raises(ValueError, match="unknown object store backend"):
        load_object_store("s4")


# ---------------------------------------------------------------- containers


def test_create_container_is_idempotent_and_listed(store: ObjectStore, namespace: str) -> None:
    assert store.list_containers(namespace) == []
    assert not store.container_exists(namespace, "beta")
    before = datetime.now(UTC) - timedelta(seconds=2)
    for name in ("beta", "alpha", "beta"):
        store.create_container(namespace, name)
    assert store.container_exists(namespace, "beta")
    containers = store.list_containers(namespace)
    assert [c.name for c in containers] == ["alpha", "beta"]
    for container in containers:
        assert (container.object_count, container.bytes_used) == (0, 0)
        if container.created is not None:
            assert before <= container.created <= datetime.now(UTC) + timedelta(seconds=2)


def test_delete_container(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "gone")
    store.delete_container(namespace, "gone")
    assert not store.container_exists(namespace, "gone")
    assert store.list_containers(namespace) == []
    with pytest.raises(NoSuchContainer):
        store.delete_container(namespace, "gone")


def test_non_empty_container_is_not_deleted(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "full")
    put(store, namespace, "full", "k", b"v")
    with pytest.raises(ContainerNotEmpty):
        store.delete_container(namespace, "full")
    assert store.container_exists(namespace, "full")
    store.delete_object(namespace, "full", "k")
    store.delete_container(namespace, "full")
    assert not store.container_exists(namespace, "full")


def test_container_statistics(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "stats")
    put(store, namespace, "stats", "a", b"abc")
    put(store, namespace, "stats", "b", b"12345")
    put(store, namespace, "stats", "b", b"1234567")  # an overwrite counts once

    def counted() -> bool:
        (info,) = store.list_containers(namespace)
        return (info.object_count, info.bytes_used) == (2, 10)

    # Swift's counts arrive with the container updater's next sweep (seconds, longer under
    # load); a backend that never gets there fails.
    assert eventually(counted, timeout=120)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "x" * 257, "nul\x00"])
def test_invalid_container_names(store: ObjectStore, namespace: str, name: str) -> None:
    with pytest.raises(InvalidArgument):
        store.create_container(namespace, name)


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "a b", "x" * 129])
def test_invalid_namespaces(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        store.create_container(bad, "c")
    with pytest.raises(InvalidArgument):
        store.list_containers(bad)


# ---------------------------------------------------------------- objects


def test_put_get_head_delete(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    data = b"hello, object store\n" * 100
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    info = put(store, namespace, "c", "greeting.txt", data)
    after = datetime.now(UTC) + timedelta(seconds=2)
    assert isinstance(info, ObjectInfo)
    assert (info.key, info.size, info.etag) == ("greeting.txt", len(data), md5(data))
    assert info.last_modified.tzinfo is not None
    assert info.last_modified.microsecond == 0
    assert before <= info.last_modified <= after

    got, chunks = store.get_object(namespace, "c", "greeting.txt")
    assert b"".join(chunks) == data
    assert got == info
    assert store.head_object(namespace, "c", "greeting.txt") == info
    (listed,) = store.list_objects(namespace, "c").objects
    assert (listed.key, listed.size, listed.etag) == ("greeting.txt", len(data), md5(data))
    assert listed.last_modified == info.last_modified

    store.delete_object(namespace, "c", "greeting.txt")
    with pytest.raises(NoSuchObject):
        store.head_object(namespace, "c", "greeting.txt")
    with pytest.raises(NoSuchObject):
        store.get_object(namespace, "c", "greeting.txt")
    store.delete_object(namespace, "c", "greeting.txt")  # S3: deleting nothing succeeds
    assert store.list_objects(namespace, "c").objects == []


def test_empty_object(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    info = store.put_object(
        namespace, "c", "empty", iter([]), content_type=None, metadata={}, content_length=0
    )
    assert (info.size, info.etag) == (0, md5(b""))
    assert read(store, namespace, "c", "empty") == b""
    info = store.put_object(namespace, "c", "empty2", iter([b""]), content_type=None, metadata={})
    assert (info.size, info.etag) == (0, md5(b""))
    assert store.head_object(namespace, "c", "empty2").size == 0


def test_missing_container_errors(store: ObjectStore, namespace: str) -> None:
    with pytest.raises(NoSuchContainer):
        put(store, namespace, "nope", "k", b"v")
    with pytest.raises(NoSuchContainer):
        store.get_object(namespace, "nope", "k")
    with pytest.raises(NoSuchContainer):
        store.head_object(namespace, "nope", "k")
    with pytest.raises(NoSuchContainer):
        store.delete_object(namespace, "nope", "k")
    with pytest.raises(NoSuchContainer):
        store.list_objects(namespace, "nope")


def test_content_type_and_metadata_round_trip(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    metadata = {"Color": "blue", "with_underscore": "yes", "unicode": "héllo ✓", "dash-ed": ""}
    info = put(
        store,
        namespace,
        "c",
        "page.html",
        b"<p>",
        content_type="text/plain; charset=utf-8",
        metadata=metadata,
    )
    expected = {"color": "blue", "with_underscore": "yes", "unicode": "héllo ✓", "dash-ed": ""}
    for got in (info, store.head_object(namespace, "c", "page.html")):
        assert got.content_type == "text/plain; charset=utf-8"
        assert dict(got.metadata) == expected
    # No type given: the default, not a guess from the key's extension.
    assert put(store, namespace, "c", "index.html", b"x").content_type == (
        "application/octet-stream"
    )
    assert store.head_object(namespace, "c", "index.html").content_type == (
        "application/octet-stream"
    )


@pytest.mark.parametrize(
    "metadata",
    [{"bad name": "x"}, {"k": "line\nbreak"}, {"k": "v" * 257}, {f"k{i}": "v" for i in range(91)}],
)
def test_invalid_metadata(store: ObjectStore, namespace: str, metadata: dict[str, str]) -> None:
    store.create_container(namespace, "c")
    with pytest.raises(InvalidArgument):
        put(store, namespace, "c", "k", b"v", metadata=metadata)
    with pytest.raises(NoSuchObject):
        store.head_object(namespace, "c", "k")


def test_overwrite_replaces_content_and_metadata(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    put(store, namespace, "c", "k", b"old", metadata={"a": "1"}, content_type="text/old")
    new = put(store, namespace, "c", "k", b"newer", metadata={"b": "2"})
    head = store.head_object(namespace, "c", "k")
    assert head == new
    assert (head.size, head.etag, dict(head.metadata)) == (5, md5(b"newer"), {"b": "2"})
    assert head.content_type == "application/octet-stream"
    assert read(store, namespace, "c", "k") == b"newer"
    assert all_keys(store, namespace, "c") == ["k"]


def test_overwrite_is_atomic_for_readers(store: ObjectStore, namespace: str) -> None:
    """Concurrent readers see the old or the new object, whole, never a mix or a part."""
    store.create_container(namespace, "c")
    versions = {md5(body): body for body in (b"A" * (3 * MiB), b"B" * (2 * MiB + 7))}
    bodies = list(versions.values())
    put(store, namespace, "c", "k", bodies[0])
    stop = threading.Event()
    failures: list[str] = []

    def writer() -> None:
        try:
            for round_ in range(12):
                put(store, namespace, "c", "k", bodies[round_ % 2])
        except Exception as error:  # reported by the assertion below
            failures.append(f"writer: {error!r}")
        finally:
            stop.set()

    def reader() -> None:
        while not stop.is_set():
            try:
                info, chunks = store.get_object(namespace, "c", "k")
                data = b"".join(chunks)
            except Exception as error:
                failures.append(f"reader: {error!r}")
                return
            if versions.get(info.etag) != data:
                failures.append(f"etag {info.etag} with {len(data)} bytes")

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures


def test_reader_keeps_the_version_it_started(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    old = bytes(range(256)) * (16 * 1024)  # 4 MiB
    put(store, namespace, "c", "k", old)
    info, chunks = store.get_object(namespace, "c", "k")
    first = next(chunks)
    put(store, namespace, "c", "k", b"replaced")
    store.delete_object(namespace, "c", "k")
    assert first + b"".join(chunks) == old
    assert info.etag == md5(old)


def test_failed_upload_leaves_nothing_visible(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    put(store, namespace, "c", "kept", b"original")

    def broken() -> Iterator[bytes]:
        yield b"x" * MiB
        yield b"y" * MiB
        raise RuntimeError("client went away")

    for key in ("new", "kept"):
        with pytest.raises(Exception, match="client went away"):
            store.put_object(namespace, "c", key, broken(), content_type=None, metadata={})
    with pytest.raises(NoSuchObject):
        store.head_object(namespace, "c", "new")
    assert read(store, namespace, "c", "kept") == b"original"
    assert all_keys(store, namespace, "c") == ["kept"]


@pytest.mark.parametrize("chunks", [[b"12345"], [b"1234567890", b"12345"]], ids=["short", "long"])
def test_body_must_match_content_length(
    store: ObjectStore, namespace: str, chunks: list[bytes]
) -> None:
    store.create_container(namespace, "c")
    with pytest.raises(IncompleteBody):
        store.put_object(
            namespace, "c", "k", iter(chunks), content_type=None, metadata={}, content_length=10
        )
    with pytest.raises(NoSuchObject):
        store.head_object(namespace, "c", "k")
    info = store.put_object(
        namespace,
        "c",
        "k",
        iter([b"1234", b"567890"]),
        content_type=None,
        metadata={},
        content_length=10,
    )
    assert (info.size, read(store, namespace, "c", "k")) == (10, b"1234567890")


# ---------------------------------------------------------------- names

ODD_KEYS = [
    "ünïcødé/文件.txt",
    "emoji 😀",
    "a/../b",
    "../escape",
    "../../other-container/x",
    "./x",
    "..",
    ".",
    "a//b",
    "/leading",
    "trailing/",
    "sp ace+plus?q=1#frag%25",
    "x" * 1024,
    "é" * 512,  # 1024 bytes
]


def test_odd_keys_round_trip(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    store.create_container(namespace, "other-container")
    for key in ODD_KEYS:
        assert put(store, namespace, "c", key, key.encode()).key == key
    for key in ODD_KEYS:
        assert read(store, namespace, "c", key) == key.encode()
        assert store.head_object(namespace, "c", key).key == key
    assert all_keys(store, namespace, "c") == sorted(ODD_KEYS, key=str.encode)
    # "../../other-container/x" is a key in "c", not a way into another container.
    assert all_keys(store, namespace, "other-container") == []
    for key in ODD_KEYS:
        store.delete_object(namespace, "c", key)
    assert all_keys(store, namespace, "c") == []


@pytest.mark.parametrize("key", ["", "x" * 1025, "é" * 513, "nul\x00"])
def test_invalid_keys(store: ObjectStore, namespace: str, key: str) -> None:
    store.create_container(namespace, "c")
    with pytest.raises(InvalidArgument):
        put(store, namespace, "c", key, b"v")
    with pytest.raises(InvalidArgument):
        store.head_object(namespace, "c", key)


def test_local_keys_never_leave_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = load_object_store("local", root=root)
    store.create_container("tenant", "c")
    for key in [*ODD_KEYS, "../../../../../../tmp/escaped", "/etc/passwd"]:
        put(store, "tenant", "c", key, b"data")
    assert list(tmp_path.iterdir()) == [root]
    names = {path.name for path in root.rglob("*")}
    assert not any(name in ("escape", "escaped", "passwd", "x") for name in names)


# ---------------------------------------------------------------- ranges

RANGE_BODY = bytes(range(256)) * 40  # 10240 bytes


@pytest.mark.parametrize(
    ("byte_range", "expected"),
    [
        ((0, 0), RANGE_BODY[:1]),
        ((10, 19), RANGE_BODY[10:20]),
        ((100, None), RANGE_BODY[100:]),
        ((10_000, 20_000), RANGE_BODY[10_000:]),  # an end past the object is clamped
        ((-100, None), RANGE_BODY[-100:]),
        ((-20_000, None), RANGE_BODY),
        ((0, None), RANGE_BODY),
    ],
)
def test_ranges(store: ObjectStore, namespace: str, byte_range, expected: bytes) -> None:
    store.create_container(namespace, "c")
    put(store, namespace, "c", "k", RANGE_BODY)
    info, chunks = store.get_object(namespace, "c", "k", byte_range=byte_range)
    assert b"".join(chunks) == expected
    assert (info.size, info.etag) == (len(RANGE_BODY), md5(RANGE_BODY))


@pytest.mark.parametrize("byte_range", [(10_240, None), (20_000, 30_000), (5, 2), (-5, 10)])
def test_invalid_ranges(store: ObjectStore, namespace: str, byte_range) -> None:
    store.create_container(namespace, "c")
    put(store, namespace, "c", "k", RANGE_BODY)
    with pytest.raises(InvalidRange):
        store.get_object(namespace, "c", "k", byte_range=byte_range)


def test_any_range_of_an_empty_object_is_invalid(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    put(store, namespace, "c", "empty", b"")
    with pytest.raises(InvalidRange):
        store.get_object(namespace, "c", "empty", byte_range=(0, None))


# ---------------------------------------------------------------- listing

TREE = ["a.txt", "b/1", "b/2", "b/c/3", "c", "d/1", "d/2"]


@pytest.fixture
def tree(store: ObjectStore, namespace: str) -> str:
    store.create_container(namespace, "tree")
    for key in TREE:
        put(store, namespace, "tree", key, key.encode())
    return "tree"


def test_listing_is_in_utf8_byte_order(store: ObjectStore, namespace: str) -> None:
    # UTF-16 order (Java, JavaScript) would put U+1F600 before U+FF5E; UTF-8 puts it after.
    keys = ["Z", "a", "é", "\uff5e", "\U0001f600", "a/b", "a-b", "0"]
    store.create_container(namespace, "c")
    for key in keys:
        put(store, namespace, "c", key, b"")
    assert all_keys(store, namespace, "c") == sorted(keys, key=str.encode)


def test_listing_prefix_and_delimiter(store: ObjectStore, namespace: str, tree: str) -> None:
    listing = store.list_objects(namespace, tree)
    assert [o.key for o in listing.objects] == TREE
    assert (listing.common_prefixes, listing.is_truncated, listing.next_marker) == ([], False, None)

    listing = store.list_objects(namespace, tree, delimiter="/")
    assert [o.key for o in listing.objects] == ["a.txt", "c"]
    assert listing.common_prefixes == ["b/", "d/"]

    listing = store.list_objects(namespace, tree, prefix="b/", delimiter="/")
    assert [o.key for o in listing.objects] == ["b/1", "b/2"]
    assert listing.common_prefixes == ["b/c/"]

    assert all_keys(store, namespace, tree, prefix="b/") == ["b/1", "b/2", "b/c/3"]
    assert all_keys(store, namespace, tree, prefix="zzz") == []
    assert all_keys(store, namespace, tree, marker="b/1") == TREE[2:]
    assert all_keys(store, namespace, tree, marker="b/1", prefix="b/") == ["b/2", "b/c/3"]
    (first,) = store.list_objects(namespace, tree).objects[:1]
    assert (first.size, first.etag) == (len(b"a.txt"), md5(b"a.txt"))


def test_listing_with_a_multi_character_delimiter(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    for key in ["x--1", "x--2", "x-y", "y--z--1", "z"]:
        put(store, namespace, "c", key, b"")
    listing = store.list_objects(namespace, "c", delimiter="--")
    assert [o.key for o in listing.objects] == ["x-y", "z"]
    assert listing.common_prefixes == ["x--", "y--"]
    listing = store.list_objects(namespace, "c", prefix="y--", delimiter="--")
    assert (listing.objects, listing.common_prefixes) == ([], ["y--z--"])


@pytest.mark.parametrize("delimiter", [None, "/"])
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_listing_pages(
    store: ObjectStore, namespace: str, tree: str, delimiter: str | None, limit: int
) -> None:
    whole = store.list_objects(namespace, tree, delimiter=delimiter)
    expected = [o.key for o in whole.objects] + whole.common_prefixes
    seen: list[str] = []
    marker = None
    for _page in range(20):
        page = store.list_objects(namespace, tree, delimiter=delimiter, marker=marker, limit=limit)
        entries = [o.key for o in page.objects] + page.common_prefixes
        assert len(entries) <= limit
        seen += entries
        if not page.is_truncated:
            assert page.next_marker is None
            break
        assert len(entries) == limit
        assert page.next_marker == max(entries, key=str.encode)
        marker = page.next_marker
    assert sorted(seen, key=str.encode) == sorted(expected, key=str.encode)
    assert len(seen) == len(expected)


def test_listing_limit_zero_and_bounds(store: ObjectStore, namespace: str, tree: str) -> None:
    assert store.list_objects(namespace, tree, limit=0) == ObjectListing([], [], False, None)
    with pytest.raises(ValueError):
        store.list_objects(namespace, tree, limit=1001)
    full = store.list_objects(namespace, tree, limit=len(TREE))
    assert not full.is_truncated
    assert store.list_objects(namespace, tree, limit=len(TREE) - 1).is_truncated


# ---------------------------------------------------------------- large objects


def generated(size: int, chunk: int = MiB) -> tuple[Iterator[bytes], Callable[[], str]]:
    """A deterministic body made on the fly, and its md5 once it has been consumed."""
    digest = hashlib.md5(usedforsecurity=False)

    def body() -> Iterator[bytes]:
        for index in range(size // chunk):
            data = hashlib.sha256(index.to_bytes(8, "big")).digest() * (chunk // 32)
            digest.update(data)
            yield data

    return body(), digest.hexdigest


@pytest.mark.parametrize("announce_length", [False, True], ids=["chunked", "sized"])
def test_large_object_streams_with_flat_memory(
    store: ObjectStore, namespace: str, announce_length: bool
) -> None:
    size = 64 * MiB
    store.create_container(namespace, "big")
    body, expected_md5 = generated(size)
    tracemalloc.start()
    try:
        info = store.put_object(
            namespace,
            "big",
            "blob.bin",
            body,
            content_type="application/x-blob",
            metadata={},
            content_length=size if announce_length else None,
        )
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        got, chunks = store.get_object(namespace, "big", "blob.bin")
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        for chunk in chunks:
            assert len(chunk) <= 4 * MiB
            digest.update(chunk)
            received += len(chunk)
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.size, info.etag) == (size, expected_md5())
    assert (got.size, received, digest.hexdigest()) == (size, size, expected_md5())
    # Far below the 64 MiB object: nothing buffers it whole.
    assert put_peak < 16 * MiB, put_peak
    assert get_peak < 16 * MiB, get_peak


# ---------------------------------------------------------------- tenants


def test_namespaces_are_isolated(store: ObjectStore, new_namespace: Callable[[], str]) -> None:
    tenant_a, tenant_b = new_namespace(), new_namespace()
    store.create_container(tenant_a, "shared-name")
    put(store, tenant_a, "shared-name", "secret", b"a's data")

    assert store.list_containers(tenant_b) == []
    assert not store.container_exists(tenant_b, "shared-name")
    with pytest.raises(NoSuchContainer):
        store.get_object(tenant_b, "shared-name", "secret")
    with pytest.raises(NoSuchContainer):
        store.list_objects(tenant_b, "shared-name")
    with pytest.raises(NoSuchContainer):
        store.delete_container(tenant_b, "shared-name")

    store.create_container(tenant_b, "shared-name")  # the same name, another container
    assert all_keys(store, tenant_b, "shared-name") == []
    store.delete_container(tenant_b, "shared-name")
    assert read(store, tenant_a, "shared-name", "secret") == b"a's data"


def test_concurrent_writers(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for index in range(10):
                key = f"w{worker}/{index:02d}"
                put(store, namespace, "c", key, key.encode() * 100)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    keys = all_keys(store, namespace, "c")
    assert keys == sorted(f"w{w}/{i:02d}" for w in range(4) for i in range(10))


# ---------------------------------------------------------------- swift only


@pytest.mark.swift
@pytest.mark.parametrize("backend", ["swift"])  # overrides the fixture: Swift only
def test_swift_container_is_in_the_tenant_account(
    store: ObjectStore, namespace: str, swift_settings: dict[str, str]
) -> None:
    from swiftclient.client import Connection

    store.create_container(namespace, "bucket")
    put(store, namespace, "bucket", "dir/key", b"payload", metadata={"color": "blue"})

    admin = Connection(
        swift_settings["auth_url"], swift_settings["user"], swift_settings["key"], retries=0
    )
    storage_url, _token = admin.get_auth()
    tenant_url = storage_url.rsplit("/", 1)[0] + f"/AUTH_{namespace}"
    raw = Connection(
        swift_settings["auth_url"],
        swift_settings["user"],
        swift_settings["key"],
        retries=0,
        os_options={"object_storage_url": tenant_url},
    )
    try:
        _headers, containers = raw.get_account()
        assert [c["name"] for c in containers] == ["bucket"]
        _headers, objects = raw.get_container("bucket")
        assert [o["name"] for o in objects] == ["dir/key"]
        headers, body = raw.get_object("bucket", "dir/key")
        assert body == b"payload"
        assert headers["x-object-meta-color"] == "blue"
        # And nothing of it in the admin's own account.
        _headers, own = admin.get_account()
        assert "bucket" not in [c["name"] for c in own]
    finally:
        raw.close()
        admin.close()


def test_swift_unreachable_is_unavailable() -> None:
    from drivers.objectstore.swift import SwiftObjectStore

    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = SwiftObjectStore(f"http://127.0.0.1:{port}/auth/v1.0", "admin:admin", "admin")
    with pytest.raises(ObjectStoreUnavailable):
        store.list_containers("tenant")
    with pytest.raises(ObjectStoreUnavailable):
        put(store, "tenant", "c", "k", b"v")


@pytest.mark.swift
def test_swift_bad_credentials_are_unavailable(swift_settings: dict[str, str]) -> None:
    from drivers.objectstore.swift import SwiftObjectStore

    store = SwiftObjectStore(swift_settings["auth_url"], swift_settings["user"], "wrong-key")
    with pytest.raises(ObjectStoreUnavailable) as raised:
        store.container_exists("tenant", "c")
    assert raised.value.status == 401
