"""The object-store driver protocol: containers and objects inside a tenant's namespace.

A namespace is a tenant (a cloudgate account uuid); containers (S3 buckets) live inside a
namespace and objects inside a container. Every call is blocking and thread-safe; front ends
run them off the event loop.

Errors raised by drivers; nothing else escapes an adapter (backend exceptions are translated
inside it):

    DriverError
     ├── InvalidArgument        a namespace, container, key or metadata no backend can hold
     ├── NoSuchContainer
     ├── NoSuchObject
     ├── ContainerNotEmpty
     ├── InvalidRange           a byte range the object cannot satisfy (HTTP 416)
     ├── IncompleteBody         the body did not match the declared content length
     ├── ConditionFailed        a conditional write found the key in another state
     └── ObjectStoreUnavailable the backend is down or failing (connection refused, 5xx)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# Limits shared by every backend, so that a name valid on one is valid on all (Swift's own
# defaults: 256-byte container names, 1024-byte object names, 10,000-entry listing pages).
MAX_CONTAINER_NAME_BYTES = 256
MAX_KEY_BYTES = 1024
MAX_LIST_LIMIT = 1000
# User metadata limits are Swift's defaults (the stricter of Swift and S3).
MAX_METADATA_NAME_BYTES = 128
MAX_METADATA_VALUE_BYTES = 256
MAX_METADATA_COUNT = 90
MAX_METADATA_TOTAL_BYTES = 4096
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# Namespaces are account uuids; the rule is strict because a namespace becomes a Swift
# account name in a URL and a directory name on disk.
_NAMESPACE_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Metadata travels as HTTP headers (x-amz-meta-*, x-object-meta-*): names are header tokens.
_METADATA_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class DriverError(Exception):
    """Base of every error an object-store driver raises."""


class InvalidArgument(DriverError):
    # kind: "namespace", "container", "key" or "metadata", so a front end can pick its
    # wire error (InvalidBucketName, KeyTooLongError, MetadataTooLarge...).
    def __init__(self, kind: str, value: str, reason: str) -> None:
        super().__init__(f"invalid {kind} {value!r}: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason


class NoSuchContainer(DriverError):
    def __init__(self, namespace: str, container: str) -> None:
        super().__init__(f"no container {container!r} in namespace {namespace!r}")
        self.namespace = namespace
        self.container = container


class NoSuchObject(DriverError):
    def __init__(self, namespace: str, container: str, key: str) -> None:
        super().__init__(f"no object {key!r} in container {container!r}")
        self.namespace = namespace
        self.container = container
        self.key = key


class ContainerNotEmpty(DriverError):
    def __init__(self, namespace: str, container: str) -> None:
        super().__init__(f"container {container!r} is not empty")
        self.namespace = namespace
        self.container = container


class InvalidRange(DriverError):
    def __init__(self, byte_range: tuple[int, int | None], size: int | None) -> None:
        super().__init__(f"range {byte_range} not satisfiable for an object of {size} bytes")
        self.byte_range = byte_range
        self.size = size


class IncompleteBody(DriverError):
    def __init__(self, expected: int, received: int) -> None:
        super().__init__(f"body of {received} bytes does not match content length {expected}")
        self.expected = expected
        self.received = received


class ConditionFailed(DriverError):
    """A conditional put (only if absent / only over this etag) met another object."""

    def __init__(self, namespace: str, container: str, key: str) -> None:
        super().__init__(f"precondition failed writing {key!r} in container {container!r}")
        self.namespace = namespace
        self.container = container
        self.key = key


class ObjectStoreUnavailable(DriverError):
    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    name: str
    created: datetime | None
    # Swift updates these asynchronously (container updater): eventually consistent there.
    object_count: int
    bytes_used: int


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int  # the whole object's size, also when a range of it is read
    etag: str  # hex md5 of the content, unquoted
    last_modified: datetime  # aware UTC, whole seconds (HTTP dates carry no more)
    content_type: str = DEFAULT_CONTENT_TYPE
    # Keys are lowercased (HTTP headers are case-insensitive); Swift turns "_" into "-".
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    # What the front end keeps about the object (checksums …): never shown as user metadata.
    system_metadata: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class ObjectSummary:
    """One object in a listing: what S3 ListObjects shows, without user metadata."""

    key: str
    size: int
    etag: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ObjectListing:
    objects: list[ObjectSummary]
    common_prefixes: list[str]
    is_truncated: bool
    # The last key or common prefix returned, to pass as `marker` for the next page.
    next_marker: str | None


ByteRange = tuple[int, int | None]

# Multipart uploads: parts are numbered 1..MAX_PART_NUMBER, upload ids are opaque names the
# caller makes (a uuid) that become a directory or an object-name segment.
MAX_PART_NUMBER = 10_000
_UPLOAD_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One stored part of a multipart upload."""

    part_number: int
    size: int
    etag: str  # hex md5 of the part's content, unquoted


