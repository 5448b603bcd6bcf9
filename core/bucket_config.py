"""Per-bucket configuration documents (CORS rules, lifecycle rules): one row per bucket
holding the rules as JSON, dropped with its bucket by ON DELETE CASCADE.

The families keep their own rule types and checks; what is the same for all of them —
finding, replacing and removing a bucket's document behind the bucket's access check, and
reading it by bucket name for work that has no caller (preflights, the lifecycle run) — is
written once here. As on S3, a bucket's configuration is its owner's alone (ACL grants give
no access to it); a bucket policy's Deny of `s3_action` still applies.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.buckets import OWNER, Bucket, get_bucket_for
from core.context import CallContext
from core.db import IdMixin
from core.errors import NotFound

Document = list[dict[str, Any]]


class BucketConfigMixin(IdMixin):
    """The columns of a configuration table: its bucket (one row each) and the rules."""

    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), unique=True
    )
    rules: Mapped[str] = mapped_column(sa.Text)  # JSON: a list of rule field mappings


def replace(
    session: Session,
    ctx: CallContext,
    name: str,
    model: type[Any],
    rules: Document,
    *,
    s3_action: str,
) -> Any:
    """Give the bucket `name` this document; the row, for the family's own columns."""
    bucket = get_bucket_for(session, ctx, name, action=OWNER, s3_action=s3_action)
    row = session.scalar(sa.select(model).where(model.bucket_id == bucket.id))
    if row is None:
        row = model(bucket_id=bucket.id)
        session.add(row)
    row.rules = json.dumps(rules)
    session.flush()
    return row


def read(
    session: Session,
    ctx: CallContext,
    name: str,
    model: type[Any],
    *,
    s3_action: str,
    kind: str,
    what: str,
) -> Document:
    """The bucket's document; NotFound(kind) when it has none."""
    bucket = get_bucket_for(session, ctx, name, action=OWNER, s3_action=s3_action)
    document = stored(session, model, bucket.id)
    if document is None:
        raise NotFound(kind, name, f"The {what} does not exist")
    return document


def remove(
    session: Session, ctx: CallContext, name: str, model: type[Any], *, s3_action: str
) -> None:
    """Remove the bucket's document (none is not an error, as in S3)."""
    bucket = get_bucket_for(session, ctx, name, action=OWNER, s3_action=s3_action)
    session.execute(sa.delete(model).where(model.bucket_id == bucket.id))


def stored(session: Session, model: type[Any], bucket_id: int | None) -> Document | None:
    """The document of a bucket by id, without an access check (None: none)."""
    if bucket_id is None:
        return None
    text = session.scalar(sa.select(model.rules).where(model.bucket_id == bucket_id))
    return None if text is None else list(json.loads(text))


def stored_by_name(session: Session, model: type[Any], bucket_name: str) -> Document | None:
    """The document of a bucket by name, without an access check (None: no bucket or none)."""
    bucket_id = session.scalar(sa.select(Bucket.id).where(Bucket.name == bucket_name))
    return stored(session, model, bucket_id)
