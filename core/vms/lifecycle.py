"""VM use cases past the power switch: recover, expunge, scale, change offering.

Destroyed VMs stay recoverable until expunged, by an administrator (or a user when
`allow.user.expunge.recover.vm` is on), or by the periodic task once `expunge.delay` has passed.
Resizing counts CPU and memory against the account's limits in the same transaction as the
change, and a running VM is resized only if its host has room for the difference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import limits
from core.configuration import SETTINGS, Setting, get_int, get_setting
from core.context import CallContext, Role
from core.db import utcnow
from core.errors import InvalidParameter, PermissionDenied
from core.events import record_for_caller
from core.jobs import AsyncJob, job_handler, submit_job
from core.offerings import ServiceOffering
from core.planner import Demand, release_host, reserve_host
from core.runtime import Runtime
from core.scheduler import periodic
from core.vms.models import VirtualMachine
from core.vms.service import INSTANCE_TYPE, transition
from core.vms.states import VmEvent, VmState, next_state
from core.vms.work import _driver_call, _event, _fail_stop, _host_ref, _load, _result, expunge

ALLOW_USER_EXPUNGE = "allow.user.expunge.recover.vm"


def _boolean(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ValueError(value)
    return value.lower() == "true"


SETTINGS.setdefault(
    ALLOW_USER_EXPUNGE,
    Setting(
        ALLOW_USER_EXPUNGE,
        "false",
        _boolean,  # type: ignore[arg-type]
        "Advanced",
        "Determines whether users can expunge or recover their VMs",
    ),
)


def may_expunge_or_recover(session: Session, ctx: CallContext) -> bool:
    """Administrators always; users only when the operator allows it."""
    if ctx.role in (Role.ADMIN, Role.DOMAIN_ADMIN):
        return True
    return get_setting(session, ALLOW_USER_EXPUNGE).lower() == "true"


def _vm_counts(vm: VirtualMachine) -> dict[limits.ResourceType, int]:
    return {
        limits.ResourceType.USER_VM: 1,
        limits.ResourceType.CPU: vm.cpu_number,
        limits.ResourceType.MEMORY: vm.memory_mb,
    }


# recover / expunge ---------------------------------------------------------------------------


def recover_vm(session: Session, ctx: CallContext, vm: VirtualMachine) -> VirtualMachine:
    """Destroyed → Stopped; the VM counts against the account's limits again."""
    if not may_expunge_or_recover(session, ctx):
        raise PermissionDenied(
            "Recovering a vm can only be done by an Admin. Or when the "
            f"{ALLOW_USER_EXPUNGE} key is set."
        )
    next_state(vm.state, VmEvent.RECOVER_REQUESTED, vm=vm.uuid)
    limits.reserve(session, vm.account_id, _vm_counts(vm))
    transition(session, vm, VmEvent.RECOVER_REQUESTED)
    record_for_caller(
        session,
        ctx,
        "VM.RECOVER",
        f"Successfully recovered VM {vm.name}",
        resource_type=INSTANCE_TYPE,
        resource_uuid=vm.uuid,
    )
    session.flush()
    return vm


def expunge_vm(session: Session, ctx: CallContext, vm: VirtualMachine) -> AsyncJob:
    """Queue the expunge of a destroyed (or failed) VM."""
    if not may_expunge_or_recover(session, ctx):
        raise PermissionDenied(
            f"Parameter expunge can be passed by Admin only. Or when the {ALLOW_USER_EXPUNGE} "
            "key is set."
        )
    if vm.state != VmState.EXPUNGING:
        next_state(vm.state, VmEvent.EXPUNGE_REQUESTED, vm=vm.uuid)
    return submit_job(session, ctx, "vm.expunge", instance_type=INSTANCE_TYPE, instance_id=vm.id)


