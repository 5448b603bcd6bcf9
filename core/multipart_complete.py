"""Completing multipart uploads, and listing the uploads of a bucket (see core.multipart).

Completion checks the client's part list against the recorded parts (InvalidPart,
InvalidPartOrder, PartTooSmall for any part but the last under 5 MiB), computes S3's
multipart ETag — the md5 of the parts' binary md5s, then `-<number of parts>` — and, when the
upload was created with a checksum algorithm, the composite checksum the same way; then the
store joins the parts. Only the state change is transactional: the join may take a while.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

import google_crc32c
import sqlalchemy as sa
from sqlalchemy.orm import Session

import drivers.objectstore.base as objectstore
from core import buckets, object_versions
from core.buckets import READ, Bucket, BucketHandle
from core.context import CallContext
from core.db import Database, utcnow
from core.errors import InvalidParameter
from core.multipart import (
    COMPLETED,
    COMPLETING,
    LIST_UPLOADS,
    MIN_PART_SIZE,
    UPLOADING,
    InvalidPart,
    InvalidPartOrder,
    MultipartPart,
    MultipartUpload,
    NoSuchUpload,
    PartTooSmall,
    UploadBusy,
    UploadTarget,
    delete_parts,
    is_busy,
    metadata_of,
    upload_row,
)
from core.object_copy import CHECKSUM_PREFIX

# The algorithms whose composite checksum is computed (as S3 does: over the parts' own).
_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "CRC32C": lambda data: google_crc32c.value(data).to_bytes(4, "big"),
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
}
FULL_OBJECT = "FULL_OBJECT"  # a checksum type (the other: COMPOSITE)
_AFTER_ALL = "\U0010ffff"  # sorts after every key that starts with a given prefix
_SCAN_BATCH = 500


@dataclass(frozen=True)
class RequestedPart:
    """One entry of the client's CompleteMultipartUpload list."""

    part_number: int
    etag: str  # hex md5, unquoted
    checksum: str | None = None


@dataclass(frozen=True)
class CompletedUpload:
    key: str
    etag: str
    checksum_algorithm: str | None
    checksum: str | None  # composite "<base64>-N"
    version_id: str | None  # in a versioned bucket


def complete_upload(
    db: Database,
    store: objectstore.ObjectStore,
    ctx: CallContext,
    bucket_name: str,
    key: str,
    upload_id: str,
    requested: Sequence[RequestedPart],
) -> CompletedUpload:
    """Join the listed parts into the object (a new version in a versioned bucket); the
    same answer again when retried."""
    listed = json.dumps([[part.part_number, part.etag] for part in requested])
    with db.write() as session:
        target = _completable(session, ctx, bucket_name, key, upload_id)
        upload = target.upload
        if upload.state == COMPLETED:
            if upload.completed_parts != listed:
                raise NoSuchUpload(upload_id)
            return _result(upload)
        parts = _checked_parts(session, upload, requested)
        upload.etag = _multipart_etag(parts)
        upload.checksum = _composite_checksum(upload, parts)
        upload.state, upload.completed_at = COMPLETING, utcnow()
    try:
        version_id = _join(db, store, target, parts)
    except BaseException:
        with db.write() as session:  # the parts are still there: the client may retry
            session.execute(
                sa.update(MultipartUpload)
                .where(MultipartUpload.id == upload.id)
                .values(state=UPLOADING)
            )
        raise
    with db.write() as session:
        row = session.get_one(MultipartUpload, upload.id)
        row.state, row.completed_at = COMPLETED, utcnow()
        row.completed_parts = listed
        row.version_id = version_id
        delete_parts(session, upload.id)
        return _result(row)


def _join(
    db: Database,
    store: objectstore.ObjectStore,
    target: UploadTarget,
    parts: Sequence[MultipartPart],
) -> str | None:
    """The store joins the parts where the bucket's versioning says the object goes."""
    upload, bucket = target.upload, target.bucket
    destination = object_versions.prepare_write(db, store, bucket, upload.key)
    with buckets.driver_errors(bucket.name, upload.key):
        info = store.complete_upload(
            destination.bucket.namespace,
            destination.bucket.name,
            destination.key,
            upload.uuid,
            [objectstore.PartInfo(part.part_number, part.size, part.etag) for part in parts],
            content_type=upload.content_type,
            metadata=metadata_of(upload),
            etag=upload.etag or "",
            system_metadata=_checksum_metadata(upload.checksum_algorithm, upload.checksum),
            parts_container=bucket.name,
        )
    return object_versions.record_write(db, store, destination, info)


def _completable(
    session: Session, ctx: CallContext, bucket_name: str, key: str, upload_id: str
) -> UploadTarget:
    """The upload, locked; a completed one too (for the retry), a completing one is busy."""
    handle = buckets.handle_for(session, ctx, bucket_name, action=buckets.WRITE, key=key)
    upload = upload_row(session, bucket_name, key, upload_id, for_update=True)
    if is_busy(upload):
        raise UploadBusy(f"The upload {upload_id} is being completed")
    return UploadTarget(handle, upload)


def _checked_parts(
    session: Session, upload: MultipartUpload, requested: Sequence[RequestedPart]
) -> list[MultipartPart]:
    if not requested:
        raise InvalidParameter("You must specify at least one part", parameter="MultipartUpload")
    numbers = [part.part_number for part in requested]
    if any(later <= earlier for earlier, later in pairwise(numbers)):
        raise InvalidPartOrder()
    stored = {
        part.part_number: part
        for part in session.scalars(
            sa.select(MultipartPart).where(MultipartPart.upload_id == upload.id)
        )
    }
    parts = []
    for wanted in requested:
        part = stored.get(wanted.part_number)
        if part is None or part.etag != wanted.etag.lower():
            raise InvalidPart(f"Part {wanted.part_number} was not found or its ETag differs")
        if wanted.checksum is not None and part.checksum not in (None, wanted.checksum):
            raise InvalidPart(f"The checksum of part {wanted.part_number} differs")
        parts.append(part)
    for part in parts[:-1]:
        if part.size < MIN_PART_SIZE:
            raise PartTooSmall(part.part_number, part.size)
    return parts


