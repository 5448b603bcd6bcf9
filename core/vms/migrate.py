"""Live migration of a running VM to another host (migrateVirtualMachine), and the list of
hosts it could go to (findHostsForMigration).

Capacity moves with the VM: the request reserves the VM's CPU and memory on the destination
through the planner (so two migrations cannot both take the last room on a host), and the
job releases them on the source in the same transaction that moves the VM's host. While the
move runs the VM is Migrating; whatever happens it ends Running on exactly one host.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext
from core.errors import InvalidParameter, InvalidState
from core.events import record_for_caller, record_for_job
from core.infra import Cluster, Host, Pod, Zone
from core.jobs import AsyncJob, job_handler, submit_job
from core.offerings import ServiceOffering
from core.planner import Demand, placement_filter, release_host, reserve_host
from core.runtime import Runtime, driver_call
from core.visibility import ensure_root_admin
from core.vms.models import VirtualMachine
from core.vms.service import transition
from core.vms.states import VmEvent, VmState
from drivers.hypervisor.base import HostRef

INSTANCE_TYPE = "VirtualMachine"
MIGRATE = "vm.migrate"


def demand_of(vm: VirtualMachine) -> Demand:
    return Demand(cpu_mhz=vm.cpu_mhz_total, memory_bytes=vm.memory_bytes)


def _host_tag(session: Session, vm: VirtualMachine) -> str:
    offering = session.get(ServiceOffering, vm.service_offering_id)
    return offering.host_tag if offering else ""


def start_migration(
    session: Session, ctx: CallContext, vm: VirtualMachine, *, host_id: int | None = None
) -> AsyncJob:
    """Reserve room on the destination (the planner's choice, or `host_id`), mark the VM
    Migrating and queue the move. The caller has checked the caller's rights."""
    if vm.state != VmState.RUNNING or vm.host_id is None:
        raise InvalidState("VM", vm.uuid, vm.state, "migrate")
    if host_id is not None and host_id == vm.host_id:
        raise InvalidParameter(
            "Cannot migrate VM, destination host is the same as the current host",
            parameter="hostid",
        )
    destination = reserve_host(
        session,
        zone_id=vm.zone_id,
        demand=demand_of(vm),
        hypervisor=vm.hypervisor,
        host_tag=_host_tag(session, vm),
        host_id=host_id,
        avoid=frozenset({vm.host_id}),
    )
    source_id = vm.host_id
    transition(session, vm, VmEvent.MIGRATE_REQUESTED)
    record_for_caller(
        session,
        ctx,
        "VM.MIGRATE",
        f"Migrating VM {vm.name} to host {destination.name}",
        resource_type=INSTANCE_TYPE,
        resource_uuid=vm.uuid,
    )
    return submit_job(
        session,
        ctx,
        MIGRATE,
        instance_type=INSTANCE_TYPE,
        instance_id=vm.id,
        params={"source": source_id, "destination": destination.id},
    )


def migrate_vm(
    session: Session, ctx: CallContext, vm: VirtualMachine, *, host_id: int | None = None
) -> AsyncJob:
    """migrateVirtualMachine: root administrators only."""
    ensure_root_admin(ctx)
    return start_migration(session, ctx, vm, host_id=host_id)


def find_hosts_for_migration(
    session: Session, ctx: CallContext, vm: VirtualMachine
) -> list[tuple[Host, bool]]:
    """Hosts of the VM's zone and hypervisor other than its own, each with whether it can take
    the VM now (room, host tags, enabled and not in maintenance) — decided by the database."""
    ensure_root_admin(ctx)
    if vm.state != VmState.RUNNING or vm.host_id is None:
        raise InvalidState("VM", vm.uuid, vm.state, "find hosts for migration")
    suitable = placement_filter(session, demand_of(vm), host_tag=_host_tag(session, vm))
    rows = session.execute(
        sa.select(Host, suitable.label("suitable"))
        .join(Cluster, Cluster.id == Host.cluster_id)
        .join(Pod, Pod.id == Host.pod_id)
        .join(Zone, Zone.id == Host.zone_id)
        .where(
            Host.zone_id == vm.zone_id,
            Host.hypervisor == vm.hypervisor,
            Host.removed.is_(None),
            Host.id != vm.host_id,
        )
        .order_by(Host.id)
    ).all()
    return [(host, bool(fit)) for host, fit in rows]


# the job ----------------------------------------------------------------------------------


def _ref(host: Host) -> HostRef:
    return HostRef(uuid=host.uuid, name=host.name, url=host.url)


def _event(session: Session, job: AsyncJob, vm: VirtualMachine, text: str, level: str) -> None:
    fields = {"resource_type": INSTANCE_TYPE, "resource_uuid": vm.uuid, "level": level}
    record_for_job(session, job, "VM.MIGRATE", text, **fields)


def finish_migration(session: Session, vm: VirtualMachine, source: int, destination: int) -> None:
    """The VM runs on `destination` now: move it there and free its room on `source`."""
    if vm.host_id == source:
        release_host(session, source, demand_of(vm))
        host = session.get_one(Host, destination)
        vm.host_id = destination
        vm.pod_id = host.pod_id
        vm.last_host_id = source
    if vm.state == VmState.MIGRATING:
        transition(session, vm, VmEvent.OPERATION_SUCCEEDED)


def abandon_migration(session: Session, vm: VirtualMachine, destination: int) -> None:
    """The move did not happen: give the destination's room back; the VM runs on its source."""
    if vm.state != VmState.MIGRATING:
        return
    if vm.host_id != destination:
        release_host(session, destination, demand_of(vm))
    transition(session, vm, VmEvent.OPERATION_FAILED)


def _load(session: Session, job: AsyncJob) -> VirtualMachine:
    return session.get_one(VirtualMachine, job.instance_id, populate_existing=True)


def _fail_migrate(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        vm = _load(session, job)
        if vm.state == VmState.MIGRATING:
            abandon_migration(session, vm, int(job.arguments["destination"]))
            _event(session, job, vm, f"Failed to migrate VM {vm.name}: {error}", "ERROR")


@job_handler(MIGRATE, fail=_fail_migrate)
def run_migrate(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    source, destination = int(job.arguments["source"]), int(job.arguments["destination"])
    with runtime.db.read() as session:
        vm = _load(session, job)
        if vm.state != VmState.MIGRATING:  # finished before a crash: nothing left to do
            return {"vm_id": vm.id}
        source_ref = _ref(session.get_one(Host, source))
        destination_ref = _ref(session.get_one(Host, destination))
    driver = runtime.hypervisor(vm.hypervisor)
    driver_call(lambda: driver.migrate_vm(source_ref, destination_ref, vm.instance_name))
    with runtime.db.write() as session:
        vm = _load(session, job)
        finish_migration(session, vm, source, destination)
        _event(
            session,
            job,
            vm,
            f"Successfully migrated VM {vm.name} to host {destination_ref.name}",
            "INFO",
        )
        return {"vm_id": vm.id}
