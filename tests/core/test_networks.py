"""VPCs and guest networks on both databases: defaults, CIDR rules, limits, in-use, isolation."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core import identity_admin, limits, tags
from core import networks as nets
from core.errors import Conflict, InvalidParameter, LimitExceeded, NotFound, ResourceInUse
from core.events import Event
from core.identity import Account
from core.infra import add_zone, list_zones
from core.limits import ResourceCount, ResourceType
from core.networks import Network, Vpc
from core.networks.guest import remove_network
from core.networks.vpcs import remove_vpc
from core.offerings import list_network_offerings
from core.visibility import ListScope
from core.vms import service as vms
from core.vms.models import VirtualMachine
from tests.core.conftest import CoreHarness
from tests.support.core_vms import small_vm


def used(core: CoreHarness, account_id: int, resource: ResourceType) -> int:
    with core.db.read() as session:
        return session.get_one(ResourceCount, (account_id, resource.value)).used


def make_vpc(core: CoreHarness, ctx, cidr: str = "10.0.0.0/16", name: str = "v") -> Vpc:
    with core.db.write() as session:
        vpc, _job = nets.create_vpc(session, ctx, zone=list_zones(session)[0], name=name, cidr=cidr)
        return vpc


def make_tier(
    core: CoreHarness, ctx, vpc: Vpc, cidr: str | None, name: str = "t", **choices
) -> Network:
    with core.db.write() as session:
        return nets.create_network(
            session,
            ctx,
            zone=list_zones(session)[0],
            offering=choices.pop("offering", None),
            name=name,
            cidr=cidr,
            vpc=session.get_one(Vpc, vpc.id),
            **choices,
        )


def delete_tier(core: CoreHarness, ctx, tier: Network) -> None:
    """deleteNetwork and its job (which has nothing left to do: it finishes at once)."""
    with core.db.write() as session:
        job_uuid = nets.delete_network(session, ctx, session.get_one(Network, tier.id)).uuid
    assert core.wait(job_uuid).status == 1


def delete_vpc(core: CoreHarness, ctx, vpc: Vpc) -> None:
    with core.db.write() as session:
        nets.delete_vpc(session, ctx, session.get_one(Vpc, vpc.id))


def idle_vm(session: sa.orm.Session, ctx) -> VirtualMachine:
    """A VM of `ctx`'s, never started, deployed into no guest network (no NIC yet)."""
    vm, _ = vms.deploy_vm(session, ctx, small_vm(session, ctx, start=False))
    return vm


