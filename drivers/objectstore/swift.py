"""The OpenStack Swift object store: each namespace is its own Swift account.

The driver authenticates once (tempauth v1.0) as a reseller admin, which may address any
account under the reseller prefix; namespace X is the account `<account_prefix>X`, created on
first use by the proxy (`account_autocreate = true`). A bucket made by tenant X is therefore a
container that `swift --os-storage-url <proxy>/v1/AUTH_X list` shows.

Requests go through python-swiftclient's HTTPConnection (one per thread; a requests session
underneath, so sockets are pooled), but the paths are built here rather than by swiftclient's
helpers: those quote object names with "/" and "." left as is, and requests then removes
"." and ".." segments, so a key "a/../b" was stored as "b", and "../../AUTH_other/c/k" would
have reached another tenant's account. Here "." and ".." segments are sent percent-encoded,
which survives requests' normalisation and arrives at Swift as the literal name.

Every requests/swiftclient exception and every unexpected status is translated into a
DriverError inside this module (see `_unavailable` and `_unexpected`).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn
from urllib.parse import quote, unquote, urlparse

import requests
from swiftclient.client import ClientException, HTTPConnection, get_auth

from drivers.objectstore import swift_segments
from drivers.objectstore.base import (
    DEFAULT_CONTENT_TYPE,
    ByteRange,
    ConditionFailed,
    ContainerInfo,
    ContainerNotEmpty,
    DriverError,
    IncompleteBody,
    InvalidRange,
    NoSuchContainer,
    NoSuchObject,
    ObjectInfo,
    ObjectListing,
    ObjectStoreUnavailable,
    ObjectSummary,
    PartInfo,
    check_container,
    check_key,
    check_limit,
    check_metadata,
    check_namespace,
    check_system_metadata,
    fold_listing,
    listing_page,
)

# A download's chunk: each one crosses from a worker thread to the event loop, and with
# 256 KiB chunks those hops were about half the server's CPU in a large GET (py-spy, bench/s3.py).
# Memory is one chunk a download.
CHUNK_SIZE = 1024 * 1024
_META_PREFIX = "x-object-meta-"
# System metadata rides in user-metadata headers under a name no user name can encode to
# ("%3A" is never produced by `_encode_meta_name`, which only escapes "%" and "_").
_SYSTEM_PREFIX = _META_PREFIX + "cg%3a"
# tempauth tokens live a day by default; renewing well before that means an upload (which
# cannot be replayed once its body has been read) never meets an expired token.
_TOKEN_RENEW_AFTER = 3600.0
_LISTING_PAGE = 1000


class SwiftObjectStore:
    """Objects in OpenStack Swift, one Swift account per namespace."""

    def __init__(
        self,
        auth_url: str,
        user: str,
        key: str,
        *,
        account_prefix: str = "AUTH_",
        timeout: float = 60.0,
    ) -> None:
        self._auth = _Auth(auth_url, user, key, timeout)
        self._account_prefix = account_prefix
        self._timeout = timeout
        self._local = threading.local()
        self._connections: list[HTTPConnection] = []
        self._connections_lock = threading.Lock()
        self._key_locks = _KeyLocks()
        self._segments = swift_segments.Segments(self)

    def close(self) -> None:
        """Close the pooled connections of every thread."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    # ------------------------------------------------------------ containers

    def create_container(self, namespace: str, container: str) -> None:
        """Create a container; creating an existing one is not an error."""
        response = self._request("PUT", self._path(namespace, container))
        if response.status_code not in (201, 202):
            _unexpected(response)

    def delete_container(self, namespace: str, container: str) -> None:
        """Delete an empty container."""
        response = self._request("DELETE", self._path(namespace, container))
        if response.status_code == 404:
            raise NoSuchContainer(namespace, container)
        if response.status_code == 409:
            raise ContainerNotEmpty(namespace, container)
        if response.status_code != 204:
            _unexpected(response)
        self._segments.drop_container(namespace, container)  # parts of unfinished uploads

    def container_exists(self, namespace: str, container: str) -> bool:
        """Whether the container exists in this namespace."""
        response = self._request("HEAD", self._path(namespace, container))
        if response.status_code == 404:
            return False
        if response.status_code not in (200, 204):
            _unexpected(response)
        return True

    def list_containers(self, namespace: str) -> list[ContainerInfo]:
        """Every container of the namespace, sorted by name."""
        containers: list[ContainerInfo] = []
        marker = ""
        while True:
            query = _query(format="json", limit=str(10_000), marker=marker)
            response = self._request("GET", self._path(namespace), query=query)
            if response.status_code == 404:  # an account nobody has written to yet
                return containers
            if response.status_code == 204:
                return containers
            if response.status_code != 200:
                _unexpected(response)
            page = response.json()
            if not page:
                return containers
            containers.extend(
                ContainerInfo(
                    name=entry["name"],
                    created=_listing_time(entry["last_modified"], ceil=False)
                    if "last_modified" in entry
                    else None,
                    object_count=entry["count"],
                    bytes_used=entry["bytes"],
                )
                for entry in page
            )
            marker = page[-1]["name"]

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
        """Stream `body` into an object, replacing any previous one atomically.

        `only_if_absent` is Swift's own `If-None-Match: *`; `only_if_etag` is checked with a
        HEAD just before the upload. Swift checks `If-None-Match: *` when a PUT starts, so
        two overlapping uploads would both pass it: conditional writes of one key are
        serialised in this process. System metadata that appears only once the body has
        been read (trailing checksums) is added by a POST right after the PUT."""
        path = self._path(namespace, container, key)
        metadata = check_metadata(metadata)
        sent_system = check_system_metadata(system_metadata)
        headers = _object_headers(content_type, metadata, sent_system)
        if only_if_absent:
            headers["If-None-Match"] = "*"
        conditional = only_if_absent or only_if_etag is not None
        with self._key_locks.hold(path) if conditional else contextlib.nullcontext():
            if only_if_etag is not None and self._etag_or_none(path) != only_if_etag:
                raise ConditionFailed(namespace, container, key)
            replaced = self._segments.manifest_segments(path)  # a multipart object's, to delete
            upload = _Upload(body, content_length)
            data: Any = upload
            if content_length == 0:  # requests would send an empty sized body as chunked
                upload.drain()
                data = b""
            try:
                response = self._request("PUT", path, headers=headers, data=data, replayable=False)
            except ObjectStoreUnavailable:
                # Swift may drop the connection while the body is still being sent when it
                # refuses the PUT early; a missing container (or a taken key) is the usual reason.
                if not self.container_exists(namespace, container):
                    raise NoSuchContainer(namespace, container) from None
                if only_if_absent and self._etag_or_none(path) is not None:
                    raise ConditionFailed(namespace, container, key) from None
                raise
            if response.status_code == 404:
                raise NoSuchContainer(namespace, container)
            if response.status_code == 412:
                raise ConditionFailed(namespace, container, key)
            if response.status_code != 201:
                _unexpected(response)
            etag = response.headers.get("Etag", "").strip('"')
            if etag != upload.md5:
                raise DriverError(f"swift stored {key!r} with etag {etag}, sent md5 {upload.md5}")
            self._segments.delete_segments(namespace, replaced)
            last_modified = response.headers.get("Last-Modified")
            final_system = check_system_metadata(system_metadata)
            if final_system != sent_system:
                headers = _object_headers(content_type, metadata, final_system)
                last_modified = self._post_metadata(path, headers) or last_modified
            return ObjectInfo(
                key=key,
                size=upload.size,
                etag=etag,
                last_modified=_http_time(last_modified),
                content_type=headers["Content-Type"],
                metadata=metadata,
                system_metadata=final_system,
            )

    def _post_metadata(self, path: str, headers: Mapping[str, str]) -> str | None:
        """Replace an object's metadata (Swift's POST keeps the content and its etag);
        the new Last-Modified, which a POST moves."""
        response = self._request("POST", path, headers=headers)
        if response.status_code not in (200, 202, 204):
            _unexpected(response)
        return self._head_headers(path).get("Last-Modified")

    def _head_headers(self, path: str) -> Mapping[str, str]:
        response = self._request("HEAD", path)
        if response.status_code != 200:
            _unexpected(response)
        return response.headers

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
        """A server-side copy by Swift's copy middleware (`X-Copy-From`, across accounts
        with `X-Copy-From-Account`); the new object gets exactly the metadata given."""
        path = self._path(namespace, container, key)
        source_path = self._path(source_namespace, source_container, source_key)
        account, _, source_object = source_path[1:].partition("/")
        headers = _object_headers(
            content_type, check_metadata(metadata), check_system_metadata(system_metadata)
        )
        headers.update(
            {
                "X-Copy-From": "/" + source_object,
                "X-Copy-From-Account": unquote(account),
                "X-Fresh-Metadata": "true",
                "Content-Length": "0",
            }
        )
        replaced = self._segments.manifest_segments(path)  # a multipart object's, to delete
        response = self._request("PUT", path, headers=headers, data=b"")
        if response.status_code == 404:
            self.head_object(source_namespace, source_container, source_key)  # which is gone?
            raise NoSuchContainer(namespace, container)
        if response.status_code != 201:
            _unexpected(response)
        self._segments.delete_segments(namespace, replaced)
        return self.head_object(namespace, container, key)

    def get_object(
        self,
        namespace: str,
        container: str,
        key: str,
        *,
        byte_range: ByteRange | None = None,
    ) -> tuple[ObjectInfo, Iterator[bytes]]:
        """The object's info and its content (or `byte_range` of it) as a chunk stream."""
        path = self._path(namespace, container, key)
        headers = {"Range": _range_header(byte_range)} if byte_range is not None else {}
        response = self._request("GET", path, headers=headers, stream=True)
        try:
            if response.status_code == 416:
                raise InvalidRange(byte_range or (0, None), _range_total(response))
            if response.status_code == 404:
                self._raise_missing(namespace, container, key)
            if response.status_code == 206 and byte_range is not None:
                size = _range_total(response)
            elif response.status_code == 200 and byte_range is None:
                size = int(response.headers["Content-Length"])
            else:
                _unexpected(response)
            info = _object_info(key, response.headers, size)
        except BaseException:
            response.close()
            raise
        return info, _ResponseChunks(response)

    def head_object(self, namespace: str, container: str, key: str) -> ObjectInfo:
        """The object's info."""
        response = self._request("HEAD", self._path(namespace, container, key))
        if response.status_code == 404:
            self._raise_missing(namespace, container, key)
        if response.status_code != 200:
            _unexpected(response)
        return _object_info(key, response.headers, int(response.headers["Content-Length"]))

    def delete_object(self, namespace: str, container: str, key: str) -> None:
        """Delete an object (a multipart one with its segments); a missing key is not an
        error."""
        path = self._path(namespace, container, key)
        segments = self._segments.manifest_segments(path)
        response = self._request("DELETE", path)
        if response.status_code == 404:
            if not self.container_exists(namespace, container):
                raise NoSuchContainer(namespace, container)
            return
        if response.status_code != 204:
            _unexpected(response)
        self._segments.delete_segments(namespace, segments)

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
        """Stream one part into the segment `<container>+segments/<upload id>/<part>`."""
        return self._segments.put_part(
            namespace, container, upload_id, part_number, body, content_length
        )

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
        """Write a Static Large Object manifest of the parts (see swift_segments)."""
        return self._segments.complete(
            namespace,
            container,
            key,
            upload_id,
            parts,
            content_type=content_type,
            metadata=metadata,
            etag=etag,
            system_metadata=system_metadata,
            parts_container=parts_container,
        )

    def abort_upload(self, namespace: str, container: str, upload_id: str) -> None:
        """Delete the upload's segments."""
        self._segments.abort(namespace, container, upload_id)

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
        check_limit(limit)
        path = self._path(namespace, container)
        if delimiter and (len(delimiter) > 1 or ord(delimiter) > 254):
            # Swift's container server takes one character up to U+00FE as a delimiter;
            # others are rolled up here from a plain listing.
            def scan(after: str) -> Iterator[ObjectSummary]:
                while True:
                    page = self._listing(namespace, container, path, _LISTING_PAGE, prefix, after)
                    yield from (_summary(entry) for entry in page)
                    if len(page) < _LISTING_PAGE:
                        return
                    after = page[-1]["name"]

            return fold_listing(
                scan, prefix=prefix, delimiter=delimiter, marker=marker, limit=limit
            )
        if limit == 0:
            self._listing(namespace, container, path, 1, prefix, marker)  # NoSuchContainer?
            return ObjectListing([], [], False, None)
        # One more than asked tells whether the page is truncated.
        page = self._listing(namespace, container, path, limit + 1, prefix, marker, delimiter)
        entries = [entry["subdir"] if "subdir" in entry else _summary(entry) for entry in page]
        return listing_page(entries, limit)

    # ------------------------------------------------------------ internals

    def _listing(
        self,
        namespace: str,
        container: str,
        path: str,
        limit: int,
        prefix: str,
        marker: str | None,
        delimiter: str | None = None,
    ) -> list[dict[str, Any]]:
        query = _query(
            format="json",
            limit=str(limit),
            prefix=prefix,
            marker=marker or "",
            delimiter=delimiter or "",
        )
        response = self._request("GET", path, query=query)
        if response.status_code == 404:
            raise NoSuchContainer(namespace, container)
        if response.status_code == 204:
            return []
        if response.status_code != 200:
            _unexpected(response)
        listing: list[dict[str, Any]] = response.json()
        return listing

    def _etag_or_none(self, path: str) -> str | None:
        """The etag of the object at `path`, None when there is none."""
        response = self._request("HEAD", path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            _unexpected(response)
        return response.headers.get("Etag", "").strip('"')

    def _raise_missing(self, namespace: str, container: str, key: str) -> NoReturn:
        # Swift answers 404 for a missing object and for a missing container alike.
        if self.container_exists(namespace, container):
            raise NoSuchObject(namespace, container, key)
        raise NoSuchContainer(namespace, container)

    def _path(self, namespace: str, container: str | None = None, key: str | None = None) -> str:
        """The URL path below /v1, with names validated and quoted."""
        check_namespace(namespace)
        path = "/" + quote(self._account_prefix + namespace, safe="")
        if container is not None:
            check_container(container)
            path += "/" + _quote_segment(container)
        if key is not None:
            check_key(key)
            path += "/" + "/".join(_quote_segment(segment) for segment in key.split("/"))
        return path

    def _request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        query: str = "",
        stream: bool = False,
        replayable: bool = True,
    ) -> requests.Response:
        """Send one request with a valid token; renew the token once on 401 if replayable."""
        for attempt in range(2):
            base_path, token = self._auth.token()
            full_path = base_path + path + ("?" + query if query else "")
            request_headers = {"X-Auth-Token": token, **(headers or {})}
            try:
                response: requests.Response = self._connection().request(
                    method, full_path, data, request_headers
                )
                if not stream or response.status_code >= 300:
                    _ = response.content  # read it all: the socket goes back to the pool
            except requests.RequestException as error:
                raise ObjectStoreUnavailable(f"swift {method} {path}: {error}") from error
            if response.status_code != 401:
                return response
            response.close()
            self._auth.forget(token)
            if not replayable or attempt:
                break
        raise ObjectStoreUnavailable(f"swift refused the token for {method} {path}", 401)

    def _connection(self) -> HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = HTTPConnection(self._auth.proxy_url(), timeout=self._timeout)
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection


