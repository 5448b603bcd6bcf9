"""The local object store: object bodies as files, names and metadata in SQLite.

Layout under `root`, one directory per namespace:

    <namespace>/index.sqlite3      containers and objects (key, blob id, size, etag, ...)
    <namespace>/blobs/ab/<blob id> object bodies, named by random ids
    <namespace>/tmp/<blob id>      bodies being written

Why an SQLite index instead of files named after keys: keys are up to 1024 bytes of any
UTF-8 with "/" and "..", which neither fit a file name (255 bytes) nor can be trusted as a
path; blob files are named by random ids, so no key can ever reach outside `root`. The index
also gives listings in UTF-8 byte order (SQLite's BINARY collation compares UTF-8 bytes),
prefix/marker seeks on its primary key, and one transaction for "the container exists and
the object is recorded", so a put racing a container delete cannot leave an orphan object.

Atomicity: a body is written to tmp/, fsynced and renamed into blobs/ before the index row
that points at it is committed; readers open the blob named by the row they read. A crash
leaves at worst an unreferenced file in tmp/ or blobs/, never a visible partial object.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from drivers.objectstore.base import (
    DEFAULT_CONTENT_TYPE,
    ByteRange,
    ConditionFailed,
    ContainerInfo,
    ContainerNotEmpty,
    DriverError,
    IncompleteBody,
    NoSuchContainer,
    NoSuchObject,
    ObjectInfo,
    ObjectListing,
    ObjectSummary,
    PartInfo,
    check_container,
    check_key,
    check_limit,
    check_metadata,
    check_namespace,
    check_part_number,
    check_system_metadata,
    check_upload_id,
    fold_listing,
    resolve_range,
)

CHUNK_SIZE = 256 * 1024
_SCAN_BATCH = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS containers (
    name TEXT PRIMARY KEY,
    created INTEGER NOT NULL,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS objects (
    container TEXT NOT NULL,
    key TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    system_metadata TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (container, key)
) WITHOUT ROWID;
"""
# Columns added after the first release, for indexes created before them.
_ADDED_COLUMNS = {"system_metadata": "TEXT NOT NULL DEFAULT '{}'"}


