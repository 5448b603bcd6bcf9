"""VM attributes EC2 needs (core/vms/attributes.py), on both databases: protection, shutdown
behaviour, user data while stopped, security groups, and data disks that go with their VM."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.errors import InvalidParameter, InvalidState
from core.jobs import SUCCEEDED, AsyncJob
from core.offerings import list_disk_offerings
from core.security_groups import create_security_group, groups_of_vm
from core.vms import attributes
from core.vms import service as vms
from core.vms.states import VmState
from core.volumes import DATADISK, Volume, VolumeState, volumes_of_vm
from core.volumes import INSTANCE_TYPE as VOLUME_JOBS
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy, vm_row


def custom_disks(core: CoreHarness, *sizes_and_flags: tuple[int, bool]) -> tuple[vms.DataDisk, ...]:
    with core.db.read() as session:
        custom = next(o for o in list_disk_offerings(session) if o.is_customized)
    return tuple(
        vms.DataDisk(custom, size_gb=size, device_id=5 + n, delete_on_termination=flag)
        for n, (size, flag) in enumerate(sizes_and_flags)
    )


def test_protection_is_kept_on_the_vm_and_checked(core: CoreHarness) -> None:
    ctx = core.new_tenant("protected")
    vm_uuid, job = deploy(
        core, ctx, disable_api_termination=True, shutdown_behavior="terminate", start=False
    )
    assert core.wait(job).status == SUCCEEDED
    vm = vm_row(core, vm_uuid)
    assert (vm.disable_api_termination, vm.disable_api_stop) == (True, False)
    assert vm.shutdown_behavior == "terminate"
    with pytest.raises(attributes.VmProtected) as raised:
        attributes.ensure_may_terminate(vm)
    assert raised.value.attribute == attributes.TERMINATION
    attributes.ensure_may_stop(vm)

    with core.db.write() as session:
        row = vms.get_vm(session, ctx, uuid=vm_uuid)
        change = attributes.Protection(disable_api_termination=False, disable_api_stop=True)
        attributes.set_protection(session, ctx, row, change)
    vm = vm_row(core, vm_uuid)
    attributes.ensure_may_terminate(vm)
    with pytest.raises(attributes.VmProtected):
        attributes.ensure_may_stop(vm)
    with core.db.write() as session, pytest.raises(InvalidParameter):
        row = vms.get_vm(session, ctx, uuid=vm_uuid)
        attributes.set_protection(
            session, ctx, row, attributes.Protection(shutdown_behavior="hibernate")
        )


def test_user_data_only_while_stopped(core: CoreHarness) -> None:
    ctx = core.new_tenant("userdata")
    vm_uuid, job = deploy(core, ctx)
    assert core.wait(job).status == SUCCEEDED
    with core.db.write() as session, pytest.raises(InvalidState):
        attributes.set_user_data(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid), "new")
    with core.db.write() as session:
        stop = vms.stop_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid))
    assert core.wait(stop.uuid).status == SUCCEEDED
    with core.db.write() as session:
        attributes.set_user_data(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid), "new")
    assert vm_row(core, vm_uuid).user_data == "new"


def test_security_groups_are_replaced(core: CoreHarness) -> None:
    ctx = core.new_tenant("groups")
    vm_uuid, job = deploy(core, ctx, start=False)
    assert core.wait(job).status == SUCCEEDED
    with core.db.write() as session:
        group = create_security_group(session, ctx, name="web")
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        assert [g.name for g in groups_of_vm(session, vm.id)] == ["default"]
        attributes.set_security_groups(session, ctx, vm, [group.uuid])
        assert [g.name for g in groups_of_vm(session, vm.id)] == ["web"]


def test_data_disks_deleted_on_termination_go_with_the_vm(core: CoreHarness) -> None:
    ctx = core.new_tenant("disks")
    vm_uuid, job = deploy(core, ctx, data_disks=custom_disks(core, (2, True), (3, False)))
    assert core.wait(job).status == SUCCEEDED
    with core.db.read() as session:
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        disks = {
            v.device_id: v.id for v in volumes_of_vm(session, vm.id) if v.volume_type == DATADISK
        }
    assert set(disks) == {5, 6}
    with core.db.write() as session:
        gone = vms.destroy_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid), expunge=True)
    assert core.wait(gone.uuid).status == SUCCEEDED
    assert vm_row(core, vm_uuid).state == VmState.EXPUNGED
    with core.db.read() as session:
        delete_job = session.scalar(
            sa.select(AsyncJob.uuid).where(
                AsyncJob.instance_type == VOLUME_JOBS, AsyncJob.instance_id == disks[5]
            )
        )
    assert delete_job is not None and core.wait(delete_job).status == SUCCEEDED
    with core.db.read() as session:
        deleted, kept = session.get_one(Volume, disks[5]), session.get_one(Volume, disks[6])
        assert deleted.state == VolumeState.EXPUNGED and deleted.removed is not None
        assert kept.vm_id is None and kept.removed is None and kept.state == VolumeState.READY