class _KeyLocks:
    """One lock per object path while someone holds it (the table never grows unbounded)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def hold(self, path: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(path, (threading.Lock(), 0))
            self._locks[path] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[path]
                if users == 1:
                    del self._locks[path]
                else:
                    self._locks[path] = (lock, users - 1)


class _Auth:
    """One token shared by all threads, fetched lazily and renewed when old or refused."""

    def __init__(self, auth_url: str, user: str, key: str, timeout: float) -> None:
        self._auth_url = auth_url
        self._user = user
        self._key = key
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._storage_url = ""
        self._fetched = 0.0

    def token(self) -> tuple[str, str]:
        """(path of the storage root, e.g. "/v1", token)."""
        with self._lock:
            if self._token is None or time.monotonic() - self._fetched > _TOKEN_RENEW_AFTER:
                self._fetch()
            assert self._token is not None
            return urlparse(self._storage_url).path.rsplit("/", 1)[0], self._token

    def proxy_url(self) -> str:
        """scheme://host:port of the proxy, as the auth service named it."""
        self.token()
        parsed = urlparse(self._storage_url)
        return f"{parsed.scheme}://{parsed.netloc}"

    def forget(self, token: str) -> None:
        """Drop `token` (refused by Swift) unless another thread already renewed it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> None:
        try:
            # The storage URL names our own account; only its /v1 root and host are used.
            self._storage_url, self._token = get_auth(
                self._auth_url, self._user, self._key, auth_version="1.0", timeout=self._timeout
            )
        except ClientException as error:
            raise ObjectStoreUnavailable(
                f"swift auth failed: {error}", error.http_status
            ) from error
        except requests.RequestException as error:
            raise ObjectStoreUnavailable(f"swift auth unreachable: {error}") from error
        self._fetched = time.monotonic()


class _Upload:
    """The request body: passes chunks through, counting and hashing them on the way."""

    def __init__(self, body: Iterable[bytes], content_length: int | None) -> None:
        self._body = body
        self._content_length = content_length
        self._digest = hashlib.md5(usedforsecurity=False)
        self.size = 0

    @property
    def md5(self) -> str:
        return self._digest.hexdigest()

    def __bool__(self) -> bool:
        return True  # requests tests `data or {}`; that must not ask for the length

    def __len__(self) -> int:
        # requests sends Content-Length when the body has a length, else chunked encoding.
        if self._content_length is None:
            raise TypeError("length unknown")
        return self._content_length

    def __iter__(self) -> Iterator[bytes]:
        # Each chunk is held back until the next one (or the end) has been seen: the chunk
        # that completes the announced length must not leave before the body is known to
        # end there, or Swift would store the object although this upload then fails. An
        # error raised here aborts the request with the body short, so Swift stores nothing.
        pending = b""
        for chunk in self._body:
            if not chunk:
                continue  # an empty chunk would end a chunked body early
            self.size += len(chunk)
            if self._content_length is not None and self.size > self._content_length:
                raise IncompleteBody(self._content_length, self.size)
            self._digest.update(chunk)
            if pending:
                yield pending
            pending = chunk
        if self._content_length is not None and self.size != self._content_length:
            raise IncompleteBody(self._content_length, self.size)
        if pending:
            yield pending

    def drain(self) -> None:
        """Consume the body without sending it (used for an announced empty body)."""
        for _chunk in self:
            pass


class _ResponseChunks:
    """An iterator over a streamed response body that releases it when done."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self._chunks = response.iter_content(CHUNK_SIZE)

    def __iter__(self) -> _ResponseChunks:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except requests.RequestException as error:
            self.close()
            raise ObjectStoreUnavailable(f"swift download interrupted: {error}") from error

    def close(self) -> None:
        """Release the connection early when the reader stops before the end."""
        self._response.close()


