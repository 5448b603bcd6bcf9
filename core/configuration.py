"""Global settings kept in the database (CloudStack's `configuration` table).

Only settings the core actually reads are declared; each has CloudStack's name and default so
operators can carry their knowledge over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
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
    dynamic: bool = True
    scope: str = "Global"
    component: str = "ManagementServer"
    minimum: float | None = None
    maximum: float | None = None

    @property
    def type_name(self) -> str:
        """CloudStack's ConfigKey type name, as listConfigurations shows it."""
        return {int: "Integer", float: "Float", bool: "Boolean"}.get(self.kind, "String")


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
            "expunge.interval",
            "86400",
            int,
            "Advanced",
            "The interval (in seconds) to wait before running the expunge thread",
            dynamic=False,
            minimum=1,
        ),
        Setting(
            "allow.user.expunge.recover.vm",
            "false",
            bool,
            "Advanced",
            "Determines whether users can expunge or recover their vm",
            scope="Account",
            component="UserVmManager",
        ),
        Setting(
            "allow.user.view.destroyed.vm",
            "false",
            bool,
            "Advanced",
            "Determines whether users can view their destroyed or expunging vm",
            scope="Account",
            component="QueryService",
        ),
        Setting(
            "usage.stats.job.aggregation.range",
            "1440",
            int,
            "Usage",
            "The range of time for aggregating the user statistics specified in minutes "
            "(e.g. 1440 for daily, 60 for hourly)",
            minimum=1,
        ),
        Setting(
            "usage.stats.job.exec.time",
            "00:15",
            str,
            "Usage",
            "The time at which the usage statistics aggregation job will run as an HH24:MM time",
        ),
        Setting(
            "enable.usage.server",
            "true",
            bool,
            "Usage",
            "Flag for enabling usage",
            dynamic=False,
        ),
        Setting(
            "capacity.check.period",
            "300000",
            int,
            "Advanced",
            "The interval in milliseconds between capacity checks",
            dynamic=False,
            minimum=1000,
        ),
        Setting(
            "alert.purge.delay",
            "0",
            int,
            "Advanced",
            "Alerts older than specified number days will be purged. Set this to 0 to never "
            "purge alerts",
            minimum=0,
        ),
        Setting(
            "event.purge.delay",
            "15",
            int,
            "Advanced",
            "Events older than specified number days will be purged. Set to 0 to never purge",
            minimum=0,
        ),
        Setting(
            "api.throttling.interval",
            "1",
            int,
            "Advanced",
            "Time interval (in seconds) to reset API count",
            dynamic=False,
        ),
        Setting(
            "api.throttling.max",
            "25",
            int,
            "Advanced",
            "Max allowed number of APIs within fixed interval",
            dynamic=False,
        ),
        Setting(
            "allow.user.create.projects",
            "true",
            bool,
            "Project Defaults",
            "If regular user can create a project; true by default",
        ),
        Setting(
            "project.invite.required",
            "false",
            bool,
            "Project Defaults",
            "If invitation confirmation is required when add account to project",
        ),
        Setting(
            "allow.public.user.templates",
            "true",
            bool,
            "Advanced",
            "If false, users will not be able to create public templates",
            scope="Account",
        ),
        Setting(
            "custom.diskoffering.size.min",
            "1",
            int,
            "Advanced",
            "Minimum size in GB for custom disk offering",
            minimum=1,
        ),
        Setting(
            "custom.diskoffering.size.max",
            "1024",
            int,
            "Advanced",
            "Maximum size in GB for custom disk offering",
            minimum=1,
        ),
        Setting(
            "kvm.snapshot.enabled",
            "false",
            bool,
            "Snapshots",
            "Whether volume snapshot is enabled on running instances on a KVM host",
        ),
        Setting(
            "dynamic.apichecker.enabled",
            "false",
            bool,
            "Advanced",
            "If set to true, this enables the dynamic role-based api access checker",
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
    return _stored_settings(session).get(name, setting.default)


def _stored_settings(session: Session) -> dict[str, str]:
    """The stored settings, read once per session: a deploy reads a dozen of them (limits,
    over-provisioning factors, thresholds), most of them unset, and the identity map cannot
    remember that a row is absent. set_setting keeps it current."""
    stored: dict[str, str] | None = session.info.get(_SETTINGS_KEY)
    if stored is None:
        rows = session.execute(sa.select(Configuration.name, Configuration.value))
        stored = session.info[_SETTINGS_KEY] = {name: value for name, value in rows}
    return stored


_SETTINGS_KEY = "cloudgate.settings"


@event.listens_for(Session, "after_transaction_end")
def _forget_settings(session: Session, _transaction: Any) -> None:
    """A new transaction reads the settings again (another server may have changed them, and
    a rolled-back set_setting must not linger)."""
    session.info.pop(_SETTINGS_KEY, None)


def get_float(session: Session, name: str) -> float:
    return float(get_setting(session, name))


def get_int(session: Session, name: str) -> int:
    return int(get_setting(session, name))


def get_bool(session: Session, name: str) -> bool:
    return get_setting(session, name).strip().lower() == "true"


def validate(setting: Setting, value: str) -> str:
    """The value as stored, or InvalidParameter naming what is wrong with it."""
    name = setting.name
    if setting.kind is bool:
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise InvalidParameter(
                f"Please enter either 'true' or 'false' for {name}", parameter="value"
            )
        return lowered
    if setting.kind in (int, float):
        try:
            number = setting.kind(value.strip())
        except ValueError as exc:
            kind = "an integer" if setting.kind is int else "a number"
            raise InvalidParameter(
                f"Please enter {kind} for {name}; {value!r} is not valid", parameter="value"
            ) from exc
        if setting.minimum is not None and number < setting.minimum:
            raise InvalidParameter(
                f"Value for {name} must be at least {setting.minimum:g}", parameter="value"
            )
        if setting.maximum is not None and number > setting.maximum:
            raise InvalidParameter(
                f"Value for {name} must be at most {setting.maximum:g}", parameter="value"
            )
        return str(number)
    if setting.kind is not str:  # a family's own converter (it raises ValueError when bad)
        try:
            setting.kind(value)
        except ValueError as exc:
            raise InvalidParameter(
                f"Invalid value {value!r} for {name}", parameter="value"
            ) from exc
    return value


def set_setting(session: Session, name: str, value: str) -> None:
    setting = SETTINGS.get(name)
    if setting is None:
        raise InvalidParameter(f"Unknown configuration {name}", parameter="name")
    value = validate(setting, value)
    stored = session.get(Configuration, name)
    if stored is None:
        session.add(Configuration(name=name, value=value))
    else:
        stored.value = value
    session.flush()
    _stored_settings(session)[name] = value


def list_settings(
    session: Session,
    *,
    name: str | None = None,
    category: str | None = None,
    keyword: str | None = None,
) -> list[tuple[Setting, str]]:
    """Declared settings with their current values (name is CloudStack's substring match)."""
    stored = {row.name: row.value for row in session.scalars(sa.select(Configuration))}
    found = []
    for setting in sorted(SETTINGS.values(), key=lambda s: s.name):
        if name and name.lower() not in setting.name.lower():
            continue
        if category and category.lower() != setting.category.lower():
            continue
        if keyword and keyword.lower() not in setting.name.lower():
            continue
        found.append((setting, stored.get(setting.name, setting.default)))
    return found


def update_setting(session: Session, ctx: CallContext, name: str, value: str) -> Setting:
    """updateConfiguration: root admins only; unknown names and bad values are 431s."""
    from core.events import record_for_caller
    from core.visibility import ensure_root_admin

    ensure_root_admin(ctx)
    if name not in SETTINGS:
        raise InvalidParameter(
            f"Configuration parameter with name {name} not found", parameter="name"
        )
    set_setting(session, name, value)
    record_for_caller(session, ctx, "CONFIGURATION.VALUE.EDIT", f"Name: {name}, New Value: {value}")
    return SETTINGS[name]
