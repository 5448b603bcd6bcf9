"""The event log: what happened to which resource, on whose behalf (CloudStack's events)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base, IdMixin


class Event(IdMixin, Base):
    __tablename__ = "event"

    event_type: Mapped[str] = mapped_column(sa.String(64), index=True)
    level: Mapped[str] = mapped_column(sa.String(16), default="INFO")
    state: Mapped[str] = mapped_column(sa.String(16), default="Completed")
    description: Mapped[str] = mapped_column(sa.String(4096), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    resource_type: Mapped[str] = mapped_column(sa.String(64), default="")
    resource_uuid: Mapped[str] = mapped_column(sa.String(36), default="")
    archived: Mapped[bool] = mapped_column(default=False)
    removed: Mapped[dt.datetime | None]


def record_event(
    session: Session,
    *,
    account_id: int,
    domain_id: int,
    user_id: int,
    event_type: str,
    description: str,
    resource_type: str = "",
    resource_uuid: str = "",
    level: str = "INFO",
    state: str = "Completed",
) -> Event:
    event = Event(
        account_id=account_id,
        domain_id=domain_id,
        user_id=user_id,
        event_type=event_type,
        description=description,
        resource_type=resource_type,
        resource_uuid=resource_uuid,
        level=level,
        state=state,
    )
    session.add(event)
    return event


def record_for_caller(
    session: Session, ctx: CallContext, event_type: str, description: str, **fields: str
) -> Event:
    return record_event(
        session,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        user_id=ctx.user_id,
        event_type=event_type,
        description=description,
        **fields,
    )
