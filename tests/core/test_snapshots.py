"""Snapshots and snapshot policies through the core, on both databases; schedule arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import snapshot_policies as policies
from core import snapshots, volumes
from core.errors import InvalidParameter, InvalidState, LimitExceeded, NotFound
from core.jobs import SUCCEEDED
from core.limits import ResourceCount, ResourceType
from core.scheduler import TASKS
from core.snapshots import Snapshot, SnapshotEvent, SnapshotState
from core.vms import service as vms
from core.volumes import GIB, VolumeState
from tests.core.conftest import CoreHarness
from tests.core.test_volumes import _wait_until, attach, deploy, new_volume, used, volume_row

UTC = dt.UTC


def snapshot_of(core: CoreHarness, ctx, volume_uuid: str, **kw) -> str:
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        snapshot, job = snapshots.create_snapshot(session, ctx, volume, **kw)
        snapshot_uuid, job_uuid = snapshot.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    return snapshot_uuid


def snapshot_row(core: CoreHarness, uuid: str) -> Snapshot:
    with core.db.read() as session:
        row = session.scalar(sa.select(Snapshot).where(Snapshot.uuid == uuid))
        assert row is not None
        return row


def placed_volume(core: CoreHarness, ctx, *, start: bool = False) -> tuple[str, str]:
    vm_uuid = deploy(core, ctx, start=start)
    uuid = new_volume(core, ctx)
    assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
    return vm_uuid, uuid


def new_policy(
    session, ctx, volume, interval: str, schedule: str, max_snaps: int, *, zone: str = "UTC", **kw
):
    """createSnapshotPolicy's use case with the arguments the tests vary."""
    return policies.create_snapshot_policy(
        session,
        ctx,
        volume,
        interval_type=interval,
        schedule=schedule,
        timezone=zone,
        max_snaps=max_snaps,
        **kw,
    )


def snapshot_job(core: CoreHarness, ctx, operation, uuid: str) -> int:
    with core.db.write() as session:
        job_uuid = operation(session, ctx, snapshots.get_snapshot(session, ctx, uuid)).uuid
    return core.wait(job_uuid).status


def test_snapshot_is_backed_up_counted_and_deleted(core: CoreHarness) -> None:
    ctx = core.new_tenant("snap-owner")
    _, volume_uuid = placed_volume(core, ctx, start=True)
    uuid = snapshot_of(core, ctx, volume_uuid, name="first")
    row = snapshot_row(core, uuid)
    assert row.state == SnapshotState.BACKED_UP and row.snapshot_type == "MANUAL"
    # physicalsize: the backup object's size (tests/core/test_snapshot_objects.py)
    assert row.size_bytes == 5 * GIB and 0 < row.physical_size_bytes < GIB
    assert not core.simulator.snapshot_exists(row.path)  # backed up, then dropped from primary
    assert used(core, ctx, ResourceType.SNAPSHOT) == 1
    assert used(core, ctx, ResourceType.SECONDARY_STORAGE) == 5

    assert snapshot_job(core, ctx, snapshots.delete_snapshot, uuid) == SUCCEEDED
    row = snapshot_row(core, uuid)
    assert row.state == SnapshotState.DESTROYED and row.removed is not None
    assert used(core, ctx, ResourceType.SNAPSHOT) == 0
    assert used(core, ctx, ResourceType.SECONDARY_STORAGE) == 0


def test_failed_snapshot_ends_in_error_and_gives_the_counts_back(core: CoreHarness) -> None:
    ctx = core.new_tenant("snap-fail")
    _, volume_uuid = placed_volume(core, ctx)
    core.simulator.configure("snapshot_volume", fail_next=1)
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        snapshot, job = snapshots.create_snapshot(session, ctx, volume)
        uuid, job_uuid = snapshot.uuid, job.uuid
    assert core.wait(job_uuid).status != SUCCEEDED
    assert snapshot_row(core, uuid).state == SnapshotState.ERROR
    assert used(core, ctx, ResourceType.SNAPSHOT) == 0
    # deleting the failed snapshot does not give its counts back a second time
    other_uuid = snapshot_of(core, ctx, volume_uuid)
    assert snapshot_job(core, ctx, snapshots.delete_snapshot, uuid) == SUCCEEDED
    assert snapshot_row(core, uuid).state == SnapshotState.DESTROYED
    assert used(core, ctx, ResourceType.SNAPSHOT) == 1
    assert snapshot_row(core, other_uuid).state == SnapshotState.BACKED_UP


def test_snapshot_limit(core: CoreHarness) -> None:
    ctx = core.new_tenant("snap-limit")
    _, volume_uuid = placed_volume(core, ctx)
    with core.db.write() as session:
        session.get_one(ResourceCount, (ctx.account_id, ResourceType.SNAPSHOT.value)).max = 0
    with pytest.raises(LimitExceeded):
        snapshot_of(core, ctx, volume_uuid)


