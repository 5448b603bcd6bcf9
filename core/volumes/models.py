"""The volume row: a root or data disk, on a primary storage pool once placed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, IdMixin
from core.volumes.states import ALLOCATED

ROOT = "ROOT"
DATADISK = "DATADISK"
INSTANCE_TYPE = "Volume"
TAG_TYPE = "Volume"
GIB = 1024**3
MAX_DATA_VOLUMES = 6  # CloudStack's hypervisor capability default (max_data_volumes_limit)
RESERVED_DEVICE_ID = 3  # CloudStack keeps device 3 for the CD-ROM
MAX_CUSTOM_SIZE_GB = 1024  # custom.diskoffering.size.max


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
    attached: Mapped[dt.datetime | None]
    # A data disk created with its VM (EC2 block-device mapping) may go when the VM is expunged.
    delete_on_termination: Mapped[bool] = mapped_column(default=False)
    removed: Mapped[dt.datetime | None]

    @property
    def size_gb(self) -> int:
        return -(-self.size_bytes // GIB)
