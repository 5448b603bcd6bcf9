"""Usage records from VM state history and resource lifetimes, per aggregation window."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import configuration, usage
from core.db import utcnow
from core.jobs import SUCCEEDED
from core.usage import UsageRecord, UsageWindow
from core.visibility import ListScope
from core.vms import service as vms
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_vm_intervals_from_events() -> None:
    hour = dt.timedelta(hours=1)
    events = [("VM.START", T0), ("VM.STOP", T0 + hour), ("VM.START", T0 + 2 * hour)]
    events.append(("VM.DESTROY", T0 + 3 * hour))
    running, allocated = usage.vm_intervals(events, T0)
    assert running == [(T0, T0 + hour), (T0 + 2 * hour, T0 + 3 * hour)]
    assert allocated == (T0, T0 + 3 * hour)
    window = (T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(minutes=150))
    assert sum(usage._overlap(a, b, *window) for a, b in running) == 3600.0


def test_window_alignment() -> None:
    start, end = usage.window_of(T0 + dt.timedelta(minutes=95), dt.timedelta(minutes=60))
    assert (start, end) == (T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2))


def _generate(core: CoreHarness, start: dt.datetime, end: dt.datetime) -> int:
    with core.db.write() as session:
        return usage.generate_usage_records(session, core.admin_context(), start, end)


def test_running_and_allocated_vm_records_are_idempotent(core: CoreHarness) -> None:
    with core.db.write() as session:
        configuration.set_setting(session, "usage.stats.job.aggregation.range", "60")
    owner = core.new_tenant("usage-owner")
    other = core.new_tenant("usage-other")
    vm_uuid, job = deploy(core, owner)
    assert core.wait(job).status == SUCCEEDED
    with core.db.write() as session:
        stop = vms.stop_vm(session, owner, vms.get_vm(session, owner, uuid=vm_uuid))
    assert core.wait(stop.uuid).status == SUCCEEDED
    now = utcnow()
    start, end = now - dt.timedelta(hours=2), now + dt.timedelta(hours=1)
    _generate(core, start, end)
    _generate(core, start, end)  # again: replaces, never doubles
    with core.db.read() as session:
        rows, _ = usage.list_usage_records(session, owner, ListScope(), start=start, end=end)
        kinds = sorted(r.usage_type for r in rows if r.usage_id == vm_uuid)
        assert kinds == [usage.RUNNING_VM, usage.ALLOCATED_VM]
        running = next(r for r in rows if r.usage_type == usage.RUNNING_VM)
        allocated = next(r for r in rows if r.usage_type == usage.ALLOCATED_VM)
        assert 0 < running.raw_usage <= allocated.raw_usage < 1
        assert any(r.usage_type == usage.VOLUME for r in rows)  # the root volume
        assert usage.list_usage_records(session, other, ListScope(), start=start, end=end)[1] == 0
        windows = session.scalars(sa.select(UsageWindow)).all()
        assert windows and not any(w.complete for w in windows if w.end_date > utcnow())


def test_periodic_job_closes_ended_windows_once(core: CoreHarness) -> None:
    with core.db.write() as session:
        configuration.set_setting(session, "usage.stats.job.aggregation.range", "1")
    owner = core.new_tenant("usage-periodic")
    deploy(core, owner, start=False)
    with core.db.write() as session:  # pretend the history began three minutes ago
        session.execute(sa.update(usage.Event).values(created=utcnow() - dt.timedelta(minutes=3)))
    now = utcnow()  # one clock for both runs: a minute boundary between them must not matter
    usage.run_usage_job(core.runtime, now)
    with core.db.read() as session:
        windows = session.scalars(sa.select(UsageWindow)).all()
        assert windows and all(w.complete for w in windows)
        first_count = session.scalar(sa.select(sa.func.count()).select_from(UsageRecord))
    usage.run_usage_job(core.runtime, now)
    with core.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(UsageRecord)) == first_count
        assert usage.pending_windows(session, now) == []


def test_intervals_of_one_resource_in_one_window_are_summed() -> None:
    def running(seconds: float) -> usage.Usage:
        return usage.Usage(
            account_id=1,
            domain_id=1,
            usage_type=1,
            usage_id="vm-1",
            description="running",
            seconds=seconds,
        )

    merged = usage._merge(
        [
            running(600),
            running(900),
            usage.Usage(
                account_id=1,
                domain_id=1,
                usage_type=2,
                usage_id="vm-1",
                description="allocated",
                seconds=3600,
            ),
        ]
    )
    assert sorted((u.usage_type, u.seconds) for u in merged) == [(1, 1500), (2, 3600)]


def test_restarted_vm_has_one_running_record_per_window(core: CoreHarness) -> None:
    owner = core.new_tenant("usage-restart")
    vm_uuid, job = deploy(core, owner)
    core.wait(job)
    for operation in (vms.stop_vm, vms.start_vm):
        with core.db.write() as session:
            job_row = operation(session, owner, vms.get_vm(session, owner, uuid=vm_uuid))
        assert core.wait(job_row.uuid).status == SUCCEEDED
    now = utcnow()
    _generate(core, now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    with core.db.read() as session:
        running = session.scalars(
            sa.select(UsageRecord).where(
                UsageRecord.vm_uuid == vm_uuid, UsageRecord.usage_type == 1
            )
        ).all()
    assert len(running) == 1
