"""Per-account resource limits and counts: every resource of a request in two statements.

A reservation reads the account's counting rows for all the resources it asks for with one
locking SELECT, checks them, and counts them with one UPDATE; a release is one UPDATE. The
rows stay locked from the check to the commit (SQLite: the writers' turn; MariaDB: FOR UPDATE,
always taken in key order by a single statement, so reservations and releases cannot
deadlock), so two concurrent deploys cannot both squeeze under the same limit. A deploy used
to spend five conditional UPDATEs here, one per resource. A NULL limit means "the global
default" (CloudStack's max.account.* settings); -1 means unlimited.

Domains may carry limits too (`domain_resource_limit`): an account's usage counts towards its
domain and every ancestor, checked after the account's own reservation while the domain's
limit rows are locked, so concurrent reservations in one domain are serialised.
"""

from __future__ import annotations

import enum
import importlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.configuration import get_int
from core.context import Role
from core.db import Base
from core.errors import InvalidParameter, LimitExceeded


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


def ensure_row(session: Session, account_id: int, resource: ResourceType) -> None:
    """The counting row of one resource exists (types added after the account was created)."""
    if session.get(ResourceCount, (account_id, resource.value)) is None:
        _add_missing_row(session, account_id, resource)


def effective_limit(session: Session, row: ResourceCount) -> int:
    if row.max is not None:
        return row.max
    return get_int(session, ResourceType(row.resource_type).default_setting)


def account_limit(session: Session, account_id: int, resource: ResourceType) -> int:
    """The account's limit for `resource` (-1: unlimited), its own or the setting's default."""
    row = session.get(ResourceCount, (account_id, resource.value))
    if row is None:  # a type added after the account was made: the default applies (reads
        return get_int(session, resource.default_setting)  # never write the missing row)
    return effective_limit(session, row)


def reserve(session: Session, account_id: int, resources: dict[ResourceType, int]) -> None:
    """Count `resources` against the account, or raise LimitExceeded and count nothing."""
    if not resources:
        return
    rows = _locked_rows(session, account_id, resources)
    for resource, amount in resources.items():  # the first resource over is the one reported
        row = rows[resource.value]
        limit = effective_limit(session, row)
        if amount > 0 and limit >= 0 and row.used + amount > limit:
            raise LimitExceeded(resource.value, limit, amount)
    _add_used(session, account_id, resources, ResourceCount.used + _amounts(resources))
    growing = {resource: amount for resource, amount in resources.items() if amount > 0}
    if growing:
        try:
            _check_domains(session, account_id, growing)
        except LimitExceeded:
            release(session, account_id, resources)
            raise


def _locked_rows(
    session: Session, account_id: int, resources: dict[ResourceType, int]
) -> dict[str, ResourceCount]:
    """The account's counting rows for `resources`, locked and fresh; rows for resource types
    added after the account was created are made here."""

    def load() -> dict[str, ResourceCount]:
        found = session.scalars(
            sa.select(ResourceCount)
            .where(
                ResourceCount.account_id == account_id,
                ResourceCount.resource_type.in_([resource.value for resource in resources]),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        return {row.resource_type: row for row in found}

    rows = load()
    missing = [resource for resource in resources if resource.value not in rows]
    for resource in missing:
        _add_missing_row(session, account_id, resource)
    return load() if missing else rows


def _amounts(resources: dict[ResourceType, int]) -> Any:
    """`amount` of each resource as one SQL expression over the row's resource_type."""
    return sa.case(
        {resource.value: amount for resource, amount in resources.items()},
        value=ResourceCount.resource_type,
        else_=0,
    )


def _add_used(
    session: Session, account_id: int, resources: dict[ResourceType, int], used: Any
) -> None:
    session.execute(
        sa.update(ResourceCount)
        .where(
            ResourceCount.account_id == account_id,
            ResourceCount.resource_type.in_([resource.value for resource in resources]),
        )
        .values(used=used)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, account_id: int, resources: dict[ResourceType, int]) -> None:
    """Give `resources` back (a count never goes below zero)."""
    if not resources:
        return
    amounts = _amounts(resources)
    used = sa.case((ResourceCount.used >= amounts, ResourceCount.used - amounts), else_=0)
    _add_used(session, account_id, resources, used)


def set_limit(session: Session, account_id: int, resource: ResourceType, limit: int | None) -> None:
    row = session.get_one(ResourceCount, (account_id, resource.value))
    row.max = limit
    session.flush()


class DomainResourceLimit(Base):
    """A domain's limit for one resource type; no row (or -1) means unlimited."""

    __tablename__ = "domain_resource_limit"

    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), primary_key=True)
    resource_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    max: Mapped[int] = mapped_column(sa.BigInteger, default=-1)


