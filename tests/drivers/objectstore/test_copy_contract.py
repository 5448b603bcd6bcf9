"""The object-store contract for server-side copies, conditional puts and system metadata,
run against every backend (see conftest.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from drivers.objectstore.base import (
    ConditionFailed,
    NoSuchContainer,
    NoSuchObject,
    ObjectStore,
)

DATA = b"copy me " * 50_000  # 400 kB: several chunks on both backends


def put(store: ObjectStore, namespace: str, container: str, key: str, data: bytes, **kw):
    kw.setdefault("content_type", None)
    kw.setdefault("metadata", {})
    return store.put_object(namespace, container, key, [data], **kw)


def copy(store: ObjectStore, namespace: str, container: str, key: str, **kw):
    kw.setdefault("source_namespace", namespace)
    kw.setdefault("content_type", "text/plain")
    kw.setdefault("metadata", {})
    return store.copy_object(namespace, container, key, **kw)


def test_system_metadata_is_kept_apart_from_user_metadata(
    store: ObjectStore, namespace: str
) -> None:
    store.create_container(namespace, "c")
    system = {"checksum-crc32": "AAAAAA==", "checksum-sha256": "x/y+z="}
    info = put(store, namespace, "c", "k", DATA, metadata={"a": "1"}, system_metadata=system)
    assert info.system_metadata == system
    for found in (
        store.head_object(namespace, "c", "k"),
        store.get_object(namespace, "c", "k")[0],
    ):
        assert found.metadata == {"a": "1"}
        assert found.system_metadata == system
    put(store, namespace, "c", "k", b"new")
    assert store.head_object(namespace, "c", "k").system_metadata == {}


def test_copy_within_and_across_namespaces(
    store: ObjectStore, namespace: str, new_namespace: Callable[[], str]
) -> None:
    other = new_namespace()
    store.create_container(namespace, "src")
    store.create_container(other, "dst")
    put(store, namespace, "src", "dir/a.bin", DATA, metadata={"old": "1"})
    copied = copy(
        store,
        other,
        "dst",
        "b",
        source_namespace=namespace,
        source_container="src",
        source_key="dir/a.bin",
        metadata={"new": "2"},
        system_metadata={"checksum-crc32": "abc="},
    )
    assert copied.etag == hashlib.md5(DATA).hexdigest()
    assert copied.size == len(DATA)
    info, chunks = store.get_object(other, "dst", "b")
    assert b"".join(chunks) == DATA
    assert info.metadata == {"new": "2"}
    assert info.content_type == "text/plain"
    assert info.system_metadata == {"checksum-crc32": "abc="}
    assert store.head_object(namespace, "src", "dir/a.bin").metadata == {"old": "1"}


def test_copy_onto_itself_replaces_metadata(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    put(store, namespace, "c", "k", DATA, metadata={"old": "1"})
    copy(store, namespace, "c", "k", source_container="c", source_key="k", metadata={"n": "2"})
    info, chunks = store.get_object(namespace, "c", "k")
    assert info.metadata == {"n": "2"}
    assert b"".join(chunks) == DATA


def test_copy_of_missing_source_or_into_missing_container(
    store: ObjectStore, namespace: str
) -> None:
    store.create_container(namespace, "c")
    with pytest.raises(NoSuchObject):
        copy(store, namespace, "c", "k", source_container="c", source_key="missing")
    with pytest.raises(NoSuchContainer):
        copy(store, namespace, "c", "k", source_container="nope", source_key="missing")
    put(store, namespace, "c", "src", b"x")
    with pytest.raises(NoSuchContainer):
        copy(store, namespace, "nope", "k", source_container="c", source_key="src")


def test_conditional_puts(store: ObjectStore, namespace: str) -> None:
    store.create_container(namespace, "c")
    first = put(store, namespace, "c", "k", b"one", only_if_absent=True)
    with pytest.raises(ConditionFailed):
        put(store, namespace, "c", "k", b"two", only_if_absent=True)
    with pytest.raises(ConditionFailed):
        put(store, namespace, "c", "k", b"two", only_if_etag="0" * 32)
    with pytest.raises(ConditionFailed):
        put(store, namespace, "c", "absent", b"two", only_if_etag=first.etag)
    put(store, namespace, "c", "k", b"three", only_if_etag=first.etag)
    _info, chunks = store.get_object(namespace, "c", "k")
    assert b"".join(chunks) == b"three"