def _unexpected(response: requests.Response) -> NoReturn:
    status = response.status_code
    detail = f"swift answered {status} {response.reason}"
    if status >= 500 or status in (401, 403):
        raise ObjectStoreUnavailable(detail, status)
    raise DriverError(detail)


def _quote_segment(segment: str) -> str:
    if segment in (".", ".."):
        return segment.replace(".", "%2E")
    return quote(segment, safe="")


def _query(**params: str) -> str:
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items() if value)


def _range_header(byte_range: ByteRange) -> str:
    # Swift ignores a malformed Range and answers with the whole object; refuse it here.
    start, end = byte_range
    if start < 0:
        if end is not None:
            raise InvalidRange(byte_range, None)
        return f"bytes=-{-start}"
    if end is None:
        return f"bytes={start}-"
    if end < start:
        raise InvalidRange(byte_range, None)
    return f"bytes={start}-{end}"


def _range_total(response: requests.Response) -> int | None:
    # "bytes 0-9/100" or "bytes */100"
    content_range = response.headers.get("Content-Range", "")
    total = content_range.rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _object_headers(
    content_type: str | None, metadata: Mapping[str, str], system_metadata: Mapping[str, str]
) -> dict[str, str]:
    # An explicit type: Swift would otherwise guess one from the key's extension. A client's
    # `s3_etag` parameter is dropped: only a multipart manifest may carry one.
    content_type = swift_segments.strip_s3_etag(content_type or DEFAULT_CONTENT_TYPE)[0]
    headers = {"Content-Type": content_type}
    headers.update({_META_PREFIX + _encode_meta_name(n): v for n, v in metadata.items()})
    headers.update({_SYSTEM_PREFIX + name: value for name, value in system_metadata.items()})
    return headers


