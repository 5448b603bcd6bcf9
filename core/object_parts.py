"""Where the parts of a multipart object begin and end, for GET/HEAD `?partNumber=N`.

The store joins the parts into one object and forgets their boundaries, so a completed
upload records its part sizes here, per object version (`null` for an unversioned bucket),
in the transaction that makes the object its key's version. Like object tags, a row is
kept with the ETag of the object it describes: an object written afterwards by any other
path (PutObject, CopyObject, a delete) makes it stale rather than wrong, since a multipart
ETag (`md5(part md5s)-N`) names its parts' contents and so their sizes. The next
completion of the same version replaces the row; a deleted bucket takes its rows along.

Sizes are kept run-length encoded (`[[size, count], ...]`): an upload's parts are nearly
always of one size but the last, so 10,000 parts usually take two runs. A COMPOSITE
upload's parts' own checksums are kept too, in order, for GET `?partNumber=N` with
checksum mode (a FULL_OBJECT object has no per-part checksum to show).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, Database
from core.object_versions import KEY_TYPE, NULL, Located, encode_key

# Up to 10,000 distinct sizes do not fit MariaDB's 64 KiB TEXT.
SIZES_TYPE = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class ObjectParts(Base):
    __tablename__ = "object_parts"

    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[bytes] = mapped_column(KEY_TYPE, primary_key=True)
    version_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    etag: Mapped[str] = mapped_column(sa.String(64))
    sizes: Mapped[str] = mapped_column(SIZES_TYPE)  # JSON: [[size, count], ...] in order
    checksums: Mapped[str | None] = mapped_column(SIZES_TYPE)  # JSON: [base64, ...] in order


@dataclass(frozen=True, slots=True)
class PartSpan:
    """Part `number` of an object of `count` parts: its inclusive byte offsets."""

    number: int
    count: int
    first: int
    last: int


def record(
    session: Session,
    bucket_id: int,
    key: str,
    version_id: str,
    etag: str,
    sizes: Sequence[int],
    checksums: Sequence[str] | None = None,
) -> None:
    """The part sizes (and COMPOSITE part checksums) of the object version just completed,
    replacing an earlier record."""
    session.execute(
        sa.delete(ObjectParts).where(
            ObjectParts.bucket_id == bucket_id,
            ObjectParts.key == encode_key(key),
            ObjectParts.version_id == version_id,
        )
    )
    runs = [[size, len(list(group))] for size, group in groupby(sizes)]
    session.add(
        ObjectParts(
            bucket_id=bucket_id,
            key=encode_key(key),
            version_id=version_id,
            etag=etag,
            sizes=json.dumps(runs, separators=(",", ":")),
            checksums=None if checksums is None else json.dumps(list(checksums)),
        )
    )
    session.flush()


def part_sizes(db: Database, located: Located, etag: str) -> list[int] | None:
    """The part sizes of the version a GET/HEAD reads, if it has ETag `etag` and was
    completed from parts (None: uploaded in one piece, or unknown)."""
    with db.read() as session:
        row = _row(session, located)
        if row is None or row.etag != etag:
            return None
        runs = json.loads(row.sizes)
    return [size for size, count in runs for _ in range(count)]


def part_checksum(db: Database, located: Located, etag: str, number: int) -> str | None:
    """Part `number`'s own checksum in the object's algorithm, if the version a GET/HEAD
    reads has ETag `etag` and is a COMPOSITE multipart object (None otherwise)."""
    with db.read() as session:
        row = _row(session, located)
        if row is None or row.etag != etag or row.checksums is None:
            return None
        checksums = json.loads(row.checksums)
    return checksums[number - 1] if 1 <= number <= len(checksums) else None


def _row(session: Session, located: Located) -> ObjectParts | None:
    key = (located.bucket_id, encode_key(located.object_key), located.version_id or NULL)
    return session.get(ObjectParts, key)


def span(sizes: Sequence[int], number: int) -> PartSpan | None:
    """Where part `number` (from 1) lies among parts of `sizes`; None past the last part."""
    if not 1 <= number <= len(sizes):
        return None
    first = sum(sizes[: number - 1])
    return PartSpan(number, len(sizes), first, first + sizes[number - 1] - 1)
