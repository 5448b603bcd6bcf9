"""Per-account resource limits and counts, checked and counted in one statement.

A reservation is a single conditional UPDATE (`used + n <= limit`), so two concurrent deploys
cannot both squeeze under the same limit, on SQLite or MariaDB alike. A NULL limit means
"the global default" (CloudStack's max.account.* settings); -1 means unlimited.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.configuration import get_int
from core.context import Role
from core.db import Base
from core.errors import LimitExceeded


class ResourceType(enum.StrEnum):
    """Limited resources; `code` is CloudStack's resourcetype number."""

    USER_VM = "user_vm"
    PUBLIC_IP = "public_ip"
    VOLUME = "volume"
    SNAPSHOT = "snapshot"
    TEMPLATE = "template"
    PROJECT = "project"
    NETWORK = "network"
    VPC = "vpc"
    CPU = "cpu"
    MEMORY = "memory"
    PRIMARY_STORAGE = "primary_storage"
    SECONDARY_STORAGE = "secondary_storage"

    @property
    def code(self) -> int:
        return _CODES[self]

    @property
    def default_setting(self) -> str:
        return _DEFAULT_SETTINGS[self]


_CODES = {
    ResourceType.USER_VM: 0, ResourceType.PUBLIC_IP: 1, ResourceType.VOLUME: 2,
    ResourceType.SNAPSHOT: 3, ResourceType.TEMPLATE: 4, ResourceType.PROJECT: 5,
    ResourceType.NETWORK: 6, ResourceType.VPC: 7, ResourceType.CPU: 8, ResourceType.MEMORY: 9,
    ResourceType.PRIMARY_STORAGE: 10, ResourceType.SECONDARY_STORAGE: 11,
}  # fmt: skip
_DEFAULT_SETTINGS = {
    ResourceType.USER_VM: "max.account.user.vms",
    ResourceType.PUBLIC_IP: "max.account.public.ips",
    ResourceType.VOLUME: "max.account.volumes",
    ResourceType.SNAPSHOT: "max.account.snapshots",
    ResourceType.TEMPLATE: "max.account.templates",
    ResourceType.PROJECT: "max.account.projects",
    ResourceType.NETWORK: "max.account.networks",
    ResourceType.VPC: "max.account.vpcs",
    ResourceType.CPU: "max.account.cpus",
    ResourceType.MEMORY: "max.account.memory",
    ResourceType.PRIMARY_STORAGE: "max.account.primary.storage",
    ResourceType.SECONDARY_STORAGE: "max.account.secondary.storage",
}


class ResourceCount(Base):
    __tablename__ = "resource_count"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True)
    resource_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    used: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    max: Mapped[int | None] = mapped_column(sa.BigInteger)


def init_account(session: Session, account_id: int, role: Role) -> None:
    """Counting rows for a new account; root admins are unlimited, as in CloudStack."""
    limit = -1 if role is Role.ADMIN else None
    for resource in ResourceType:
        session.add(ResourceCount(account_id=account_id, resource_type=resource, used=0, max=limit))
    session.flush()


def _add_missing_row(session: Session, account_id: int, resource: ResourceType) -> None:
    role = session.execute(
        sa.text("SELECT role FROM account WHERE id = :id"), {"id": account_id}
    ).scalar_one()
    limit = -1 if Role(role) is Role.ADMIN else None
    session.add(ResourceCount(account_id=account_id, resource_type=resource, used=0, max=limit))
    session.flush()


def effective_limit(session: Session, row: ResourceCount) -> int:
    if row.max is not None:
        return row.max
    return get_int(session, ResourceType(row.resource_type).default_setting)


def reserve(session: Session, account_id: int, resources: dict[ResourceType, int]) -> None:
    """Count `resources` against the account, or raise LimitExceeded and count nothing."""
    for resource, amount in resources.items():
        default = get_int(session, resource.default_setting)
        limit = sa.func.coalesce(ResourceCount.max, default)
        result = session.execute(
            sa.update(ResourceCount)
            .where(
                ResourceCount.account_id == account_id,
                ResourceCount.resource_type == resource.value,
                sa.or_(limit < 0, ResourceCount.used + amount <= limit),
            )
            .values(used=ResourceCount.used + amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            row = session.get(ResourceCount, (account_id, resource.value))
            if row is None:  # a resource type added after the account was created
                _add_missing_row(session, account_id, resource)
                reserve(session, account_id, {resource: amount})
                continue
            raise LimitExceeded(resource.value, effective_limit(session, row), amount)


def release(session: Session, account_id: int, resources: dict[ResourceType, int]) -> None:
    for resource, amount in resources.items():
        session.execute(
            sa.update(ResourceCount)
            .where(
                ResourceCount.account_id == account_id,
                ResourceCount.resource_type == resource.value,
            )
            .values(
                used=sa.case((ResourceCount.used >= amount, ResourceCount.used - amount), else_=0)
            )
            .execution_options(synchronize_session=False)
        )


def set_limit(session: Session, account_id: int, resource: ResourceType, limit: int | None) -> None:
    row = session.get_one(ResourceCount, (account_id, resource.value))
    row.max = limit
    session.flush()
