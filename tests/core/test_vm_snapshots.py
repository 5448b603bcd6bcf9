"""VM snapshots through the core: create, revert, delete, their state table and the VM's
power state, on both databases, with the job engine and the simulator."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import vm_snapshots as snaps
from core.configuration import set_setting
from core.errors import InvalidParameter, InvalidState, NotFound
from core.jobs import FAILED, SUCCEEDED
from core.vm_snapshots import VMSnapshot, VMSnapshotState
from core.vms import lifecycle
from core.vms import service as vms
from core.vms.states import VmState
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import host_usage, vm_row
from tests.core.test_vm_ops import events_of, get_offering, offering, running_vm, stopped_vm


def snapshot(core: CoreHarness, ctx, vm_uuid: str, **kw) -> tuple[str, str]:
    with core.db.write() as session:
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        row, job = snaps.create_vm_snapshot(session, ctx, vm, **kw)
        return row.uuid, job.uuid


def snapshot_row(core: CoreHarness, uuid: str) -> VMSnapshot:
    with core.db.read() as session:
        row = session.scalar(sa.select(VMSnapshot).where(VMSnapshot.uuid == uuid))
        assert row is not None
        return row


def ready_snapshot(core: CoreHarness, ctx, vm_uuid: str, **kw) -> str:
    uuid, job = snapshot(core, ctx, vm_uuid, **kw)
    assert core.wait(job).status == SUCCEEDED
    return uuid


def on_snapshot(core: CoreHarness, ctx, uuid: str, operation) -> str:
    with core.db.write() as session:
        row = snaps.get_vm_snapshot(session, ctx, uuid)
        return operation(session, ctx, row).uuid


def test_create_snapshots_of_stopped_and_running_vms(core: CoreHarness) -> None:
    user = core.new_tenant("snapper")
    stopped = stopped_vm(core, user)
    with pytest.raises(InvalidParameter):  # memory needs a running VM
        snapshot(core, user, stopped, memory=True)
    disk = ready_snapshot(core, user, stopped, name="before", description="first")
    row = snapshot_row(core, disk)
    assert (row.state, row.snapshot_type, row.current) == (VMSnapshotState.READY, "Disk", True)
    assert (row.display_name, row.description) == ("before", "first")

    running = running_vm(core, user)
    first = ready_snapshot(core, user, running, memory=True)
    second = ready_snapshot(core, user, running)
    assert snapshot_row(core, first).snapshot_type == "DiskAndMemory"
    assert snapshot_row(core, second).parent_id == snapshot_row(core, first).id
    assert not snapshot_row(core, first).current and snapshot_row(core, second).current
    instance = vm_row(core, running).instance_name
    assert core.simulator.vm_snapshots(instance) == sorted(
        [snapshot_row(core, first).name, snapshot_row(core, second).name]
    )
    assert len(events_of(core, "VMSNAPSHOT.CREATE")) == 3


def test_revert_returns_the_vm_to_the_snapshots_power_state(core: CoreHarness) -> None:
    user = core.new_tenant("reverter")
    vm_uuid = running_vm(core, user)
    host_id = vm_row(core, vm_uuid).host_id
    with_memory = ready_snapshot(core, user, vm_uuid, memory=True)
    disk_only = ready_snapshot(core, user, vm_uuid)

    job = on_snapshot(core, user, disk_only, snaps.revert_to_vm_snapshot)
    assert vm_row(core, vm_uuid).state == VmState.STOPPING
    assert core.wait(job).status == SUCCEEDED
    assert vm_row(core, vm_uuid).state == VmState.STOPPED
    assert host_usage(core)[host_id] == (0, 0)

    job = on_snapshot(core, user, with_memory, snaps.revert_to_vm_snapshot)
    assert core.wait(job).status == SUCCEEDED
    vm = vm_row(core, vm_uuid)
    assert vm.state == VmState.RUNNING and vm.host_id is not None
    assert host_usage(core)[vm.host_id] == (500, 512 * 1024**2)
    assert snapshot_row(core, with_memory).current
    assert snapshot_row(core, with_memory).state == VMSnapshotState.READY
    assert events_of(core, "VMSNAPSHOT.REVERTTO")


def test_a_failed_revert_puts_vm_and_snapshot_back(core: CoreHarness) -> None:
    user = core.new_tenant("failrevert")
    vm_uuid = stopped_vm(core, user)
    with core.db.write() as session:
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        job = vms.start_vm(session, user, vm).uuid
    assert core.wait(job).status == SUCCEEDED
    with_memory = ready_snapshot(core, user, vm_uuid, memory=True)
    with core.db.write() as session:
        job = vms.stop_vm(session, user, vms.get_vm(session, user, uuid=vm_uuid)).uuid
    assert core.wait(job).status == SUCCEEDED
    before = host_usage(core)
    core.simulator.configure("vmsnapshot.revert", fail_next=1)
    job = on_snapshot(core, user, with_memory, snaps.revert_to_vm_snapshot)
    assert core.wait(job).status == FAILED
    assert vm_row(core, vm_uuid).state == VmState.STOPPED
    assert host_usage(core) == before
    assert snapshot_row(core, with_memory).state == VMSnapshotState.READY


def test_a_failed_create_leaves_the_snapshot_in_error_and_deletable(core: CoreHarness) -> None:
    user = core.new_tenant("failcreate")
    vm_uuid = running_vm(core, user)
    core.simulator.configure("vmsnapshot", fail_next=1)
    uuid, job = snapshot(core, user, vm_uuid)
    assert core.wait(job).status == FAILED
    assert snapshot_row(core, uuid).state == VMSnapshotState.ERROR
    with pytest.raises(InvalidState):
        on_snapshot(core, user, uuid, snaps.revert_to_vm_snapshot)
    job = on_snapshot(core, user, uuid, snaps.delete_vm_snapshot)
    assert core.wait(job).status == SUCCEEDED
    assert snapshot_row(core, uuid).removed is not None


def test_delete_reparents_children_and_moves_current(core: CoreHarness) -> None:
    user = core.new_tenant("deleter")
    vm_uuid = running_vm(core, user)
    first = ready_snapshot(core, user, vm_uuid)
    second = ready_snapshot(core, user, vm_uuid)
    third = ready_snapshot(core, user, vm_uuid)
    job = on_snapshot(core, user, second, snaps.delete_vm_snapshot)
    assert core.wait(job).status == SUCCEEDED
    assert snapshot_row(core, third).parent_id == snapshot_row(core, first).id
    job = on_snapshot(core, user, third, snaps.delete_vm_snapshot)
    assert core.wait(job).status == SUCCEEDED
    assert snapshot_row(core, first).current
    with core.db.read() as session:
        rows, total = snaps.list_vm_snapshots(session, user)
    assert total == 1 and rows[0].uuid == first
    instance = vm_row(core, vm_uuid).instance_name
    assert core.simulator.vm_snapshots(instance) == [snapshot_row(core, first).name]
    with pytest.raises(NotFound):
        on_snapshot(core, user, second, snaps.delete_vm_snapshot)
    assert len(events_of(core, "VMSNAPSHOT.DELETE")) == 2


def test_limits_and_blocked_operations(core: CoreHarness) -> None:
    user = core.new_tenant("limits")
    vm_uuid = stopped_vm(core, user)
    with core.db.write() as session:
        set_setting(session, snaps.MAX_SETTING, "1")
    ready_snapshot(core, user, vm_uuid)
    with pytest.raises(InvalidParameter):
        snapshot(core, user, vm_uuid)
    big = offering(core, "Big", 2, 1000, 2048)
    with core.db.write() as session, pytest.raises(InvalidParameter):
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.change_service_offering(session, user, vm, get_offering(session, big))
    with core.db.write() as session:
        vms.destroy_vm(session, user, vms.get_vm(session, user, uuid=vm_uuid))
    with pytest.raises(InvalidState):  # a destroyed VM is not snapshotted
        snapshot(core, user, vm_uuid)


def test_snapshots_are_private_and_go_with_an_expunged_vm(core: CoreHarness) -> None:
    owner = core.new_tenant("snapowner")
    intruder = core.new_tenant("snapintruder")
    admin = core.admin_context()
    vm_uuid = running_vm(core, owner)
    uuid = ready_snapshot(core, owner, vm_uuid)
    with pytest.raises(NotFound):
        on_snapshot(core, intruder, uuid, snaps.delete_vm_snapshot)
    with core.db.read() as session:
        assert snaps.list_vm_snapshots(session, intruder) == ([], 0)
    with core.db.write() as session:
        job = vms.destroy_vm(
            session, admin, vms.get_vm(session, admin, uuid=vm_uuid), expunge=True
        ).uuid
    assert core.wait(job).status == SUCCEEDED
    assert snapshot_row(core, uuid).removed is not None
