"""The virtual machine row."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, IdMixin
from core.vms.states import VmState


class VirtualMachine(IdMixin, Base):
    __tablename__ = "vm_instance"
    __table_args__ = (
        sa.Index("ix_vm_instance_account_state", "account_id", "state"),
        sa.Index("ix_vm_instance_launch_token", "account_id", "launch_token"),
        # Live VMs of an account (every list's scope) and of the cloud (a root admin's
        # listall), in id order: counted and paged from the index alone.
        sa.Index("ix_vm_instance_account_removed", "account_id", "removed"),
        sa.Index("ix_vm_instance_removed", "removed"),
    )

    name: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(255), default="")
    instance_name: Mapped[str] = mapped_column(sa.String(255), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    pod_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pod.id"))
    host_id: Mapped[int | None] = mapped_column(sa.ForeignKey("host.id"), index=True)
    last_host_id: Mapped[int | None] = mapped_column(sa.ForeignKey("host.id"))
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_template.id"))
    service_offering_id: Mapped[int] = mapped_column(sa.ForeignKey("service_offering.id"))
    cpu_number: Mapped[int] = mapped_column(default=1)
    cpu_speed_mhz: Mapped[int] = mapped_column(default=500)
    memory_mb: Mapped[int] = mapped_column(default=512)
    hypervisor: Mapped[str] = mapped_column(sa.String(32), default="Simulator")
    state: Mapped[str] = mapped_column(sa.String(32), default=VmState.STOPPED)
    state_changed: Mapped[dt.datetime | None]
    ha_enabled: Mapped[bool] = mapped_column(default=False)
    password: Mapped[str] = mapped_column(sa.String(255), default="")
    user_data: Mapped[str] = mapped_column(sa.Text, default="")
    keypair: Mapped[str] = mapped_column(sa.String(255), default="")
    private_ip: Mapped[str] = mapped_column(sa.String(64), default="")
    mac_address: Mapped[str] = mapped_column(sa.String(32), default="")
    # VMs launched by one request share a group (an EC2 reservation); a retried request
    # carrying the same token finds them instead of launching again.
    launch_group: Mapped[str] = mapped_column(sa.String(36), default="")
    launch_token: Mapped[str | None] = mapped_column(sa.String(255))
    launch_index: Mapped[int] = mapped_column(default=0)
    # CloudStack's `group` (a free-form label), keyboard layout, guest OS override, and the
    # `details` map (user_vm_details) kept as JSON text.
    vm_group: Mapped[str] = mapped_column(sa.String(255), default="")
    keyboard: Mapped[str] = mapped_column(sa.String(32), default="")
    guest_os: Mapped[str] = mapped_column(sa.String(255), default="")
    details_json: Mapped[str] = mapped_column(sa.Text, default="{}")
    dynamically_scalable: Mapped[bool] = mapped_column(default=False)
    # EC2's instance attributes, kept on the VM so that both APIs see one VM (core/vms/attributes)
    disable_api_termination: Mapped[bool] = mapped_column(default=False)
    disable_api_stop: Mapped[bool] = mapped_column(default=False)
    shutdown_behavior: Mapped[str] = mapped_column(sa.String(16), default="stop")
    removed: Mapped[dt.datetime | None]

    @property
    def details(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.details_json or "{}")
        return loaded

    @details.setter
    def details(self, value: dict[str, str]) -> None:
        self.details_json = json.dumps(value, sort_keys=True)

    @property
    def cpu_mhz_total(self) -> int:
        return self.cpu_number * self.cpu_speed_mhz

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024**2
