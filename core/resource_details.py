"""Resource details: name/value pairs a front end keeps about a resource, CloudStack's
`volume_details`, `snapshot_details`, … as one table (as tags are one table).

Details are not business state — the row of the resource is — but what a protocol needs to
give back exactly as it was told: the EC2 volume type a volume was created with, a snapshot's
description, the device name an attachment was asked for, a request's idempotency token. They
are never shown to other tenants (the resource's own visibility applies) and are cheap to
read in bulk for a page of resources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base

MAX_NAME = 255


class ResourceDetail(Base):
    __tablename__ = "resource_detail"

    resource_type: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    resource_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(MAX_NAME), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text, default="")


def set_details(
    session: Session, resource_type: str, resource_id: int, values: Mapping[str, str | None]
) -> None:
    """Create, overwrite or (value None) remove details of one resource."""
    for name, value in values.items():
        key = (resource_type, resource_id, name)
        row = session.get(ResourceDetail, key)
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                ResourceDetail(
                    resource_type=resource_type, resource_id=resource_id, name=name, value=value
                )
            )
        else:
            row.value = value
    session.flush()


def details_of(
    session: Session, resource_type: str, resource_ids: Iterable[int]
) -> dict[int, dict[str, str]]:
    """The details of many resources of one type in one query (every id has an entry)."""
    ids = list(dict.fromkeys(resource_ids))
    found: dict[int, dict[str, str]] = {resource_id: {} for resource_id in ids}
    if not ids:
        return found
    rows = session.scalars(
        sa.select(ResourceDetail).where(
            ResourceDetail.resource_type == resource_type, ResourceDetail.resource_id.in_(ids)
        )
    )
    for row in rows:
        found[row.resource_id][row.name] = row.value
    return found


def resources_with(session: Session, resource_type: str, name: str, value: str) -> list[int]:
    """Ids of the resources of one type whose detail `name` is `value` (oldest first)."""
    return list(
        session.scalars(
            sa.select(ResourceDetail.resource_id)
            .where(
                ResourceDetail.resource_type == resource_type,
                ResourceDetail.name == name,
                ResourceDetail.value == value,
            )
            .order_by(ResourceDetail.resource_id)
        )
    )
