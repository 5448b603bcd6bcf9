"""Job handlers: the driver half of each VM operation, run by the job engine's workers.

Each handler starts from the VM's committed state and is safe to run again after a crash:
the drivers' operations are idempotent, and a step that already happened is skipped.
Driver exceptions are translated into core errors here, at the edge of the core.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import InvalidState
from core.events import record_for_job
from core.infra import Host
from core.jobs import AsyncJob, job_context, job_handler
from core.runtime import Runtime, driver_call
from core.vms.models import VirtualMachine
from core.vms.service import INSTANCE_TYPE, mark_destroyed, release_placement, transition
from core.vms.states import VmEvent, VmState
from core.volumes import DATADISK, delete_volume, expunge_volumes_of_vm, volumes_of_vm
from drivers.hypervisor.base import HostRef, VmSpec

_driver_call = driver_call  # the name the family's modules import


def _load(session: Session, job: AsyncJob) -> VirtualMachine:
    return session.get_one(VirtualMachine, job.instance_id, populate_existing=True)


def _host_ref(session: Session, host_id: int | None) -> HostRef | None:
    if host_id is None:
        return None
    host = session.get_one(Host, host_id)
    return HostRef(uuid=host.uuid, name=host.name, url=host.url)


def _event(
    session: Session,
    job: AsyncJob,
    vm: VirtualMachine,
    event_type: str,
    text: str,
    level: str = "INFO",
) -> None:
    fields = {"resource_type": INSTANCE_TYPE, "resource_uuid": vm.uuid, "level": level}
    record_for_job(session, job, event_type, text, **fields)


def _vm_spec(session: Session, vm: VirtualMachine) -> VmSpec:
    root = next(iter(volumes_of_vm(session, vm.id)), None)
    return VmSpec(
        instance_name=vm.instance_name,
        uuid=vm.uuid,
        cpu_number=vm.cpu_number,
        cpu_speed_mhz=vm.cpu_speed_mhz,
        memory_mb=vm.memory_mb,
        root_disk_bytes=root.size_bytes if root else 0,
        user_data=vm.user_data,
    )


def _result(vm: VirtualMachine, job: AsyncJob | None = None) -> dict[str, Any]:
    """The job's result; a deploy of a password-enabled template shows the password once."""
    result: dict[str, Any] = {"vm_id": vm.id}
    if job is not None and job.arguments.get("reveal_password") and vm.password:
        result["password"] = vm.password
    return result


# create (stopped) ---------------------------------------------------------------------------


