"""Multipart uploads on Swift: parts are segment objects, a completed upload is a Static
Large Object (SLO) manifest, as in Swift's own s3api middleware.

Layout, in the bucket owner's Swift account:

    <bucket>+segments/<upload id>/<part number, 5 digits>   one object per part
    <bucket>/<key>                                        the SLO manifest once completed

Upload ids are uuids, so a segment name stays short whatever the key's length (s3api puts the
key into it and cannot hold 1024-byte keys).

The S3 ETag of a multipart object (`md5(part md5s)-N`) is not Swift's SLO etag; it rides as
a `s3_etag` parameter of the manifest's Content-Type, which Swift returns on HEAD/GET and in
container listings alike, and `strip_s3_etag` takes it off again.

Nothing is left behind: deleting or overwriting a manifest deletes its segments (after the
new object is in place), aborting deletes the upload's segments, completing deletes the
parts not listed, and deleting the bucket deletes its segments container.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

# A cycle by design: swift.py builds a `Segments`, this module uses swift.py's request and
# header helpers; neither touches the other at import time.
from drivers.objectstore import swift as _swift
from drivers.objectstore.base import (
    DEFAULT_CONTENT_TYPE,
    DriverError,
    NoSuchContainer,
    ObjectInfo,
    PartInfo,
    check_metadata,
    check_part_number,
    check_system_metadata,
    check_upload_id,
)

if TYPE_CHECKING:
    from drivers.objectstore.swift import SwiftObjectStore

SEGMENTS_SUFFIX = "+segments"
_S3_ETAG = re.compile(r";\s*s3_etag=([^;]*)")


def segments_container(container: str) -> str:
    return container + SEGMENTS_SUFFIX


def segment_name(upload_id: str, part_number: int) -> str:
    return f"{upload_id}/{part_number:05d}"


def strip_s3_etag(content_type: str) -> tuple[str, str | None]:
    """(the content type without our parameter, the S3 ETag it carried or None)."""
    match = _S3_ETAG.search(content_type)
    if match is None:
        return content_type, None
    return content_type[: match.start()] + content_type[match.end() :], match.group(1).strip()


class Segments:
    """The multipart half of `SwiftObjectStore`, kept apart to keep each module small."""

    def __init__(self, store: SwiftObjectStore) -> None:
        self._store = store

    def put_part(
        self,
        namespace: str,
        container: str,
        upload_id: str,
        part_number: int,
        body: Iterable[bytes],
        content_length: int | None,
    ) -> PartInfo:
        check_upload_id(upload_id)
        check_part_number(part_number)
        store = self._store
        if not store.container_exists(namespace, container):
            raise NoSuchContainer(namespace, container)
        segments = segments_container(container)
        store.create_container(namespace, segments)
        info = store.put_object(
            namespace,
            segments,
            segment_name(upload_id, part_number),
            body,
            content_type=None,
            metadata={},
            content_length=content_length,
        )
        return PartInfo(part_number, info.size, info.etag)

    def complete(
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
        """PUT the manifest (Swift checks every segment's etag and size), then delete the
        parts not listed and the segments of the object this one replaced."""
        check_upload_id(upload_id)
        store = self._store
        path = store._path(namespace, container, key)
        replaced = self.manifest_segments(path)
        segments = segments_container(parts_container or container)
        manifest = [
            {
                "path": f"/{segments}/{segment_name(upload_id, part.part_number)}",
                "etag": part.etag,
                "size_bytes": part.size,
            }
            for part in parts
        ]
        metadata = check_metadata(metadata)
        system_metadata = check_system_metadata(system_metadata)
        headers = _swift._object_headers(
            content_type or DEFAULT_CONTENT_TYPE, metadata, system_metadata
        )
        headers["Content-Type"] += f"; s3_etag={etag}"
        response = store._request(
            "PUT",
            path,
            headers=headers,
            data=json.dumps(manifest).encode(),
            query="multipart-manifest=put",
        )
        if response.status_code == 404:
            raise NoSuchContainer(namespace, container)
        if response.status_code != 201:
            raise DriverError(f"swift refused the manifest: {response.status_code} "
                              f"{response.text[:500]}")  # fmt: skip
        listed = {segment_name(upload_id, part.part_number) for part in parts}
        self._delete(namespace, segments, self._upload_segments(namespace, segments, upload_id),
                     keep=listed)  # fmt: skip
        self.delete_segments(namespace, replaced, keep={f"{segments}/{name}" for name in listed})

        return ObjectInfo(
            key=key,
            size=sum(part.size for part in parts),
            etag=etag,
            last_modified=_swift._http_time(response.headers.get("Last-Modified")),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            metadata=metadata,
            system_metadata=system_metadata,
        )

    def abort(self, namespace: str, container: str, upload_id: str) -> None:
        check_upload_id(upload_id)
        segments = segments_container(container)
        self._delete(namespace, segments, self._upload_segments(namespace, segments, upload_id))

    def manifest_segments(self, path: str) -> list[str]:
        """The segments ("container/object") of the SLO manifest at `path`; [] when the
        object is missing or not a manifest. Read before the manifest is replaced."""
        store = self._store
        response = store._request("HEAD", path)
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            _swift._unexpected(response)
        if response.headers.get("X-Static-Large-Object", "").lower() != "true":
            return []
        response = store._request("GET", path, query="multipart-manifest=get")
        if response.status_code == 404:
            return []  # deleted meanwhile, and its segments with it
        if response.status_code != 200:
            _swift._unexpected(response)
        entries: list[dict[str, Any]] = response.json()
        return [entry["name"].lstrip("/") for entry in entries if "name" in entry]

    def delete_segments(
        self, namespace: str, names: Iterable[str], keep: set[str] | frozenset[str] = frozenset()
    ) -> None:
        """Delete segments named "container/object", only in segments containers."""
        for name in names:
            container, _, segment = name.partition("/")
            if container.endswith(SEGMENTS_SUFFIX) and segment and name not in keep:
                self._delete(namespace, container, [segment])

    def drop_container(self, namespace: str, container: str) -> None:
        """Delete the segments container of a deleted bucket, with whatever is in it."""
        segments = segments_container(container)
        self._delete(namespace, segments, self._upload_segments(namespace, segments, ""))
        response = self._store._request("DELETE", self._store._path(namespace, segments))
        if response.status_code not in (204, 404, 409):  # 409: a part landed meanwhile
            _swift._unexpected(response)

    def _upload_segments(self, namespace: str, segments: str, upload_id: str) -> list[str]:
        """Every segment name under `<upload id>/` ("" for all) in the segments container."""
        store = self._store
        prefix = f"{upload_id}/" if upload_id else ""
        path = store._path(namespace, segments)
        names: list[str] = []
        marker = ""
        while True:
            try:
                page = store._listing(namespace, segments, path, 1000, prefix, marker)
            except NoSuchContainer:
                return names
            names.extend(entry["name"] for entry in page)
            if len(page) < 1000:
                return names
            marker = page[-1]["name"]

    def _delete(
        self,
        namespace: str,
        container: str,
        names: Iterable[str],
        keep: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        store = self._store
        for name in names:
            if name in keep:
                continue
            response = store._request("DELETE", store._path(namespace, container, name))
            if response.status_code not in (204, 404):
                _swift._unexpected(response)