def test_unplaced_volume_cannot_be_snapshotted(core: CoreHarness) -> None:
    ctx = core.admin_context()
    uuid = new_volume(core, ctx)
    with pytest.raises(InvalidState):
        snapshot_of(core, ctx, uuid)


def test_revert_needs_a_stopped_vm_and_restores_the_content(core: CoreHarness) -> None:
    ctx = core.new_tenant("reverter")
    vm_uuid, volume_uuid = placed_volume(core, ctx, start=True)
    path = volume_row(core, volume_uuid).path
    core.simulator.write_volume(path, "before")
    uuid = snapshot_of(core, ctx, volume_uuid)
    core.simulator.write_volume(path, "after")
    with core.db.write() as session, pytest.raises(InvalidState):
        snapshots.revert_snapshot(session, ctx, snapshots.get_snapshot(session, ctx, uuid))
    with core.db.write() as session:
        job_uuid = vms.stop_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid)).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert snapshot_job(core, ctx, snapshots.revert_snapshot, uuid) == SUCCEEDED
    assert core.simulator.volume_info(path)["content"] == "before"
    assert volume_row(core, volume_uuid).state == VolumeState.READY


def test_volume_from_snapshot_has_its_content(core: CoreHarness) -> None:
    ctx = core.admin_context()
    _, volume_uuid = placed_volume(core, ctx)
    core.simulator.write_volume(volume_row(core, volume_uuid).path, "data")
    uuid = snapshot_of(core, ctx, volume_uuid)
    with core.db.write() as session:
        snapshot = snapshots.get_snapshot(session, ctx, uuid)
        volume, job = snapshots.create_volume_from_snapshot(session, ctx, snapshot, name="copy")
        copy_uuid, job_uuid = volume.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    copy = volume_row(core, copy_uuid)
    assert copy.state == VolumeState.READY and copy.pool_id is not None
    assert core.simulator.volume_info(copy.path)["content"] == "data"


def test_other_tenants_snapshots_are_not_found(core: CoreHarness) -> None:
    owner = core.new_tenant("snap-a")
    other = core.new_tenant("snap-b")
    _, volume_uuid = placed_volume(core, owner)
    uuid = snapshot_of(core, owner, volume_uuid)
    with core.db.read() as session:
        with pytest.raises(NotFound):
            snapshots.get_snapshot(session, other, uuid)
        assert snapshots.list_snapshots(session, other)[1] == 0
        assert snapshots.list_snapshots(session, owner)[1] == 1


def test_snapshot_state_table() -> None:
    assert snapshots.next_state("BackedUp", SnapshotEvent.DESTROY_REQUESTED) == "Destroying"
    with pytest.raises(InvalidState):
        snapshots.next_state("Destroyed", SnapshotEvent.DESTROY_REQUESTED)


# schedule arithmetic (fixed clocks) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "schedule", "zone", "after", "expected"),
    [
        # hourly: this hour's minute passed → next hour, across a month and a year end
        ("HOURLY", "05", "UTC", dt.datetime(2026, 12, 31, 23, 30), dt.datetime(2027, 1, 1, 0, 5)),
        ("HOURLY", "45", "UTC", dt.datetime(2026, 5, 1, 10, 30), dt.datetime(2026, 5, 1, 10, 45)),
        # exactly at the scheduled time → the next one (strictly after)
        ("HOURLY", "30", "UTC", dt.datetime(2026, 5, 1, 10, 30), dt.datetime(2026, 5, 1, 11, 30)),
        # daily in a time zone east of UTC, across February's end in a leap year
        (
            "DAILY",
            "30:01",
            "Asia/Kolkata",
            dt.datetime(2028, 2, 28, 21, 0),  # 02:30 on the 29th in Kolkata
            dt.datetime(2028, 2, 29, 20, 0),  # 01:30 on 1 March in Kolkata
        ),
        # daily across the spring-forward gap in New York (02:30 does not exist)
        (
            "DAILY",
            "30:02",
            "America/New_York",
            dt.datetime(2026, 3, 8, 6, 0),
            dt.datetime(2026, 3, 8, 7, 30),
        ),
        # daily in New York in summer: UTC-4
        (
            "DAILY",
            "00:09",
            "America/New_York",
            dt.datetime(2026, 7, 1, 14, 0),
            dt.datetime(2026, 7, 2, 13, 0),
        ),
        # weekly: day 1 is Sunday (Java's Calendar); 2026-11-21 is a Saturday
        (
            "WEEKLY",
            "00:10:1",
            "UTC",
            dt.datetime(2026, 11, 21, 12, 0),
            dt.datetime(2026, 11, 22, 10),
        ),
        (
            "WEEKLY",
            "00:10:7",
            "UTC",
            dt.datetime(2026, 11, 21, 12, 0),
            dt.datetime(2026, 11, 28, 10),
        ),
        # monthly: the 28th, after it in December → January of the next year
        (
            "MONTHLY",
            "00:00:28",
            "UTC",
            dt.datetime(2026, 12, 29, 0, 0),
            dt.datetime(2027, 1, 28, 0, 0),
        ),
        # monthly from 31 January: the 15th of February
        ("MONTHLY", "00:12:15", "UTC", dt.datetime(2027, 1, 31), dt.datetime(2027, 2, 15, 12)),
    ],
)
def test_next_run(interval, schedule, zone, after, expected) -> None:
    got = policies.next_run_after(interval, schedule, zone, after.replace(tzinfo=UTC))
    assert got == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "schedule", "zone"),
    [
        ("HOURLY", "60", "UTC"),
        ("DAILY", "30", "UTC"),
        ("DAILY", "30:24", "UTC"),
        ("WEEKLY", "00:10:8", "UTC"),
        ("MONTHLY", "00:10:29", "UTC"),
        ("YEARLY", "00:10:1", "UTC"),
        ("DAILY", "00:10", "Mars/Olympus"),
        ("DAILY", "aa:10", "UTC"),
    ],
)
def test_bad_schedules_are_refused(interval, schedule, zone) -> None:
    with pytest.raises(InvalidParameter):
        policies.next_run_after(interval, schedule, zone, dt.datetime(2026, 1, 1, tzinfo=UTC))


