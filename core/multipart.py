"""Multipart uploads: an object sent in numbered parts, then joined (S3's multipart upload).

Uploads and their parts are rows, so listing uploads and parts are queries and the part list
a completion checks is read in one transaction; the parts' bytes live in the object store
(`put_part`, `complete_upload`, `abort_upload` of the driver). An upload moves

    uploading ──complete──► completing ──store joined the parts──► completed
        ▲                        │
        └──── the store failed ──┘            abort: uploading → (rows deleted)

with conditional UPDATEs, so two completions (or a completion and an abort) cannot both
proceed. A completed upload keeps its row (not its parts) for a day, so that a completion
retried after a lost answer gets the same answer, as on S3, instead of NoSuchUpload.

Streaming use cases take the `Database` rather than a session: a part may take minutes to
arrive and must not hold a transaction open, so they read, stream, then write, each step in
its own short transaction. Access is the bucket's (`core.buckets.handle_for`).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

import drivers.objectstore.base as objectstore
from core import buckets, checksum_algorithms, object_copy
from core.bucket_acl import Grant
from core.bucket_cors import INVALID_REQUEST
from core.buckets import READ, WRITE, Bucket, BucketHandle, ByteRange, ObjectInfo
from core.context import CallContext
from core.db import Base, Database, IdMixin, utcnow
from core.errors import Conflict, InvalidParameter, NotFound
from core.scheduler import periodic

UPLOAD = "upload"
MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # every part but the last
MAX_PART_SIZE = 5 * 1024 * MiB
MAX_PART_NUMBER = objectstore.MAX_PART_NUMBER
UPLOADING, COMPLETING, COMPLETED = "uploading", "completing", "completed"
COMPLETED_KEPT = dt.timedelta(days=1)
# A completion not finished after this long died with its server: it may be retried.
STALE_COMPLETION = dt.timedelta(hours=1)
# Bucket-policy actions of the multipart calls that are not s3:PutObject.
LIST_PARTS = "s3:ListMultipartUploadParts"
LIST_UPLOADS = "s3:ListBucketMultipartUploads"
ABORT = "s3:AbortMultipartUpload"
# Keys sort in UTF-8 byte order, as in the object store: a binary collation on MariaDB
# (SQLite's default collation already compares bytes).
KeyType = sa.String(1024).with_variant(
    mysql.VARCHAR(1024, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


class MultipartUpload(IdMixin, Base):
    """One upload; `uuid` is the S3 UploadId."""

    __tablename__ = "multipart_upload"

    bucket_id: Mapped[int] = mapped_column(sa.ForeignKey("bucket.id"), index=True)
    key: Mapped[str] = mapped_column(KeyType)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    initiator_uuid: Mapped[str] = mapped_column(sa.String(36))
    initiator_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str | None] = mapped_column(sa.String(255))
    user_metadata: Mapped[str] = mapped_column(sa.Text)  # JSON object
    checksum_algorithm: Mapped[str | None] = mapped_column(sa.String(16))
    checksum_type: Mapped[str | None] = mapped_column(sa.String(16))
    # What the completed object gets besides its content: system metadata (content headers)
    # and tags as JSON; its ACL's grants as JSON (None: private), checked at creation.
    system_metadata: Mapped[str | None] = mapped_column(sa.Text)
    tags: Mapped[str | None] = mapped_column(sa.Text)
    grants: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(16))
    # When the completion began, then ended; and what a retried completion answers.
    completed_at: Mapped[dt.datetime | None] = mapped_column()
    completed_parts: Mapped[str | None] = mapped_column(sa.Text)  # JSON [[number, etag]...]
    etag: Mapped[str | None] = mapped_column(sa.String(64))
    checksum: Mapped[str | None] = mapped_column(sa.String(160))
    version_id: Mapped[str | None] = mapped_column(sa.String(64))


class MultipartPart(Base):
    __tablename__ = "multipart_part"
    __table_args__ = (sa.UniqueConstraint("upload_id", "part_number"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    upload_id: Mapped[int] = mapped_column(sa.ForeignKey("multipart_upload.id"))
    part_number: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column(sa.BigInteger)
    etag: Mapped[str] = mapped_column(sa.String(32))
    checksum: Mapped[str | None] = mapped_column(sa.String(160))
    last_modified: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NoSuchUpload(NotFound):
    def __init__(self, upload_id: str) -> None:
        super().__init__(UPLOAD, upload_id, f"The specified upload {upload_id} does not exist")


class UploadBusy(Conflict):
    """Another request is completing this upload right now."""


class InvalidPart(InvalidParameter):
    def __init__(self, message: str) -> None:
        super().__init__(message, parameter="part")


class InvalidPartOrder(InvalidParameter):
    def __init__(self) -> None:
        super().__init__("The list of parts was not in ascending order", parameter="part")


class PartTooSmall(InvalidParameter):
    def __init__(self, part_number: int, size: int) -> None:
        super().__init__(
            f"Part {part_number} is {size} bytes; all but the last must be at least 5 MiB",
            parameter="part",
        )
        self.size = size


CHECKSUM = "checksum"  # InvalidParameter.parameter of a checksum that does not match


class ChecksumMismatch(InvalidParameter):
    def __init__(self, algorithm: str) -> None:
        super().__init__(
            f"The {algorithm} you specified did not match the calculated checksum.",
            parameter=CHECKSUM,
        )


class ChecksumTypeMismatch(InvalidParameter):
    """A completion that names another checksum type than its upload was created with."""

    def __init__(self, checksum_type: str | None) -> None:
        created = f"the {checksum_type} checksum mode" if checksum_type else "no checksum"
        super().__init__(
            f"The upload was created using {created}."
            " The complete request must use the same checksum mode.",
            parameter=INVALID_REQUEST,
        )


class PartTooLarge(InvalidParameter):
    def __init__(self) -> None:
        super().__init__("A part may be at most 5 GiB", parameter="part")


@dataclass(frozen=True)
class ObjectDetails:
    """What CreateMultipartUpload says about the object besides its content type and user
    metadata, kept until completion: system metadata (content headers), tags, and the
    grants of its ACL (None: private; resolved and checked when the upload is created)."""

    system_metadata: Mapping[str, str] = field(default_factory=dict)
    tags: Sequence[tuple[str, str]] = ()
    grants: Sequence[Grant] | None = None

    def columns(self) -> dict[str, str | None]:
        grants = None
        if self.grants is not None:
            grants = json.dumps([dataclasses.asdict(grant) for grant in self.grants])
        return {
            "system_metadata": json.dumps(dict(self.system_metadata)),
            "tags": json.dumps([list(tag) for tag in self.tags]),
            "grants": grants,
        }

    @classmethod
    def of(cls, upload: MultipartUpload) -> ObjectDetails:
        grants = None
        if upload.grants is not None:
            grants = [Grant(**fields) for fields in json.loads(upload.grants)]
        return cls(
            system_metadata=json.loads(upload.system_metadata or "{}"),
            tags=[(key, value) for key, value in json.loads(upload.tags or "[]")],
            grants=grants,
        )


@dataclass(frozen=True)
class UploadTarget:
    """An upload the caller may write, with its bucket."""

    bucket: BucketHandle
    upload: MultipartUpload


# --- creating and finding uploads ----------------------------------------------------------


def create_upload(
    session: Session,
    ctx: CallContext,
    bucket_name: str,
    key: str,
    *,
    content_type: str | None,
    metadata: Mapping[str, str],
    checksum_algorithm: str | None = None,
    checksum_type: str | None = None,
    details: ObjectDetails | None = None,
) -> UploadTarget:
    """A new upload of `key` into a bucket the caller may write; `details`: what the
    completed object gets besides its content type and metadata."""
    handle = buckets.handle_for(session, ctx, bucket_name, action=WRITE, key=key)
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > objectstore.MAX_KEY_BYTES:
        raise buckets.KeyTooLong(size)
    with buckets.driver_errors(bucket_name, key):
        objectstore.check_key(key)
        metadata = objectstore.check_metadata(metadata)
    upload = MultipartUpload(
        bucket_id=session.scalar(sa.select(Bucket.id).where(Bucket.name == bucket_name)),
        key=key,
        account_id=ctx.account_id,
        initiator_uuid=ctx.user_uuid,
        initiator_name=ctx.username,
        content_type=content_type,
        user_metadata=json.dumps(metadata),
        checksum_algorithm=checksum_algorithm,
        checksum_type=checksum_type,
        state=UPLOADING,
        **(details or ObjectDetails()).columns(),
    )
    session.add(upload)
    session.flush()
    return UploadTarget(handle, upload)


def find_upload(
    session: Session,
    ctx: CallContext,
    bucket_name: str,
    key: str,
    upload_id: str,
    *,
    s3_action: str = "s3:PutObject",
) -> UploadTarget:
    """The upload `upload_id` of `key` (NoSuchUpload unless it is in progress), if the
    caller may do `s3_action` (a policy action) on it: writing, except when listing parts."""
    if s3_action == LIST_PARTS:
        handle = buckets.handle_for(session, ctx, bucket_name, action=READ, s3_action=s3_action)
    else:
        handle = buckets.handle_for(
            session, ctx, bucket_name, action=WRITE, key=key, s3_action=s3_action
        )
    upload = upload_row(session, bucket_name, key, upload_id)
    if upload.state == COMPLETED:
        raise NoSuchUpload(upload_id)
    return UploadTarget(handle, upload)


def upload_row(
    session: Session, bucket_name: str, key: str, upload_id: str, *, for_update: bool = False
) -> MultipartUpload:
    """The upload's row, whatever its state (NoSuchUpload for another bucket's or key's)."""
    query = (
        sa.select(MultipartUpload)
        .join(Bucket, Bucket.id == MultipartUpload.bucket_id)
        .where(MultipartUpload.uuid == upload_id, Bucket.name == bucket_name)
    )
    upload = session.scalar(query.with_for_update() if for_update else query)
    if upload is None or upload.key != key:
        raise NoSuchUpload(upload_id)
    return upload


