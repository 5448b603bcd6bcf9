"""Named sizes: operator-assigned names for service offerings (EC2's instance types).

AWS tools name a VM's size (`t2.micro`, `m5.large`); CloudStack names a service offering.
This table is the operator's mapping from such names to offerings, edited with
`cloudgate instance-types`. Several names may share one offering; the oldest name of an
offering is its canonical one. A name whose offering is deleted simply drops out of the list
(the row stays, so that recreating nothing brings a stale mapping back).

`seed_sizes` makes the defaults the composition root asks for at first start: each name is
bound to the offering of the given name, created with the given size if it does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, IdMixin
from core.errors import InvalidParameter, NotFound
from core.offerings import (
    ACTIVE,
    ServiceOffering,
    create_service_offering,
    list_service_offerings,
)

KIND = "instance type"
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}")


class InstanceType(IdMixin, Base):
    """One name bound to one service offering."""

    __tablename__ = "instance_type"

    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    service_offering_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_offering.id"), index=True
    )


@dataclass(frozen=True, slots=True)
class SizeDefault:
    """A default name and the offering it maps to (created with this size if missing)."""

    name: str
    offering_name: str
    cpu_number: int
    cpu_speed_mhz: int
    memory_mb: int


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidParameter(
            f"Invalid instance type name '{name}': lowercase letters, digits, '.' and '-', "
            "at most 63 characters",
            parameter="name",
        )
    return name


def list_sizes(session: Session) -> list[tuple[InstanceType, ServiceOffering]]:
    """Every name whose offering is live and of fixed size, oldest first."""
    query = (
        sa.select(InstanceType, ServiceOffering)
        .join(ServiceOffering, ServiceOffering.id == InstanceType.service_offering_id)
        .where(
            ServiceOffering.removed.is_(None),
            ServiceOffering.state == ACTIVE,
            ServiceOffering.is_customized.is_(False),
            ServiceOffering.is_system.is_(False),
        )
        .order_by(InstanceType.id)
    )
    return [(row, offering) for row, offering in session.execute(query)]


def _offering_named(session: Session, name_or_uuid: str) -> ServiceOffering:
    by_uuid = session.scalar(
        sa.select(ServiceOffering).where(
            ServiceOffering.uuid == name_or_uuid, ServiceOffering.removed.is_(None)
        )
    )
    found = [by_uuid] if by_uuid else list_service_offerings(session, name=name_or_uuid)
    if not found:
        raise NotFound("service offering", name_or_uuid)
    if len(found) > 1:
        raise InvalidParameter(
            f"Several service offerings are named '{name_or_uuid}'; give its uuid",
            parameter="offering",
        )
    offering = found[0]
    if offering.is_customized or offering.is_system:
        raise InvalidParameter(
            f"Service offering '{offering.name}' has no fixed size (or is a system offering)",
            parameter="offering",
        )
    return offering


def set_size(session: Session, name: str, offering_ref: str) -> InstanceType:
    """Bind `name` to the offering named (or with the uuid) `offering_ref` (operator only)."""
    offering = _offering_named(session, offering_ref)
    row = session.scalar(sa.select(InstanceType).where(InstanceType.name == check_name(name)))
    if row is None:
        row = InstanceType(name=name, service_offering_id=offering.id)
        session.add(row)
    else:
        row.service_offering_id = offering.id
    session.flush()
    return row


def remove_size(session: Session, name: str) -> None:
    """Forget a name (operator only); VMs launched under it keep their offering."""
    row = session.scalar(sa.select(InstanceType).where(InstanceType.name == name))
    if row is None:
        raise NotFound(KIND, name)
    session.delete(row)
    session.flush()


def seed_sizes(session: Session, defaults: Iterable[SizeDefault]) -> None:
    """Bind each default name not yet bound, creating its offering when none has its name."""
    taken = set(session.scalars(sa.select(InstanceType.name)))
    for default in defaults:
        if default.name in taken:
            continue
        existing = list_service_offerings(session, name=default.offering_name)
        offering = existing[0] if existing else None
        if offering is None:
            offering = create_service_offering(
                session,
                name=default.offering_name,
                display_text=(
                    f"{default.offering_name}, {default.cpu_number} × "
                    f"{default.cpu_speed_mhz} MHz, {default.memory_mb} MB"
                ),
                cpu_number=default.cpu_number,
                cpu_speed_mhz=default.cpu_speed_mhz,
                memory_mb=default.memory_mb,
            )
        session.add(InstanceType(name=default.name, service_offering_id=offering.id))
        taken.add(default.name)
    session.flush()
