"""Volume snapshots: taken on primary storage, backed up to secondary storage.

The account's SNAPSHOT count and SECONDARY_STORAGE (GiB of the volume's size, as CloudStack
reserves before the backup) move with the request; the driver work runs as a job. The
backup is an object in the object store (`core.snapshot_store`): the job streams the
driver's snapshot into it, records its size (physicalsize) and checksum, and removes the
copy on primary storage; reverting and new volumes read the object back, deleting the
snapshot deletes it, and so does a failed backup.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import limits, snapshot_store
from core.context import CallContext
from core.db import Base, IdMixin, utcnow
from core.errors import InvalidParameter, InvalidState, NotFound
from core.events import record_for_caller, record_for_job
from core.jobs import AsyncJob, job_context, job_handler, submit_job
from core.listing import Page, among, given, keyword_in, paginate
from core.runtime import Runtime
from core.state_machine import StateMachine
from core.tags import forget_resource, tag_filter
from core.visibility import ListScope, ensure_access, owned_rows
from core.volumes import (
    DATADISK,
    GIB,
    READY,
    Volume,
    VolumeEvent,
    VolumeState,
    attach_to_vm,
    hypervisor_of,
    place_volume,
    pool_uuid,
    transition,
    volume_by_id,
)
from core.volumes.work import _driver_call
from drivers.hypervisor.base import HypervisorDriver

if TYPE_CHECKING:
    from core.vms.models import VirtualMachine

INSTANCE_TYPE = "Snapshot"
TAG_TYPE = "Snapshot"
MANUAL = "MANUAL"
RECURRING = "RECURRING"
INTERVAL_TYPES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY")


class SnapshotState(enum.StrEnum):
    ALLOCATED = "Allocated"
    CREATING = "Creating"
    CREATED_ON_PRIMARY = "CreatedOnPrimary"
    BACKING_UP = "BackingUp"
    BACKED_UP = "BackedUp"
    DESTROYING = "Destroying"
    DESTROYED = "Destroyed"
    ERROR = "Error"


class SnapshotEvent(enum.StrEnum):
    CREATE_REQUESTED = "create requested"
    CREATED_ON_PRIMARY = "created on primary"
    BACKUP_STARTED = "backup started"
    BACKED_UP = "backed up"
    DESTROY_REQUESTED = "destroy requested"
    DESTROY_FAILED_WITHOUT_BACKUP = "destroy failed without backup"
    OPERATION_SUCCEEDED = "operation succeeded"
    OPERATION_FAILED = "operation failed"


_S, _E = SnapshotState, SnapshotEvent
TRANSITIONS: dict[tuple[SnapshotState, SnapshotEvent], SnapshotState] = {
    (_S.ALLOCATED, _E.CREATE_REQUESTED): _S.CREATING,
    (_S.CREATING, _E.CREATED_ON_PRIMARY): _S.CREATED_ON_PRIMARY,
    (_S.CREATING, _E.OPERATION_FAILED): _S.ERROR,
    (_S.CREATED_ON_PRIMARY, _E.BACKUP_STARTED): _S.BACKING_UP,
    (_S.BACKING_UP, _E.BACKED_UP): _S.BACKED_UP,
    (_S.BACKING_UP, _E.OPERATION_FAILED): _S.ERROR,
    (_S.CREATED_ON_PRIMARY, _E.OPERATION_FAILED): _S.ERROR,
    (_S.BACKED_UP, _E.DESTROY_REQUESTED): _S.DESTROYING,
    (_S.CREATED_ON_PRIMARY, _E.DESTROY_REQUESTED): _S.DESTROYING,
    (_S.ERROR, _E.DESTROY_REQUESTED): _S.DESTROYING,
    (_S.DESTROYING, _E.OPERATION_SUCCEEDED): _S.DESTROYED,
    (_S.DESTROYING, _E.OPERATION_FAILED): _S.BACKED_UP,
    # An Error snapshot whose delete failed has no backup to be BackedUp with.
    (_S.DESTROYING, _E.DESTROY_FAILED_WITHOUT_BACKUP): _S.ERROR,
}


MACHINE = StateMachine("Snapshot", SnapshotState, TRANSITIONS)


def next_state(state: str, event: SnapshotEvent, *, snapshot: object = "") -> SnapshotState:
    """The state after `event`, or InvalidState when the table has no such transition."""
    return MACHINE.next_state(state, event, snapshot)


class Snapshot(IdMixin, Base):
    __tablename__ = "snapshot"

    name: Mapped[str] = mapped_column(sa.String(255))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"))
    volume_id: Mapped[int] = mapped_column(sa.ForeignKey("volume.id"), index=True)
    volume_type: Mapped[str] = mapped_column(sa.String(16))
    snapshot_type: Mapped[str] = mapped_column(sa.String(16), default=MANUAL)
    interval_type: Mapped[str | None] = mapped_column(sa.String(16))
    policy_id: Mapped[int | None] = mapped_column(index=True)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    physical_size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    state: Mapped[str] = mapped_column(sa.String(32), default=SnapshotState.ALLOCATED)
    path: Mapped[str] = mapped_column(sa.String(1024), default="")
    # "{SHA-256}<hex>" of the backup object, checked when the backup is read back.
    checksum: Mapped[str] = mapped_column(sa.String(80), default="", server_default="")
    removed: Mapped[dt.datetime | None]

    @property
    def size_gb(self) -> int:
        return -(-self.size_bytes // GIB)


_transition = MACHINE.move


def _event(session: Session, ctx: CallContext, event_type: str, text: str, uuid: str) -> None:
    record_for_caller(
        session, ctx, event_type, text, resource_type=INSTANCE_TYPE, resource_uuid=uuid
    )


def _submit(
    session: Session, ctx: CallContext, kind: str, snapshot: Snapshot, **params: Any
) -> AsyncJob:
    return submit_job(
        session, ctx, kind, instance_type=INSTANCE_TYPE, instance_id=snapshot.id, params=params
    )


def create_snapshot(
    session: Session,
    ctx: CallContext,
    volume: Volume,
    *,
    name: str | None = None,
    policy_id: int | None = None,
    interval_type: str | None = None,
) -> tuple[Snapshot, AsyncJob]:
    """Snapshot a volume that is on primary storage (Ready); counted against its owner."""
    if volume.state != READY or volume.pool_id is None:
        raise InvalidState("Volume", volume.uuid, volume.state, "take a snapshot")
    size_gb = volume.size_gb
    limits.reserve(
        session,
        volume.account_id,
        {limits.ResourceType.SNAPSHOT: 1, limits.ResourceType.SECONDARY_STORAGE: size_gb},
    )
    vm_name = ""
    if volume.vm_id is not None:
        from core.vms.models import VirtualMachine

        vm_name = session.get_one(VirtualMachine, volume.vm_id).name
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    default_name = f"{vm_name + '_' if vm_name else ''}{volume.name}_{stamp}"
    snapshot = Snapshot(
        name=name or default_name,
        account_id=volume.account_id,
        domain_id=volume.domain_id,
        zone_id=volume.zone_id,
        volume_id=volume.id,
        volume_type=volume.volume_type,
        snapshot_type=interval_type or MANUAL,
        interval_type=interval_type,
        policy_id=policy_id,
        size_bytes=volume.size_bytes,
        state=SnapshotState.CREATING,
    )
    session.add(snapshot)
    session.flush()
    snapshot.path = f"snapshots/{volume.account_id}/{volume.id}/{snapshot.uuid}"
    _event(session, ctx, "SNAPSHOT.CREATE", f"Snapshot {snapshot.name} created", snapshot.uuid)
    return snapshot, _submit(session, ctx, "snapshot.create", snapshot)


def get_snapshot(session: Session, ctx: CallContext, uuid: str) -> Snapshot:
    """A snapshot the caller may see (someone else's is reported as not found)."""
    snapshot = session.scalar(
        sa.select(Snapshot).where(Snapshot.uuid == uuid, Snapshot.removed.is_(None))
    )
    ensure_access(session, ctx, snapshot, "snapshot", uuid)
    assert snapshot is not None
    return snapshot


def delete_snapshot(session: Session, ctx: CallContext, snapshot: Snapshot) -> AsyncJob:
    # A snapshot that failed gave its counts back already.
    counted = snapshot.state != SnapshotState.ERROR
    _transition(session, snapshot, SnapshotEvent.DESTROY_REQUESTED)
    _event(session, ctx, "SNAPSHOT.DELETE", f"Snapshot {snapshot.name} deleted", snapshot.uuid)
    return _submit(session, ctx, "snapshot.delete", snapshot, counted=counted)


def revert_snapshot(session: Session, ctx: CallContext, snapshot: Snapshot) -> AsyncJob:
    """Put the volume back to the snapshot: it must be detached or its VM stopped."""
    if snapshot.state != SnapshotState.BACKED_UP:
        raise InvalidState("Snapshot", snapshot.uuid, snapshot.state, "revert")
    volume = session.get(Volume, snapshot.volume_id)
    if volume is None or volume.removed is not None:
        raise InvalidParameter("The snapshot's volume no longer exists", parameter="id")
    if volume.vm_id is not None:
        from core.vms.models import VirtualMachine

        vm = session.get_one(VirtualMachine, volume.vm_id)
        if vm.state != "Stopped":
            raise InvalidState("VM", vm.uuid, vm.state, "revert a snapshot of its volume")
    if volume.size_bytes != snapshot.size_bytes:
        raise InvalidParameter(
            "The volume was resized after the snapshot was taken; it cannot be reverted",
            parameter="id",
        )
    transition(session, volume, VolumeEvent.REVERT_REQUESTED)
    _event(session, ctx, "SNAPSHOT.REVERT", f"Reverted to snapshot {snapshot.name}", snapshot.uuid)
    return _submit(session, ctx, "snapshot.revert", snapshot)


def create_volume_from_snapshot(
    session: Session,
    ctx: CallContext,
    snapshot: Snapshot,
    *,
    name: str | None = None,
    vm: VirtualMachine | None = None,
) -> tuple[Volume, AsyncJob]:
    """A new data volume with the snapshot's content, placed now and filled by a job."""
    if snapshot.state != SnapshotState.BACKED_UP:
        raise InvalidState("Snapshot", snapshot.uuid, snapshot.state, "create a volume")
    source = session.get_one(Volume, snapshot.volume_id)
    size_gb = snapshot.size_gb
    limits.reserve(
        session,
        ctx.account_id,
        {limits.ResourceType.VOLUME: 1, limits.ResourceType.PRIMARY_STORAGE: size_gb},
    )
    volume = Volume(
        name=name or "",
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        zone_id=snapshot.zone_id,
        volume_type=DATADISK,
        size_bytes=snapshot.size_bytes,
        disk_offering_id=source.disk_offering_id,
        state=VolumeState.ALLOCATED,
    )
    session.add(volume)
    session.flush()
    volume.name = volume.name or volume.uuid
    volume.path = volume.uuid
    if vm is not None:
        if vm.state not in ("Running", "Stopped"):
            raise InvalidState("VM", vm.uuid, vm.state, "attach a volume")
        attach_to_vm(session, volume, vm)
    else:
        place_volume(session, volume, None)
    volume.state = VolumeState.CREATING
    record_for_caller(
        session,
        ctx,
        "VOLUME.CREATE",
        f"Volume {volume.name} created from snapshot {snapshot.name}",
        resource_type="Volume",
        resource_uuid=volume.uuid,
    )
    job = submit_job(
        session,
        ctx,
        "volume.fromsnapshot",
        instance_type="Volume",
        instance_id=volume.id,
        params={"snapshot_id": snapshot.id},
    )
    return volume, job


@dataclass(frozen=True, slots=True)
class SnapshotFilter:
    ids: tuple[str, ...] | None = None
    name: str | None = None
    keyword: str | None = None
    volume_id: int | None = None
    snapshot_type: str | None = None
    interval_type: str | None = None
    zone_id: int | None = None
    tags: tuple[tuple[str, str | None], ...] = ()


def list_snapshots(
    session: Session,
    ctx: CallContext,
    scope: ListScope = ListScope(),
    snapshot_filter: SnapshotFilter = SnapshotFilter(),
    page: Page = Page(),
) -> tuple[list[Snapshot], int]:
    f = snapshot_filter
    query = owned_rows(
        session,
        ctx,
        scope,
        Snapshot,
        among(Snapshot.uuid, f.ids),
        given(Snapshot.name, f.name),
        keyword_in(f.keyword, Snapshot.name),
        given(Snapshot.volume_id, f.volume_id),
        _of_type(f.snapshot_type),
        given(Snapshot.interval_type, f.interval_type and f.interval_type.upper()),
        given(Snapshot.zone_id, f.zone_id),
        tag_filter(TAG_TYPE, Snapshot.id, list(f.tags)) if f.tags else None,
    )
    return paginate(session, query.order_by(Snapshot.id.desc()), page)


def _of_type(snapshot_type: str | None) -> sa.ColumnElement[bool] | None:
    """MANUAL, or RECURRING for every policy-made snapshot (whatever its interval)."""
    if snapshot_type is None:
        return None
    wanted = snapshot_type.upper()
    if wanted == RECURRING:
        return Snapshot.snapshot_type != MANUAL
    return Snapshot.snapshot_type == wanted


def backed_up_of_policy(session: Session, policy_id: int) -> list[Snapshot]:
    """A policy's finished snapshots, oldest first."""
    return list(
        session.scalars(
            sa.select(Snapshot)
            .where(
                Snapshot.policy_id == policy_id,
                Snapshot.removed.is_(None),
                Snapshot.state == SnapshotState.BACKED_UP,
            )
            .order_by(Snapshot.created, Snapshot.id)
        )
    )


# jobs -----------------------------------------------------------------------------------------


def _load(session: Session, job: AsyncJob) -> Snapshot:
    snapshot = session.get(Snapshot, job.instance_id, populate_existing=True)
    if snapshot is None:
        raise NotFound("snapshot", job.instance_id)
    return snapshot


def _give_back(session: Session, snapshot: Snapshot) -> None:
    limits.release(
        session,
        snapshot.account_id,
        {limits.ResourceType.SNAPSHOT: 1, limits.ResourceType.SECONDARY_STORAGE: snapshot.size_gb},
    )


def _fail_create(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """Error, the counts given back, and nothing left behind on either storage."""
    with runtime.db.write() as session:
        snapshot = _load(session, job)
        if snapshot.state not in (
            SnapshotState.CREATING,
            SnapshotState.CREATED_ON_PRIMARY,
            SnapshotState.BACKING_UP,
        ):
            return
        _transition(session, snapshot, SnapshotEvent.OPERATION_FAILED)
        _give_back(session, snapshot)
        text = f"Error while taking snapshot {snapshot.name}"
        fields = {"resource_type": INSTANCE_TYPE, "resource_uuid": snapshot.uuid}
        record_for_job(session, job, "SNAPSHOT.CREATE", text, level="ERROR", **fields)
    # After the commit: if this cleanup fails too, deleting the Error snapshot repeats it.
    _remove_everywhere(runtime, snapshot)


def _remove_everywhere(runtime: Runtime, snapshot: Snapshot) -> None:
    """Delete the backup object and any copy left on the volume's pool (both idempotent)."""
    snapshot_store.remove(runtime, snapshot.path)
    with runtime.db.read() as session:
        volume = session.get(Volume, snapshot.volume_id)
        if volume is None or volume.pool_id is None:
            return  # the pool's copy went with the volume
        driver = runtime.hypervisor(hypervisor_of(session, volume))
        pool = pool_uuid(session, volume.pool_id)
    _driver_call(lambda: driver.delete_snapshot(pool, snapshot.path))


@job_handler("snapshot.create", fail=_fail_create)
def run_create(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        snapshot = _load(session, job)
        volume = volume_by_id(session, snapshot.volume_id)
        driver = runtime.hypervisor(hypervisor_of(session, volume))
        pool = pool_uuid(session, volume.pool_id)
    if snapshot.state == SnapshotState.CREATING:
        # A root disk may never have been touched by the driver yet (create is idempotent).
        _driver_call(lambda: driver.create_volume(pool, volume.path, volume.size_bytes))
        _driver_call(lambda: driver.snapshot_volume(pool, volume.path, snapshot.path))
        with runtime.db.write() as session:
            snapshot = _load(session, job)
            if snapshot.state == SnapshotState.CREATING:
                _transition(session, snapshot, SnapshotEvent.CREATED_ON_PRIMARY)
                _transition(session, snapshot, SnapshotEvent.BACKUP_STARTED)
    if snapshot.state != SnapshotState.BACKING_UP:
        return {"snapshot_id": snapshot.id}
    stored = _back_up(runtime, driver, pool, snapshot)
    with runtime.db.write() as session:
        snapshot = _load(session, job)
        if snapshot.state == SnapshotState.BACKING_UP:
            snapshot.physical_size_bytes = stored.size
            snapshot.checksum = stored.checksum
            _transition(session, snapshot, SnapshotEvent.BACKED_UP)
            if snapshot.policy_id is not None:
                _trim_policy(session, job_context(session, job), snapshot.policy_id)
    return {"snapshot_id": snapshot.id}


def _back_up(
    runtime: Runtime, driver: HypervisorDriver, pool: str, snapshot: Snapshot
) -> snapshot_store.StoredBackup:
    """Stream the pool's snapshot into its object, then drop the pool's copy.

    A job resumed after the pool's copy was dropped finds the object whole (a key holds a
    whole object or none), so the backup is not taken twice."""
    stored = snapshot_store.find(runtime, snapshot.path)
    if stored is None:
        data = _driver_call(lambda: driver.read_snapshot(pool, snapshot.path))
        stored = snapshot_store.write(
            runtime, snapshot.path, _driver_chunks(data), snapshot_uuid=snapshot.uuid
        )
    _driver_call(lambda: driver.delete_snapshot(pool, snapshot.path))
    return stored


def _driver_chunks(data: Iterable[bytes]) -> Iterator[bytes]:
    """The driver's stream, its errors translated like those of any driver call."""
    iterator = iter(data)
    while True:
        chunk = _driver_call(lambda: next(iterator, None))
        if chunk is None:
            return
        yield chunk


def _trim_policy(session: Session, ctx: CallContext, policy_id: int) -> None:
    """Delete the oldest snapshots of a policy beyond its maxsnaps."""
    from core.snapshot_policies import SnapshotPolicy

    policy = session.get(SnapshotPolicy, policy_id)
    if policy is None:
        return
    kept = backed_up_of_policy(session, policy_id)
    for old in kept[: max(0, len(kept) - policy.max_snaps)]:
        delete_snapshot(session, ctx, old)


def _fail_delete(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        snapshot = _load(session, job)
        if snapshot.state == SnapshotState.DESTROYING:
            backed_up = job.arguments.get("counted", True)  # not counted: it was in Error
            _transition(
                session,
                snapshot,
                SnapshotEvent.OPERATION_FAILED
                if backed_up
                else SnapshotEvent.DESTROY_FAILED_WITHOUT_BACKUP,
            )


@job_handler("snapshot.delete", fail=_fail_delete)
def run_delete(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        snapshot = _load(session, job)
    if snapshot.state == SnapshotState.DESTROYING:
        _remove_everywhere(runtime, snapshot)
        with runtime.db.write() as session:
            snapshot = _load(session, job)
            if snapshot.state == SnapshotState.DESTROYING:
                _transition(session, snapshot, SnapshotEvent.OPERATION_SUCCEEDED)
                snapshot.removed = utcnow()
                forget_resource(session, TAG_TYPE, snapshot.id)
                if job.arguments.get("counted", True):
                    _give_back(session, snapshot)
    return {"snapshot_id": snapshot.id}


def _restore(
    runtime: Runtime, driver: HypervisorDriver, pool: str, path: str, snapshot: Snapshot
) -> None:
    """Fill the volume at `path` with the snapshot's backup, read back from the object store
    (checked against its checksum as it is read)."""
    data = snapshot_store.read(runtime, snapshot.path, snapshot.checksum)
    _driver_call(lambda: driver.restore_volume(pool, path, data))


def _fail_revert(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        volume = session.get_one(Volume, _load(session, job).volume_id, populate_existing=True)
        if volume.state == VolumeState.REVERTING:
            transition(session, volume, VolumeEvent.OPERATION_FAILED)


@job_handler("snapshot.revert", fail=_fail_revert)
def run_revert(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        snapshot = _load(session, job)
        volume = volume_by_id(session, snapshot.volume_id)
        driver = runtime.hypervisor(hypervisor_of(session, volume))
        pool = pool_uuid(session, volume.pool_id)
    if volume.state == VolumeState.REVERTING:
        _restore(runtime, driver, pool, volume.path, snapshot)
        with runtime.db.write() as session:
            volume = volume_by_id(session, snapshot.volume_id)
            if volume.state == VolumeState.REVERTING:
                transition(session, volume, VolumeEvent.OPERATION_SUCCEEDED)
    return {"snapshot_id": snapshot.id}


def _fail_from_snapshot(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """The new volume gives its pool space back and stays Allocated (it can be deleted)."""
    from core.planner import release_pool

    with runtime.db.write() as session:
        volume = volume_by_id(session, job.instance_id or 0)
        if volume.state != VolumeState.CREATING:
            return
        if volume.pool_id is not None:
            release_pool(session, volume.pool_id, volume.size_bytes)
        volume.pool_id = None
        volume.vm_id = None
        volume.device_id = None
        volume.attached = None
        transition(session, volume, VolumeEvent.OPERATION_FAILED)


@job_handler("volume.fromsnapshot", fail=_fail_from_snapshot)
def run_from_snapshot(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        volume = volume_by_id(session, job.instance_id or 0)
        snapshot = session.get_one(Snapshot, job.arguments["snapshot_id"])
        driver = runtime.hypervisor(hypervisor_of(session, volume))
        pool = pool_uuid(session, volume.pool_id)
        host = None
        if volume.vm_id is not None:
            from core.vms.models import VirtualMachine

            vm = session.get_one(VirtualMachine, volume.vm_id)
            if vm.state == "Running" and vm.host_id is not None:
                from core.infra import Host
                from drivers.hypervisor.base import HostRef

                row = session.get_one(Host, vm.host_id)
                host = (HostRef(uuid=row.uuid, name=row.name, url=row.url), vm.instance_name)
    if volume.state == VolumeState.CREATING:
        _driver_call(lambda: driver.create_volume(pool, volume.path, volume.size_bytes))
        _restore(runtime, driver, pool, volume.path, snapshot)
        if host is not None:
            ref, instance = host
            device = volume.device_id or 0
            _driver_call(lambda: driver.attach_volume(ref, instance, volume.path, device))
        with runtime.db.write() as session:
            volume = volume_by_id(session, volume.id)
            if volume.state == VolumeState.CREATING:
                transition(session, volume, VolumeEvent.OPERATION_SUCCEEDED)
    return {"volume_id": volume.id}
