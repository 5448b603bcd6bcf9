"""Copies of backed-up snapshots, within the installation (one region).

A copy is a snapshot of its own: its own row, path, limits and lifetime, so deleting the
original leaves the copy whole. It records the same volume as its source. The drivers have
no "copy a backup" operation, so the job restores the source into a scratch volume on the
source volume's pool, snapshots that and removes the scratch volume — only operations every
hypervisor driver has, each idempotent, so an interrupted copy is simply run again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import limits
from core.context import CallContext
from core.errors import InvalidState
from core.events import record_for_caller
from core.jobs import HANDLERS, AsyncJob, job_handler, submit_job
from core.runtime import Runtime
from core.snapshots import (
    INSTANCE_TYPE,
    MACHINE,
    MANUAL,
    Snapshot,
    SnapshotEvent,
    SnapshotState,
)
from core.volumes import Volume, hypervisor_of, pool_uuid
from core.volumes.work import _driver_call

COPY_JOB = "snapshot.copy"


def copy_snapshot(
    session: Session, ctx: CallContext, source: Snapshot, *, name: str | None = None
) -> tuple[Snapshot, AsyncJob]:
    """A new snapshot of the caller's with the source's content (a job copies the backup)."""
    if source.state != SnapshotState.BACKED_UP:
        raise InvalidState("Snapshot", source.uuid, source.state, "copy")
    limits.reserve(
        session,
        ctx.account_id,
        {limits.ResourceType.SNAPSHOT: 1, limits.ResourceType.SECONDARY_STORAGE: source.size_gb},
    )
    copy = Snapshot(
        name=name or f"{source.name}_copy",
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        zone_id=source.zone_id,
        volume_id=source.volume_id,
        volume_type=source.volume_type,
        snapshot_type=MANUAL,
        size_bytes=source.size_bytes,
        state=SnapshotState.CREATING,
    )
    session.add(copy)
    session.flush()
    copy.path = f"snapshots/{ctx.account_id}/{source.volume_id}/{copy.uuid}"
    record_for_caller(
        session,
        ctx,
        "SNAPSHOT.COPY",
        f"Snapshot {copy.name} copied from {source.name}",
        resource_type=INSTANCE_TYPE,
        resource_uuid=copy.uuid,
    )
    job = submit_job(
        session,
        ctx,
        COPY_JOB,
        instance_type=INSTANCE_TYPE,
        instance_id=copy.id,
        params={"source_id": source.id},
    )
    return copy, job


def _run_copy(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        copy = session.get_one(Snapshot, job.instance_id, populate_existing=True)
        source = session.get_one(Snapshot, job.arguments["source_id"])
        volume = session.get_one(Volume, copy.volume_id)
        driver = runtime.hypervisor(hypervisor_of(session, volume))
        pool = pool_uuid(session, volume.pool_id)
    if copy.state == SnapshotState.CREATING:
        scratch = f"{copy.path}.scratch"
        _driver_call(lambda: driver.create_volume(pool, scratch, source.size_bytes))
        _driver_call(lambda: driver.revert_snapshot(pool, scratch, source.path))
        physical = _driver_call(lambda: driver.snapshot_volume(pool, scratch, copy.path))
        _driver_call(lambda: driver.delete_volume(pool, scratch))
        with runtime.db.write() as session:
            copy = session.get_one(Snapshot, copy.id, populate_existing=True)
            if copy.state == SnapshotState.CREATING:
                MACHINE.move(session, copy, SnapshotEvent.CREATED_ON_PRIMARY)
                MACHINE.move(session, copy, SnapshotEvent.BACKUP_STARTED)
                copy.physical_size_bytes = physical
                MACHINE.move(session, copy, SnapshotEvent.BACKED_UP)
    return {"snapshot_id": copy.id}


# A failed copy ends as a failed snapshot does: Error, its counts given back.
job_handler(COPY_JOB, fail=HANDLERS["snapshot.create"].fail)(_run_copy)
