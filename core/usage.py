"""Usage records (CloudStack's cloud_usage): what each account used, per aggregation window.

A periodic task closes every aggregation window (`usage.stats.job.aggregation.range` minutes,
aligned to the epoch) that has ended: for each resource alive during the window it writes one
record with the hours it was alive (or running) inside the window. VM running/allocated time
comes from the event log (VM.CREATE, VM.START, VM.STOP, VM.DESTROY, VM.EXPUNGE, which the VM
code records); volumes, templates, ISOs, snapshots and public IPs from their own tables, named
by dotted path so that families not written yet are skipped.

Generating a window replaces its records (never doubles them) under a lock on the window's
row in `usage_window`, so several servers, or an admin's generateUsageRecords, can run it at
the same time; a window generated before its end is regenerated once it has ended.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.configuration import get_bool, get_int
from core.context import CallContext
from core.db import Base, IdMixin, utcnow
from core.errors import InvalidParameter
from core.events import Event
from core.listing import Page, paginate
from core.scheduler import periodic
from core.visibility import ListScope, ensure_root_admin, scope_filter

log = logging.getLogger(__name__)

# CloudStack's UsageTypes: number → (name, description).
USAGE_TYPES: dict[int, tuple[str, str]] = {
    1: ("RUNNING_VM", "Running Vm Usage"),
    2: ("ALLOCATED_VM", "Allocated Vm Usage"),
    3: ("IP_ADDRESS", "IP Address Usage"),
    4: ("NETWORK_BYTES_SENT", "Network Usage (Bytes Sent)"),
    5: ("NETWORK_BYTES_RECEIVED", "Network Usage (Bytes Received)"),
    6: ("VOLUME", "Volume Usage"),
    7: ("TEMPLATE", "Template Usage"),
    8: ("ISO", "ISO Usage"),
    9: ("SNAPSHOT", "Snapshot Usage"),
    10: ("SECURITY_GROUP", "Security Group Usage"),
    11: ("LOAD_BALANCER_POLICY", "Load Balancer Usage"),
    12: ("PORT_FORWARDING_RULE", "Port Forwarding Usage"),
    13: ("NETWORK_OFFERING", "Network Offering Usage"),
    14: ("VPN_USERS", "VPN users usage"),
    21: ("VM_DISK_IO_READ", "VM Disk usage(I/O Read)"),
    22: ("VM_DISK_IO_WRITE", "VM Disk usage(I/O Write)"),
    23: ("VM_DISK_BYTES_READ", "VM Disk usage(Bytes Read)"),
    24: ("VM_DISK_BYTES_WRITE", "VM Disk usage(Bytes Write)"),
    25: ("VM_SNAPSHOT", "VM Snapshot storage usage"),
    26: ("VOLUME_SECONDARY", "Volume on secondary storage usage"),
    27: ("VM_SNAPSHOT_ON_PRIMARY", "VM Snapshot on primary storage usage"),
    28: ("BACKUP", "Backup storage usage"),
    29: ("BUCKET", "Bucket storage usage"),
    30: ("NETWORK", "Network usage"),
    31: ("VPC", "VPC usage"),
}
RUNNING_VM, ALLOCATED_VM, IP_ADDRESS, VOLUME, TEMPLATE, ISO, SNAPSHOT = 1, 2, 3, 6, 7, 8, 9
MAX_WINDOWS_PER_RUN = 200
HOUR = 3600.0


class UsageRecord(IdMixin, Base):
    __tablename__ = "usage_record"
    __table_args__ = (
        sa.UniqueConstraint("usage_type", "usage_id", "account_id", "start_date"),
        sa.Index("ix_usage_record_window", "start_date", "end_date"),
    )

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    zone_id: Mapped[int | None]
    usage_type: Mapped[int]
    usage_id: Mapped[str] = mapped_column(sa.String(36))
    description: Mapped[str] = mapped_column(sa.String(1024), default="")
    raw_usage: Mapped[float] = mapped_column(sa.Float, default=0.0)
    vm_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    vm_name: Mapped[str | None] = mapped_column(sa.String(255))
    offering_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    template_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    start_date: Mapped[dt.datetime]
    end_date: Mapped[dt.datetime]


class UsageWindow(Base):
    """One aggregation window; its row is the lock generation takes, `complete` once the
    window was generated after it ended."""

    __tablename__ = "usage_window"

    start_date: Mapped[dt.datetime] = mapped_column(primary_key=True)
    end_date: Mapped[dt.datetime]
    complete: Mapped[bool] = mapped_column(default=False)
    generated: Mapped[dt.datetime] = mapped_column(default=utcnow)


@dataclass
class Usage:
    """One record to write, before it has a window."""

    account_id: int
    domain_id: int
    usage_type: int
    usage_id: str
    description: str
    seconds: float
    zone_id: int | None = None
    vm_uuid: str | None = None
    vm_name: str | None = None
    offering_uuid: str | None = None
    template_uuid: str | None = None
    size: int | None = None


def _model(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute, None)
    except ImportError:
        return None


def _overlap(
    start: dt.datetime, end: dt.datetime | None, window_start: dt.datetime, window_end: dt.datetime
) -> float:
    """Seconds of [start, end) inside the window (end None: still going)."""
    lower = max(start, window_start)
    upper = min(end or window_end, window_end)
    return max(0.0, (upper - lower).total_seconds())


# --- what was used ---------------------------------------------------------------------------

_VM_OPENS_RUNNING = {"VM.START"}
_VM_CLOSES_RUNNING = {"VM.STOP", "VM.DESTROY", "VM.EXPUNGE"}
_VM_CLOSES_ALLOCATED = {"VM.DESTROY", "VM.EXPUNGE"}


def vm_intervals(
    events: list[tuple[str, dt.datetime]], created: dt.datetime
) -> tuple[list[tuple[dt.datetime, dt.datetime | None]], tuple[dt.datetime, dt.datetime | None]]:
    """Running intervals and the allocated interval of one VM from its successful events."""
    running: list[tuple[dt.datetime, dt.datetime | None]] = []
    opened: dt.datetime | None = None
    allocated_end: dt.datetime | None = None
    for event_type, when in events:
        if event_type in _VM_OPENS_RUNNING and opened is None:
            opened = when
        elif event_type in _VM_CLOSES_RUNNING and opened is not None:
            running.append((opened, when))
            opened = None
        if event_type in _VM_CLOSES_ALLOCATED and allocated_end is None:
            allocated_end = when
    if opened is not None:
        running.append((opened, allocated_end))
    return running, (created, allocated_end)


def _vm_usage(session: Session, start: dt.datetime, end: dt.datetime) -> Iterator[Usage]:
    from core.offerings import ServiceOffering
    from core.templates import Template
    from core.vms.models import VirtualMachine

    vms = session.scalars(
        sa.select(VirtualMachine).where(
            VirtualMachine.created < end,
            sa.or_(VirtualMachine.removed.is_(None), VirtualMachine.removed > start),
        )
    ).all()
    for vm in vms:
        events = [
            (row.event_type, row.created)
            for row in session.execute(
                sa.select(Event.event_type, Event.created)
                .where(
                    Event.resource_type == "VirtualMachine",
                    Event.resource_uuid == vm.uuid,
                    Event.level != "ERROR",
                    Event.created < end,
                )
                .order_by(Event.created, Event.id)
            )
        ]
        running, (created, destroyed) = vm_intervals(events, vm.created)
        offering = session.get(ServiceOffering, vm.service_offering_id)
        template = session.get(Template, vm.template_id)
        common: dict[str, Any] = {
            "account_id": vm.account_id,
            "domain_id": vm.domain_id,
            "usage_id": vm.uuid,
            "zone_id": vm.zone_id,
            "vm_uuid": vm.uuid,
            "vm_name": vm.name,
            "offering_uuid": offering.uuid if offering else None,
            "template_uuid": template.uuid if template else None,
        }
        seconds = sum(_overlap(a, b, start, end) for a, b in running)
        if seconds > 0:
            yield Usage(
                usage_type=RUNNING_VM,
                description=f"{vm.name} running time (ServiceOffering: "
                f"{offering.name if offering else '-'}) (Template: "
                f"{template.name if template else '-'})",
                seconds=seconds,
                **common,
            )
        seconds = _overlap(created, destroyed or vm.removed, start, end)
        if seconds > 0:
            yield Usage(
                usage_type=ALLOCATED_VM,
                description=f"{vm.name} allocated time (ServiceOffering: "
                f"{offering.name if offering else '-'}) (Template: "
                f"{template.name if template else '-'})",
                seconds=seconds,
                **common,
            )


def _lifetime_usage(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    *,
    path: str,
    usage_type: int,
    label: str,
    size_attributes: tuple[str, ...] = ("size_bytes", "size"),
    where: Any = None,
) -> Iterator[Usage]:
    """Records for resources alive from `created` until `removed` (storage, addresses)."""
    model = _model(path)
    if model is None:
        return
    query = sa.select(model).where(model.created < end)
    if hasattr(model, "removed"):
        query = query.where(sa.or_(model.removed.is_(None), model.removed > start))
    if where is not None:
        query = query.where(where(model))
    for row in session.scalars(query):
        if getattr(row, "account_id", None) is None:
            continue
        seconds = _overlap(row.created, getattr(row, "removed", None), start, end)
        if seconds <= 0:
            continue
        size = next((getattr(row, a) for a in size_attributes if hasattr(row, a)), None)
        name = getattr(row, "name", "") or getattr(row, "address", "") or row.uuid
        yield Usage(
            account_id=row.account_id,
            domain_id=row.domain_id,
            usage_type=usage_type,
            usage_id=row.uuid,
            description=f"{label}: {name}" + (f" (Size: {size})" if size is not None else ""),
            seconds=seconds,
            zone_id=getattr(row, "zone_id", None),
            size=size,
            template_uuid=None,
        )


def _ip_usage(session: Session, start: dt.datetime, end: dt.datetime) -> Iterator[Usage]:
    """Public IP hours from NET.IPASSIGN/NET.IPRELEASE events (a released address forgets
    its owner, the event log does not)."""
    rows = session.execute(
        sa.select(
            Event.resource_uuid,
            Event.event_type,
            Event.created,
            Event.account_id,
            Event.domain_id,
            Event.description,
        )
        .where(
            Event.resource_type == "PublicIpAddress",
            Event.event_type.in_(("NET.IPASSIGN", "NET.IPRELEASE")),
            Event.level != "ERROR",
            Event.created < end,
        )
        .order_by(Event.created, Event.id)
    ).all()
    held: dict[tuple[str, int], tuple[dt.datetime, int, str]] = {}
    spans: list[tuple[str, int, int, str, dt.datetime, dt.datetime | None]] = []
    for uuid, kind, when, account_id, domain_id, text in rows:
        if kind == "NET.IPASSIGN":
            held.setdefault((uuid, account_id), (when, domain_id, text))
        elif (uuid, account_id) in held:
            since, domain, first = held.pop((uuid, account_id))
            spans.append((uuid, account_id, domain, first, since, when))
    spans += [(u, a, d, t, since, None) for (u, a), (since, d, t) in held.items()]
    for uuid, account_id, domain_id, text, since, until in spans:
        seconds = _overlap(since, until, start, end)
        if seconds > 0:
            address = text.rsplit(" ", 1)[-1]
            yield Usage(
                account_id=account_id,
                domain_id=domain_id,
                usage_type=IP_ADDRESS,
                usage_id=uuid,
                description=f"IPAddress: {address}",
                seconds=seconds,
            )


def collect(session: Session, start: dt.datetime, end: dt.datetime) -> list[Usage]:
    """Everything used during [start, end)."""
    found = list(_vm_usage(session, start, end))
    found += _lifetime_usage(
        session, start, end, path="core.volumes:Volume", usage_type=VOLUME, label="Volume Id"
    )
    found += _lifetime_usage(
        session,
        start,
        end,
        path="core.templates:Template",
        usage_type=TEMPLATE,
        label="Template Id",
        where=lambda m: sa.and_(m.template_type == "USER", m.format != "ISO"),
    )
    found += _lifetime_usage(
        session,
        start,
        end,
        path="core.templates:Template",
        usage_type=ISO,
        label="ISO Id",
        where=lambda m: sa.and_(m.template_type == "USER", m.format == "ISO"),
    )
    found += _lifetime_usage(
        session, start, end, path="core.snapshots:Snapshot", usage_type=SNAPSHOT, label="Snapshot"
    )
    found += _ip_usage(session, start, end)
    return _merge(found)


def _merge(found: list[Usage]) -> list[Usage]:
    """One record per resource, usage type and account in a window: an address held twice
    in an hour has one record for that hour, its two spans summed (an address that changed
    hands keeps one record per holder)."""
    merged: dict[tuple[int, str, int], Usage] = {}
    for usage in found:
        key = (usage.usage_type, usage.usage_id, usage.account_id)
        if key in merged:
            merged[key].seconds += usage.seconds
        else:
            merged[key] = usage
    return list(merged.values())


# --- windows and generation ------------------------------------------------------------------


def aggregation_range(session: Session) -> dt.timedelta:
    return dt.timedelta(minutes=get_int(session, "usage.stats.job.aggregation.range"))


def window_of(moment: dt.datetime, length: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    """The aggregation window (aligned to the epoch) containing `moment`."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    steps = (moment - epoch) // length
    start = epoch + steps * length
    return start, start + length


