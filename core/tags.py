"""Resource tags: key/value pairs on any taggable resource, and the `tags[]` list filter.

One table serves every resource type (CloudStack's `resource_tags`): a tag names its resource
by type ("UserVm", "Volume", "Snapshot", "Template", "SecurityGroup", …) and internal id, and
carries the owner so that tenants only see their own tags.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base, IdMixin
from core.errors import InvalidParameter
from core.listing import Page, paginate
from core.visibility import ListScope, scope_filter

MAX_KEY = 255
MAX_VALUE = 255


class ResourceTag(IdMixin, Base):
    __tablename__ = "resource_tag"
    __table_args__ = (
        sa.UniqueConstraint("resource_type", "resource_id", "key"),
        sa.Index("ix_resource_tag_lookup", "resource_type", "key", "value"),
    )

    resource_type: Mapped[str] = mapped_column(sa.String(64))
    resource_id: Mapped[int]
    resource_uuid: Mapped[str] = mapped_column(sa.String(36))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY))
    value: Mapped[str] = mapped_column(sa.String(MAX_VALUE), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    customer: Mapped[str] = mapped_column(sa.String(255), default="")


def _check(key: str, value: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise InvalidParameter("Tag key must be 1 to 255 characters", parameter="tags")
    if len(value) > MAX_VALUE:
        raise InvalidParameter("Tag value must be at most 255 characters", parameter="tags")


def set_tags(
    session: Session,
    *,
    resource_type: str,
    resource_id: int,
    resource_uuid: str,
    account_id: int,
    domain_id: int,
    tags: dict[str, str],
) -> list[ResourceTag]:
    """Create or overwrite tags on one resource the caller has already been checked against."""
    written = []
    for key, value in tags.items():
        _check(key, value)
        tag = session.scalar(
            sa.select(ResourceTag).where(
                ResourceTag.resource_type == resource_type,
                ResourceTag.resource_id == resource_id,
                ResourceTag.key == key,
            )
        )
        if tag is None:
            tag = ResourceTag(
                resource_type=resource_type,
                resource_id=resource_id,
                resource_uuid=resource_uuid,
                key=key,
                account_id=account_id,
                domain_id=domain_id,
            )
            session.add(tag)
        tag.value = value
        written.append(tag)
    session.flush()
    return written


def delete_tags(
    session: Session, *, resource_type: str, resource_id: int, tags: dict[str, str | None]
) -> int:
    """Remove tags by key (and value, when given); no tags given removes all of them."""
    query = sa.delete(ResourceTag).where(
        ResourceTag.resource_type == resource_type, ResourceTag.resource_id == resource_id
    )
    if tags:
        query = query.where(
            sa.or_(
                *(
                    sa.and_(ResourceTag.key == key, ResourceTag.value == value)
                    if value is not None
                    else ResourceTag.key == key
                    for key, value in tags.items()
                )
            )
        )
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def tags_of(
    session: Session, resource_type: str, resource_ids: list[int]
) -> dict[int, list[ResourceTag]]:
    """Tags of many resources in one query (for rendering lists)."""
    found: dict[int, list[ResourceTag]] = {rid: [] for rid in resource_ids}
    if not resource_ids:
        return found
    for tag in session.scalars(
        sa.select(ResourceTag)
        .where(
            ResourceTag.resource_type == resource_type, ResourceTag.resource_id.in_(resource_ids)
        )
        .order_by(ResourceTag.key)
    ):
        found[tag.resource_id].append(tag)
    return found


def tag_filter(
    resource_type: str, id_column: sa.ColumnElement[int], tags: list[tuple[str, str | None]]
) -> sa.ColumnElement[bool]:
    """A WHERE clause keeping rows that carry every (key, value) pair (value None: any value)."""
    clauses = []
    for key, value in tags:
        match = sa.select(ResourceTag.resource_id).where(
            ResourceTag.resource_type == resource_type, ResourceTag.key == key
        )
        if value is not None:
            match = match.where(ResourceTag.value == value)
        clauses.append(id_column.in_(match))
    return sa.and_(sa.true(), *clauses)


def list_tags(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    resource_type: str | None = None,
    resource_uuid: str | None = None,
    key: str | None = None,
    value: str | None = None,
    page: Page = Page(),
) -> tuple[list[ResourceTag], int]:
    query = sa.select(ResourceTag).where(
        scope_filter(session, ctx, scope, ResourceTag.account_id, ResourceTag.domain_id)
    )
    if resource_type:
        query = query.where(ResourceTag.resource_type == resource_type)
    if resource_uuid:
        query = query.where(ResourceTag.resource_uuid == resource_uuid)
    if key is not None:
        query = query.where(ResourceTag.key == key)
    if value is not None:
        query = query.where(ResourceTag.value == value)
    return paginate(session, query.order_by(ResourceTag.id), page)
