"""Deploying a VM into a guest network, on both databases: the NIC is made in the deploy's
transaction, its address is the VM's private address, a chosen address is checked, and a
refused deploy leaves nothing behind."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
import sqlalchemy as sa

from core import networks as nets
from core.context import CallContext
from core.errors import InvalidParameter, NotFound
from core.infra import list_zones
from core.networks import AddressInUse, Network, Nic
from core.offerings import list_service_offerings
from core.templates import list_templates
from core.vms import service as vms
from core.vms.models import VirtualMachine
from tests.core.conftest import CoreHarness


def spec(session: sa.orm.Session, ctx: CallContext, **changes: object) -> vms.DeploySpec:
    base = vms.DeploySpec(
        zone=list_zones(session)[0],
        service_offering=list_service_offerings(session, name="Small Instance")[0],
        template=list_templates(session, ctx, template_filter="featured")[0],
        start=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def default_network_id(core: CoreHarness, ctx: CallContext) -> int:
    with core.db.write() as session:
        return nets.default_network(session, ctx, list_zones(session)[0]).id


def vm_count(core: CoreHarness, ctx: CallContext) -> int:
    with core.db.read() as session:
        return len(
            session.scalars(
                sa.select(VirtualMachine).where(VirtualMachine.account_id == ctx.account_id)
            ).all()
        )


def test_deploy_into_a_network_gives_the_vm_its_nic(core: CoreHarness) -> None:
    tenant = core.new_tenant("nic-a")
    network_id = default_network_id(core, tenant)
    with core.db.write() as session:
        first, _ = vms.deploy_vm(session, tenant, spec(session, tenant, network_id=network_id))
        chosen, _ = vms.deploy_vm(
            session, tenant, spec(session, tenant, network_id=network_id, ip_address="172.31.3.9")
        )
        ids = (first.id, chosen.id)
    with core.db.read() as session:
        first, chosen = (session.get_one(VirtualMachine, vm_id) for vm_id in ids)
        [nic] = nets.nics_of_vm(session, first.id)
        assert (nic.network_id, nic.ip_address, nic.is_default) == (network_id, "172.31.0.4", True)
        assert first.private_ip == "172.31.0.4"
        assert chosen.private_ip == "172.31.3.9"
        assert [n.ip_address for n in nets.nics_of_vm(session, chosen.id)] == ["172.31.3.9"]
        network = session.get_one(Network, network_id)
        assert ipaddress.ip_address(first.private_ip) in ipaddress.ip_network(network.cidr)
        assert nets.default_networks_of(session, list(ids)) == {
            first.id: network,
            chosen.id: network,
        }
        assert nets.vm_ids_in(session, network_id) == list(ids)


def test_a_refused_deploy_leaves_nothing(core: CoreHarness) -> None:
    tenant = core.new_tenant("nic-b")
    network_id = default_network_id(core, tenant)
    with core.db.write() as session:
        vms.deploy_vm(
            session, tenant, spec(session, tenant, network_id=network_id, ip_address="172.31.0.50")
        )
    before = vm_count(core, tenant)
    refused = [
        ({"network_id": network_id, "ip_address": "172.31.0.50"}, AddressInUse),
        ({"network_id": network_id, "ip_address": "10.9.9.9"}, InvalidParameter),
        ({"network_id": network_id, "ip_address": "172.31.0.2"}, InvalidParameter),  # reserved
        ({"network_id": network_id, "ip_address": "not-an-address"}, InvalidParameter),
        ({"ip_address": "172.31.0.60"}, InvalidParameter),  # an address needs a network
    ]
    for changes, error in refused:
        with pytest.raises(error), core.db.write() as session:
            vms.deploy_vm(session, tenant, spec(session, tenant, **changes))
    assert vm_count(core, tenant) == before
    with core.db.read() as session:
        nics = session.scalars(sa.select(Nic).where(Nic.network_id == network_id)).all()
        assert [nic.ip_address for nic in nics] == ["172.31.0.50"]


def test_another_accounts_network_is_not_found(core: CoreHarness) -> None:
    owner, other = core.new_tenant("nic-c"), core.new_tenant("nic-d")
    network_id = default_network_id(core, owner)
    before = vm_count(core, other)
    with pytest.raises(NotFound), core.db.write() as session:
        vms.deploy_vm(session, other, spec(session, other, network_id=network_id))
    assert vm_count(core, other) == before


def test_without_a_network_the_zone_address_is_kept(core: CoreHarness) -> None:
    tenant = core.new_tenant("nic-e")
    with core.db.write() as session:
        vm, _ = vms.deploy_vm(session, tenant, spec(session, tenant))
        zone = list_zones(session)[0]
        assert nets.nics_of_vm(session, vm.id) == []
        assert ipaddress.ip_address(vm.private_ip) in ipaddress.ip_network(zone.guest_cidr)
