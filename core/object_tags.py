"""Object tags: up to ten key/value pairs per object version, with S3's rules.

A tag set belongs to one version of one key (`null` for the object of an unversioned
bucket) and is replaced whole, never merged. It is kept with the ETag of the content it was
given to, so that a tag set outlives no object: an overwrite through a path that did not
clear it (a copy, a multipart completion of another family) makes it stale, and stale sets
are not shown. Writes through `record_write`/`delete` of `core.object_versions` replace or
remove them in the same transaction as the version.

Each tag is checked by bucket tagging's rules; objects allow ten tags where buckets allow 50.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

import drivers.objectstore.base as objectstore
from core import bucket_tags, object_versions
from core import buckets as core_buckets
from core.buckets import BucketHandle
from core.db import Base, Database
from core.errors import InvalidParameter
from core.object_versions import KEY_TYPE, NULL, encode_key

MAX_OBJECT_TAGS = 10

Tag = tuple[str, str]


class ObjectTagging(Base):
    __tablename__ = "object_tagging"

    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[bytes] = mapped_column(KEY_TYPE, primary_key=True)
    version_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    etag: Mapped[str] = mapped_column(sa.String(64))
    tags: Mapped[str] = mapped_column(sa.Text)  # JSON: [[key, value], ...] in the given order


class TooManyTags(InvalidParameter):
    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"Object tags cannot be greater than {limit}", parameter="Tagging")
        self.count = count
        self.limit = limit


def validate_tags(tags: Sequence[Tag]) -> list[Tag]:
    """The tag set if S3 would take it on an object: at most ten tags (BadRequest on AWS),
    and bucket tagging's rules for each (InvalidTag)."""
    if len(tags) > MAX_OBJECT_TAGS:
        raise TooManyTags(len(tags), MAX_OBJECT_TAGS)
    bucket_tags.validate(tags)
    return list(tags)


# --- rows, inside a caller's transaction --------------------------------------------------


def replace_tags(
    session: Session, bucket_id: int, key: str, version_id: str, etag: str, tags: Sequence[Tag]
) -> None:
    """Give one object version this tag set (an empty one removes it)."""
    forget(session, bucket_id, key, version_id)
    if tags:
        session.add(
            ObjectTagging(
                bucket_id=bucket_id,
                key=encode_key(key),
                version_id=version_id,
                etag=etag,
                tags=json.dumps([list(tag) for tag in tags]),
            )
        )
    session.flush()


def forget(session: Session, bucket_id: int, key: str, version_id: str) -> None:
    session.execute(
        sa.delete(ObjectTagging).where(
            ObjectTagging.bucket_id == bucket_id,
            ObjectTagging.key == encode_key(key),
            ObjectTagging.version_id == version_id,
        )
    )


def tags_of(session: Session, bucket_id: int, key: str, version_id: str, etag: str) -> list[Tag]:
    """The tag set of one object version (empty when none, or when it is stale)."""
    row = session.get(ObjectTagging, (bucket_id, encode_key(key), version_id))
    if row is None or row.etag != etag:
        return []
    return [(tag_key, tag_value) for tag_key, tag_value in json.loads(row.tags)]


def tag_count(db: Database, located: object_versions.Located, etag: str) -> int:
    """How many tags the version a GET/HEAD reads has (`x-amz-tagging-count`)."""
    with db.read() as session:
        tags = tags_of(session, located.bucket_id, located.object_key, _version(located), etag)
    return len(tags)


# --- use cases ----------------------------------------------------------------------------


def get_object_tagging(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    key: str,
    version_id: str | None,
) -> tuple[list[Tag], str | None]:
    """GetObjectTagging: the tag set and the version id to show."""
    located = object_versions.locate(db, bucket, key, version_id)
    info = core_buckets.head_object(store, located.bucket, located.key)
    with db.read() as session:
        tags = tags_of(session, located.bucket_id, key, _version(located), info.etag)
    return tags, located.version_id


def put_object_tagging(
    db: Database,
    store: objectstore.ObjectStore,
    bucket: BucketHandle,
    key: str,
    version_id: str | None,
    tags: Sequence[Tag],
) -> str | None:
    """PutObjectTagging (an empty set is DeleteObjectTagging): replaces the version's tag
    set; returns the version id to show."""
    tags = validate_tags(tags)
    located = object_versions.locate(db, bucket, key, version_id)
    info = core_buckets.head_object(store, located.bucket, located.key)
    with db.write() as session:
        replace_tags(session, located.bucket_id, key, _version(located), info.etag, tags)
    return located.version_id


def _version(located: object_versions.Located) -> str:
    return located.version_id or NULL