@runtime_checkable
class ObjectStore(Protocol):
    """What the core and the S3 front end need from an object store; nothing more."""

    def create_container(self, namespace: str, container: str) -> None:
        """Create a container; creating an existing one is not an error."""

    def delete_container(self, namespace: str, container: str) -> None:
        """Delete an empty container (ContainerNotEmpty, NoSuchContainer)."""

    def container_exists(self, namespace: str, container: str) -> bool:
        """Whether the container exists in this namespace."""

    def list_containers(self, namespace: str) -> list[ContainerInfo]:
        """Every container of the namespace, sorted by name."""

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
        """Stream `body` into an object, replacing any previous one atomically.

        `only_if_absent` / `only_if_etag`: ConditionFailed unless the key is free / holds an
        object with that etag when the write commits (Swift checks `only_if_etag` just before
        the upload starts: it cannot make that condition atomic)."""

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
        """Copy an object inside the store (the bytes never leave it), with the given
        content type and metadata; NoSuchObject/NoSuchContainer name the missing source."""

    def get_object(
        self,
        namespace: str,
        container: str,
        key: str,
        *,
        byte_range: ByteRange | None = None,
    ) -> tuple[ObjectInfo, Iterator[bytes]]:
        """The object's info and its content (or `byte_range` of it) as a chunk stream."""

    def head_object(self, namespace: str, container: str, key: str) -> ObjectInfo:
        """The object's info (NoSuchObject, NoSuchContainer)."""

    def delete_object(self, namespace: str, container: str, key: str) -> None:
        """Delete an object; a missing key is not an error (S3 semantics)."""

    def list_objects(
        self,
        namespace: str,
        container: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        marker: str | None = None,
        limit: int = MAX_LIST_LIMIT,
    ) -> ObjectListing:
        """One page of keys after `marker`, in UTF-8 byte order, rolled up at `delimiter`."""

    # Multipart uploads. The caller (the core) keeps the list of uploads and parts; the
    # store keeps their bytes, and forgets them when the container is deleted.

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
        """Stream one part of an upload, replacing an earlier part of that number."""

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
        """Join `parts` (in order) into the object `key`, replacing any previous one
        atomically, with `etag` as its ETag; then delete every part of the upload.
        `parts_container`: where the parts were sent, when the object goes to another
        container of the namespace (a new object version)."""

    def abort_upload(self, namespace: str, container: str, upload_id: str) -> None:
        """Delete every stored part of the upload; an unknown upload is not an error."""


def check_upload_id(upload_id: str) -> None:
    """Raise InvalidArgument unless `upload_id` is safe as a path or name segment."""
    if not _UPLOAD_ID_RE.fullmatch(upload_id):
        raise InvalidArgument("upload", upload_id, "expected 1-128 of [A-Za-z0-9_-]")


def check_part_number(part_number: int) -> None:
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidArgument("part", str(part_number), f"not within 1..{MAX_PART_NUMBER}")


def check_namespace(namespace: str) -> None:
    """Raise InvalidArgument unless `namespace` is usable as an account and a directory name."""
    if not _NAMESPACE_RE.fullmatch(namespace):
        raise InvalidArgument("namespace", namespace, "expected 1-128 of [A-Za-z0-9_-]")


def check_container(container: str) -> None:
    """Raise InvalidArgument unless every backend can hold a container of this name."""
    if container in ("", ".", "..") or "/" in container or "\x00" in container:
        raise InvalidArgument("container", container, "empty, '.', '..', or contains '/' or NUL")
    if len(_utf8(container, "container")) > MAX_CONTAINER_NAME_BYTES:
        raise InvalidArgument("container", container, f"over {MAX_CONTAINER_NAME_BYTES} bytes")


def check_key(key: str) -> None:
    """Raise InvalidArgument unless every backend can hold an object with this key."""
    if not key or "\x00" in key:
        raise InvalidArgument("key", key, "empty or contains NUL")
    if len(_utf8(key, "key")) > MAX_KEY_BYTES:
        raise InvalidArgument("key", key, f"over {MAX_KEY_BYTES} bytes")