def _lock_window(session: Session, start: dt.datetime, end: dt.datetime) -> UsageWindow:
    window = session.scalar(
        sa.select(UsageWindow).where(UsageWindow.start_date == start).with_for_update()
    )
    if window is not None:
        return window
    try:
        with session.begin_nested():
            window = UsageWindow(start_date=start, end_date=end, complete=False)
            session.add(window)
    except IntegrityError:  # a peer created it first; wait for its lock
        window = session.scalar(
            sa.select(UsageWindow).where(UsageWindow.start_date == start).with_for_update()
        )
        assert window is not None
    return window


def generate_window(
    session: Session, start: dt.datetime, end: dt.datetime, *, force: bool = True
) -> int | None:
    """(Re)write the records of one window; None when it was already complete and not forced."""
    window = _lock_window(session, start, end)
    session.refresh(window)
    if window.complete and not force:
        return None
    session.execute(sa.delete(UsageRecord).where(UsageRecord.start_date == start))
    now = utcnow()
    # A window still running is measured up to now (and regenerated once it has ended).
    used = collect(session, start, min(end, now)) if start < now else []
    for usage in used:
        session.add(
            UsageRecord(
                account_id=usage.account_id,
                domain_id=usage.domain_id,
                zone_id=usage.zone_id,
                usage_type=usage.usage_type,
                usage_id=usage.usage_id,
                description=usage.description,
                raw_usage=usage.seconds / HOUR,
                vm_uuid=usage.vm_uuid,
                vm_name=usage.vm_name,
                offering_uuid=usage.offering_uuid,
                template_uuid=usage.template_uuid,
                size=usage.size,
                start_date=start,
                end_date=end,
            )
        )
    window.end_date = end
    window.complete = end <= now
    window.generated = now
    session.flush()
    return len(used)


