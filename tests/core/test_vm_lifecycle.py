"""VM use cases through the core, with the job engine and the simulator, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import limits
from core.errors import InsufficientCapacity, InvalidState, LimitExceeded, NotFound
from core.infra import Host, StoragePool, list_zones
from core.jobs import FAILED, SUCCEEDED
from core.limits import ResourceCount, ResourceType
from core.offerings import create_service_offering, list_service_offerings
from core.templates import list_templates
from core.visibility import ListScope
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.vms.states import VmState
from core.volumes import Volume
from drivers.hypervisor.base import HostRef
from tests.core.conftest import CoreHarness


def deploy(core: CoreHarness, ctx, *, offering: str = "Small Instance", start: bool = True, **kw):
    with core.db.write() as session:
        zone = list_zones(session)[0]
        service_offering = list_service_offerings(session, name=offering)[0]
        template = list_templates(session, ctx, template_filter="featured")[0]
        vm, job = vms.deploy_vm(
            session,
            ctx,
            vms.DeploySpec(
                zone=zone, service_offering=service_offering, template=template, start=start, **kw
            ),
        )
        return vm.uuid, job.uuid


def vm_row(core: CoreHarness, uuid: str) -> VirtualMachine:
    with core.db.read() as session:
        return session.scalar(sa.select(VirtualMachine).where(VirtualMachine.uuid == uuid))


def host_usage(core: CoreHarness) -> dict[int, tuple[int, int]]:
    with core.db.read() as session:
        return {
            h.id: (h.cpu_used_mhz, h.memory_used_bytes) for h in session.scalars(sa.select(Host))
        }


def test_full_lifecycle_moves_capacity_and_counts(core: CoreHarness) -> None:
    ctx = core.admin_context()
    vm_uuid, job_uuid = deploy(core, ctx, name="web-1")
    assert vm_row(core, vm_uuid).state == VmState.STARTING
    assert core.wait(job_uuid).status == SUCCEEDED
    vm = vm_row(core, vm_uuid)
    assert vm.state == VmState.RUNNING and vm.host_id is not None
    assert host_usage(core)[vm.host_id] == (500, 512 * 1024**2)

    with core.db.read() as session:
        host = session.get_one(Host, vm.host_id)
        ref = HostRef(uuid=host.uuid, name=host.name)
    boots = core.simulator.boot_count(ref, vm.instance_name)
    with core.db.write() as session:
        job = vms.reboot_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid))
    assert core.wait(job.uuid).status == SUCCEEDED
    assert core.simulator.boot_count(ref, vm.instance_name) == boots + 1

    with core.db.write() as session:
        job = vms.stop_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid))
    assert core.wait(job.uuid).status == SUCCEEDED
    stopped = vm_row(core, vm_uuid)
    assert stopped.state == VmState.STOPPED and stopped.host_id is None
    assert host_usage(core)[vm.host_id] == (0, 0)

    with core.db.write() as session:
        job = vms.start_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid))
    assert core.wait(job.uuid).status == SUCCEEDED
    assert vm_row(core, vm_uuid).state == VmState.RUNNING

    with core.db.write() as session:
        job = vms.destroy_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid), expunge=True)
    assert core.wait(job.uuid).status == SUCCEEDED
    gone = vm_row(core, vm_uuid)
    assert gone.state == VmState.EXPUNGED and gone.removed is not None
    assert all(usage == (0, 0) for usage in host_usage(core).values())
    with core.db.read() as session:
        volume = session.scalar(sa.select(Volume).where(Volume.vm_id == gone.id))
        assert volume.removed is not None
        assert all(p.allocated_bytes == 0 for p in session.scalars(sa.select(StoragePool)))
        counts = {
            r.resource_type: r.used
            for r in session.scalars(
                sa.select(ResourceCount).where(ResourceCount.account_id == ctx.account_id)
            )
        }
    assert {k: counts[k] for k in ("user_vm", "cpu", "memory")} == {
        "user_vm": 0,
        "cpu": 0,
        "memory": 0,
    }
    assert ref is not None
    assert core.simulator.power_state(ref, vm.instance_name).value == "absent"


def test_illegal_transition_is_an_error_not_a_no_op(core: CoreHarness) -> None:
    ctx = core.admin_context()
    vm_uuid, job_uuid = deploy(core, ctx)
    core.wait(job_uuid)
    with core.db.write() as session, pytest.raises(InvalidState):
        vms.start_vm(session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid))
    assert vm_row(core, vm_uuid).state == VmState.RUNNING


def test_failed_first_start_leaves_error_state_and_frees_the_host(core: CoreHarness) -> None:
    ctx = core.admin_context()
    core.simulator.configure("start", fail_next=1)
    vm_uuid, job_uuid = deploy(core, ctx)
    job = core.wait(job_uuid)
    assert job.status == FAILED and job.error_kind == "OperationFailed"
    assert "Simulated failure" in job.error_text
    vm = vm_row(core, vm_uuid)
    assert vm.state == VmState.ERROR and vm.host_id is None
    assert all(usage == (0, 0) for usage in host_usage(core).values())


def test_no_capacity_is_immediate_and_writes_nothing(core: CoreHarness) -> None:
    ctx = core.admin_context()
    with core.db.write() as session:
        create_service_offering(
            session, name="Huge", cpu_number=8, cpu_speed_mhz=2000, memory_mb=1024
        )
    with pytest.raises(InsufficientCapacity):
        deploy(core, ctx, offering="Huge")
    with core.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(VirtualMachine)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Volume)) == 0


def test_account_limit_is_enforced_and_nothing_half_written(core: CoreHarness) -> None:
    tenant = core.new_tenant("alice")
    with core.db.write() as session:
        limits.set_limit(session, tenant.account_id, ResourceType.USER_VM, 2)
    for _ in range(2):
        deploy(core, tenant, start=False)
    with pytest.raises(LimitExceeded):
        deploy(core, tenant, start=False)
    with core.db.read() as session:
        _, total = vms.list_vms(session, tenant)
    assert total == 2


def test_concurrent_deploys_never_overcommit_a_host(core: CoreHarness) -> None:
    """4 hosts × 8 × 2000 MHz at 0.85: 13 Medium (1000 MHz, 1 GiB) VMs fit per host."""
    from concurrent.futures import ThreadPoolExecutor

    ctx = core.admin_context()

    def attempt(_: int) -> str:
        try:
            deploy(core, ctx, offering="Medium Instance", start=True)
            return "ok"
        except InsufficientCapacity:
            return "full"

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(attempt, range(70)))
    assert outcomes.count("ok") == 52
    assert outcomes.count("full") == 18
    with core.db.read() as session:
        for host in session.scalars(sa.select(Host)):
            assert host.cpu_used_mhz <= host.cpu_cores * host.cpu_speed_mhz * 0.85
            assert host.memory_used_bytes <= host.memory_bytes * 0.85
            placed = session.scalar(
                sa.select(sa.func.sum(VirtualMachine.cpu_speed_mhz)).where(
                    VirtualMachine.host_id == host.id
                )
            )
            assert host.cpu_used_mhz == (placed or 0)


def test_tenants_cannot_see_or_touch_each_other(core: CoreHarness) -> None:
    alice, bob = core.new_tenant("alice"), core.new_tenant("bob")
    vm_uuid, _ = deploy(core, alice, start=False)
    with core.db.write() as session:
        with pytest.raises(NotFound):
            vms.get_vm(session, bob, uuid=vm_uuid)
        assert vms.list_vms(session, bob, ListScope(list_all=True))[1] == 0
        assert vms.list_vms(session, alice)[1] == 1
    admin = core.admin_context()
    with core.db.read() as session:
        assert vms.list_vms(session, admin)[1] == 0  # without listall: own account only
        assert vms.list_vms(session, admin, ListScope(list_all=True))[1] == 1


def test_destroy_while_starting_waits_for_the_start_then_destroys(core: CoreHarness) -> None:
    ctx = core.admin_context()
    core.simulator.configure("start", latency_ms=500)
    vm_uuid, start_job = deploy(core, ctx)
    with core.db.write() as session:
        destroy_job = vms.destroy_vm(
            session, ctx, vms.get_vm(session, ctx, uuid=vm_uuid), expunge=True
        )
    assert core.wait(destroy_job.uuid).status == SUCCEEDED
    assert core.wait(start_job).status == SUCCEEDED
    gone = vm_row(core, vm_uuid)
    assert gone.state == VmState.EXPUNGED
    assert all(usage == (0, 0) for usage in host_usage(core).values())
    with core.db.read() as session:
        counts = {
            r.resource_type: r.used
            for r in session.scalars(
                sa.select(ResourceCount).where(ResourceCount.account_id == ctx.account_id)
            )
        }
    assert {k: counts[k] for k in ("user_vm", "cpu", "memory")} == {
        "user_vm": 0,
        "cpu": 0,
        "memory": 0,
    }