def test_a_new_account_has_a_default_vpc_and_subnet(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-a")
    with core.db.read() as session:
        vpcs, total = nets.list_vpcs(session, tenant, ListScope())
        assert total == 1
        [vpc] = vpcs
        assert (vpc.cidr, vpc.is_default, vpc.state) == ("172.31.0.0/16", True, "Enabled")
        tiers, _ = nets.list_networks(session, tenant, ListScope())
        assert [(t.cidr, t.is_default, t.vpc_id, t.gateway) for t in tiers] == [
            ("172.31.0.0/20", True, vpc.id, "172.31.0.1")
        ]
        assert tiers[0].netmask == "255.255.240.0" and tiers[0].map_public_ip
        mine = Event.account_id == tenant.account_id
        assert list(session.scalars(sa.select(Event.event_type).where(mine))) == []  # implicit
    with core.db.write() as session:
        again = nets.default_network(session, tenant, list_zones(session)[0])
        assert again.id == tiers[0].id
    assert used(core, tenant.account_id, ResourceType.VPC) == 1
    assert used(core, tenant.account_id, ResourceType.NETWORK) == 1


def test_a_new_zone_gets_a_default_subnet_for_every_account(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-b")
    with core.db.write() as session:
        zone = add_zone(session, core.admin_context(), name="zone-two")
    with core.db.read() as session:
        tiers, _ = nets.list_networks(session, tenant, ListScope(), zone_id=zone.id)
        assert [(t.cidr, t.is_default) for t in tiers] == [("172.31.16.0/20", True)]
        admin_tiers, _ = nets.list_networks(session, core.admin_context(), ListScope())
        assert {t.zone_id for t in admin_tiers} == {list_zones(session)[0].id, zone.id}


def test_tiers_lie_inside_the_vpc_and_never_overlap(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-c")
    vpc = make_vpc(core, tenant)
    tier = make_tier(core, tenant, vpc, "10.0.1.0/24")
    assert (tier.gateway, tier.netmask, tier.state) == ("10.0.1.1", "255.255.255.0", "Allocated")
    with core.db.read() as session:
        mine = Event.account_id == tenant.account_id
        kinds = list(session.scalars(sa.select(Event.event_type).where(mine).order_by(Event.id)))
        assert kinds == ["VPC.CREATE", "NETWORK.CREATE"]
    with pytest.raises(InvalidParameter) as outside:
        make_tier(core, tenant, vpc, "10.1.0.0/24")
    assert outside.value.parameter == "cidr"
    with pytest.raises(Conflict, match="conflicts"):
        make_tier(core, tenant, vpc, "10.0.1.128/25")
    with pytest.raises(InvalidParameter, match="invalid"):
        make_vpc(core, tenant, cidr="10.0.0.0/33")
    # CloudStack's gateway + netmask form
    by_gateway = make_tier(
        core, tenant, vpc, None, "g", gateway="10.0.2.1", netmask="255.255.255.0"
    )
    assert by_gateway.cidr == "10.0.2.0/24"


def test_delete_vpc_refused_while_tiers_remain(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-d")
    vpc = make_vpc(core, tenant)
    tier = make_tier(core, tenant, vpc, "10.0.0.0/24")
    assert used(core, tenant.account_id, ResourceType.VPC) == 2
    with pytest.raises(ResourceInUse):
        delete_vpc(core, tenant, vpc)
    delete_tier(core, tenant, tier)
    delete_vpc(core, tenant, vpc)
    assert used(core, tenant.account_id, ResourceType.VPC) == 1
    assert used(core, tenant.account_id, ResourceType.NETWORK) == 1
    with pytest.raises(NotFound), core.db.read() as session:
        nets.get_vpc(session, tenant, uuid=vpc.uuid)


def test_removing_a_vpc_and_its_tier_removes_their_tags(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-tags")
    vpc = make_vpc(core, tenant, cidr="10.9.0.0/16")
    tier = make_tier(core, tenant, vpc, "10.9.1.0/24")
    with core.db.write() as session:
        tags.create_tags(
            session, tenant, resource_type="Vpc", resource_uuids=[vpc.uuid], tags={"a": "1"}
        )
        tags.create_tags(
            session, tenant, resource_type="Network", resource_uuids=[tier.uuid], tags={"b": "2"}
        )
    with core.db.read() as session:
        assert [t.key for t in tags.tags_of(session, "Vpc", [vpc.id])[vpc.id]] == ["a"]
    delete_tier(core, tenant, tier)
    delete_vpc(core, tenant, vpc)
    with core.db.read() as session:
        assert tags.tags_of(session, "Vpc", [vpc.id]) == {vpc.id: []}
        assert tags.tags_of(session, "Network", [tier.id]) == {tier.id: []}
        rows, total = tags.list_tags(session, tenant, ListScope())
        assert total == 0 and rows == []


def test_limits_are_enforced(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-e")
    with core.db.write() as session:
        limits.set_limit(session, tenant.account_id, ResourceType.VPC, 1)
    with pytest.raises(LimitExceeded):
        make_vpc(core, tenant)


def test_network_in_use_cannot_be_deleted(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-f")
    with core.db.write() as session:
        vm = idle_vm(session, tenant)
        network = nets.default_network(session, tenant, list_zones(session)[0])
        nic = nets.add_vm_to_network(session, network, vm)
        assert nic.ip_address == "172.31.0.4"  # .0–.3 are the network's (AWS reserves them)
        assert nets.add_vm_to_network(session, network, vm).id == nic.id
        assert nets.used_addresses(session, [network.id]) == {network.id: 1}
        network_id = network.id
    with pytest.raises(ResourceInUse), core.db.write() as session:
        nets.delete_network(session, tenant, session.get_one(Network, network_id))
    with core.db.read() as session:
        assert session.get_one(Network, network_id).state == "Implemented"


def test_tenants_are_isolated(core: CoreHarness) -> None:
    owner, other = core.new_tenant("net-g"), core.new_tenant("net-h")
    vpc = make_vpc(core, owner)
    tier = make_tier(core, owner, vpc, "10.0.0.0/24")
    with core.db.read() as session:
        with pytest.raises(NotFound):
            nets.get_vpc(session, other, uuid=vpc.uuid)
        with pytest.raises(NotFound):
            nets.get_network(session, other, uuid=tier.uuid)
        assert vpc.id not in {v.id for v in nets.list_vpcs(session, other, ListScope())[0]}
        admin_all, _ = nets.list_vpcs(session, core.admin_context(), ListScope(list_all=True))
        assert vpc.id in {v.id for v in admin_all}
    with pytest.raises(NotFound):
        delete_vpc(core, other, vpc)
    with pytest.raises(NotFound):  # someone else's VPC
        make_tier(core, other, vpc, "10.0.9.0/24", "x")


def test_offering_must_suit_the_network(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-i")
    vpc = make_vpc(core, tenant)
    with core.db.read() as session:
        plain = list_network_offerings(session, name="DefaultIsolatedNetworkOffering")[0]
    with pytest.raises(InvalidParameter, match="VPC"):
        make_tier(core, tenant, vpc, "10.0.0.0/24", "x", offering=plain)
    with core.db.write() as session:
        isolated = nets.create_network(
            session, tenant, zone=list_zones(session)[0], offering=plain, name="iso"
        )
        assert (isolated.cidr, isolated.vpc_id) == (list_zones(session)[0].guest_cidr, None)


def test_concurrent_default_creation_makes_one(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-j")
    with core.db.write() as session:  # start from an account without defaults
        for network in nets.list_networks(session, tenant, ListScope())[0]:
            remove_network(session, tenant, network)
        for vpc in nets.list_vpcs(session, tenant, ListScope())[0]:
            remove_vpc(session, tenant, vpc)
    found: list[tuple[int, int]] = []
    failures: list[BaseException] = []

    def create() -> None:
        try:
            with core.db.write() as session:
                network = nets.default_network(session, tenant, list_zones(session)[0])
                found.append((network.id, network.vpc_id or 0))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(set(found)) == 1
    with core.db.read() as session:
        assert nets.list_vpcs(session, tenant, ListScope())[1] == 1
        assert nets.list_networks(session, tenant, ListScope())[1] == 1
    assert used(core, tenant.account_id, ResourceType.VPC) == 1


def test_deleting_an_account_removes_its_networks(core: CoreHarness) -> None:
    tenant = core.new_tenant("net-k")
    vpc = make_vpc(core, tenant)
    make_tier(core, tenant, vpc, "10.0.0.0/24")
    with core.db.write() as session:
        zone = list_zones(session)[0]
        vm = idle_vm(session, tenant)
        nets.add_vm_to_network(session, nets.default_network(session, tenant, zone), vm)
        account = session.get_one(Account, tenant.account_id)
        job = identity_admin.delete_account(session, core.admin_context(), account)
        job_uuid = job.uuid
    assert core.wait(job_uuid).status == 1
    with core.db.read() as session:
        live_networks = session.scalar(
            sa.select(sa.func.count()).where(
                Network.account_id == tenant.account_id, Network.removed.is_(None)
            )
        )
        mine = sa.and_(Vpc.account_id == tenant.account_id, Vpc.removed.is_(None))
        live_vpcs = session.scalar(sa.select(sa.func.count()).where(mine))
        assert (live_networks, live_vpcs) == (0, 0)
    assert used(core, tenant.account_id, ResourceType.VPC) == 0
    assert used(core, tenant.account_id, ResourceType.NETWORK) == 0
