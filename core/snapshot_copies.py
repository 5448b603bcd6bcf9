"""Copies of backed-up snapshots, within the installation (one region), into any zone.

A copy is a snapshot of its own: its own row, path, limits and lifetime, so deleting the
original leaves the copy whole. It records the same volume as its source and lives in the
zone asked for (the source's by default): new volumes made from it are created there. The
job copies the source's backup object to the copy's key inside the object store
(`core.snapshot_store`); no hypervisor is involved, and running it again copies again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import limits, snapshot_store
from core.context import CallContext
from core.errors import InvalidState
from core.events import record_for_caller
from core.infra import Zone
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

COPY_JOB = "snapshot.copy"


def copy_snapshot(
    session: Session,
    ctx: CallContext,
    source: Snapshot,
    *,
    name: str | None = None,
    zone: Zone | None = None,
) -> tuple[Snapshot, AsyncJob]:
    """A new snapshot of the caller's with the source's content, in `zone` (else the
    source's); a job copies the backup object."""
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
        zone_id=zone.id if zone is not None else source.zone_id,
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
    if copy.state == SnapshotState.CREATING:
        stored = snapshot_store.copy(
            runtime, source.path, copy.path, checksum=source.checksum, snapshot_uuid=copy.uuid
        )
        with runtime.db.write() as session:
            copy = session.get_one(Snapshot, copy.id, populate_existing=True)
            if copy.state == SnapshotState.CREATING:
                MACHINE.move(session, copy, SnapshotEvent.CREATED_ON_PRIMARY)
                MACHINE.move(session, copy, SnapshotEvent.BACKUP_STARTED)
                copy.physical_size_bytes = stored.size
                copy.checksum = stored.checksum
                MACHINE.move(session, copy, SnapshotEvent.BACKED_UP)
    return {"snapshot_id": copy.id}


# A failed copy ends as a failed snapshot does: Error, its counts given back.
job_handler(COPY_JOB, fail=HANDLERS["snapshot.create"].fail)(_run_copy)