def metadata_of(upload: MultipartUpload) -> dict[str, str]:
    loaded: dict[str, str] = json.loads(upload.user_metadata)
    return loaded


# --- parts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartAddress:
    """Which part of which upload a request sends."""

    bucket: str
    key: str
    upload_id: str
    part_number: int


@dataclass(frozen=True)
class UploadedPart:
    """A part as recorded, and the upload's checksum algorithm its `checksum` is in."""

    part: MultipartPart
    checksum_algorithm: str | None


def upload_part(
    db: Database,
    store: objectstore.ObjectStore,
    ctx: CallContext,
    address: PartAddress,
    body: Iterable[bytes],
    *,
    content_length: int | None,
) -> UploadedPart:
    """Stream one part into the store, then record it (replacing a part of that number),
    with its checksum in the upload's algorithm (computed as the bytes pass: a client's
    own is verified before the body ends, so the two agree)."""
    check_part_number(address.part_number)
    if content_length is not None and content_length > MAX_PART_SIZE:
        raise PartTooLarge()
    with db.read() as session:
        target = find_upload(session, ctx, address.bucket, address.key, address.upload_id)
    summed = _Summed(body, target.upload.checksum_algorithm)
    stored = _put_part(store, target, address, _limited(summed), content_length)
    part = _record_part(db, store, target, stored, summed.checksum())
    return UploadedPart(part, target.upload.checksum_algorithm)