@job_handler("vm.expunge", fail=_fail_stop)
def run_expunge(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    return _result(expunge(runtime, job))


EXPUNGE_BATCH = 50


@periodic("vm.expunge.destroyed", every_seconds=30)
def expunge_destroyed_vms(runtime: Runtime) -> None:
    """Queue an expunge job for each VM destroyed longer than `expunge.delay` ago.

    Destroyed → Expunging is a conditional UPDATE, so of several servers running this task
    only one claims each VM and queues its job.
    """
    with runtime.db.write() as session:
        cutoff = utcnow() - dt.timedelta(seconds=get_int(session, "expunge.delay"))
        due = session.scalars(
            sa.select(VirtualMachine)
            .where(
                VirtualMachine.state == VmState.DESTROYED,
                VirtualMachine.removed.is_(None),
                VirtualMachine.state_changed <= cutoff,
            )
            .order_by(VirtualMachine.id)
            .limit(EXPUNGE_BATCH)
        ).all()
        for vm in due:
            claimed = session.execute(
                sa.update(VirtualMachine)
                .where(VirtualMachine.id == vm.id, VirtualMachine.state == VmState.DESTROYED)
                .values(state=VmState.EXPUNGING, state_changed=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                continue
            owner = CallContext(
                user_id=vm.user_id, account_id=vm.account_id, domain_id=vm.domain_id, role=Role.USER
            )
            submit_job(session, owner, "vm.expunge", instance_type=INSTANCE_TYPE, instance_id=vm.id)


# scale / change service offering -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sizing:
    cpu_number: int
    cpu_speed_mhz: int
    memory_mb: int

    @classmethod
    def of(cls, vm: VirtualMachine) -> Sizing:
        return cls(vm.cpu_number, vm.cpu_speed_mhz, vm.memory_mb)


def offering_sizing(
    offering: ServiceOffering, details: dict[str, int | None], current: Sizing
) -> Sizing:
    """What the VM gets from `offering`; a custom offering takes cpuNumber/cpuSpeed/memory."""
    if offering.is_customized:
        cpu = details.get("cpuNumber") or offering.cpu_number
        speed = details.get("cpuSpeed") or offering.cpu_speed_mhz
        memory = details.get("memory") or offering.memory_mb
        if not (cpu and speed and memory):
            raise InvalidParameter(
                "A custom service offering needs cpuNumber, cpuSpeed and memory",
                parameter="details",
            )
        return Sizing(cpu, speed, memory)
    assert offering.cpu_number and offering.cpu_speed_mhz and offering.memory_mb
    return Sizing(offering.cpu_number, offering.cpu_speed_mhz, offering.memory_mb)


def _check_new_offering(
    session: Session, vm: VirtualMachine, offering: ServiceOffering, new: Sizing
) -> None:
    if offering.is_system:
        raise InvalidParameter(
            f"Service offering {offering.uuid} is a system offering", parameter="serviceofferingid"
        )
    if offering.id == vm.service_offering_id and new == Sizing.of(vm):
        raise InvalidParameter(
            f"Not upgrading vm {vm.uuid} since it already has the requested service offering "
            f"({offering.name})",
            parameter="serviceofferingid",
        )
    from core.vm_snapshots import has_vm_snapshots

    if has_vm_snapshots(session, vm.id):
        raise InvalidParameter(
            "Unable to change service offering of the VM, please remove its VM snapshots first",
            parameter="id",
        )


def _count_difference(session: Session, vm: VirtualMachine, old: Sizing, new: Sizing) -> None:
    """Reserve what grows and release what shrinks, so limits follow the VM's new size."""
    cpu = new.cpu_number - old.cpu_number
    memory = new.memory_mb - old.memory_mb
    grow = {limits.ResourceType.CPU: max(cpu, 0), limits.ResourceType.MEMORY: max(memory, 0)}
    shrink = {limits.ResourceType.CPU: max(-cpu, 0), limits.ResourceType.MEMORY: max(-memory, 0)}
    limits.reserve(session, vm.account_id, {k: v for k, v in grow.items() if v})
    limits.release(session, vm.account_id, {k: v for k, v in shrink.items() if v})


def _demand(sizing: Sizing) -> Demand:
    return Demand(sizing.cpu_number * sizing.cpu_speed_mhz, sizing.memory_mb * 1024**2)


def _apply(vm: VirtualMachine, offering_id: int, sizing: Sizing) -> None:
    vm.service_offering_id = offering_id
    vm.cpu_number = sizing.cpu_number
    vm.cpu_speed_mhz = sizing.cpu_speed_mhz
    vm.memory_mb = sizing.memory_mb


def change_service_offering(
    session: Session,
    ctx: CallContext,
    vm: VirtualMachine,
    offering: ServiceOffering,
    details: dict[str, int | None] | None = None,
) -> VirtualMachine:
    """Give a stopped VM another service offering (CloudStack's changeServiceForVirtualMachine)."""
    next_state(vm.state, VmEvent.CHANGE_OFFERING_REQUESTED, vm=vm.uuid)
    old = Sizing.of(vm)
    new = offering_sizing(offering, details or {}, old)
    _check_new_offering(session, vm, offering, new)
    _count_difference(session, vm, old, new)
    _apply(vm, offering.id, new)
    record_for_caller(
        session,
        ctx,
        "VM.UPGRADE",
        f"Successfully upgraded VM {vm.name} to service offering {offering.name}",
        resource_type=INSTANCE_TYPE,
        resource_uuid=vm.uuid,
    )
    session.flush()
    return vm


def scale_vm(
    session: Session,
    ctx: CallContext,
    vm: VirtualMachine,
    offering: ServiceOffering,
    details: dict[str, int | None] | None = None,
) -> AsyncJob:
    """Scale a stopped VM, or a running one up (its host must have room for the difference)."""
    next_state(vm.state, VmEvent.SCALE_REQUESTED, vm=vm.uuid)
    if vm.state == VmState.STOPPED:
        change_service_offering(session, ctx, vm, offering, details)
        return submit_job(
            session, ctx, "vm.scale", instance_type=INSTANCE_TYPE, instance_id=vm.id, params={}
        )
    old = Sizing.of(vm)
    new = offering_sizing(offering, details or {}, old)
    _check_new_offering(session, vm, offering, new)
    if not vm.dynamically_scalable:
        raise InvalidParameter(
            f"Unable to Scale the VM: {vm.uuid} as VM is not configured to be dynamically scalable",
            parameter="id",
        )
    if (
        new.cpu_number < old.cpu_number
        or new.cpu_speed_mhz < old.cpu_speed_mhz
        or new.memory_mb < old.memory_mb
    ):
        raise InvalidParameter(
            "Only scaling up the vm is supported, new service offering should have at least as "
            "much CPU and memory as the current one",
            parameter="serviceofferingid",
        )
    _count_difference(session, vm, old, new)
    growth = Demand(
        _demand(new).cpu_mhz - _demand(old).cpu_mhz,
        _demand(new).memory_bytes - _demand(old).memory_bytes,
    )
    assert vm.host_id is not None
    reserve_host(
        session, zone_id=vm.zone_id, demand=growth, hypervisor=vm.hypervisor, host_id=vm.host_id
    )
    previous_offering = vm.service_offering_id
    _apply(vm, offering.id, new)
    session.flush()
    return submit_job(
        session,
        ctx,
        "vm.scale",
        instance_type=INSTANCE_TYPE,
        instance_id=vm.id,
        params={
            "running": True,
            "host_id": vm.host_id,
            "old_offering_id": previous_offering,
            "old": [old.cpu_number, old.cpu_speed_mhz, old.memory_mb],
            "new": [new.cpu_number, new.cpu_speed_mhz, new.memory_mb],
        },
    )


def _fail_scale(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """The host refused: the VM keeps its old size, the host and the limits their counts."""
    args = job.arguments
    if not args.get("running"):
        return
    old, new = Sizing(*args["old"]), Sizing(*args["new"])
    with runtime.db.write() as session:
        vm = _load(session, job)
        if Sizing.of(vm) != new:
            return
        _count_difference(session, vm, new, old)
        growth = Demand(
            _demand(new).cpu_mhz - _demand(old).cpu_mhz,
            _demand(new).memory_bytes - _demand(old).memory_bytes,
        )
        release_host(session, args["host_id"], growth)
        _apply(vm, args["old_offering_id"], old)
        _event(session, job, vm, "VM.SCALE", f"Failed to scale VM {vm.name}: {error}", "ERROR")


@job_handler("vm.scale", fail=_fail_scale)
def run_scale(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        vm = _load(session, job)
        if not job.arguments.get("running"):
            return _result(vm)
        host = _host_ref(session, job.arguments["host_id"])
    assert host is not None
    cpu, speed, memory = job.arguments["new"]
    _driver_call(
        lambda: runtime.hypervisor(vm.hypervisor).scale_vm(
            host, vm.instance_name, cpu_number=cpu, cpu_speed_mhz=speed, memory_mb=memory
        )
    )
    with runtime.db.write() as session:
        vm = _load(session, job)
        _event(session, job, vm, "VM.SCALE", f"Successfully scaled VM {vm.name}")
        return _result(vm)


def stop_running_vms(session: Session, ctx: CallContext, account_id: int) -> None:
    """Stop every running VM of an account (a vm.stop job each): disabling an account or
    suspending a project."""
    from core.vms.service import stop_vm

    running = session.scalars(
        sa.select(VirtualMachine).where(
            VirtualMachine.account_id == account_id,
            VirtualMachine.state == VmState.RUNNING,
            VirtualMachine.removed.is_(None),
        )
    )
    for vm in list(running):
        stop_vm(session, ctx, vm)
