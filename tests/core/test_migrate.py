"""Live migration and host maintenance through the core, with the simulator; both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import host_maintenance, infra
from core.errors import InsufficientCapacity, InvalidParameter, InvalidState, PermissionDenied
from core.infra import Host
from core.jobs import FAILED, SUCCEEDED
from core.vms import migrate
from core.vms.states import VmState
from drivers.hypervisor.base import HostRef
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy, host_usage, vm_row

SMALL = (500, 512 * 1024**2)


def _running(core: CoreHarness, ctx, name: str):
    vm_uuid, job_uuid = deploy(core, ctx, name=name)
    assert core.wait(job_uuid).status == SUCCEEDED
    return vm_row(core, vm_uuid)


def _host(core: CoreHarness, host_id: int) -> Host:
    with core.db.read() as session:
        return session.get_one(Host, host_id)


def _ref(host: Host) -> HostRef:
    return HostRef(uuid=host.uuid, name=host.name, url=host.url)


def test_migration_moves_the_vm_and_its_capacity(core: CoreHarness) -> None:
    admin = core.admin_context()
    vm = _running(core, admin, "mover")
    source = vm.host_id
    with core.db.read() as session:
        hosts = [h.id for h in session.scalars(sa.select(Host).order_by(Host.id))]
    destination = next(h for h in hosts if h != source)
    with core.db.write() as session:
        row = session.get_one(type(vm), vm.id)
        job = migrate.migrate_vm(session, admin, row, host_id=destination)
        assert row.state == VmState.MIGRATING
        job_uuid = job.uuid
    assert host_usage(core)[destination] == SMALL  # reserved with the request
    assert core.wait(job_uuid).status == SUCCEEDED
    moved = vm_row(core, vm.uuid)
    assert (moved.state, moved.host_id, moved.last_host_id) == (
        VmState.RUNNING,
        destination,
        source,
    )
    usage = host_usage(core)
    assert usage[source] == (0, 0) and usage[destination] == SMALL
    simulator = core.simulator
    assert simulator.power_state(_ref(_host(core, destination)), moved.instance_name) == "running"
    assert simulator.power_state(_ref(_host(core, source)), moved.instance_name) == "absent"


def test_failed_migration_leaves_the_vm_where_it_was(core: CoreHarness) -> None:
    admin = core.admin_context()
    vm = _running(core, admin, "stayer")
    core.simulator.configure("migrate", fail_next=1)
    with core.db.write() as session:
        job_uuid = migrate.migrate_vm(session, admin, session.get_one(type(vm), vm.id)).uuid
    assert core.wait(job_uuid).status == FAILED
    after = vm_row(core, vm.uuid)
    assert (after.state, after.host_id) == (VmState.RUNNING, vm.host_id)
    usage = host_usage(core)
    assert usage[vm.host_id] == SMALL
    assert sum(cpu for cpu, _ in usage.values()) == SMALL[0]  # the destination got its room back


def test_migration_rules(core: CoreHarness) -> None:
    admin = core.admin_context()
    user = core.new_tenant("migrating-user")
    vm = _running(core, admin, "ruled")
    stopped_uuid, _ = deploy(core, admin, name="stopped", start=False)
    with core.db.write() as session:
        row = session.get_one(type(vm), vm.id)
        with pytest.raises(PermissionDenied):
            migrate.migrate_vm(session, user, row)
        with pytest.raises(InvalidParameter):
            migrate.migrate_vm(session, admin, row, host_id=row.host_id)
        stopped = session.scalar(sa.select(type(vm)).where(type(vm).uuid == stopped_uuid))
        with pytest.raises(InvalidState):
            migrate.migrate_vm(session, admin, stopped)
        for host in session.scalars(sa.select(Host).where(Host.id != row.host_id)):
            host.resource_state = infra.DISABLED
        session.flush()
        with pytest.raises(InsufficientCapacity):
            migrate.migrate_vm(session, admin, row)
        found = migrate.find_hosts_for_migration(session, admin, row)
        assert found and not any(fit for _, fit in found)
        assert row.host_id not in [h.id for h, _ in found]
        session.rollback()
    with core.db.read() as session:
        found = migrate.find_hosts_for_migration(session, admin, session.get_one(type(vm), vm.id))
        assert all(fit for _, fit in found) and len(found) == 3


def test_maintenance_evacuates_the_host(core: CoreHarness) -> None:
    admin = core.admin_context()
    first = _running(core, admin, "evac-1")
    second = _running(core, admin, "evac-2")
    assert first.host_id == second.host_id  # first fit
    host_id = first.host_id
    with core.db.write() as session:
        host = session.get_one(Host, host_id)
        job_uuid = host_maintenance.prepare_for_maintenance(session, admin, host).uuid
        assert host.resource_state == infra.PREPARE_FOR_MAINTENANCE
    assert core.wait(job_uuid, timeout=60).status == SUCCEEDED
    assert _host(core, host_id).resource_state == infra.MAINTENANCE
    for vm in (first, second):
        row = vm_row(core, vm.uuid)
        assert row.state == VmState.RUNNING and row.host_id not in (None, host_id)
    assert host_usage(core)[host_id] == (0, 0)
    # nothing lands on it while in maintenance
    third = _running(core, admin, "evac-3")
    assert third.host_id != host_id
    with core.db.write() as session:
        host = session.get_one(Host, host_id)
        with pytest.raises(InvalidState):
            host_maintenance.prepare_for_maintenance(session, admin, host)
        job_uuid = host_maintenance.cancel_maintenance(session, admin, host).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert _host(core, host_id).resource_state == infra.ENABLED


def test_a_vm_that_cannot_move_leaves_error_in_maintenance(core: CoreHarness) -> None:
    admin = core.admin_context()
    vm = _running(core, admin, "stuck")
    with core.db.write() as session:
        for host in session.scalars(sa.select(Host).where(Host.id != vm.host_id)):
            host.resource_state = infra.DISABLED
        job_uuid = host_maintenance.prepare_for_maintenance(
            session, admin, session.get_one(Host, vm.host_id)
        ).uuid
    assert core.wait(job_uuid, timeout=60).status == SUCCEEDED
    assert _host(core, vm.host_id).resource_state == infra.ERROR_IN_MAINTENANCE
    assert vm_row(core, vm.uuid).state == VmState.RUNNING
    # room again: a second attempt succeeds
    with core.db.write() as session:
        for host in session.scalars(sa.select(Host).where(Host.id != vm.host_id)):
            host.resource_state = infra.ENABLED
        job_uuid = host_maintenance.prepare_for_maintenance(
            session, admin, session.get_one(Host, vm.host_id)
        ).uuid
    assert core.wait(job_uuid, timeout=60).status == SUCCEEDED
    assert _host(core, vm.host_id).resource_state == infra.MAINTENANCE


def test_failed_migration_during_maintenance(core: CoreHarness) -> None:
    admin = core.admin_context()
    vm = _running(core, admin, "flaky")
    core.simulator.configure("migrate", fail_always=True)
    with core.db.write() as session:
        job_uuid = host_maintenance.prepare_for_maintenance(
            session, admin, session.get_one(Host, vm.host_id)
        ).uuid
    assert core.wait(job_uuid, timeout=60).status == SUCCEEDED
    assert _host(core, vm.host_id).resource_state == infra.ERROR_IN_MAINTENANCE
    row = vm_row(core, vm.uuid)
    assert (row.state, row.host_id) == (VmState.RUNNING, vm.host_id)
    assert sum(cpu for cpu, _ in host_usage(core).values()) == SMALL[0]


def test_users_cannot_touch_maintenance(core: CoreHarness) -> None:
    user = core.new_tenant("maint-user")
    with core.db.write() as session:
        host = session.scalars(sa.select(Host)).first()
        for operation in (
            host_maintenance.prepare_for_maintenance,
            host_maintenance.cancel_maintenance,
            host_maintenance.reconnect_host,
        ):
            with pytest.raises(PermissionDenied):
                operation(session, user, host)