def _multipart_etag(parts: Sequence[MultipartPart]) -> str:
    digests = b"".join(bytes.fromhex(part.etag) for part in parts)
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"


def _composite_checksum(upload: MultipartUpload, parts: Sequence[MultipartPart]) -> str | None:
    """base64(hash(the parts' binary checksums))-N, when every part has one (a whole-object
    checksum, FULL_OBJECT, is not computed)."""
    hash_of = _HASHES.get(upload.checksum_algorithm or "")
    if upload.checksum_type == FULL_OBJECT:
        return None
    if hash_of is None or any(part.checksum is None for part in parts):
        return None
    try:
        joined = b"".join(base64.b64decode(part.checksum or "", validate=True) for part in parts)
    except (binascii.Error, ValueError):
        return None
    return f"{base64.b64encode(hash_of(joined)).decode()}-{len(parts)}"


def _checksum_metadata(algorithm: str | None, checksum: str | None) -> dict[str, str]:
    """Kept with the object like a PutObject's verified checksum (GET with checksum mode)."""
    if algorithm is None or checksum is None:
        return {}
    return {CHECKSUM_PREFIX + algorithm.lower(): checksum}


def _result(upload: MultipartUpload) -> CompletedUpload:
    return CompletedUpload(
        key=upload.key,
        etag=upload.etag or "",
        checksum_algorithm=upload.checksum_algorithm,
        checksum=upload.checksum,
        version_id=upload.version_id,
    )


# --- listing uploads ---------------------------------------------------------------------


@dataclass(frozen=True)
class UploadListing:
    bucket: BucketHandle
    uploads: list[MultipartUpload]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None


def list_uploads(
    session: Session,
    ctx: CallContext,
    bucket_name: str,
    *,
    prefix: str,
    delimiter: str,
    key_marker: str,
    upload_id_marker: str,
    limit: int,
) -> UploadListing:
    """Uploads in progress by key, then by initiation; rolled up at `delimiter` like
    ListObjects; after (key_marker, upload_id_marker) as S3 pages them."""
    handle = buckets.handle_for(session, ctx, bucket_name, action=READ, s3_action=LIST_UPLOADS)
    bucket_id = session.scalar(sa.select(Bucket.id).where(Bucket.name == bucket_name))
    after_id = _marker_id(session, bucket_id, key_marker, upload_id_marker)
    start = (key_marker, after_id) if key_marker >= prefix else (prefix, 0)
    entries: list[MultipartUpload | str] = []
    scan = _scan(session, bucket_id, *start)
    while len(entries) <= limit:
        upload = next(scan, None)
        if upload is None or not upload.key.startswith(prefix):
            break
        end = upload.key.find(delimiter, len(prefix)) if delimiter else -1
        if end < 0:
            entries.append(upload)
            continue
        rolled_up = upload.key[: end + len(delimiter)]
        if rolled_up != key_marker:  # the previous page ended with it
            entries.append(rolled_up)
        # Go on after the whole common prefix instead of reading through its uploads.
        scan = _scan(session, bucket_id, rolled_up + _AFTER_ALL, 0)
    return _page(handle, entries, limit)


def _page(handle: BucketHandle, entries: list[MultipartUpload | str], limit: int) -> UploadListing:
    page = entries[:limit]
    truncated = len(entries) > limit
    last = page[-1] if page else None
    return UploadListing(
        bucket=handle,
        uploads=[entry for entry in page if not isinstance(entry, str)],
        common_prefixes=[entry for entry in page if isinstance(entry, str)],
        is_truncated=truncated,
        next_key_marker=(last if isinstance(last, str) else last.key) if last else None,
        next_upload_id_marker=last.uuid if isinstance(last, MultipartUpload) else None,
    )


def _marker_id(session: Session, bucket_id: int, key_marker: str, upload_id_marker: str) -> int:
    """Where the page starts within the marker key: after the marker upload, or (without
    one, or an unknown one) after every upload of that key."""
    if key_marker and upload_id_marker:
        found = session.scalar(
            sa.select(MultipartUpload.id).where(
                MultipartUpload.bucket_id == bucket_id,
                MultipartUpload.uuid == upload_id_marker,
                MultipartUpload.key == key_marker,
            )
        )
        if found is not None:
            return found
    return 2**62 if key_marker else 0


def _scan(session: Session, bucket_id: int, key: str, after_id: int) -> Iterator[MultipartUpload]:
    """Uploads in progress ordered by (key, id), after (key, after_id), in batches."""
    while True:
        rows = list(
            session.scalars(
                sa.select(MultipartUpload)
                .where(
                    MultipartUpload.bucket_id == bucket_id,
                    MultipartUpload.state != COMPLETED,
                    sa.or_(
                        MultipartUpload.key > key,
                        sa.and_(MultipartUpload.key == key, MultipartUpload.id > after_id),
                    ),
                )
                .order_by(MultipartUpload.key, MultipartUpload.id)
                .limit(_SCAN_BATCH)
            )
        )
        yield from rows
        if len(rows) < _SCAN_BATCH:
            return
        key, after_id = rows[-1].key, rows[-1].id