def upload_part_copy(
    db: Database,
    store: objectstore.ObjectStore,
    ctx: CallContext,
    address: PartAddress,
    *,
    source_bucket: str,
    source_key: str,
    byte_range: ByteRange | None,
    check_source: Callable[[ObjectInfo], None] = lambda info: None,
    source_version_id: str | None = None,
) -> tuple[MultipartPart, ObjectInfo, str | None]:
    """A part copied from (a byte range of) an object the caller may read (its current
    version or `source_version_id`); the bytes stream from the store back into it.
    `check_source` may refuse the source (copy conditions). Also the source's info and its
    version id (None in an unversioned bucket)."""
    check_part_number(address.part_number)
    with db.read() as session:
        target = find_upload(session, ctx, address.bucket, address.key, address.upload_id)
        source = buckets.handle_for(session, ctx, source_bucket, action=READ, key=source_key)
    located = object_copy.locate_source(db, source, source_key, source_version_id)
    info, chunks = buckets.get_object(store, located.bucket, located.key, byte_range=byte_range)
    try:
        check_source(info)
        size = info.size
        if byte_range is not None:
            first, last = buckets.selected_bytes(byte_range, info.size)
            size = last - first + 1
        if size > MAX_PART_SIZE:
            raise PartTooLarge()
        summed = _Summed(chunks, target.upload.checksum_algorithm)
        stored = _put_part(store, target, address, summed, size)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return _record_part(db, store, target, stored, summed.checksum()), info, located.version_id


class _Summed:
    """A part's bytes, passed through the digest of the upload's checksum algorithm."""

    def __init__(self, body: Iterable[bytes], algorithm: str | None) -> None:
        self._body = body
        self._digest = checksum_algorithms.new_digest(algorithm) if algorithm else None

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._body:
            if self._digest is not None:
                self._digest.update(piece)
            yield piece

    def checksum(self) -> str | None:
        if self._digest is None:
            return None
        return base64.b64encode(self._digest.digest()).decode()


def _put_part(
    store: objectstore.ObjectStore,
    target: UploadTarget,
    address: PartAddress,
    body: Iterable[bytes],
    size: int | None,
) -> objectstore.PartInfo:
    with buckets.driver_errors(address.bucket, address.key):
        return store.put_part(
            target.bucket.namespace,
            target.bucket.name,
            address.upload_id,
            address.part_number,
            body,
            content_length=size,
        )