# policies -------------------------------------------------------------------------------------


def test_policy_fires_once_per_run_and_keeps_maxsnaps(core: CoreHarness) -> None:
    assert TASKS["snapshot-policies"].every_seconds <= 60
    ctx = core.new_tenant("policy-owner")
    _, volume_uuid = placed_volume(core, ctx)
    now = dt.datetime.now(UTC)
    near = (now + dt.timedelta(minutes=1)).strftime("%M")
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        policy = new_policy(session, ctx, volume, "hourly", near, 1, zone="Europe/Berlin", now=now)
        policy_id, first_run = policy.id, policy.next_run
    assert first_run - now <= dt.timedelta(minutes=1)
    assert policies.take_due_snapshots(core.runtime, now=now) == 0  # not due yet
    assert policies.take_due_snapshots(core.runtime, now=first_run) == 1
    assert policies.take_due_snapshots(core.runtime, now=first_run) == 0  # run already claimed

    def policy_snapshots() -> list[Snapshot]:
        with core.db.read() as session:
            return list(
                session.scalars(
                    sa.select(Snapshot).where(Snapshot.policy_id == policy_id).order_by(Snapshot.id)
                )
            )

    _wait(lambda: [s.state for s in policy_snapshots()] == [SnapshotState.BACKED_UP])
    first = policy_snapshots()[0]
    assert (first.snapshot_type, first.interval_type) == ("HOURLY", "HOURLY")
    with core.db.read() as session:
        next_run = session.get_one(policies.SnapshotPolicy, policy_id).next_run
    assert next_run == first_run + dt.timedelta(hours=1)

    assert policies.take_due_snapshots(core.runtime, now=next_run) == 1
    # maxsnaps = 1: once the second is backed up, the first is deleted
    _wait(
        lambda: (
            [s.state for s in policy_snapshots()]
            == [SnapshotState.DESTROYED, SnapshotState.BACKED_UP]
        )
    )


def test_policy_for_the_same_interval_updates_and_validates(core: CoreHarness) -> None:
    ctx = core.admin_context()
    _, volume_uuid = placed_volume(core, ctx)
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        first = new_policy(session, ctx, volume, "DAILY", "00:01", 2)
        second = new_policy(session, ctx, volume, "DAILY", "30:04", 3)
        assert first.id == second.id and second.schedule == "30:04"
        with pytest.raises(InvalidParameter, match="maxSnaps"):
            new_policy(session, ctx, volume, "DAILY", "30:04", 9)
        assert policies.list_snapshot_policies(session, ctx, volume=volume)[1] == 1
        policies.delete_snapshot_policies(session, ctx, [second])
        assert policies.list_snapshot_policies(session, ctx, volume=volume)[1] == 0


def test_two_servers_never_take_the_same_run(core: CoreHarness) -> None:
    ctx = core.admin_context()
    _, volume_uuid = placed_volume(core, ctx)
    now = dt.datetime.now(UTC)
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        policy = new_policy(session, ctx, volume, "HOURLY", "00", 8, now=now)
        due = policy.next_run
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        taken = list(pool.map(lambda _: policies.take_due_snapshots(core.runtime, due), range(4)))
    assert sum(taken) == 1


def _wait(predicate) -> None:
    _wait_until(predicate, timeout=15)


def test_a_run_is_claimed_by_one_reader_of_it_only(core: CoreHarness) -> None:
    """Two servers that both read the same due run: the conditional UPDATE lets one take it."""
    ctx = core.admin_context()
    _, volume_uuid = placed_volume(core, ctx)
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        policy = new_policy(session, ctx, volume, "DAILY", "00:00", 2)
        policy_id = policy.id
    with core.db.read() as session:
        seen = session.get_one(policies.SnapshotPolicy, policy_id)  # what both servers read
        session.expunge(seen)
    claims = []
    for _ in range(2):
        with core.db.write() as session:
            claims.append(policies._claim(session, seen, seen.next_run))
    assert claims == [True, False]
