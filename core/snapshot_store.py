"""Snapshot backups in secondary storage: each backed-up snapshot is one object.

Secondary storage is the object store, in the namespace and container that template images
use (`core.downloads`: the system account's uuid, container "secondary-storage"). A
snapshot's key is its path, `snapshots/<account id>/<volume id>/<snapshot uuid>`, the layout
CloudStack gives snapshots on an image store. The object holds whatever the hypervisor
driver's `read_snapshot` produced; the snapshot row records its size (physicalsize) and
SHA-256, and the SHA-256 is checked again whenever the data is read back into a volume.

Every step may be repeated, so that an interrupted job simply runs again: a write replaces
the object (a key holds a whole object or none, on every backend), deleting a missing object
is not an error, and `find` tells a resumed backup that the object is already whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import drivers.objectstore.base as objectstore
from core.downloads import CONTAINER, namespace
from core.errors import OperationFailed, ResourceUnavailable
from core.runtime import Runtime

CHECKSUM_PREFIX = "{SHA-256}"  # the form CloudStack gives template checksums


@dataclass(frozen=True, slots=True)
class StoredBackup:
    """What the object store holds for one snapshot."""

    size: int
    checksum: str


@contextmanager
def _store_errors(key: str) -> Iterator[None]:
    """The object store's errors in the core's terms (a snapshot job reports them)."""
    try:
        yield
    except (objectstore.NoSuchObject, objectstore.NoSuchContainer):
        raise OperationFailed(
            f"The snapshot backup {key} is missing from secondary storage"
        ) from None
    except objectstore.ObjectStoreUnavailable as error:
        raise ResourceUnavailable(f"Secondary storage is unavailable: {error.reason}") from None
    except objectstore.DriverError as error:
        raise OperationFailed(f"Secondary storage failed on {key}: {error}") from None


def _store(runtime: Runtime) -> objectstore.ObjectStore:
    if runtime.object_store is None:
        raise ResourceUnavailable("No secondary storage (object store) is configured")
    return runtime.object_store


def _space(runtime: Runtime) -> str:
    with runtime.db.read() as session:
        return namespace(session)


def _hashing(chunks: Iterable[bytes], hasher: Any) -> Iterator[bytes]:
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk


def write(
    runtime: Runtime, key: str, chunks: Iterable[bytes], *, snapshot_uuid: str
) -> StoredBackup:
    """Stream the snapshot's data into its object (replacing any earlier one)."""
    store, space = _store(runtime), _space(runtime)
    hasher = hashlib.sha256()
    with _store_errors(key):
        store.create_container(space, CONTAINER)
        info = store.put_object(
            space,
            CONTAINER,
            key,
            _hashing(chunks, hasher),
            content_type="application/octet-stream",
            metadata={"snapshot-uuid": snapshot_uuid},
        )
    return StoredBackup(info.size, CHECKSUM_PREFIX + hasher.hexdigest())


def find(runtime: Runtime, key: str) -> StoredBackup | None:
    """The backup already stored under `key` (read through to checksum it), or None."""
    store, space = _store(runtime), _space(runtime)
    hasher = hashlib.sha256()
    with _store_errors(key):
        if not _exists(store, space, key):
            return None
        info, chunks = store.get_object(space, CONTAINER, key)
        for chunk in chunks:
            hasher.update(chunk)
    return StoredBackup(info.size, CHECKSUM_PREFIX + hasher.hexdigest())


def _exists(store: objectstore.ObjectStore, space: str, key: str) -> bool:
    try:
        store.head_object(space, CONTAINER, key)
    except (objectstore.NoSuchObject, objectstore.NoSuchContainer):
        return False
    return True


def read(runtime: Runtime, key: str, checksum: str) -> Iterator[bytes]:
    """The object's data as chunks; the last read raises OperationFailed if the data does
    not match `checksum` (so a driver restoring from it never keeps corrupt data)."""
    store, space = _store(runtime), _space(runtime)
    with _store_errors(key):
        _info, chunks = store.get_object(space, CONTAINER, key)
    return _verified(chunks, key, checksum)


def _verified(chunks: Iterator[bytes], key: str, checksum: str) -> Iterator[bytes]:
    hasher = hashlib.sha256()
    with _store_errors(key):
        for chunk in chunks:
            hasher.update(chunk)
            yield chunk
    if checksum and CHECKSUM_PREFIX + hasher.hexdigest() != checksum:
        raise OperationFailed(f"The snapshot backup {key} does not match its checksum")


def copy(
    runtime: Runtime, source_key: str, key: str, *, checksum: str, snapshot_uuid: str
) -> StoredBackup:
    """Copy a backup inside the store (the bytes never leave it, so its checksum holds)."""
    store, space = _store(runtime), _space(runtime)
    with _store_errors(source_key):
        store.create_container(space, CONTAINER)
        info = store.copy_object(
            space,
            CONTAINER,
            key,
            source_namespace=space,
            source_container=CONTAINER,
            source_key=source_key,
            content_type="application/octet-stream",
            metadata={"snapshot-uuid": snapshot_uuid},
        )
    return StoredBackup(info.size, checksum)


def remove(runtime: Runtime, key: str) -> None:
    """Delete the snapshot's object; a missing one is not an error."""
    if runtime.object_store is None:
        return  # without secondary storage no backup was ever written
    store, space = _store(runtime), _space(runtime)
    with _store_errors(key):
        if store.container_exists(space, CONTAINER):
            store.delete_object(space, CONTAINER, key)
