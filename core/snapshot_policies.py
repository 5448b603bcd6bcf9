"""Recurring snapshot policies and the periodic task that takes their snapshots.

Schedules are CloudStack's: "MM" (hourly), "MM:HH" (daily), "MM:HH:DD" (weekly, DD = day of
week 1-7 with 1 = Sunday; monthly, DD = day of month 1-28), read in the policy's time zone.
Every server runs the task; a run is claimed with a conditional UPDATE of the policy's
next-run time (only the server that moves it from the value it read takes the snapshot), so
several servers never take the same run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext, Role
from core.db import Base, IdMixin, utcnow
from core.errors import CloudgateError, InvalidParameter, NotFound
from core.events import record_for_caller
from core.identity import owner_context
from core.jobs import AsyncJob, job_handler
from core.listing import Page, paginate
from core.runtime import Runtime
from core.scheduler import periodic
from core.snapshots import INTERVAL_TYPES, create_snapshot
from core.visibility import ensure_access
from core.volumes import READY, Volume

log = logging.getLogger(__name__)

INSTANCE_TYPE = "SnapshotPolicy"
MAX_SNAPS = 8  # snapshot.max.hourly / daily / weekly / monthly
CHECK_SECONDS = 30


class SnapshotPolicy(IdMixin, Base):
    __tablename__ = "snapshot_policy"

    volume_id: Mapped[int] = mapped_column(sa.ForeignKey("volume.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    interval_type: Mapped[str] = mapped_column(sa.String(16))
    schedule: Mapped[str] = mapped_column(sa.String(16))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    max_snaps: Mapped[int] = mapped_column(default=1)
    display: Mapped[bool] = mapped_column(default=True)
    next_run: Mapped[dt.datetime] = mapped_column(index=True)
    removed: Mapped[dt.datetime | None]

    @property
    def interval_code(self) -> int:
        """CloudStack's DateUtil.IntervalType ordinal, as snapshot policies render it."""
        return INTERVAL_TYPES.index(self.interval_type)


# schedule arithmetic --------------------------------------------------------------------------


def parse_schedule(interval_type: str, schedule: str) -> tuple[int, int, int]:
    """(minute, hour, day) of a schedule; InvalidParameter when it does not fit the interval."""
    interval = interval_type.upper()
    if interval not in INTERVAL_TYPES:
        raise InvalidParameter(
            f"Unsupported interval type {interval_type}; valid values are "
            + ", ".join(INTERVAL_TYPES),
            parameter="intervaltype",
        )
    parts = schedule.split(":")
    wanted = {"HOURLY": 1, "DAILY": 2, "WEEKLY": 3, "MONTHLY": 3}[interval]
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != wanted:
        raise InvalidParameter(
            f"Invalid schedule {schedule} for interval type {interval}", parameter="schedule"
        )
    minute, hour, day = (
        numbers[0],
        (numbers[1] if wanted > 1 else 0),
        (numbers[2] if wanted > 2 else 0),
    )
    day_range = {"WEEKLY": (1, 7), "MONTHLY": (1, 28)}.get(interval)
    if not (0 <= minute <= 59 and 0 <= hour <= 23) or (
        day_range and not day_range[0] <= day <= day_range[1]
    ):
        raise InvalidParameter(
            f"Invalid schedule {schedule} for interval type {interval}", parameter="schedule"
        )
    return minute, hour, day


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(f"Invalid time zone {name}", parameter="timezone") from None


