"""Host maintenance: prepareHostForMaintenance, cancelHostMaintenance, reconnectHost.

A host asked into maintenance becomes PrepareForMaintenance at once (the planner no longer
places on it: it is not Enabled); the job then live-migrates each VM running on it through
the ordinary migration jobs (one per VM, so each move is as safe and as restartable as a
migrateVirtualMachine) and waits for them. All moved → Maintenance; any VM that cannot move
(no room elsewhere, a failed migration, a VM busy starting or stopping) → ErrorInMaintenance,
from which the administrator can retry or cancel.

    Enabled/Disabled/ErrorInMaintenance ──prepare──▶ PrepareForMaintenance
    PrepareForMaintenance ──all VMs moved──▶ Maintenance
    PrepareForMaintenance ──a VM stuck──▶ ErrorInMaintenance
    PrepareForMaintenance/Maintenance/ErrorInMaintenance ──cancel──▶ Enabled
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext
from core.db import utcnow
from core.errors import CloudgateError, InvalidState
from core.events import record_for_caller, record_for_job
from core.infra import (
    DISABLED,
    ENABLED,
    ERROR_IN_MAINTENANCE,
    IN_MAINTENANCE,
    MAINTENANCE,
    PREPARE_FOR_MAINTENANCE,
    Host,
)
from core.jobs import IN_PROGRESS, AsyncJob, job_context, job_handler, submit_job
from core.runtime import Runtime
from core.state_machine import StateMachine
from core.visibility import ensure_root_admin
from core.vms.migrate import MIGRATE, start_migration
from core.vms.models import VirtualMachine
from core.vms.states import VmState

INSTANCE_TYPE = "Host"
PREPARE = "host.maintenance.prepare"
CANCEL = "host.maintenance.cancel"
RECONNECT = "host.reconnect"
MIGRATION_WAIT_SECONDS = 600.0

# Host resource state × request → next resource state.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ENABLED, "prepare"): PREPARE_FOR_MAINTENANCE,
    (DISABLED, "prepare"): PREPARE_FOR_MAINTENANCE,
    (ERROR_IN_MAINTENANCE, "prepare"): PREPARE_FOR_MAINTENANCE,
    (PREPARE_FOR_MAINTENANCE, "all moved"): MAINTENANCE,
    (PREPARE_FOR_MAINTENANCE, "stuck"): ERROR_IN_MAINTENANCE,
    (PREPARE_FOR_MAINTENANCE, "cancel"): ENABLED,
    (MAINTENANCE, "cancel"): ENABLED,
    (ERROR_IN_MAINTENANCE, "cancel"): ENABLED,
}


MACHINE = StateMachine("host", str, TRANSITIONS, column="resource_state")
_move = MACHINE.move


def _request(
    session: Session,
    ctx: CallContext,
    host: Host,
    request: str,
    job_kind: str,
    event: tuple[str, str],
) -> AsyncJob:
    """Move the host for `request` (root admins only), record `event` (type, text), and
    queue the job."""
    ensure_root_admin(ctx)
    _move(session, host, request)
    event_type, text = event
    fields = {"resource_type": INSTANCE_TYPE, "resource_uuid": host.uuid}
    record_for_caller(session, ctx, event_type, text, **fields)
    return submit_job(session, ctx, job_kind, instance_type=INSTANCE_TYPE, instance_id=host.id)


def prepare_for_maintenance(session: Session, ctx: CallContext, host: Host) -> AsyncJob:
    """prepareHostForMaintenance."""
    event = ("MAINT.PREPARE", f"Preparing host {host.name} for maintenance")
    return _request(session, ctx, host, "prepare", PREPARE, event)


def cancel_maintenance(session: Session, ctx: CallContext, host: Host) -> AsyncJob:
    """cancelHostMaintenance: the host takes VMs again."""
    event = ("MAINT.CANCEL", f"Cancelled maintenance of host {host.name}")
    return _request(session, ctx, host, "cancel", CANCEL, event)


def reconnect_host(session: Session, ctx: CallContext, host: Host) -> AsyncJob:
    """reconnectHost: the simulator's agent is always connected; the host is pinged again."""
    ensure_root_admin(ctx)
    if host.resource_state in (MAINTENANCE, PREPARE_FOR_MAINTENANCE):
        raise InvalidState("host", host.uuid, host.resource_state, "reconnect")
    return submit_job(session, ctx, RECONNECT, instance_type=INSTANCE_TYPE, instance_id=host.id)