def check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """Validate user metadata and return it with lowercased names."""
    if len(metadata) > MAX_METADATA_COUNT:
        raise InvalidArgument("metadata", str(len(metadata)), "too many entries")
    checked: dict[str, str] = {}
    total = 0
    for name, value in metadata.items():
        if not _METADATA_NAME_RE.fullmatch(name):
            raise InvalidArgument("metadata", name, "name is not an HTTP header token")
        if any(char in value for char in "\r\n\x00"):
            raise InvalidArgument("metadata", name, "value contains CR, LF or NUL")
        name_bytes = len(name.encode("ascii"))
        value_bytes = len(_utf8(value, "metadata"))
        if name_bytes > MAX_METADATA_NAME_BYTES or value_bytes > MAX_METADATA_VALUE_BYTES:
            raise InvalidArgument("metadata", name, "name or value too long")
        total += name_bytes + value_bytes
        checked[name.lower()] = value
    if total > MAX_METADATA_TOTAL_BYTES:
        raise InvalidArgument("metadata", str(total), "over 4096 bytes in all")
    return checked


def check_system_metadata(system_metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Validate system metadata (the front end's own: header-token names, one-line values)."""
    checked: dict[str, str] = {}
    for name, value in (system_metadata or {}).items():
        if not _METADATA_NAME_RE.fullmatch(name) or any(c in value for c in "\r\n\x00"):
            raise InvalidArgument("metadata", name, "not a valid system metadata entry")
        checked[name.lower()] = value
    return checked


def check_limit(limit: int) -> None:
    """Raise ValueError for a page size outside 0..MAX_LIST_LIMIT (a caller's bug)."""
    if not 0 <= limit <= MAX_LIST_LIMIT:
        raise ValueError(f"limit must be within 0..{MAX_LIST_LIMIT}, got {limit}")


def resolve_range(byte_range: ByteRange, size: int) -> tuple[int, int]:
    """The inclusive (first, last) byte offsets `byte_range` selects in `size` bytes.

    `(start, end)` and `(start, None)` follow HTTP's `bytes=start-end` and `bytes=start-`;
    `(-n, None)` is the suffix form `bytes=-n` (the last n bytes). An end past the object is
    clamped; a range starting past it, or any range of an empty object, is InvalidRange.
    """
    start, end = byte_range
    if start < 0:
        if end is not None:
            raise InvalidRange(byte_range, size)
        first = max(size + start, 0)
        last = size - 1
    else:
        if end is not None and end < start:
            raise InvalidRange(byte_range, size)
        first = start
        last = size - 1 if end is None else min(end, size - 1)
    if size == 0 or first >= size:
        raise InvalidRange(byte_range, size)
    return first, last


# The greatest code point: every key that starts with a common prefix P, other than those
# starting with P + _MAX_CHAR, sorts before P + _MAX_CHAR, so it is a good "skip past P" marker.
_MAX_CHAR = "\U0010ffff"


def fold_listing(
    scan: Callable[[str], Iterator[ObjectSummary]],
    *,
    prefix: str,
    delimiter: str | None,
    marker: str | None,
    limit: int,
) -> ObjectListing:
    """Build one listing page, S3/Swift style, from a plain ordered scan of the keys.

    `scan(after)` yields the objects whose key starts with `prefix` and sorts after `after`,
    in UTF-8 byte order. Keys are rolled up into common prefixes at the first `delimiter`
    after `prefix`; objects and common prefixes both count against `limit`. As in Swift, a
    common prefix equal to `marker` is not repeated on the next page.
    """
    entries: list[ObjectSummary | str] = []
    after = marker or ""
    rolled_up: str | None = None
    rescan = limit > 0
    while rescan and len(entries) <= limit:
        rescan = False
        for entry in scan(after):
            if rolled_up is not None and entry.key.startswith(rolled_up):
                continue  # left over from a skipped common prefix
            end = entry.key.find(delimiter, len(prefix)) if delimiter else -1
            if end < 0:
                entries.append(entry)
                if len(entries) > limit:
                    break
                continue
            rolled_up = entry.key[: end + len(delimiter or "")]
            if rolled_up != marker:
                entries.append(rolled_up)
            # Restart after the whole common prefix instead of reading through its keys.
            after = rolled_up + _MAX_CHAR
            rescan = True
            break
    return listing_page(entries, limit)


def listing_page(entries: list[ObjectSummary | str], limit: int) -> ObjectListing:
    """An ObjectListing from up to limit + 1 ordered entries (the extra one means "more")."""
    is_truncated = len(entries) > limit
    page = entries[:limit]
    next_marker = None
    if is_truncated and page:
        last = page[-1]
        next_marker = last if isinstance(last, str) else last.key
    return ObjectListing(
        objects=[entry for entry in page if not isinstance(entry, str)],
        common_prefixes=[entry for entry in page if isinstance(entry, str)],
        is_truncated=is_truncated,
        next_marker=next_marker,
    )


def _utf8(name: str, kind: str) -> bytes:
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError as error:  # lone surrogates cannot be stored anywhere
        raise InvalidArgument(kind, name, "not valid UTF-8") from error
