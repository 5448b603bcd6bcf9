"""Global settings kept in the database (CloudStack's `configuration` table).

Only settings the core actually reads are declared; each has CloudStack's name and default so
operators can carry their knowledge over.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from core.errors import InvalidParameter


class Configuration(Base):
    __tablename__ = "configuration"

    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: str
    kind: type
    category: str
    description: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "cpu.overprovisioning.factor",
            "1.0",
            float,
            "Advanced",
            "Used for CPU overprovisioning calculation; available CPU is total × factor",
        ),
        Setting(
            "mem.overprovisioning.factor",
            "1.0",
            float,
            "Advanced",
            "Used for memory overprovisioning calculation",
        ),
        Setting(
            "storage.overprovisioning.factor",
            "2.0",
            float,
            "Storage",
            "Used for storage overprovisioning calculation",
        ),
        Setting(
            "cluster.cpu.allocated.capacity.disablethreshold",
            "0.85",
            float,
            "Alert",
            "Allocated CPU fraction beyond which no new VM is placed",
        ),
        Setting(
            "cluster.memory.allocated.capacity.disablethreshold",
            "0.85",
            float,
            "Alert",
            "Allocated memory fraction beyond which no new VM is placed",
        ),
        Setting(
            "pool.storage.allocated.capacity.disablethreshold",
            "0.85",
            float,
            "Alert",
            "Allocated storage fraction beyond which no new volume is placed",
        ),
        Setting(
            "max.account.user.vms",
            "20",
            int,
            "Account Defaults",
            "The default maximum number of user VMs that can be deployed for an account",
        ),
        Setting(
            "max.account.cpus",
            "40",
            int,
            "Account Defaults",
            "The default maximum number of CPU cores for an account",
        ),
        Setting(
            "max.account.memory",
            "40960",
            int,
            "Account Defaults",
            "The default maximum memory (in MiB) for an account",
        ),
        Setting(
            "max.account.public.ips",
            "20",
            int,
            "Account Defaults",
            "The default maximum public IPs that can be consumed for an account",
        ),
        Setting(
            "max.account.volumes",
            "20",
            int,
            "Account Defaults",
            "The default maximum volumes that can be created for an account",
        ),
        Setting(
            "max.account.snapshots",
            "20",
            int,
            "Account Defaults",
            "The default maximum snapshots that can be created for an account",
        ),
        Setting(
            "max.account.templates",
            "20",
            int,
            "Account Defaults",
            "The default maximum templates that can be deployed for an account",
        ),
        Setting(
            "max.account.projects",
            "10",
            int,
            "Account Defaults",
            "The default maximum projects that can be created for an account",
        ),
        Setting(
            "max.account.networks",
            "20",
            int,
            "Account Defaults",
            "The default maximum networks that can be created for an account",
        ),
        Setting(
            "max.account.vpcs",
            "20",
            int,
            "Account Defaults",
            "The default maximum VPCs that can be created for an account",
        ),
        Setting(
            "max.account.primary.storage",
            "200",
            int,
            "Account Defaults",
            "The default maximum primary storage space (GiB) for an account",
        ),
        Setting(
            "max.account.secondary.storage",
            "400",
            int,
            "Account Defaults",
            "The default maximum secondary storage space (GiB) for an account",
        ),
        Setting(
            "expunge.delay",
            "86400",
            int,
            "Advanced",
            "Seconds to wait before expunging a destroyed VM",
        ),
        Setting(
            "job.expire.minutes",
            "1440",
            int,
            "Advanced",
            "Minutes after which finished async jobs are cleaned up",
        ),
    )
}


def get_setting(session: Session, name: str) -> str:
    setting = SETTINGS.get(name)
    if setting is None:
        raise InvalidParameter(f"Unknown configuration {name}", parameter="name")
    stored = session.get(Configuration, name)
    return stored.value if stored is not None else setting.default


def get_float(session: Session, name: str) -> float:
    return float(get_setting(session, name))


def get_int(session: Session, name: str) -> int:
    return int(get_setting(session, name))


def set_setting(session: Session, name: str, value: str) -> None:
    setting = SETTINGS.get(name)
    if setting is None:
        raise InvalidParameter(f"Unknown configuration {name}", parameter="name")
    try:
        setting.kind(value)
    except ValueError as exc:
        raise InvalidParameter(f"Invalid value {value!r} for {name}", parameter="value") from exc
    stored = session.get(Configuration, name)
    if stored is None:
        session.add(Configuration(name=name, value=value))
    else:
        stored.value = value
    session.flush()