# jobs -------------------------------------------------------------------------------------


def _load(session: Session, job: AsyncJob) -> Host:
    return session.get_one(Host, job.instance_id, populate_existing=True)


def _event(session: Session, job: AsyncJob, host: Host, text: str, level: str = "INFO") -> None:
    fields = {"resource_type": INSTANCE_TYPE, "resource_uuid": host.uuid, "level": level}
    record_for_job(session, job, "MAINT.PREPARE", text, **fields)


def _migrations_under_way(session: Session, host_id: int) -> list[str]:
    """Uuids of the unfinished migration jobs of VMs still on the host."""
    return list(
        session.scalars(
            sa.select(AsyncJob.uuid)
            .join(VirtualMachine, VirtualMachine.id == AsyncJob.instance_id)
            .where(
                AsyncJob.kind == MIGRATE,
                AsyncJob.instance_type == "VirtualMachine",
                AsyncJob.status == IN_PROGRESS,
                VirtualMachine.host_id == host_id,
            )
        )
    )


def _evacuate(runtime: Runtime, job: AsyncJob) -> list[str]:
    """Queue a migration for every VM running on the host; the names of those that cannot."""
    stuck: list[str] = []
    with runtime.db.read() as session:
        vm_ids = list(
            session.scalars(
                sa.select(VirtualMachine.id).where(
                    VirtualMachine.host_id == job.instance_id,
                    VirtualMachine.removed.is_(None),
                    VirtualMachine.state != VmState.MIGRATING,  # already on its way
                )
            )
        )
    for vm_id in vm_ids:
        # One transaction per VM: a VM that cannot move does not hold the others back.
        try:
            with runtime.db.write() as session:
                vm = session.get_one(VirtualMachine, vm_id, populate_existing=True)
                if vm.host_id != job.instance_id:
                    continue
                start_migration(session, job_context(session, job), vm)
        except CloudgateError as error:
            stuck.append(f"{vm_id}: {error.message}")
    return stuck


def _wait_for_migrations(runtime: Runtime, host_id: int) -> None:
    deadline = time.monotonic() + MIGRATION_WAIT_SECONDS
    while time.monotonic() < deadline:
        with runtime.db.read() as session:
            if not _migrations_under_way(session, host_id):
                return
        time.sleep(0.05)


def _fail_prepare(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        host = _load(session, job)
        if host.resource_state == PREPARE_FOR_MAINTENANCE:
            _move(session, host, "stuck")
            _event(session, job, host, f"Host {host.name} failed to enter maintenance", "ERROR")


@job_handler(PREPARE, fail=_fail_prepare)
def run_prepare(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        host = _load(session, job)
        if host.resource_state != PREPARE_FOR_MAINTENANCE:  # cancelled, or done before a crash
            return {"host_id": host.id}
    stuck = _evacuate(runtime, job)
    _wait_for_migrations(runtime, job.instance_id or 0)
    with runtime.db.write() as session:
        host = _load(session, job)
        if host.resource_state != PREPARE_FOR_MAINTENANCE:
            return {"host_id": host.id}
        remaining = session.scalar(
            sa.select(sa.func.count())
            .select_from(VirtualMachine)
            .where(VirtualMachine.host_id == host.id, VirtualMachine.removed.is_(None))
        )
        if remaining or stuck:
            _move(session, host, "stuck")
            _event(
                session,
                job,
                host,
                f"Host {host.name} could not be emptied: {remaining} VM(s) left",
                "ERROR",
            )
        else:
            _move(session, host, "all moved")
            _event(session, job, host, f"Host {host.name} is in maintenance")
        return {"host_id": host.id}


def _fail_nothing(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """Nothing to undo: the state change was committed with the request."""


@job_handler(CANCEL, fail=_fail_nothing)
def run_cancel(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    return {"host_id": job.instance_id}


@job_handler(RECONNECT, fail=_fail_nothing)
def run_reconnect(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        host = _load(session, job)
        host.last_ping = utcnow()
        return {"host_id": host.id}


def in_maintenance(host: Host) -> bool:
    return host.resource_state in IN_MAINTENANCE