def _fail_nothing(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """Nothing to undo: the VM row was committed with the request."""


@job_handler("vm.create", fail=_fail_nothing)
def run_create(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        return _result(_load(session, job), job)


# start ------------------------------------------------------------------------------------


def _fail_start(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        vm = _load(session, job)
        if vm.state != VmState.STARTING:
            return
        release_placement(session, vm)
        deploying = bool(job.arguments.get("deploy"))
        transition(session, vm, VmEvent.DEPLOY_FAILED if deploying else VmEvent.OPERATION_FAILED)
        _event(session, job, vm, "VM.START", f"Failed to start VM {vm.name}: {error}", "ERROR")


@job_handler("vm.start", fail=_fail_start)
def run_start(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        vm = _load(session, job)
        if vm.state == VmState.RUNNING:
            return _result(vm, job)
        if vm.state != VmState.STARTING:
            raise InvalidState("VM", vm.uuid, vm.state, "start")
        host = _host_ref(session, vm.host_id)
        spec = _vm_spec(session, vm)
    assert host is not None
    _driver_call(lambda: runtime.hypervisor(vm.hypervisor).start_vm(host, spec))
    with runtime.db.write() as session:
        vm = _load(session, job)
        transition(session, vm, VmEvent.OPERATION_SUCCEEDED)
        _event(session, job, vm, "VM.START", f"Successfully started VM {vm.name}")
        return _result(vm, job)


# stop -------------------------------------------------------------------------------------


def _stop_on_driver(runtime: Runtime, job: AsyncJob, *, force: bool) -> VirtualMachine:
    """Stopping → Stopped, capacity released; a no-op for a VM that is already stopped."""
    with runtime.db.read() as session:
        vm = _load(session, job)
        if vm.state != VmState.STOPPING:
            return vm
        host = _host_ref(session, vm.host_id)
    if host is not None:
        _driver_call(
            lambda: runtime.hypervisor(vm.hypervisor).stop_vm(host, vm.instance_name, force=force)
        )
    with runtime.db.write() as session:
        vm = _load(session, job)
        release_placement(session, vm)
        transition(session, vm, VmEvent.OPERATION_SUCCEEDED)
        _event(session, job, vm, "VM.STOP", f"Successfully stopped VM {vm.name}")
        return vm


def _fail_stop(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        vm = _load(session, job)
        if vm.state == VmState.STOPPING:
            transition(session, vm, VmEvent.OPERATION_FAILED)
            _event(session, job, vm, "VM.STOP", f"Failed to stop VM {vm.name}: {error}", "ERROR")
        elif vm.state == VmState.EXPUNGING:
            transition(session, vm, VmEvent.OPERATION_FAILED)


@job_handler("vm.stop", fail=_fail_stop)
def run_stop(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    vm = _stop_on_driver(runtime, job, force=bool(job.arguments.get("force")))
    if vm.state not in (VmState.STOPPED, VmState.STOPPING):
        raise InvalidState("VM", vm.uuid, vm.state, "stop")
    return _result(vm)


# reboot -----------------------------------------------------------------------------------


def _fail_reboot(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        vm = _load(session, job)
        _event(session, job, vm, "VM.REBOOT", f"Failed to reboot VM {vm.name}: {error}", "ERROR")


@job_handler("vm.reboot", fail=_fail_reboot)
def run_reboot(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        vm = _load(session, job)
        if vm.state != VmState.RUNNING:
            raise InvalidState("VM", vm.uuid, vm.state, "reboot")
        host = _host_ref(session, vm.host_id)
    assert host is not None
    _driver_call(lambda: runtime.hypervisor(vm.hypervisor).reboot_vm(host, vm.instance_name))
    with runtime.db.write() as session:
        vm = _load(session, job)
        _event(session, job, vm, "VM.REBOOT", f"Successfully rebooted VM {vm.name}")
        return _result(vm)


# destroy / expunge ------------------------------------------------------------------------


@job_handler("vm.destroy", fail=_fail_stop)
def run_destroy(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        vm = _load(session, job)
        if vm.state == VmState.RUNNING:  # it was starting when the destroy was asked for
            transition(session, vm, VmEvent.STOP_REQUESTED)
    vm = _stop_on_driver(runtime, job, force=True)
    if vm.state in (VmState.STOPPED, VmState.ERROR, VmState.SHUTDOWN):
        with runtime.db.write() as session:
            vm = _load(session, job)
            mark_destroyed(session, job_context(session, job), vm)
    if job.arguments.get("expunge"):
        vm = expunge(runtime, job)
    return _result(vm)


def expunge(runtime: Runtime, job: AsyncJob) -> VirtualMachine:
    """Destroyed → Expunging → gone: the host forgets the VM, its volumes are freed."""
    with runtime.db.write() as session:
        vm = _load(session, job)
        if vm.state in (VmState.DESTROYED, VmState.ERROR):
            transition(session, vm, VmEvent.EXPUNGE_REQUESTED)
        if vm.state != VmState.EXPUNGING:
            return vm
    with runtime.db.read() as session:
        host = _host_ref(session, vm.host_id or vm.last_host_id)
    if host is not None:
        _driver_call(lambda: runtime.hypervisor(vm.hypervisor).destroy_vm(host, vm.instance_name))
    with runtime.db.write() as session:
        vm = _load(session, job)
        going = [v for v in volumes_of_vm(session, vm.id) if v.delete_on_termination]
        expunge_volumes_of_vm(session, vm.id)
        for volume in going:  # detached by now; deleted as a DeleteVolume would
            if volume.volume_type == DATADISK:
                delete_volume(session, job_context(session, job), volume)
        forget_attachments(session, vm.id)
        transition(session, vm, VmEvent.OPERATION_SUCCEEDED)
        vm.removed = utcnow()
        _event(session, job, vm, "VM.EXPUNGE", f"Successfully expunged VM {vm.name}")
        return vm


def forget_attachments(session: Session, vm_id: int) -> None:
    """An expunged VM's snapshots go with its disks; it leaves its security groups, gives up
    its static NAT address and its forwarding rules (imported here: those families import
    the VM models)."""
    from core.network_rules import rules_of_vm_removed
    from core.public_ips import release_static_nat_of_vm
    from core.security_groups import detach_from_vm
    from core.vm_snapshots import forget_vm_snapshots

    forget_vm_snapshots(session, vm_id)
    detach_from_vm(session, vm_id)
    release_static_nat_of_vm(session, vm_id)
    rules_of_vm_removed(session, vm_id)


def vms_in_transition(session: Session) -> list[VirtualMachine]:
    """VMs in a transitional state (for recovery checks and tests)."""
    return list(
        session.scalars(
            sa.select(VirtualMachine).where(
                VirtualMachine.state.in_(
                    [VmState.STARTING, VmState.STOPPING, VmState.EXPUNGING, VmState.MIGRATING]
                ),
                VirtualMachine.removed.is_(None),
            )
        )
    )
