"""Security group tables: groups, their rules, and which VMs are in which group."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, IdMixin

RESOURCE_TYPE = "SecurityGroup"
RULE_RESOURCE_TYPE = "SecurityGroupRule"
DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default Security Group"
INGRESS = "ingress"
EGRESS = "egress"
NAMED_PROTOCOLS = ("tcp", "udp", "icmp", "all")
ANYWHERE = "0.0.0.0/0"


class SecurityGroup(IdMixin, Base):
    __tablename__ = "security_group"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)

    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(4096), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    # The VPC an EC2 caller created the group for (NULL: the account's default VPC). CloudStack
    # keeps security groups outside VPCs; the id is recorded, not enforced.
    vpc_id: Mapped[int | None]


class SecurityGroupRule(IdMixin, Base):
    __tablename__ = "security_group_rule"

    security_group_id: Mapped[int] = mapped_column(sa.ForeignKey("security_group.id"), index=True)
    direction: Mapped[str] = mapped_column(sa.String(8))
    protocol: Mapped[str] = mapped_column(sa.String(16))
    start_port: Mapped[int | None]
    end_port: Mapped[int | None]
    icmp_type: Mapped[int | None]
    icmp_code: Mapped[int | None]
    cidr: Mapped[str | None] = mapped_column(sa.String(64))
    allowed_group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("security_group.id"), index=True
    )
    description: Mapped[str | None] = mapped_column(sa.String(255))


class SecurityGroupVm(Base):
    __tablename__ = "security_group_vm_map"

    security_group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("security_group.id"), primary_key=True
    )
    vm_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_instance.id"), primary_key=True)
