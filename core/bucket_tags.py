"""Bucket tags: the tag set of an S3 bucket, replaced whole on every put.

Kept in a table of their own rather than `resource_tag`: S3 replaces the whole set at once,
its limits differ from CloudStack's (50 tags, keys of 128 and values of 256 characters, no
`aws:` keys), only the bucket's owner sees and changes them, and a foreign key with ON
DELETE CASCADE drops the set with its bucket without the bucket family knowing of tags.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.buckets import OWNER, get_bucket_for
from core.context import CallContext
from core.db import Base
from core.errors import InvalidParameter, NotFound

TAG_SET = "bucket tag set"
INVALID_TAG = "tagging"  # InvalidParameter.parameter for S3's InvalidTag
MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
RESERVED_PREFIX = "aws:"
PUT_ACTION = "s3:PutBucketTagging"  # the bucket policy's name for changing the tags


class BucketTag(Base):
    __tablename__ = "bucket_tag"

    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(MAX_VALUE), default="")


def validate(tags: Sequence[tuple[str, str]]) -> None:
    """S3's tag rules (also used for the tags of lifecycle filters)."""
    if len(tags) > MAX_TAGS:
        raise InvalidParameter(
            f"Object tags cannot be greater than {MAX_TAGS}", parameter=INVALID_TAG
        )
    seen: set[str] = set()
    for key, value in tags:
        if not 1 <= len(key) <= MAX_KEY:
            raise InvalidParameter("The TagKey you have provided is invalid", parameter=INVALID_TAG)
        if len(value) > MAX_VALUE:
            raise InvalidParameter(
                "The TagValue you have provided is invalid", parameter=INVALID_TAG
            )
        if key.lower().startswith(RESERVED_PREFIX):
            raise InvalidParameter(
                "System tags cannot be added/updated by requester", parameter=INVALID_TAG
            )
        if key in seen:
            raise InvalidParameter(
                "Cannot provide multiple Tags with the same key", parameter=INVALID_TAG
            )
        seen.add(key)


def put_tags(
    session: Session, ctx: CallContext, name: str, tags: Sequence[tuple[str, str]]
) -> None:
    """Replace the bucket's tag set with `tags` (key, value) pairs."""
    validate(tags)
    bucket = get_bucket_for(session, ctx, name, action=OWNER, s3_action=PUT_ACTION)
    session.execute(sa.delete(BucketTag).where(BucketTag.bucket_id == bucket.id))
    session.add_all(BucketTag(bucket_id=bucket.id, key=key, value=value) for key, value in tags)
    session.flush()


def get_tags(session: Session, ctx: CallContext, name: str) -> list[tuple[str, str]]:
    """The bucket's tags by key; NotFound(TAG_SET) when it has none."""
    bucket = get_bucket_for(session, ctx, name, action=OWNER, s3_action="s3:GetBucketTagging")
    rows = session.execute(
        sa.select(BucketTag.key, BucketTag.value)
        .where(BucketTag.bucket_id == bucket.id)
        .order_by(BucketTag.key)
    )
    tags = [(key, value) for key, value in rows]
    if not tags:
        raise NotFound(TAG_SET, name, "The TagSet does not exist")
    return tags


def delete_tags(session: Session, ctx: CallContext, name: str) -> None:
    """Remove every tag of the bucket."""
    bucket = get_bucket_for(session, ctx, name, action=OWNER, s3_action=PUT_ACTION)
    session.execute(sa.delete(BucketTag).where(BucketTag.bucket_id == bucket.id))
