"""The rows of guest networking: VPCs, guest networks (a VPC's tiers or stand-alone isolated
networks) and NICs (a VM's place in a network, with its address).

A default VPC (per account) and a default network (per account and zone) are marked by
`default_key`, a nullable unique column holding the account (and zone) while the row is the
default: concurrent creators of the same default collide on it instead of making two.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, IdMixin

VPC_ENABLED = "Enabled"
ALLOCATED = "Allocated"
IMPLEMENTED = "Implemented"
DEFAULT_VPC_OFFERING = "Default VPC offering"


class Vpc(IdMixin, Base):
    """CloudStack's VPC: a private address space of one account, split into tiers."""

    __tablename__ = "vpc"

    name: Mapped[str] = mapped_column(sa.String(255))
    display_text: Mapped[str] = mapped_column(sa.String(255), default="")
    cidr: Mapped[str] = mapped_column(sa.String(64))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=VPC_ENABLED)
    network_domain: Mapped[str] = mapped_column(sa.String(255), default="")
    vpc_offering: Mapped[str] = mapped_column(sa.String(255), default=DEFAULT_VPC_OFFERING)
    is_default: Mapped[bool] = mapped_column(default=False)
    default_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    dns_support: Mapped[bool] = mapped_column(default=True)
    dns_hostnames: Mapped[bool] = mapped_column(default=False)
    tenancy: Mapped[str] = mapped_column(sa.String(16), default="default")
    removed: Mapped[dt.datetime | None]


class Network(IdMixin, Base):
    """CloudStack's guest network (Isolated, Guest traffic); with `vpc_id`, a VPC tier."""

    __tablename__ = "network"

    name: Mapped[str] = mapped_column(sa.String(255))
    display_text: Mapped[str] = mapped_column(sa.String(255), default="")
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    network_offering_id: Mapped[int] = mapped_column(sa.ForeignKey("network_offering.id"))
    vpc_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vpc.id"), index=True)
    cidr: Mapped[str] = mapped_column(sa.String(64))
    gateway: Mapped[str] = mapped_column(sa.String(64))
    netmask: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default=ALLOCATED)
    traffic_type: Mapped[str] = mapped_column(sa.String(16), default="Guest")
    guest_type: Mapped[str] = mapped_column(sa.String(16), default="Isolated")
    network_domain: Mapped[str] = mapped_column(sa.String(255), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    default_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    map_public_ip: Mapped[bool] = mapped_column(default=False)
    removed: Mapped[dt.datetime | None]


class Nic(IdMixin, Base):
    """A VM's interface in a network, with the address it was given there."""

    __tablename__ = "nic"
    __table_args__ = (
        sa.UniqueConstraint("network_id", "ip_address"),
        sa.UniqueConstraint("network_id", "vm_id"),
    )

    network_id: Mapped[int] = mapped_column(sa.ForeignKey("network.id"), index=True)
    vm_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_instance.id"), index=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64))
    is_default: Mapped[bool] = mapped_column(default=True)