def _object_info(key: str, headers: Mapping[str, str], size: int | None) -> ObjectInfo:
    metadata: dict[str, str] = {}
    system_metadata: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered.startswith(_SYSTEM_PREFIX):
            system_metadata[lowered[len(_SYSTEM_PREFIX) :]] = value
        elif lowered.startswith(_META_PREFIX):
            metadata[_decode_meta_name(name[len(_META_PREFIX) :])] = _header_text(value)
    if size is None:
        raise DriverError(f"swift gave no size for {key!r}")
    content_type, s3_etag = swift_segments.strip_s3_etag(
        headers.get("Content-Type", DEFAULT_CONTENT_TYPE)
    )
    return ObjectInfo(
        key=key,
        size=size,
        etag=s3_etag or headers.get("Etag", "").strip('"'),
        last_modified=_http_time(headers.get("Last-Modified")),
        content_type=content_type,
        metadata=metadata,
        system_metadata=system_metadata,
    )


def _summary(entry: dict[str, Any]) -> ObjectSummary:
    return ObjectSummary(
        key=entry["name"],
        size=entry["bytes"],
        etag=swift_segments.strip_s3_etag(entry.get("content_type", ""))[1] or entry["hash"],
        last_modified=_listing_time(entry["last_modified"], ceil=True),
    )


def _encode_meta_name(name: str) -> str:
    # Swift's WSGI layer turns "_" in header names into "-"; escape it (and "%", the escape
    # character) so that metadata names come back exactly as they were stored.
    return name.replace("%", "%25").replace("_", "%5F")


def _decode_meta_name(name: str) -> str:
    return unquote(name).lower()


def _header_text(value: str) -> str:
    # requests decodes header bytes as latin-1; Swift stored the UTF-8 bytes we sent.
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _http_time(value: str | None) -> datetime:
    if not value:
        raise DriverError("swift gave no Last-Modified")
    return parsedate_to_datetime(value).astimezone(UTC)


def _listing_time(value: str, *, ceil: bool) -> datetime:
    """A listing timestamp in whole seconds; `ceil` matches the objects' Last-Modified."""
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if ceil and moment.microsecond else whole