def _record_part(
    db: Database,
    store: objectstore.ObjectStore,
    target: UploadTarget,
    stored: objectstore.PartInfo,
    checksum: str | None,
) -> MultipartPart:
    with db.write() as session:
        current = session.get(
            MultipartUpload, target.upload.id, with_for_update=True, populate_existing=True
        )
        if current is None:  # aborted while the part arrived: the part goes too
            with buckets.driver_errors(target.bucket.name, target.upload.key):
                store.abort_upload(target.bucket.namespace, target.bucket.name, target.upload.uuid)
            raise NoSuchUpload(target.upload.uuid)
        if current.state != UPLOADING:  # completed (or being completed) meanwhile
            raise NoSuchUpload(target.upload.uuid)
        part = session.scalar(
            sa.select(MultipartPart).where(
                MultipartPart.upload_id == target.upload.id,
                MultipartPart.part_number == stored.part_number,
            )
        )
        if part is None:
            part = MultipartPart(upload_id=target.upload.id, part_number=stored.part_number)
            session.add(part)
        part.size = stored.size
        part.etag = stored.etag
        part.checksum = checksum
        part.last_modified = utcnow()
        session.flush()
        return part


def list_parts(
    session: Session,
    ctx: CallContext,
    bucket_name: str,
    key: str,
    upload_id: str,
    *,
    marker: int,
    limit: int,
) -> tuple[UploadTarget, list[MultipartPart], bool]:
    """Parts after part number `marker`, at most `limit`; and whether more follow."""
    target = find_upload(session, ctx, bucket_name, key, upload_id, s3_action=LIST_PARTS)
    parts = list(
        session.scalars(
            sa.select(MultipartPart)
            .where(MultipartPart.upload_id == target.upload.id, MultipartPart.part_number > marker)
            .order_by(MultipartPart.part_number)
            .limit(limit + 1)
        )
    )
    return target, parts[:limit], len(parts) > limit


def check_part_number(part_number: int) -> None:
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidParameter(
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
            parameter="partNumber",
        )


def _limited(body: Iterable[bytes]) -> Iterator[bytes]:
    """The body, refused once it passes the largest part (a chunked body has no length)."""
    size = 0
    for piece in body:
        size += len(piece)
        if size > MAX_PART_SIZE:
            raise PartTooLarge()
        yield piece


# --- aborting, and buckets that go -----------------------------------------------------------


def abort_upload(
    db: Database,
    store: objectstore.ObjectStore,
    ctx: CallContext,
    bucket_name: str,
    key: str,
    upload_id: str,
) -> None:
    """Forget the upload and delete its parts (NoSuchUpload if it is not in progress)."""
    with db.write() as session:
        target = find_upload(session, ctx, bucket_name, key, upload_id, s3_action=ABORT)
        if is_busy(lock(session, target.upload)):
            raise UploadBusy(f"The upload {upload_id} is being completed")
        delete_parts(session, target.upload.id)
        session.execute(sa.delete(MultipartUpload).where(MultipartUpload.id == target.upload.id))
        # Inside the transaction: if the store fails, the upload stays, and can be aborted again.
        with buckets.driver_errors(bucket_name, key):
            store.abort_upload(target.bucket.namespace, target.bucket.name, upload_id)


def lock(session: Session, upload: MultipartUpload) -> MultipartUpload:
    """The upload's row as it is now, locked until the transaction ends."""
    return session.scalars(
        sa.select(MultipartUpload)
        .where(MultipartUpload.id == upload.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def is_busy(upload: MultipartUpload) -> bool:
    """Being completed by another request (unless that began so long ago that it died)."""
    began = upload.completed_at
    return upload.state == COMPLETING and (began is None or began > utcnow() - STALE_COMPLETION)


def delete_parts(session: Session, upload_pk: int) -> None:
    session.execute(sa.delete(MultipartPart).where(MultipartPart.upload_id == upload_pk))


def _forget_bucket_uploads(
    session: Session, bucket: Bucket, namespace: str, store: objectstore.ObjectStore
) -> None:
    """A deleted bucket takes its unfinished uploads along (the store deletes their parts
    with the container), as S3's DeleteBucket does: they do not make it "not empty"."""
    ids = sa.select(MultipartUpload.id).where(MultipartUpload.bucket_id == bucket.id)
    session.execute(sa.delete(MultipartPart).where(MultipartPart.upload_id.in_(ids)))
    session.execute(sa.delete(MultipartUpload).where(MultipartUpload.bucket_id == bucket.id))


buckets.BUCKET_DELETING_HOOKS.append(_forget_bucket_uploads)


@periodic("multipart.purge-completed", every_seconds=3600)
def _purge_completed(runtime: Any) -> None:
    cutoff = utcnow() - COMPLETED_KEPT
    with runtime.db.write() as session:
        session.execute(
            sa.delete(MultipartUpload).where(
                MultipartUpload.state == COMPLETED, MultipartUpload.completed_at < cutoff
            )
        )