class LocalObjectStore:
    """Objects on the local filesystem; the embedded default."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._initialized: set[str] = set()
        self._init_lock = threading.Lock()

    # ------------------------------------------------------------ containers

    def create_container(self, namespace: str, container: str) -> None:
        """Create a container; creating an existing one is not an error."""
        check_container(container)
        with self._write(namespace) as db:
            db.execute(
                "INSERT OR IGNORE INTO containers (name, created) VALUES (?, ?)",
                (container, int(time.time())),
            )

    def delete_container(self, namespace: str, container: str) -> None:
        """Delete an empty container."""
        check_container(container)
        with self._write(namespace) as db:
            self._require_container(db, namespace, container)
            # The rows, not the counters, decide: they are what a listing would show.
            if db.execute(
                "SELECT 1 FROM objects WHERE container = ? LIMIT 1", (container,)
            ).fetchone():
                raise ContainerNotEmpty(namespace, container)
            db.execute("DELETE FROM containers WHERE name = ?", (container,))
        # Parts of uploads never completed go with their container.
        shutil.rmtree(self._parts_dir(namespace, container), ignore_errors=True)

    def container_exists(self, namespace: str, container: str) -> bool:
        """Whether the container exists in this namespace."""
        check_container(container)
        with self._read(namespace) as db:
            return db is not None and _container_row(db, container) is not None

    def list_containers(self, namespace: str) -> list[ContainerInfo]:
        """Every container of the namespace, sorted by name."""
        with self._read(namespace) as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT name, created, object_count, bytes_used FROM containers ORDER BY name"
            ).fetchall()
        return [
            ContainerInfo(
                name=name, created=_datetime(created), object_count=count, bytes_used=used
            )
            for name, created, count, used in rows
        ]

    # ------------------------------------------------------------ objects

    def put_object(
        self,
        namespace: str,
        container: str,
        key: str,
        body: Iterable[bytes],
        *,
        content_type: str | None,
        metadata: Mapping[str, str],
        content_length: int | None = None,
        system_metadata: Mapping[str, str] | None = None,
        only_if_absent: bool = False,
        only_if_etag: str | None = None,
    ) -> ObjectInfo:
        """Stream `body` into an object, replacing any previous one atomically; the
        conditions are checked in the transaction that records it."""
        check_container(container)
        check_key(key)
        fields = _Fields(content_type, check_metadata(metadata), system_metadata)
        # Fail before streaming what may be gigabytes into a container that is not there.
        if not self.container_exists(namespace, container):
            raise NoSuchContainer(namespace, container)
        condition = (only_if_absent, only_if_etag)
        return self._store(namespace, container, key, body, content_length, fields, condition)

    def copy_object(
        self,
        namespace: str,
        container: str,
        key: str,
        *,
        source_namespace: str,
        source_container: str,
        source_key: str,
        content_type: str | None,
        metadata: Mapping[str, str],
        system_metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Copy the source's blob file by file into a new blob (streamed, never whole)."""
        check_container(container)
        check_key(key)
        fields = _Fields(content_type, check_metadata(metadata), system_metadata)
        source, file = self._open(source_namespace, source_container, source_key)
        with file:
            if not self.container_exists(namespace, container):
                raise NoSuchContainer(namespace, container)
            chunks = _FileChunks(file, source.size)
            return self._store(namespace, container, key, chunks, source.size, fields, None)

    def _store(
        self,
        namespace: str,
        container: str,
        key: str,
        body: Iterable[bytes],
        content_length: int | None,
        fields: _Fields,
        condition: tuple[bool, str | None] | None,
    ) -> ObjectInfo:
        """Write a new blob, then point the key at it (the blob it replaced goes)."""
        blob = uuid.uuid4().hex
        base = self.root / namespace
        temporary = base / "tmp" / blob
        final = _blob_path(base, blob)
        try:
            with open(temporary, "xb") as file:
                size, etag = _write_body(file, body, content_length)
            final.parent.mkdir(exist_ok=True)
            os.replace(temporary, final)
            _fsync_directory(final.parent)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        info = ObjectInfo(
            key=key,
            size=size,
            etag=fields.etag or etag,
            last_modified=_datetime(int(time.time())),
            content_type=fields.content_type or DEFAULT_CONTENT_TYPE,
            metadata=fields.metadata,
            system_metadata=check_system_metadata(fields.system_metadata),
        )
        try:
            replaced = self._record(namespace, container, blob, info, condition)
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        if replaced is not None:
            _blob_path(base, replaced).unlink(missing_ok=True)
        return info

    def get_object(
        self,
        namespace: str,
        container: str,
        key: str,
        *,
        byte_range: ByteRange | None = None,
    ) -> tuple[ObjectInfo, Iterator[bytes]]:
        """The object's info and its content (or `byte_range` of it) as a chunk stream."""
        info, file = self._open(namespace, container, key)
        try:
            first, last = 0, info.size - 1
            if byte_range is not None:
                first, last = resolve_range(byte_range, info.size)
            file.seek(first)
        except BaseException:
            file.close()
            raise
        return info, _FileChunks(file, last - first + 1)

    def head_object(self, namespace: str, container: str, key: str) -> ObjectInfo:
        """The object's info."""
        check_container(container)
        check_key(key)
        with self._read(namespace) as db:
            row = _object_row(db, namespace, container, key)
        return _object_info(key, row)

    def delete_object(self, namespace: str, container: str, key: str) -> None:
        """Delete an object; a missing key is not an error."""
        check_container(container)
        check_key(key)
        with self._write(namespace) as db:
            self._require_container(db, namespace, container)
            row = db.execute(
                "SELECT blob, size FROM objects WHERE container = ? AND key = ?",
                (container, key),
            ).fetchone()
            if row is None:
                return
            db.execute("DELETE FROM objects WHERE container = ? AND key = ?", (container, key))
            db.execute(
                "UPDATE containers SET object_count = object_count - 1,"
                " bytes_used = bytes_used - ? WHERE name = ?",
                (row[1], container),
            )
        # Only after the commit: a reader that read the row before still has the file open.
        _blob_path(self.root / namespace, row[0]).unlink(missing_ok=True)

    def list_objects(
        self,
        namespace: str,
        container: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        marker: str | None = None,
        limit: int = 1000,
    ) -> ObjectListing:
        """One page of keys after `marker`, in UTF-8 byte order, rolled up at `delimiter`."""
        check_container(container)
        check_limit(limit)
        with self._read(namespace) as db:
            if db is None or _container_row(db, container) is None:
                raise NoSuchContainer(namespace, container)

            def scan(after: str) -> Iterator[ObjectSummary]:
                while True:
                    rows = db.execute(
                        "SELECT key, size, etag, last_modified FROM objects"
                        " WHERE container = ? AND key > ? AND key >= ? ORDER BY key LIMIT ?",
                        (container, after, prefix, _SCAN_BATCH),
                    ).fetchall()
                    for key, size, etag, modified in rows:
                        if not key.startswith(prefix):
                            return
                        yield ObjectSummary(key, size, etag, _datetime(modified))
                    if len(rows) < _SCAN_BATCH:
                        return
                    after = rows[-1][0]

            return fold_listing(
                scan, prefix=prefix, delimiter=delimiter, marker=marker, limit=limit
            )

    # ------------------------------------------------------------ multipart uploads

    def put_part(
        self,
        namespace: str,
        container: str,
        upload_id: str,
        part_number: int,
        body: Iterable[bytes],
        *,
        content_length: int | None = None,
    ) -> PartInfo:
        """Stream one part into parts/<container digest>/<upload id>/<part number>."""
        check_container(container)
        check_upload_id(upload_id)
        check_part_number(part_number)
        if not self.container_exists(namespace, container):
            raise NoSuchContainer(namespace, container)
        final = self._upload_dir(namespace, container, upload_id) / f"{part_number:05d}"
        temporary = self.root / namespace / "tmp" / uuid.uuid4().hex
        try:
            with open(temporary, "xb") as file:
                size, etag = _write_body(file, body, content_length)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, final)  # a part uploaded again replaces the earlier one
            _fsync_directory(final.parent)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return PartInfo(part_number, size, etag)

    def complete_upload(
        self,
        namespace: str,
        container: str,
        key: str,
        upload_id: str,
        parts: Sequence[PartInfo],
        *,
        content_type: str | None,
        metadata: Mapping[str, str],
        etag: str,
        system_metadata: Mapping[str, str] | None = None,
        parts_container: str | None = None,
    ) -> ObjectInfo:
        """Join the part files into one new blob, stored as `put_object` stores a body
        (streamed, memory stays flat), then drop the upload's part files."""
        check_container(container)
        check_key(key)
        check_upload_id(upload_id)
        fields = _Fields(content_type, check_metadata(metadata), system_metadata, etag)
        if not self.container_exists(namespace, container):
            raise NoSuchContainer(namespace, container)
        directory = self._upload_dir(namespace, parts_container or container, upload_id)
        body = _joined_parts(directory, parts)
        size = sum(part.size for part in parts)
        info = self._store(namespace, container, key, body, size, fields, None)
        shutil.rmtree(directory, ignore_errors=True)
        return info

    def abort_upload(self, namespace: str, container: str, upload_id: str) -> None:
        """Delete the upload's part files."""
        check_container(container)
        check_upload_id(upload_id)
        check_namespace(namespace)
        shutil.rmtree(self._upload_dir(namespace, container, upload_id), ignore_errors=True)

    def _parts_dir(self, namespace: str, container: str) -> Path:
        # A digest, not the name: container names may be longer than a file name can be.
        digest = hashlib.sha256(container.encode("utf-8")).hexdigest()[:32]
        return self.root / namespace / "parts" / digest

    def _upload_dir(self, namespace: str, container: str, upload_id: str) -> Path:
        return self._parts_dir(namespace, container) / upload_id

    # ------------------------------------------------------------ internals

    def _record(
        self,
        namespace: str,
        container: str,
        blob: str,
        info: ObjectInfo,
        condition: tuple[bool, str | None] | None = None,
    ) -> str | None:
        """Point the key at `blob` and return the blob it replaced, if any."""
        with self._write(namespace) as db:
            self._require_container(db, namespace, container)
            old = db.execute(
                "SELECT blob, size, etag FROM objects WHERE container = ? AND key = ?",
                (container, info.key),
            ).fetchone()
            if condition is not None:
                only_if_absent, only_if_etag = condition
                if (only_if_absent and old) or (
                    only_if_etag is not None and (not old or old[2] != only_if_etag)
                ):
                    raise ConditionFailed(namespace, container, info.key)
            db.execute(
                "INSERT OR REPLACE INTO objects (container, key, blob, size, etag,"
                " last_modified, content_type, metadata, system_metadata)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    container,
                    info.key,
                    blob,
                    info.size,
                    info.etag,
                    int(info.last_modified.timestamp()),
                    info.content_type,
                    json.dumps(dict(info.metadata)),
                    json.dumps(dict(info.system_metadata)),
                ),
            )
            db.execute(
                "UPDATE containers SET object_count = object_count + ?,"
                " bytes_used = bytes_used + ? WHERE name = ?",
                (0 if old else 1, info.size - (old[1] if old else 0), container),
            )
        return old[0] if old else None

    def _open(self, namespace: str, container: str, key: str) -> tuple[ObjectInfo, BinaryIO]:
        check_container(container)
        check_key(key)
        # An overwrite or delete may unlink the blob between reading its row and opening it;
        # the row read again then names the new blob (or none). Bounded, not a spin.
        for _attempt in range(20):
            with self._read(namespace) as db:
                row = _object_row(db, namespace, container, key)
            try:
                file = open(_blob_path(self.root / namespace, row[0]), "rb")  # noqa: SIM115
            except FileNotFoundError:
                continue
            return _object_info(key, row), file
        raise NoSuchObject(namespace, container, key)

    @staticmethod
    def _require_container(db: sqlite3.Connection, namespace: str, container: str) -> None:
        if _container_row(db, container) is None:
            raise NoSuchContainer(namespace, container)

    @contextmanager
    def _read(self, namespace: str) -> Iterator[sqlite3.Connection | None]:
        """A connection inside a read transaction (one snapshot), or None: no namespace yet."""
        check_namespace(namespace)
        path = self.root / namespace / "index.sqlite3"
        if not path.exists():
            yield None
            return
        with closing(_connect(path)) as db:
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("ROLLBACK")

    @contextmanager
    def _write(self, namespace: str) -> Iterator[sqlite3.Connection]:
        """A connection inside a write transaction, committed unless the block raises."""
        check_namespace(namespace)
        self._initialize(namespace)
        with closing(_connect(self.root / namespace / "index.sqlite3")) as db:
            # IMMEDIATE takes the write lock up front: no read-then-upgrade deadlock.
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _initialize(self, namespace: str) -> None:
        with self._init_lock:
            if namespace in self._initialized:
                return
            base = self.root / namespace
            for directory in (base / "blobs", base / "tmp"):
                directory.mkdir(parents=True, exist_ok=True)
            with closing(_connect(base / "index.sqlite3")) as db:
                db.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
                db.executescript(_SCHEMA)
                present = {row[1] for row in db.execute("PRAGMA table_info(objects)")}
                for column, declaration in _ADDED_COLUMNS.items():
                    if column not in present:
                        db.execute(f"ALTER TABLE objects ADD COLUMN {column} {declaration}")
            _fsync_directory(base)
            self._initialized.add(namespace)