def next_run_after(
    interval_type: str, schedule: str, timezone: str, after: dt.datetime
) -> dt.datetime:
    """The first scheduled time strictly after `after`, in UTC."""
    minute, hour, day = parse_schedule(interval_type, schedule)
    zone = time_zone(timezone)
    local = after.astimezone(zone).replace(tzinfo=None)
    interval = interval_type.upper()
    if interval == "HOURLY":
        candidate = local.replace(minute=minute, second=0, microsecond=0)
        step = dt.timedelta(hours=1)
    elif interval == "DAILY":
        candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        step = dt.timedelta(days=1)
    elif interval == "WEEKLY":
        candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        weekday = (candidate.isoweekday() % 7) + 1  # Java's Calendar: Sunday = 1
        candidate += dt.timedelta(days=(day - weekday) % 7)
        step = dt.timedelta(weeks=1)
    else:
        candidate = local.replace(day=day, hour=hour, minute=minute, second=0, microsecond=0)
        step = dt.timedelta(0)
    for _ in range(4):
        utc = _to_utc(candidate, zone)
        if utc > after:
            return utc
        if step:
            candidate += step
        else:
            year, month = divmod(candidate.month, 12)
            candidate = candidate.replace(year=candidate.year + year, month=month + 1)
    raise AssertionError("unreachable: a schedule recurs within four steps")


