"""The job engine's promise: jobs interrupted by a crash are resumed or failed explicitly."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core.db import utcnow
from core.jobs import FAILED, MAX_ATTEMPTS, SUCCEEDED, AsyncJob, JobEngine, ManagementServer
from core.vms.models import VirtualMachine
from core.vms.states import TRANSITIONAL, VmState
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy, vm_row


def _crash_with_claimed_job(core: CoreHarness, owner: str, attempts: int = 1) -> tuple[str, str]:
    """A deploy whose job was claimed by `owner` and never finished (the engine is stopped)."""
    core.jobs.stop()
    vm_uuid, job_uuid = deploy(core, core.admin_context())
    with core.db.write() as session:
        session.execute(
            sa.update(AsyncJob)
            .where(AsyncJob.uuid == job_uuid)
            .values(owner_msid=owner, attempts=attempts)
        )
    assert vm_row(core, vm_uuid).state == VmState.STARTING
    return vm_uuid, job_uuid


def _restart(core: CoreHarness, msid: str = "test-ms") -> JobEngine:
    engine = JobEngine(core.db, core.runtime, msid=msid, workers=4)
    engine.start()
    return engine


def test_own_interrupted_job_is_resumed_on_restart(core: CoreHarness) -> None:
    vm_uuid, job_uuid = _crash_with_claimed_job(core, owner="test-ms")
    engine = _restart(core)
    try:
        assert core.wait(job_uuid).status == SUCCEEDED
        assert vm_row(core, vm_uuid).state == VmState.RUNNING
    finally:
        engine.stop()


def test_dead_peers_jobs_are_taken_over(core: CoreHarness) -> None:
    vm_uuid, job_uuid = _crash_with_claimed_job(core, owner="dead-peer")
    with core.db.write() as session:
        session.merge(
            ManagementServer(msid="dead-peer", last_heartbeat=utcnow() - dt.timedelta(minutes=5))
        )
    engine = _restart(core)
    try:
        assert core.wait(job_uuid).status == SUCCEEDED
        assert vm_row(core, vm_uuid).state == VmState.RUNNING
    finally:
        engine.stop()


def test_live_peers_jobs_are_left_alone(core: CoreHarness) -> None:
    _, job_uuid = _crash_with_claimed_job(core, owner="live-peer")
    with core.db.write() as session:
        session.merge(ManagementServer(msid="live-peer", last_heartbeat=utcnow()))
    engine = _restart(core)
    try:
        import time

        time.sleep(1.5)
        with core.db.read() as session:
            job = session.scalar(sa.select(AsyncJob).where(AsyncJob.uuid == job_uuid))
            assert job.owner_msid == "live-peer" and job.status == 0
    finally:
        engine.stop()


def test_job_interrupted_too_often_fails_and_leaves_a_valid_state(core: CoreHarness) -> None:
    vm_uuid, job_uuid = _crash_with_claimed_job(core, owner="test-ms", attempts=MAX_ATTEMPTS)
    engine = _restart(core)
    try:
        job = core.wait(job_uuid)
        assert job.status == FAILED
        vm = vm_row(core, vm_uuid)
        assert VmState(vm.state) not in TRANSITIONAL
        assert vm.state == VmState.ERROR and vm.host_id is None
    finally:
        engine.stop()
    with core.db.read() as session:
        stuck = session.scalars(
            sa.select(VirtualMachine).where(
                VirtualMachine.state.in_([s.value for s in TRANSITIONAL])
            )
        ).all()
    assert stuck == []
