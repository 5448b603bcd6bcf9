"""VM snapshots: a VM's disks (and, for a running VM, its memory) at one moment.

Snapshots of one VM form a tree: each new snapshot's parent is the VM's current one, and a
revert makes the reverted snapshot current. A revert returns the VM to the snapshot's power
state — running for a memory snapshot, stopped for a disk-only one — through the VM's own
state table (Stopped → Starting → Running, Running → Stopping → Stopped), so the capacity the
VM holds on its host always matches its state.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.configuration import SETTINGS, Setting, get_int
from core.context import CallContext
from core.db import Base, IdMixin, get_live, utcnow
from core.errors import InvalidParameter, InvalidState, NotFound
from core.events import record_for_job
from core.jobs import AsyncJob, job_handler, submit_job
from core.listing import Page, among, given, keyword_in, paginate
from core.runtime import Runtime
from core.state_machine import StateMachine
from core.visibility import ListScope, ensure_access, owned_rows
from core.vms import states as vm_states
from core.vms.models import VirtualMachine
from core.vms.service import _place, release_placement, transition
from core.vms.states import VmEvent, VmState
from core.vms.work import _driver_call, _host_ref
from drivers.hypervisor.base import HypervisorDriver

INSTANCE_TYPE = "VMSnapshot"
MAX_SETTING = "vmsnapshot.max"

SETTINGS.setdefault(
    MAX_SETTING,
    Setting(MAX_SETTING, "10", int, "Advanced", "Maximum vm snapshots for a single vm"),
)


class VMSnapshotState(enum.StrEnum):
    ALLOCATED = "Allocated"
    CREATING = "Creating"
    READY = "Ready"
    REVERTING = "Reverting"
    EXPUNGING = "Expunging"
    ERROR = "Error"


class VMSnapshotEvent(enum.StrEnum):
    CREATE_REQUESTED = "create requested"
    REVERT_REQUESTED = "revert requested"
    DELETE_REQUESTED = "delete requested"
    OPERATION_SUCCEEDED = "operation succeeded"
    OPERATION_FAILED = "operation failed"


S, E = VMSnapshotState, VMSnapshotEvent

TRANSITIONS: dict[tuple[VMSnapshotState, VMSnapshotEvent], VMSnapshotState] = {
    (S.ALLOCATED, E.CREATE_REQUESTED): S.CREATING,
    (S.ALLOCATED, E.OPERATION_FAILED): S.ERROR,
    (S.CREATING, E.OPERATION_SUCCEEDED): S.READY,
    (S.CREATING, E.OPERATION_FAILED): S.ERROR,
    (S.READY, E.REVERT_REQUESTED): S.REVERTING,
    (S.REVERTING, E.OPERATION_SUCCEEDED): S.READY,
    (S.REVERTING, E.OPERATION_FAILED): S.READY,
    (S.READY, E.DELETE_REQUESTED): S.EXPUNGING,
    (S.ERROR, E.DELETE_REQUESTED): S.EXPUNGING,
    (S.ALLOCATED, E.DELETE_REQUESTED): S.EXPUNGING,
    (S.EXPUNGING, E.OPERATION_FAILED): S.READY,
}
BUSY = frozenset({S.ALLOCATED, S.CREATING, S.REVERTING, S.EXPUNGING})

DISK = "Disk"
DISK_AND_MEMORY = "DiskAndMemory"


class VMSnapshot(IdMixin, Base):
    __tablename__ = "vm_snapshot"

    name: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    vm_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_instance.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"))
    state: Mapped[str] = mapped_column(sa.String(32), default=VMSnapshotState.ALLOCATED)
    snapshot_type: Mapped[str] = mapped_column(sa.String(32), default=DISK)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vm_snapshot.id"))
    current: Mapped[bool] = mapped_column(default=False)
    hypervisor: Mapped[str] = mapped_column(sa.String(32), default="Simulator")
    removed: Mapped[dt.datetime | None]

    @property
    def with_memory(self) -> bool:
        return self.snapshot_type == DISK_AND_MEMORY


MACHINE = StateMachine("VM snapshot", VMSnapshotState, TRANSITIONS)
_move = MACHINE.move  # a conditional UPDATE: two requests cannot both move one snapshot


def next_state(
    state: VMSnapshotState | str, event: VMSnapshotEvent, *, snapshot: object = ""
) -> VMSnapshotState:
    """The state after `event`, or InvalidState when the table has no such transition."""
    return MACHINE.next_state(state, event, snapshot)


def _live_of_vm(session: Session, vm_id: int) -> list[VMSnapshot]:
    return list(
        session.scalars(
            sa.select(VMSnapshot)
            .where(VMSnapshot.vm_id == vm_id, VMSnapshot.removed.is_(None))
            .order_by(VMSnapshot.id)
        )
    )


def has_vm_snapshots(session: Session, vm_id: int) -> bool:
    return bool(_live_of_vm(session, vm_id))


def _check_vm_idle(session: Session, vm: VirtualMachine) -> None:
    if any(VMSnapshotState(s.state) in BUSY for s in _live_of_vm(session, vm.id)):
        raise InvalidParameter(
            "There is other active vm snapshot tasks on the instance, please try again later",
            parameter="virtualmachineid",
        )


# use cases ---------------------------------------------------------------------------------


def create_vm_snapshot(
    session: Session,
    ctx: CallContext,
    vm: VirtualMachine,
    *,
    name: str | None = None,
    description: str | None = None,
    memory: bool = False,
) -> tuple[VMSnapshot, AsyncJob]:
    """Allocate a snapshot of a running or stopped VM and queue its creation."""
    vm_states.next_state(vm.state, VmEvent.SNAPSHOT_REQUESTED, vm=vm.uuid)
    if memory and vm.state != VmState.RUNNING:
        raise InvalidParameter(
            "Can not snapshot memory when VM is not in Running state", parameter="snapshotmemory"
        )
    _check_vm_idle(session, vm)
    limit = get_int(session, MAX_SETTING)
    if len(_live_of_vm(session, vm.id)) >= limit:
        raise InvalidParameter(
            f"Creating vm snapshot failed due to a VM can just have : {limit} VM snapshots. "
            "Please delete old ones",
            parameter="virtualmachineid",
        )
    now = utcnow()
    current = session.scalar(
        sa.select(VMSnapshot).where(
            VMSnapshot.vm_id == vm.id, VMSnapshot.current.is_(True), VMSnapshot.removed.is_(None)
        )
    )
    snapshot_name = f"{vm.instance_name}_VS_{now:%Y%m%d%H%M%S%f}"
    snapshot = VMSnapshot(
        name=snapshot_name,
        display_name=name or snapshot_name,
        description=description or "",
        vm_id=vm.id,
        account_id=vm.account_id,
        domain_id=vm.domain_id,
        zone_id=vm.zone_id,
        state=VMSnapshotState.ALLOCATED,
        snapshot_type=DISK_AND_MEMORY if memory else DISK,
        parent_id=current.id if current else None,
        hypervisor=vm.hypervisor,
    )
    session.add(snapshot)
    session.flush()
    job = submit_job(
        session, ctx, "vmsnapshot.create", instance_type=INSTANCE_TYPE, instance_id=snapshot.id
    )
    return snapshot, job


def get_vm_snapshot(session: Session, ctx: CallContext, uuid: str) -> VMSnapshot:
    """A snapshot the caller may see (someone else's is reported as not found)."""
    try:
        snapshot = get_live(session, VMSnapshot, "vm snapshot", uuid=uuid)
    except NotFound:
        raise NotFound("vm snapshot", uuid) from None
    ensure_access(session, ctx, snapshot, "vm snapshot", uuid)
    return snapshot


def revert_to_vm_snapshot(session: Session, ctx: CallContext, snapshot: VMSnapshot) -> AsyncJob:
    """Queue the revert; the VM starts or stops now if the snapshot's power state differs."""
    vm = session.get_one(VirtualMachine, snapshot.vm_id)
    vm_states.next_state(vm.state, VmEvent.REVERT_REQUESTED, vm=vm.uuid)
    _check_vm_idle(session, vm)
    _move(session, snapshot, VMSnapshotEvent.REVERT_REQUESTED)
    if snapshot.with_memory and vm.state == VmState.STOPPED:
        transition(session, vm, VmEvent.START_REQUESTED)
        _place(session, vm, None)
    elif not snapshot.with_memory and vm.state == VmState.RUNNING:
        transition(session, vm, VmEvent.STOP_REQUESTED)
    return submit_job(
        session, ctx, "vmsnapshot.revert", instance_type=INSTANCE_TYPE, instance_id=snapshot.id
    )


def delete_vm_snapshot(session: Session, ctx: CallContext, snapshot: VMSnapshot) -> AsyncJob:
    _move(session, snapshot, VMSnapshotEvent.DELETE_REQUESTED)
    return submit_job(
        session, ctx, "vmsnapshot.delete", instance_type=INSTANCE_TYPE, instance_id=snapshot.id
    )


@dataclass(frozen=True, slots=True)
class VMSnapshotFilter:
    ids: tuple[str, ...] | None = None
    vm_id: int | None = None
    state: str | None = None
    name: str | None = None
    keyword: str | None = None
    tags: tuple[tuple[str, str | None], ...] = ()


def list_vm_snapshots(
    session: Session,
    ctx: CallContext,
    scope: ListScope = ListScope(),
    snapshot_filter: VMSnapshotFilter = VMSnapshotFilter(),
    page: Page = Page(),
) -> tuple[list[VMSnapshot], int]:
    from core.tags import tag_filter

    f = snapshot_filter
    names = (VMSnapshot.name, VMSnapshot.display_name)
    query = owned_rows(
        session,
        ctx,
        scope,
        VMSnapshot,
        among(VMSnapshot.uuid, f.ids),
        given(VMSnapshot.vm_id, f.vm_id),
        given(VMSnapshot.state, f.state or None),
        sa.or_(*(column == f.name for column in names)) if f.name else None,
        keyword_in(f.keyword, *names),
        tag_filter("VMSnapshot", VMSnapshot.id.expression, list(f.tags)) if f.tags else None,
    )
    return paginate(session, query.order_by(VMSnapshot.id), page)


def forget_vm_snapshots(session: Session, vm_id: int) -> None:
    """Mark an expunged VM's snapshots removed (their files went with its disks)."""
    session.execute(
        sa.update(VMSnapshot)
        .where(VMSnapshot.vm_id == vm_id, VMSnapshot.removed.is_(None))
        .values(removed=utcnow(), current=False)
        .execution_options(synchronize_session=False)
    )


# jobs --------------------------------------------------------------------------------------


def _load(session: Session, job: AsyncJob) -> tuple[VMSnapshot, VirtualMachine]:
    snapshot = session.get_one(VMSnapshot, job.instance_id, populate_existing=True)
    vm = session.get_one(VirtualMachine, snapshot.vm_id, populate_existing=True)
    return snapshot, vm


def _event(
    session: Session, job: AsyncJob, snapshot: VMSnapshot, kind: str, text: str, level: str = "INFO"
) -> None:
    fields = {"resource_type": INSTANCE_TYPE, "resource_uuid": snapshot.uuid, "level": level}
    record_for_job(session, job, kind, text, **fields)


def _result(snapshot: VMSnapshot) -> dict[str, Any]:
    return {"vm_snapshot_id": snapshot.id}


def _on_host(
    session: Session,
    runtime: Runtime,
    vm: VirtualMachine,
    snapshot: VMSnapshot,
    operation: Callable[[HypervisorDriver], Callable[..., None]],
    **options: Any,
) -> Callable[[], None]:
    """The driver call for `snapshot` on the VM's (last) host, prepared inside the session
    from plain values and run after it; nothing to do for a VM that never ran on a host."""
    host = _host_ref(session, vm.host_id or vm.last_host_id)
    hypervisor, instance_name, snapshot_name = vm.hypervisor, vm.instance_name, snapshot.name
    if host is None:
        return lambda: None
    driver = runtime.hypervisor(hypervisor)
    return lambda: _driver_call(
        lambda: operation(driver)(host, instance_name, snapshot_name, **options)
    )


def _failed(session: Session, job: AsyncJob, snapshot: VMSnapshot, kind: str, text: str) -> None:
    """A failed job leaves the snapshot where the table says, with an ERROR event."""
    _move(session, snapshot, VMSnapshotEvent.OPERATION_FAILED)
    _event(session, job, snapshot, kind, text, "ERROR")


def _fail_create(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        snapshot, _vm = _load(session, job)
        if snapshot.state in (VMSnapshotState.ALLOCATED, VMSnapshotState.CREATING):
            text = f"Failed to create VM snapshot {snapshot.display_name}: {error}"
            _failed(session, job, snapshot, "VMSNAPSHOT.CREATE", text)


@job_handler("vmsnapshot.create", fail=_fail_create)
def run_create(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        snapshot, vm = _load(session, job)
        if snapshot.state == VMSnapshotState.READY:
            return _result(snapshot)
        if snapshot.state == VMSnapshotState.ALLOCATED:
            _move(session, snapshot, VMSnapshotEvent.CREATE_REQUESTED)
        if snapshot.state != VMSnapshotState.CREATING:
            raise InvalidState("VM snapshot", snapshot.uuid, snapshot.state, "create")
        create = _on_host(
            session,
            runtime,
            vm,
            snapshot,
            lambda driver: driver.create_vm_snapshot,
            memory=snapshot.with_memory,
        )
    create()
    with runtime.db.write() as session:
        snapshot, vm = _load(session, job)
        _move(session, snapshot, VMSnapshotEvent.OPERATION_SUCCEEDED)
        _make_current(session, snapshot)
        _event(
            session,
            job,
            snapshot,
            "VMSNAPSHOT.CREATE",
            f"Successfully created VM snapshot {snapshot.display_name} of VM {vm.name}",
        )
        return _result(snapshot)


def _make_current(session: Session, snapshot: VMSnapshot) -> None:
    session.execute(
        sa.update(VMSnapshot)
        .where(VMSnapshot.vm_id == snapshot.vm_id, VMSnapshot.id != snapshot.id)
        .values(current=False)
        .execution_options(synchronize_session=False)
    )
    snapshot.current = True


def _fail_revert(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """The snapshot is Ready again; a VM that was being started or stopped goes back."""
    with runtime.db.write() as session:
        snapshot, vm = _load(session, job)
        if snapshot.state != VMSnapshotState.REVERTING:
            return
        text = f"Failed to revert VM {vm.name} to snapshot {snapshot.display_name}: {error}"
        _failed(session, job, snapshot, "VMSNAPSHOT.REVERTTO", text)
        if vm.state == VmState.STARTING:
            release_placement(session, vm)
            transition(session, vm, VmEvent.OPERATION_FAILED)
        elif vm.state == VmState.STOPPING:
            transition(session, vm, VmEvent.OPERATION_FAILED)


@job_handler("vmsnapshot.revert", fail=_fail_revert)
def run_revert(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        snapshot, vm = _load(session, job)
        if snapshot.state != VMSnapshotState.REVERTING:
            return {"vm_id": vm.id}
        revert = _on_host(session, runtime, vm, snapshot, lambda d: d.revert_vm_snapshot)
    revert()
    with runtime.db.write() as session:
        snapshot, vm = _load(session, job)
        if vm.state == VmState.STARTING:
            transition(session, vm, VmEvent.OPERATION_SUCCEEDED)
        elif vm.state == VmState.STOPPING:
            release_placement(session, vm)
            transition(session, vm, VmEvent.OPERATION_SUCCEEDED)
        _move(session, snapshot, VMSnapshotEvent.OPERATION_SUCCEEDED)
        _make_current(session, snapshot)
        _event(
            session,
            job,
            snapshot,
            "VMSNAPSHOT.REVERTTO",
            f"Successfully reverted VM {vm.name} to snapshot {snapshot.display_name}",
        )
        return {"vm_id": vm.id}


def _fail_delete(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        snapshot, _vm = _load(session, job)
        if snapshot.state == VMSnapshotState.EXPUNGING and snapshot.removed is None:
            text = f"Failed to delete VM snapshot {snapshot.display_name}: {error}"
            _failed(session, job, snapshot, "VMSNAPSHOT.DELETE", text)


@job_handler("vmsnapshot.delete", fail=_fail_delete)
def run_delete(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        snapshot, vm = _load(session, job)
        if snapshot.removed is not None:
            return _result(snapshot)
        delete = _on_host(session, runtime, vm, snapshot, lambda d: d.delete_vm_snapshot)
    delete()
    with runtime.db.write() as session:
        snapshot, vm = _load(session, job)
        # Children hang from the deleted snapshot's parent; if it was current, so is its parent.
        session.execute(
            sa.update(VMSnapshot)
            .where(VMSnapshot.parent_id == snapshot.id)
            .values(parent_id=snapshot.parent_id)
            .execution_options(synchronize_session=False)
        )
        if snapshot.current and snapshot.parent_id is not None:
            session.get_one(VMSnapshot, snapshot.parent_id).current = True
        snapshot.current = False
        snapshot.removed = utcnow()
        _event(
            session,
            job,
            snapshot,
            "VMSNAPSHOT.DELETE",
            f"Successfully deleted VM snapshot {snapshot.display_name} of VM {vm.name}",
        )
        return _result(snapshot)