def _to_utc(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    # A wall time skipped by a DST change is taken at the same offset as before it.
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


# use cases ------------------------------------------------------------------------------------


def _event(session: Session, ctx: CallContext, event_type: str, text: str, uuid: str) -> None:
    record_for_caller(
        session, ctx, event_type, text, resource_type=INSTANCE_TYPE, resource_uuid=uuid
    )


def create_snapshot_policy(
    session: Session,
    ctx: CallContext,
    volume: Volume,
    *,
    interval_type: str,
    schedule: str,
    timezone: str,
    max_snaps: int,
    display: bool = True,
    now: dt.datetime | None = None,
) -> SnapshotPolicy:
    """A policy for the volume; one per interval type (a second one updates the first)."""
    interval = interval_type.upper()
    parse_schedule(interval, schedule)
    time_zone(timezone)
    if max_snaps < 1:
        raise InvalidParameter("maxsnaps should be greater than 0", parameter="maxsnaps")
    if max_snaps > MAX_SNAPS:
        raise InvalidParameter(
            f"maxSnaps exceeds limit: {MAX_SNAPS} for interval type: {interval.lower()}",
            parameter="maxsnaps",
        )
    if volume.state != READY and volume.state != "Allocated":
        raise InvalidParameter(
            f"Volume {volume.uuid} is in state {volume.state}; cannot schedule snapshots",
            parameter="volumeid",
        )
    policy = session.scalar(
        sa.select(SnapshotPolicy).where(
            SnapshotPolicy.volume_id == volume.id,
            SnapshotPolicy.interval_type == interval,
            SnapshotPolicy.removed.is_(None),
        )
    )
    if policy is None:
        policy = SnapshotPolicy(
            volume_id=volume.id,
            account_id=volume.account_id,
            domain_id=volume.domain_id,
            user_id=ctx.user_id,
            interval_type=interval,
        )
        session.add(policy)
    policy.schedule = schedule
    policy.timezone = timezone
    policy.max_snaps = max_snaps
    policy.display = display
    policy.next_run = next_run_after(interval, schedule, timezone, now or utcnow())
    session.flush()
    _event(session, ctx, "SNAPSHOTPOLICY.CREATE", f"Snapshot policy {policy.uuid}", policy.uuid)
    return policy


def get_policy(session: Session, ctx: CallContext, uuid: str) -> SnapshotPolicy:
    policy = session.scalar(
        sa.select(SnapshotPolicy).where(
            SnapshotPolicy.uuid == uuid, SnapshotPolicy.removed.is_(None)
        )
    )
    ensure_access(session, ctx, policy, "snapshot policy", uuid)
    assert policy is not None
    return policy


def update_snapshot_policy(
    session: Session,
    ctx: CallContext,
    policy: SnapshotPolicy,
    *,
    display: bool | None = None,
    custom_id: str | None = None,
) -> SnapshotPolicy:
    if display is not None:
        policy.display = display
    if custom_id:
        if ctx.role is not Role.ADMIN:
            raise InvalidParameter(
                "Only a root administrator may set customid", parameter="customid"
            )
        policy.uuid = custom_id
    _event(session, ctx, "SNAPSHOTPOLICY.UPDATE", f"Snapshot policy {policy.uuid}", policy.uuid)
    return policy


def delete_snapshot_policies(
    session: Session, ctx: CallContext, policies: list[SnapshotPolicy]
) -> None:
    for policy in policies:
        policy.removed = utcnow()
        _event(session, ctx, "SNAPSHOTPOLICY.DELETE", f"Snapshot policy {policy.uuid}", policy.uuid)


def list_snapshot_policies(
    session: Session,
    ctx: CallContext,
    *,
    volume: Volume | None = None,
    uuid: str | None = None,
    display: bool | None = None,
    page: Page = Page(),
) -> tuple[list[SnapshotPolicy], int]:
    """Policies of one volume, or every policy the caller may see."""
    from core.visibility import ListScope, scope_filter

    query = sa.select(SnapshotPolicy).where(
        SnapshotPolicy.removed.is_(None),
        scope_filter(
            session,
            ctx,
            ListScope(list_all=True),
            SnapshotPolicy.account_id,
            SnapshotPolicy.domain_id,
        ),
    )
    if volume is not None:
        query = query.where(SnapshotPolicy.volume_id == volume.id)
    if uuid is not None:
        query = query.where(SnapshotPolicy.uuid == uuid)
    if display is not None:
        query = query.where(SnapshotPolicy.display.is_(display))
    return paginate(session, query.order_by(SnapshotPolicy.id), page)


# the periodic task ----------------------------------------------------------------------------


def _claim(session: Session, policy: SnapshotPolicy, now: dt.datetime) -> bool:
    following = next_run_after(policy.interval_type, policy.schedule, policy.timezone, now)
    claimed = session.execute(
        sa.update(SnapshotPolicy)
        .where(SnapshotPolicy.id == policy.id, SnapshotPolicy.next_run == policy.next_run)
        .values(next_run=following)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(claimed == 1)


def take_due_snapshots(runtime: Runtime, now: dt.datetime | None = None) -> int:
    """Claim every due policy run and queue its snapshot; the number of snapshots queued."""
    now = now or utcnow()
    with runtime.db.read() as session:
        due = [
            policy.id
            for policy in session.scalars(
                sa.select(SnapshotPolicy).where(
                    SnapshotPolicy.removed.is_(None), SnapshotPolicy.next_run <= now
                )
            )
        ]
    taken = 0
    for policy_id in due:
        with runtime.db.write() as session:
            policy = session.get(SnapshotPolicy, policy_id, populate_existing=True)
            if policy is None or policy.removed is not None or policy.next_run > now:
                continue
            if not _claim(session, policy, now):
                continue
        # The claim is committed first: a run that cannot be taken (a limit reached, the
        # volume busy) is skipped, as CloudStack skips it, instead of being retried forever.
        try:
            with runtime.db.write() as session:
                policy = session.get_one(SnapshotPolicy, policy_id)
                volume = session.get_one(Volume, policy.volume_id)
                if volume.removed is not None or volume.state != READY:
                    continue
                create_snapshot(
                    session,
                    owner_context(session, policy),
                    volume,
                    policy_id=policy.id,
                    interval_type=policy.interval_type,
                )
                taken += 1
        except (CloudgateError, NotFound) as error:
            log.warning("snapshot policy %s skipped a run: %s", policy_id, error)
    return taken


@periodic("snapshot-policies", every_seconds=CHECK_SECONDS)
def _run_policies(runtime: Runtime) -> None:
    take_due_snapshots(runtime)


def _nothing_to_undo(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """The update was committed with the request."""


@job_handler("snapshotpolicy.update", fail=_nothing_to_undo)
def run_update(runtime: Runtime, job: AsyncJob) -> dict[str, int | None]:
    """updateSnapshotPolicy is asynchronous in CloudStack; the change is already made."""
    return {"policy_id": job.instance_id}