@dataclass(frozen=True, slots=True)
class _Fields:
    """What a new object is stored with, besides its bytes."""

    content_type: str | None
    metadata: dict[str, str]
    system_metadata: Mapping[str, str] | None
    etag: str | None = None  # instead of the content's md5 (a multipart object's ETag)


class _FileChunks:
    """An iterator over `remaining` bytes of an open file that closes it when done."""

    def __init__(self, file: BinaryIO, remaining: int) -> None:
        self._file = file
        self._remaining = remaining

    def __iter__(self) -> _FileChunks:
        return self

    def __next__(self) -> bytes:
        if self._remaining <= 0:
            self.close()
            raise StopIteration
        chunk = self._file.read(min(CHUNK_SIZE, self._remaining))
        if not chunk:  # the blob is shorter than its row says: never pad, stop
            self.close()
            raise StopIteration
        self._remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        """Release the file early when the reader stops before the end."""
        self._remaining = 0
        self._file.close()


def _write_body(
    file: BinaryIO, body: Iterable[bytes], content_length: int | None
) -> tuple[int, str]:
    """Copy `body` into `file`, fsync it, and return its size and hex md5."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    for chunk in body:
        size += len(chunk)
        if content_length is not None and size > content_length:
            raise IncompleteBody(content_length, size)
        digest.update(chunk)
        file.write(chunk)
    if content_length is not None and size != content_length:
        raise IncompleteBody(content_length, size)
    file.flush()
    os.fsync(file.fileno())
    return size, digest.hexdigest()


def _joined_parts(directory: Path, parts: Sequence[PartInfo]) -> Iterator[bytes]:
    """The parts' files one after the other; a part missing or of another size than
    recorded is an error (the caller's list and the files disagree)."""
    for part in parts:
        try:
            source = open(directory / f"{part.part_number:05d}", "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise DriverError(f"part {part.part_number} of the upload is missing") from None
        with source:
            if os.fstat(source.fileno()).st_size != part.size:
                raise DriverError(f"part {part.part_number} is not {part.size} bytes long")
            while chunk := source.read(CHUNK_SIZE * 4):
                yield chunk


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are opened explicitly by _read and _write.
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA synchronous = FULL")  # a committed put survives a power cut
    return db


def _container_row(db: sqlite3.Connection, container: str) -> tuple[int] | None:
    row: tuple[int] | None = db.execute(
        "SELECT 1 FROM containers WHERE name = ?", (container,)
    ).fetchone()
    return row


def _object_row(
    db: sqlite3.Connection | None, namespace: str, container: str, key: str
) -> tuple[str, int, str, int, str, str, str]:
    if db is None or _container_row(db, container) is None:
        raise NoSuchContainer(namespace, container)
    row: tuple[str, int, str, int, str, str, str] | None = db.execute(
        "SELECT blob, size, etag, last_modified, content_type, metadata, system_metadata"
        " FROM objects WHERE container = ? AND key = ?",
        (container, key),
    ).fetchone()
    if row is None:
        raise NoSuchObject(namespace, container, key)
    return row


def _object_info(key: str, row: tuple[str, int, str, int, str, str, str]) -> ObjectInfo:
    _blob, size, etag, modified, content_type, metadata, system_metadata = row
    return ObjectInfo(
        key=key,
        size=size,
        etag=etag,
        last_modified=_datetime(modified),
        content_type=content_type,
        metadata=json.loads(metadata),
        system_metadata=json.loads(system_metadata),
    )


def _blob_path(base: Path, blob: str) -> Path:
    # Two hex digits of fan-out keep directories small with millions of objects.
    return base / "blobs" / blob[:2] / blob


def _datetime(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _fsync_directory(path: Path) -> None:
    """Make a rename or a new entry in `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
