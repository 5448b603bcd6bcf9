"""The object-store contract for multipart uploads (put_part, complete_upload, abort_upload),
run against every backend like test_contract.py; leftovers are read from the backend itself."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from drivers.objectstore.base import (
    DriverError,
    InvalidArgument,
    NoSuchContainer,
    NoSuchObject,
    ObjectStore,
    PartInfo,
)
from drivers.objectstore.local import LocalObjectStore

MiB = 1024 * 1024
UPLOAD = "3f2c9a1e-0000-4000-8000-000000000001"


def chunks(data: bytes, size: int = 64 * 1024) -> list[bytes]:
    return [data[offset : offset + size] for offset in range(0, len(data), size)] or [b""]


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def leftovers(store: ObjectStore, namespace: str, container: str) -> list[str]:
    """What the backend still holds of the container's uploads."""
    if isinstance(store, LocalObjectStore):
        root = Path(store.root) / namespace / "parts"
        return sorted(str(path) for path in root.rglob("*") if path.is_file())
    try:
        listing = store.list_objects(namespace, f"{container}+segments")
    except NoSuchContainer:
        return []
    return [entry.key for entry in listing.objects]


def put_parts(
    store: ObjectStore, namespace: str, container: str, parts: list[bytes], upload: str = UPLOAD
) -> list[PartInfo]:
    return [
        store.put_part(namespace, container, upload, number, iter(chunks(data)))
        for number, data in enumerate(parts, start=1)
    ]


@pytest.fixture
def container(store: ObjectStore, namespace: str) -> str:
    store.create_container(namespace, "bucket")
    return "bucket"


def test_parts_join_into_one_object(store: ObjectStore, namespace: str, container: str) -> None:
    parts = [os.urandom(MiB + 17), os.urandom(1000)]
    stored = put_parts(store, namespace, container, parts)
    assert [(p.part_number, p.size, p.etag) for p in stored] == [
        (1, len(parts[0]), md5(parts[0])),
        (2, 1000, md5(parts[1])),
    ]
    info = store.complete_upload(
        namespace,
        container,
        "dir/joined",
        UPLOAD,
        stored,
        content_type="text/x-joined",
        metadata={"Colour": "blue"},
        etag="0123456789abcdef0123456789abcdef-2",
        system_metadata={"checksum-crc32": "AAAAAA==-2"},
    )
    assert info.size == len(parts[0]) + 1000
    assert info.etag == "0123456789abcdef0123456789abcdef-2"
    head = store.head_object(namespace, container, "dir/joined")
    assert (head.size, head.etag, head.content_type) == (info.size, info.etag, "text/x-joined")
    assert head.metadata == {"colour": "blue"}
    assert head.system_metadata == {"checksum-crc32": "AAAAAA==-2"}
    _info, body = store.get_object(namespace, container, "dir/joined")
    assert b"".join(body) == b"".join(parts)
    _info, body = store.get_object(
        namespace, container, "dir/joined", byte_range=(len(parts[0]) - 5, len(parts[0]) + 4)
    )
    assert b"".join(body) == parts[0][-5:] + parts[1][:5]
    listed = store.list_objects(namespace, container)
    assert [(o.key, o.etag, o.size) for o in listed.objects] == [
        ("dir/joined", info.etag, info.size)
    ]
    expected = 2 if not isinstance(store, LocalObjectStore) else 0  # Swift keeps segments
    assert len(leftovers(store, namespace, container)) == expected


def test_a_part_sent_again_replaces_the_first(
    store: ObjectStore, namespace: str, container: str
) -> None:
    put_parts(store, namespace, container, [b"first"])
    (again,) = put_parts(store, namespace, container, [b"second!"])
    store.complete_upload(
        namespace, container, "k", UPLOAD, [again], content_type=None, metadata={}, etag="e-1"
    )
    _info, body = store.get_object(namespace, container, "k")
    assert b"".join(body) == b"second!"