def _ancestor_paths(path: str) -> list[str]:
    """'/a/b/' → ['/', '/a/', '/a/b/']: the domain and all its ancestors, by path."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "".join(f"{p}/" for p in parts[:n]) for n in range(len(parts) + 1)]


def domain_usage(session: Session, domain_path: str, resource: ResourceType) -> int:
    """What the accounts of a domain subtree use of one resource."""
    from core.identity import Account, Domain

    accounts = sa.select(Account.id).where(
        Account.domain_id.in_(sa.select(Domain.id).where(Domain.path.startswith(domain_path)))
    )
    used = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ResourceCount.used), 0)).where(
            ResourceCount.resource_type == resource.value,
            ResourceCount.account_id.in_(accounts),
        )
    )
    return int(used or 0)


def _check_domains(session: Session, account_id: int, amounts: dict[ResourceType, int]) -> None:
    """The account's domain and its ancestors stay within their limits for `amounts` (already
    counted on the account); one query finds the limits that apply to any of them."""
    from core.identity import Account, Domain

    path = session.scalar(
        sa.select(Domain.path)
        .join(Account, Account.domain_id == Domain.id)
        .where(Account.id == account_id)
    )
    if path is None:
        return
    limited = session.execute(
        sa.select(DomainResourceLimit.max, Domain.path, DomainResourceLimit.resource_type)
        .join(Domain, Domain.id == DomainResourceLimit.domain_id)
        .where(
            Domain.path.in_(_ancestor_paths(path)),
            DomainResourceLimit.resource_type.in_([resource.value for resource in amounts]),
            DomainResourceLimit.max >= 0,
        )
        .with_for_update(of=DomainResourceLimit)
    ).all()
    order = [resource.value for resource in amounts]  # the first resource over is reported
    for limit, domain_path, resource_type in sorted(limited, key=lambda r: order.index(r[2])):
        resource = ResourceType(resource_type)
        amount = amounts[resource]
        if domain_usage(session, domain_path, resource) > limit:
            raise LimitExceeded(
                resource.value,
                limit,
                amount,
                f"Maximum number of resources of type '{resource.value}' for domain has "
                f"exceeded; limit {limit}, requested {amount}",
            )


def domain_limit(session: Session, domain_id: int, resource: ResourceType) -> int:
    row = session.get(DomainResourceLimit, (domain_id, resource.value))
    return -1 if row is None else row.max


def set_domain_limit(
    session: Session, domain_id: int, resource: ResourceType, limit: int | None
) -> None:
    """A domain's limit; None or -1 removes it (unlimited)."""
    row = session.get(DomainResourceLimit, (domain_id, resource.value))
    if row is None:
        row = DomainResourceLimit(domain_id=domain_id, resource_type=resource.value)
        session.add(row)
    row.max = -1 if limit is None else limit
    session.flush()


def resource_type_by_code(code: int) -> ResourceType:
    for resource in ResourceType:
        if resource.code == code:
            return resource
    raise InvalidParameter(f"Please specify valid resource type: {code}", parameter="resourcetype")