def generate_usage_records(
    session: Session, ctx: CallContext, start: dt.datetime, end: dt.datetime
) -> int:
    """generateUsageRecords (root admin): regenerate every window overlapping [start, end)."""
    ensure_root_admin(ctx)
    start, end = _aware(start), _aware(end)
    if end <= start:
        raise InvalidParameter("enddate must be after startdate", parameter="enddate")
    length = aggregation_range(session)
    if (end - start) / length > 10_000:
        raise InvalidParameter("The date range spans too many aggregation windows")
    written = 0
    window_start, window_end = window_of(start, length)
    while window_start < end:
        written += generate_window(session, window_start, window_end) or 0
        window_start, window_end = window_end, window_end + length
    return written


def pending_windows(session: Session, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Ended windows not generated completely yet, oldest first, since the first event."""
    length = aggregation_range(session)
    first = session.scalar(sa.select(sa.func.min(Event.created)))
    if first is None:
        return []
    last_complete = session.scalar(
        sa.select(sa.func.max(UsageWindow.start_date)).where(UsageWindow.complete.is_(True))
    )
    begin = first if last_complete is None else last_complete + length
    windows: set[tuple[dt.datetime, dt.datetime]] = set()
    for window_start in session.scalars(
        sa.select(UsageWindow.start_date).where(UsageWindow.complete.is_(False))
    ):
        windows.add(window_of(window_start, length))
    window_start, window_end = window_of(begin, length)
    while window_end <= now and len(windows) < MAX_WINDOWS_PER_RUN:
        windows.add((window_start, window_end))
        window_start, window_end = window_end, window_end + length
    return sorted(w for w in windows if w[1] <= now)[:MAX_WINDOWS_PER_RUN]


@periodic("usage.generate", every_seconds=60)
def run_usage_job(runtime: Any, now: dt.datetime | None = None) -> None:
    """The periodic usage job: close every window that has ended, one transaction each."""
    with runtime.db.read() as session:
        if not get_bool(session, "enable.usage.server"):
            return
        windows = pending_windows(session, now or utcnow())
    for start, end in windows:
        with runtime.db.write() as session:
            generate_window(session, start, end, force=False)


# --- listing ---------------------------------------------------------------------------------


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def list_usage_records(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    start: dt.datetime,
    end: dt.datetime,
    usage_type: int | None = None,
    usage_id: str | None = None,
    page: Page = Page(),
) -> tuple[list[UsageRecord], int]:
    """listUsageRecords: records of windows inside [start, end) the caller may see."""
    start, end = _aware(start), _aware(end)
    if end < start:
        raise InvalidParameter("Incorrect Date Range. Start date later than end date")
    query = sa.select(UsageRecord).where(
        scope_filter(session, ctx, scope, UsageRecord.account_id, UsageRecord.domain_id),
        UsageRecord.start_date < end,
        UsageRecord.end_date > start,
    )
    if usage_type is not None:
        if usage_type not in USAGE_TYPES:
            raise InvalidParameter(f"Unsupported usage type {usage_type}", parameter="type")
        query = query.where(UsageRecord.usage_type == usage_type)
    if usage_id:
        query = query.where(UsageRecord.usage_id == usage_id)
    order = (UsageRecord.start_date, UsageRecord.usage_type, UsageRecord.id)
    return paginate(session, query.order_by(*order), page)


def remove_raw_usage_records(session: Session, ctx: CallContext, older_than_days: int) -> int:
    """removeRawUsageRecords: drop records whose window ended more than `interval` days ago."""
    ensure_root_admin(ctx)
    if older_than_days <= 0:
        raise InvalidParameter("Interval should be greater than 0", parameter="interval")
    cutoff = utcnow() - dt.timedelta(days=older_than_days)
    result = session.execute(sa.delete(UsageRecord).where(UsageRecord.end_date < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
