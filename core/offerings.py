"""Service offerings (CPU, speed, memory of a VM) and disk offerings (size of a volume)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, IdMixin, get_live


class ServiceOffering(IdMixin, Base):
    __tablename__ = "service_offering"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_text: Mapped[str] = mapped_column(sa.String(4096), default="")
    cpu_number: Mapped[int | None]
    cpu_speed_mhz: Mapped[int | None]
    memory_mb: Mapped[int | None]
    storage_type: Mapped[str] = mapped_column(sa.String(16), default="shared")
    host_tag: Mapped[str] = mapped_column(sa.String(255), default="")
    offer_ha: Mapped[bool] = mapped_column(default=False)
    limit_cpu_use: Mapped[bool] = mapped_column(default=False)
    is_system: Mapped[bool] = mapped_column(default=False)
    is_customized: Mapped[bool] = mapped_column(default=False)
    domain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domain.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default="Active")
    removed: Mapped[dt.datetime | None]


class DiskOffering(IdMixin, Base):
    __tablename__ = "disk_offering"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_text: Mapped[str] = mapped_column(sa.String(4096), default="")
    disk_size_gb: Mapped[int] = mapped_column(default=0)
    is_customized: Mapped[bool] = mapped_column(default=False)
    storage_type: Mapped[str] = mapped_column(sa.String(16), default="shared")
    tags: Mapped[str] = mapped_column(sa.String(1024), default="")
    domain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domain.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default="Active")
    removed: Mapped[dt.datetime | None]


def create_service_offering(session: Session, *, name: str, **fields: object) -> ServiceOffering:
    offering = ServiceOffering(name=name, **fields)
    session.add(offering)
    session.flush()
    return offering


def create_disk_offering(session: Session, *, name: str, **fields: object) -> DiskOffering:
    offering = DiskOffering(name=name, **fields)
    session.add(offering)
    session.flush()
    return offering


def list_service_offerings(
    session: Session, *, offering_id: int | None = None, name: str | None = None
) -> list[ServiceOffering]:
    query = (
        sa.select(ServiceOffering)
        .where(ServiceOffering.removed.is_(None), ServiceOffering.is_system.is_(False))
        .order_by(ServiceOffering.id)
    )
    if offering_id is not None:
        query = query.where(ServiceOffering.id == offering_id)
    if name is not None:
        query = query.where(ServiceOffering.name == name)
    return list(session.scalars(query))


def list_disk_offerings(
    session: Session, *, offering_id: int | None = None, name: str | None = None
) -> list[DiskOffering]:
    query = sa.select(DiskOffering).where(DiskOffering.removed.is_(None)).order_by(DiskOffering.id)
    if offering_id is not None:
        query = query.where(DiskOffering.id == offering_id)
    if name is not None:
        query = query.where(DiskOffering.name == name)
    return list(session.scalars(query))


def service_offering_by_uuid(session: Session, uuid: str) -> ServiceOffering:
    return get_live(session, ServiceOffering, "service offering", uuid=uuid)


def disk_offering_by_uuid(session: Session, uuid: str) -> DiskOffering:
    return get_live(session, DiskOffering, "disk offering", uuid=uuid)
