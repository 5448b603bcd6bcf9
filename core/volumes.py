"""Volumes: a VM's root disk now, data disks later; each lives on a primary storage pool."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, IdMixin, utcnow
from core.planner import release_pool, reserve_pool

ROOT = "ROOT"
DATADISK = "DATADISK"
READY = "Ready"
ALLOCATED = "Allocated"
DESTROYED = "Destroy"
EXPUNGED = "Expunged"


class Volume(IdMixin, Base):
    __tablename__ = "volume"

    name: Mapped[str] = mapped_column(sa.String(255))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"))
    pool_id: Mapped[int | None] = mapped_column(sa.ForeignKey("storage_pool.id"))
    vm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vm_instance.id"), index=True)
    volume_type: Mapped[str] = mapped_column(sa.String(16), default=ROOT)
    device_id: Mapped[int | None]
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    disk_offering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disk_offering.id"))
    template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vm_template.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default=ALLOCATED)
    path: Mapped[str] = mapped_column(sa.String(1024), default="")
    removed: Mapped[dt.datetime | None]


def create_root_volume(
    session: Session,
    *,
    vm_id: int,
    vm_name_id: int,
    account_id: int,
    domain_id: int,
    zone_id: int,
    cluster_id: int | None,
    size_bytes: int,
    template_id: int,
) -> Volume:
    """The root disk of a new VM, with its space reserved on a pool near the VM's host."""
    pool = reserve_pool(session, zone_id=zone_id, cluster_id=cluster_id, size_bytes=size_bytes)
    volume = Volume(
        name=f"ROOT-{vm_name_id}",
        account_id=account_id,
        domain_id=domain_id,
        zone_id=zone_id,
        pool_id=pool.id,
        vm_id=vm_id,
        volume_type=ROOT,
        device_id=0,
        size_bytes=size_bytes,
        template_id=template_id,
        state=READY,
    )
    session.add(volume)
    session.flush()
    volume.path = volume.uuid
    return volume


def volumes_of_vm(session: Session, vm_id: int) -> list[Volume]:
    return list(
        session.scalars(
            sa.select(Volume)
            .where(Volume.vm_id == vm_id, Volume.removed.is_(None))
            .order_by(Volume.id)
        )
    )


def expunge_volumes_of_vm(session: Session, vm_id: int) -> None:
    """Remove a VM's volumes and give their space back to the pools."""
    for volume in volumes_of_vm(session, vm_id):
        if volume.pool_id is not None:
            release_pool(session, volume.pool_id, volume.size_bytes)
        volume.state = EXPUNGED
        volume.removed = utcnow()
