"""Public IP ranges, addresses and static NAT on both databases, including racing allocations."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core import limits
from core import public_ips as ips
from core.errors import (
    InsufficientCapacity,
    InvalidParameter,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ResourceInUse,
)
from core.events import Event
from core.infra import list_zones
from core.jobs import SUCCEEDED
from core.limits import ResourceCount, ResourceType
from core.offerings import list_service_offerings
from core.public_ips import PublicIpAddress
from core.security_groups import NetworkRuleConflict
from core.templates import list_templates
from core.visibility import ListScope
from core.vms import service as vms
from tests.core.conftest import CoreHarness


def add_range(core: CoreHarness, start: str = "203.0.113.10", end: str = "203.0.113.19", **kw):
    with core.db.write() as session:
        return ips.create_vlan_ip_range(
            session,
            core.admin_context(),
            zone=list_zones(session)[0],
            start_ip=start,
            end_ip=end,
            gateway="203.0.113.1",
            netmask="255.255.255.0",
            vlan="100",
            **kw,
        ).uuid


def acquire(core: CoreHarness, ctx) -> str:
    with core.db.write() as session:
        address, job = ips.associate_ip(session, ctx, zone=list_zones(session)[0])
        uuid, job_uuid = address.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    return uuid


def deploy(core: CoreHarness, ctx) -> str:
    with core.db.write() as session:
        vm, _ = vms.deploy_vm(
            session,
            ctx,
            vms.DeploySpec(
                zone=list_zones(session)[0],
                service_offering=list_service_offerings(session, name="Small Instance")[0],
                template=list_templates(session, ctx, template_filter="featured")[0],
                start=False,
            ),
        )
        return vm.uuid


def address_row(core: CoreHarness, uuid: str) -> PublicIpAddress:
    with core.db.read() as session:
        return session.scalar(sa.select(PublicIpAddress).where(PublicIpAddress.uuid == uuid))


def used_ips(core: CoreHarness, account_id: int) -> int:
    with core.db.read() as session:
        return session.get_one(ResourceCount, (account_id, ResourceType.PUBLIC_IP.value)).used


def test_range_lifecycle(core: CoreHarness) -> None:
    admin = core.admin_context()
    range_uuid = add_range(core)
    with core.db.read() as session:
        rows, total = ips.list_vlan_ip_ranges(session, admin)
        assert total == 1 and rows[0].vlan_tag == "vlan://100"
        free = session.scalar(sa.select(sa.func.count()).where(PublicIpAddress.state == ips.FREE))
        assert free == 10
    with pytest.raises(InvalidParameter, match="overlaps"):
        add_range(core, "203.0.113.15", "203.0.113.30")
    with pytest.raises(InvalidParameter):
        add_range(core, "198.51.100.1", "198.51.100.2")  # outside the gateway's subnet
    tenant = core.new_tenant("ip-range")
    with pytest.raises(PermissionDenied), core.db.read() as session:
        ips.list_vlan_ip_ranges(session, tenant)
    uuid = acquire(core, tenant)
    with pytest.raises(ResourceInUse), core.db.write() as session:
        ips.delete_vlan_ip_range(session, admin, ips.get_vlan_ip_range(session, admin, range_uuid))
    with core.db.write() as session:
        job = ips.disassociate_ip(session, tenant, ips.get_public_ip(session, tenant, uuid))
        job_uuid = job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    with core.db.write() as session:
        ips.delete_vlan_ip_range(session, admin, ips.get_vlan_ip_range(session, admin, range_uuid))
    with core.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PublicIpAddress)) == 0
        types = set(session.scalars(sa.select(Event.event_type)))
        assert {"VLAN.IP.RANGE.CREATE", "VLAN.IP.RANGE.DELETE"} <= types


def test_associate_disassociate_counts_the_limit(core: CoreHarness) -> None:
    add_range(core)
    tenant = core.new_tenant("ip-a")
    uuid = acquire(core, tenant)
    row = address_row(core, uuid)
    assert (row.state, row.account_id) == (ips.ALLOCATED, tenant.account_id)
    assert used_ips(core, tenant.account_id) == 1
    with core.db.read() as session:
        rows, _ = ips.list_public_ips(session, tenant, ListScope())
        assert [r.uuid for r in rows] == [uuid]
        _, with_free = ips.list_public_ips(session, tenant, ListScope(), allocated_only=False)
        assert with_free == 10
    with core.db.write() as session:
        job_uuid = ips.disassociate_ip(
            session, tenant, ips.get_public_ip(session, tenant, uuid)
        ).uuid
        assert session.get_one(PublicIpAddress, row.id).state == ips.RELEASING
    assert core.wait(job_uuid).status == SUCCEEDED
    row = address_row(core, uuid)
    assert (row.state, row.account_id) == (ips.FREE, None)
    assert used_ips(core, tenant.account_id) == 0
    with core.db.read() as session:
        assert {"NET.IPASSIGN", "NET.IPRELEASE"} <= set(
            session.scalars(sa.select(Event.event_type))
        )
        with pytest.raises(NotFound):
            ips.get_public_ip(session, tenant, uuid)


def test_limit_and_capacity(core: CoreHarness) -> None:
    add_range(core, "203.0.113.10", "203.0.113.12")
    tenant = core.new_tenant("ip-b")
    with core.db.write() as session:
        limits.set_limit(session, tenant.account_id, ResourceType.PUBLIC_IP, 1)
    acquire(core, tenant)
    with pytest.raises(LimitExceeded), core.db.write() as session:
        ips.associate_ip(session, tenant, zone=list_zones(session)[0])
    other = core.new_tenant("ip-c")
    acquire(core, other)
    acquire(core, other)
    with pytest.raises(InsufficientCapacity), core.db.write() as session:
        ips.associate_ip(session, other, zone=list_zones(session)[0])
    assert used_ips(core, other.account_id) == 2  # the failed request counted nothing


def test_dedicated_range_serves_its_account_only(core: CoreHarness) -> None:
    owner = core.new_tenant("ip-owner")
    add_range(core, "203.0.113.50", "203.0.113.50", owner=owner)
    other = core.new_tenant("ip-other")
    with pytest.raises(InsufficientCapacity), core.db.write() as session:
        ips.associate_ip(session, other, zone=list_zones(session)[0])
    assert address_row(core, acquire(core, owner)).address == "203.0.113.50"


def test_static_nat(core: CoreHarness) -> None:
    add_range(core)
    tenant = core.new_tenant("ip-d")
    first, second = acquire(core, tenant), acquire(core, tenant)
    vm_uuid, other_vm = deploy(core, tenant), deploy(core, tenant)
    with core.db.write() as session:
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        ips.enable_static_nat(session, tenant, ips.get_public_ip(session, tenant, first), vm)
    with pytest.raises(NetworkRuleConflict), core.db.write() as session:  # one IP per VM
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        ips.enable_static_nat(session, tenant, ips.get_public_ip(session, tenant, second), vm)
    with pytest.raises(NetworkRuleConflict), core.db.write() as session:  # one VM per IP
        vm = vms.get_vm(session, tenant, uuid=other_vm)
        ips.enable_static_nat(session, tenant, ips.get_public_ip(session, tenant, first), vm)
    with core.db.read() as session:
        rows, _ = ips.list_public_ips(session, tenant, ListScope(), is_static_nat=True)
        assert [r.uuid for r in rows] == [first]
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        assert ips.static_nat_of_vm(session, vm.id).uuid == first
    with core.db.write() as session:  # releasing the address disables its static NAT first
        job_uuid = ips.disassociate_ip(
            session, tenant, ips.get_public_ip(session, tenant, first)
        ).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    with core.db.write() as session:
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        assert ips.static_nat_of_vm(session, vm.id) is None
        ips.enable_static_nat(session, tenant, ips.get_public_ip(session, tenant, second), vm)
    with core.db.write() as session:
        job_uuid = ips.disable_static_nat(
            session, tenant, ips.get_public_ip(session, tenant, second)
        ).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert address_row(core, second).vm_id is None
    with pytest.raises(InvalidParameter), core.db.write() as session:
        ips.disable_static_nat(session, tenant, ips.get_public_ip(session, tenant, second))
    with core.db.read() as session:
        types = set(session.scalars(sa.select(Event.event_type)))
        assert {"STATICNAT.ENABLE", "STATICNAT.DISABLE"} <= types


def test_tenants_are_isolated(core: CoreHarness) -> None:
    add_range(core)
    tenant, other = core.new_tenant("ip-e"), core.new_tenant("ip-f")
    uuid = acquire(core, tenant)
    other_vm = deploy(core, other)
    with core.db.read() as session:
        with pytest.raises(NotFound):
            ips.get_public_ip(session, other, uuid)
        assert ips.list_public_ips(session, other, ListScope(list_all=True))[1] == 0
    with pytest.raises(InvalidParameter), core.db.write() as session:
        # even an admin cannot map one account's address to another account's VM
        admin = core.admin_context()
        vm = vms.get_vm(session, admin, uuid=other_vm)
        ips.enable_static_nat(session, admin, ips.get_public_ip(session, admin, uuid), vm)


def test_concurrent_allocations_never_share_an_address(core: CoreHarness) -> None:
    add_range(core, "203.0.113.100", "203.0.113.111")  # 12 addresses
    tenants = [core.new_tenant(f"race-{i}") for i in range(8)]
    results: list[str] = []
    failures: list[Exception] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tenants))

    def grab(ctx) -> None:
        barrier.wait()
        for _ in range(2):
            try:
                with core.db.write() as session:
                    address, _job = ips.associate_ip(session, ctx, zone=list_zones(session)[0])
                    value = address.address
                with lock:
                    results.append(value)
            except Exception as error:
                with lock:
                    failures.append(error)

    threads = [threading.Thread(target=grab, args=(ctx,)) for ctx in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12, failures
    assert len(set(results)) == 12
    assert len(failures) == 4 and all(isinstance(e, InsufficientCapacity) for e in failures)
    with core.db.read() as session:
        owners = session.execute(
            sa.select(PublicIpAddress.address, PublicIpAddress.account_id).where(
                PublicIpAddress.state != ips.FREE
            )
        ).all()
        assert len(owners) == 12
        assert sum(used_ips(core, ctx.account_id) for ctx in tenants) == 12


def test_expunging_a_vm_gives_up_its_static_nat(core: CoreHarness) -> None:
    add_range(core)
    tenant = core.new_tenant("ip-expunge")
    address, vm_uuid = acquire(core, tenant), deploy(core, tenant)
    with core.db.write() as session:
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        ips.enable_static_nat(session, tenant, ips.get_public_ip(session, tenant, address), vm)
    admin = core.admin_context()
    with core.db.write() as session:
        job = vms.destroy_vm(session, admin, vms.get_vm(session, admin, uuid=vm_uuid), expunge=True)
    assert core.wait(job.uuid).status == SUCCEEDED
    with core.db.read() as session:
        rows, _ = ips.list_public_ips(session, tenant, ListScope(), is_static_nat=True)
    assert rows == []  # the address stays the tenant's, no longer mapped to a gone VM


def test_allocate_at_once_and_release_refused_while_mapped(core: CoreHarness) -> None:
    add_range(core, "203.0.113.40", "203.0.113.41")
    tenant = core.new_tenant("ip-ec2")
    vm_uuid = deploy(core, tenant)
    with core.db.write() as session:
        address = ips.allocate_ip(session, tenant, zone=list_zones(session)[0])
        assert address.state == ips.ALLOCATED
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        ips.enable_static_nat(session, tenant, address, vm)
        with pytest.raises(ResourceInUse):
            ips.disassociate_ip(session, tenant, address, keep_nat=True)
        listed, _ = ips.list_public_ips(session, tenant, ListScope(), ids=[address.id])
        assert [row.vm_id for row in listed] == [vm.id]
        uuid = address.uuid
    assert used_ips(core, tenant.account_id) == 1
    assert address_row(core, uuid).state == ips.ALLOCATED
