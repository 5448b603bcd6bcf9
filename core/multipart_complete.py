"""Completing multipart uploads, and listing the uploads of a bucket (see core.multipart).

Completion checks the client's part list against the recorded parts (InvalidPart,
InvalidPartOrder, PartTooSmall for any part but the last under 5 MiB), computes S3's
multipart ETag — the md5 of the parts' binary md5s, then `-<number of parts>` — and, when the
upload was created with a checksum algorithm, the object's checksum from the parts' own
(COMPOSITE or FULL_OBJECT, `core.checksum_algorithms`); then the store joins the parts. Only
the state changes are transactional: the join may take a while. The object gets what its
upload was created with (content type, metadata, content headers, tags, ACL grants), and its
part sizes are recorded for GET `?partNumber` (`core.object_parts`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.orm import Session

import drivers.objectstore.base as objectstore
from core import buckets, checksum_algorithms, object_parts, object_tags, object_versions
from core.bucket_acl import Grant
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
    ChecksumMismatch,
    ChecksumTypeMismatch,
    InvalidPart,
    InvalidPartOrder,
    MultipartPart,
    MultipartUpload,
    NoSuchUpload,
    ObjectDetails,
    PartTooSmall,
    UploadBusy,
    UploadTarget,
    delete_parts,
    is_busy,
    metadata_of,
    upload_row,
)
from core.object_copy import CHECKSUM_PREFIX

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
    checksum_type: str | None
    checksum: str | None  # composite "<base64>-N", or the whole object's (FULL_OBJECT)
    version_id: str | None  # in a versioned bucket
    grants: Sequence[Grant] | None  # of the object's ACL (None: private)


def complete_upload(
    db: Database,
    store: objectstore.ObjectStore,
    ctx: CallContext,
    bucket_name: str,
    key: str,
    upload_id: str,
    requested: Sequence[RequestedPart],
    *,
    client_checksums: Mapping[str, str] | None = None,
    client_checksum_type: str | None = None,
) -> CompletedUpload:
    """Join the listed parts into the object (a new version in a versioned bucket); the
    same answer again when retried. `client_checksums`: the object's checksums as the
    client computed them, by algorithm (ChecksumMismatch if the upload's differs);
    `client_checksum_type`: the type the client says the upload has (ChecksumTypeMismatch
    if it has another)."""
    listed = json.dumps([[part.part_number, part.etag] for part in requested])
    with db.write() as session:
        target = _completable(session, ctx, bucket_name, key, upload_id)
        upload = target.upload
        if client_checksum_type is not None and client_checksum_type != _checksum_type(upload):
            raise ChecksumTypeMismatch(_checksum_type(upload))
        if upload.state == COMPLETED:
            if upload.completed_parts != listed:
                raise NoSuchUpload(upload_id)
            return _result(upload)
        parts = _checked_parts(session, upload, requested)
        upload.etag = _multipart_etag(parts)
        upload.checksum = _object_checksum(upload, parts)
        expected = (client_checksums or {}).get(upload.checksum_algorithm or "")
        if expected is not None and expected.strip() != upload.checksum:
            raise ChecksumMismatch(upload.checksum_algorithm or "")
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
    details = ObjectDetails.of(upload)
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
            system_metadata={
                **details.system_metadata,
                **_checksum_metadata(upload.checksum_algorithm, upload.checksum),
            },
            parts_container=bucket.name,
        )

    def describe(session: Session, version_id: str) -> None:
        """The version's tags, part sizes and COMPOSITE part checksums, in the transaction
        that records it."""
        key, bucket_id = destination.object_key, destination.bucket_id
        object_tags.replace_tags(session, bucket_id, key, version_id, info.etag, details.tags)
        sizes = [part.size for part in parts]
        object_parts.record(
            session, bucket_id, key, version_id, info.etag, sizes, _part_checksums(upload, parts)
        )

    return object_versions.record_write(db, store, destination, info, after=describe)


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


def _part_checksums(upload: MultipartUpload, parts: Sequence[MultipartPart]) -> list[str] | None:
    """The parts' own checksums, kept for a COMPOSITE object (its checksum is made of them)."""
    if _checksum_type(upload) != checksum_algorithms.COMPOSITE or upload.checksum is None:
        return None
    return [part.checksum or "" for part in parts]


def _checksum_type(upload: MultipartUpload) -> str | None:
    """The upload's checksum type (COMPOSITE for an algorithm recorded without one)."""
    if upload.checksum_algorithm is None:
        return None
    return upload.checksum_type or checksum_algorithms.COMPOSITE


def _multipart_etag(parts: Sequence[MultipartPart]) -> str:
    digests = b"".join(bytes.fromhex(part.etag) for part in parts)
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"


def _object_checksum(upload: MultipartUpload, parts: Sequence[MultipartPart]) -> str | None:
    """The object's checksum in the upload's algorithm and type, from every part's own
    (parts uploaded before the upload had an algorithm — none — leave it without one)."""
    algorithm, kind = upload.checksum_algorithm, upload.checksum_type
    if algorithm is None or kind is None or any(part.checksum is None for part in parts):
        return None
    summed = [(part.checksum or "", part.size) for part in parts]
    return checksum_algorithms.multipart_checksum(algorithm, kind, summed)


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
        checksum_type=upload.checksum_type,
        checksum=upload.checksum,
        version_id=upload.version_id,
        grants=ObjectDetails.of(upload).grants,
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