def test_unlisted_parts_and_aborted_uploads_leave_nothing(
    store: ObjectStore, namespace: str, container: str
) -> None:
    stored = put_parts(store, namespace, container, [b"a" * 10, b"b" * 10, b"c" * 10])
    other = "3f2c9a1e-0000-4000-8000-000000000002"
    put_parts(store, namespace, container, [b"other"], upload=other)
    store.complete_upload(
        namespace, container, "k", UPLOAD, [stored[0], stored[2]],
        content_type=None, metadata={}, etag="e-2",
    )  # fmt: skip
    _info, body = store.get_object(namespace, container, "k")
    assert b"".join(body) == b"a" * 10 + b"c" * 10
    store.abort_upload(namespace, container, other)
    store.abort_upload(namespace, container, other)  # unknown by now: not an error
    expected = 2 if not isinstance(store, LocalObjectStore) else 0
    assert len(leftovers(store, namespace, container)) == expected
    store.put_object(namespace, container, "k", iter([b"plain"]), content_type=None, metadata={})
    assert leftovers(store, namespace, container) == []
    assert store.head_object(namespace, container, "k").etag == md5(b"plain")


def test_deleting_the_object_or_the_container_deletes_the_parts(
    store: ObjectStore, namespace: str, container: str
) -> None:
    stored = put_parts(store, namespace, container, [b"x" * 100])
    store.complete_upload(
        namespace, container, "k", UPLOAD, stored, content_type=None, metadata={}, etag="e-1"
    )
    store.delete_object(namespace, container, "k")
    with pytest.raises(NoSuchObject):
        store.head_object(namespace, container, "k")
    assert leftovers(store, namespace, container) == []
    put_parts(store, namespace, container, [b"pending"])
    assert len(leftovers(store, namespace, container)) == 1
    store.delete_container(namespace, container)
    assert leftovers(store, namespace, container) == []
    assert not store.container_exists(namespace, f"{container}+segments")


def test_a_missing_part_fails_the_completion_and_changes_nothing(
    store: ObjectStore, namespace: str, container: str
) -> None:
    store.put_object(namespace, container, "k", iter([b"old"]), content_type=None, metadata={})
    stored = put_parts(store, namespace, container, [b"p1"])
    ghost = PartInfo(2, 10, md5(b"0123456789"))
    with pytest.raises(DriverError):
        store.complete_upload(
            namespace, container, "k", UPLOAD, [*stored, ghost],
            content_type=None, metadata={}, etag="e-2",
        )  # fmt: skip
    _info, body = store.get_object(namespace, container, "k")
    assert b"".join(body) == b"old"
    assert len(leftovers(store, namespace, container)) == 1  # the part is still there


def test_bad_names_and_missing_containers(store: ObjectStore, namespace: str) -> None:
    with pytest.raises(NoSuchContainer):
        store.put_part(namespace, "missing", UPLOAD, 1, iter([b"x"]))
    store.create_container(namespace, "c")
    for upload, number in (("../escape", 1), ("a/b", 1), (UPLOAD, 0), (UPLOAD, 10_001)):
        with pytest.raises(InvalidArgument):
            store.put_part(namespace, "c", upload, number, iter([b"x"]))


def test_a_plain_object_cannot_claim_a_multipart_etag(
    store: ObjectStore, namespace: str, container: str
) -> None:
    store.put_object(
        namespace, container, "k", iter([b"data"]),
        content_type="text/plain; s3_etag=0123-2", metadata={},
    )  # fmt: skip
    assert store.head_object(namespace, container, "k").etag == md5(b"data")
    assert store.list_objects(namespace, container).objects[0].etag == md5(b"data")


def test_copying_over_a_multipart_object_deletes_its_parts(
    store: ObjectStore, namespace: str, container: str
) -> None:
    stored = put_parts(store, namespace, container, [b"a" * 10, b"b" * 5])
    store.complete_upload(
        namespace, container, "k", UPLOAD, stored, content_type=None, metadata={}, etag="e-2"
    )
    store.copy_object(
        namespace, container, "k",
        source_namespace=namespace, source_container=container, source_key="k",
        content_type="text/plain", metadata={"new": "yes"},
    )  # fmt: skip
    _info, body = store.get_object(namespace, container, "k")
    assert b"".join(body) == b"a" * 10 + b"b" * 5
    assert store.head_object(namespace, container, "k").etag == md5(b"a" * 10 + b"b" * 5)
    assert leftovers(store, namespace, container) == []