def resource_type_by_name(name: str) -> ResourceType:
    try:
        return ResourceType(name.lower())
    except ValueError:
        raise InvalidParameter(
            f"Please specify valid resource type name: {name}", parameter="resourcetypename"
        ) from None


# Recounting: per resource type, what the real tables say an account uses. Models are named
# by dotted path and resolved at call time, so a family not written yet is simply skipped.
def _model(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute, None)
    except ImportError:
        return None


def _live(model: Any, account_id: int) -> list[sa.ColumnElement[bool]]:
    clauses = [model.account_id == account_id]
    if hasattr(model, "removed"):
        clauses.append(model.removed.is_(None))
    return clauses


def _count_vms(session: Session, account_id: int, column: str | None) -> int | None:
    model = _model("core.vms.models:VirtualMachine")
    if model is None:
        return None
    measure = sa.func.count() if column is None else sa.func.sum(getattr(model, column))
    value = session.scalar(
        sa.select(sa.func.coalesce(measure, 0)).where(
            *_live(model, account_id), model.state.notin_(("Destroyed", "Expunging", "Error"))
        )
    )
    return int(value or 0)


def _count_rows(path: str, *, exclude_states: tuple[str, ...] = (), **equal: Any) -> Any:
    def count(session: Session, account_id: int) -> int | None:
        model = _model(path)
        if model is None:
            return None
        clauses = _live(model, account_id)
        if exclude_states and hasattr(model, "state"):
            clauses.append(model.state.notin_(exclude_states))
        clauses += [getattr(model, k) == v for k, v in equal.items() if hasattr(model, k)]
        return int(session.scalar(sa.select(sa.func.count()).where(*clauses)) or 0)

    return count


def _volume_gb(session: Session, account_id: int) -> int | None:
    """GiB counted the way reservations count them: each volume rounded up on its own."""
    model = _model("core.volumes:Volume")
    if model is None:
        return None
    sizes = session.scalars(
        sa.select(model.size_bytes).where(
            *_live(model, account_id), model.state.notin_(_GONE_VOLUME)
        )
    )
    return sum(-(-int(size) // 1024**3) for size in sizes)


_GONE_VOLUME = ("Destroy", "Expunged", "Expunging")
COUNTERS: dict[ResourceType, Any] = {
    ResourceType.USER_VM: lambda s, a: _count_vms(s, a, None),
    ResourceType.CPU: lambda s, a: _count_vms(s, a, "cpu_number"),
    ResourceType.MEMORY: lambda s, a: _count_vms(s, a, "memory_mb"),
    ResourceType.VOLUME: _count_rows("core.volumes:Volume", exclude_states=_GONE_VOLUME),
    ResourceType.PRIMARY_STORAGE: _volume_gb,
    ResourceType.TEMPLATE: _count_rows("core.templates:Template", template_type="USER"),
    ResourceType.SNAPSHOT: _count_rows(
        "core.snapshots:Snapshot", exclude_states=("Destroyed", "Error")
    ),
    ResourceType.PUBLIC_IP: _count_rows("core.public_ips:PublicIpAddress", state="Allocated"),
    ResourceType.NETWORK: _count_rows("core.networks:Network"),
    ResourceType.VPC: _count_rows("core.networks:Vpc"),
    ResourceType.PROJECT: _count_rows("core.projects:Project"),
}


def recount(
    session: Session, account_id: int, resources: list[ResourceType] | None = None
) -> dict[ResourceType, int]:
    """Correct an account's counters from the real tables (updateResourceCount)."""
    counted: dict[ResourceType, int] = {}
    for resource in resources or list(ResourceType):
        ensure_row(session, account_id, resource)
        row = session.get_one(ResourceCount, (account_id, resource.value))
        counter = COUNTERS.get(resource)
        value = counter(session, account_id) if counter else None
        if value is not None and value != row.used:
            row.used = value
        counted[resource] = row.used
    session.flush()
    return counted
