"""Firewall, port forwarding and IP forwarding rules on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import network_rules as rules
from core import public_ips as ips
from core.errors import InvalidParameter, NetworkRuleConflict, NotFound
from core.events import Event
from core.jobs import SUCCEEDED
from core.network_rules import FIREWALL, PORT_FORWARDING, STATIC_NAT, NetworkRule
from core.visibility import ListScope
from core.vms import service as vms
from tests.core.conftest import CoreHarness
from tests.core.test_public_ips import acquire, add_range, deploy


def forward(core: CoreHarness, ctx, ip_uuid: str, vm_uuid: str, public: int, **kw) -> str:
    with core.db.write() as session:
        rule, job = rules.create_port_forwarding_rule(
            session,
            ctx,
            ips.get_public_ip(session, ctx, ip_uuid),
            vms.get_vm(session, ctx, uuid=vm_uuid),
            protocol=kw.pop("protocol", "tcp"),
            public_port=public,
            private_port=kw.pop("private_port", 22),
            **kw,
        )
        assert rule.state == rules.ADD
        uuid, job_uuid = rule.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    return uuid


def listed(core: CoreHarness, ctx, purpose: str) -> list[tuple[str, str]]:
    with core.db.read() as session:
        rows, _ = rules.list_rules(session, ctx, ListScope(), purpose)
        return [(row.uuid, row.state) for row in rows]


def delete(core: CoreHarness, ctx, purpose: str, uuid: str) -> None:
    with core.db.write() as session:
        job_uuid = rules.delete_rule(session, ctx, rules.get_rule(session, ctx, purpose, uuid)).uuid
    assert core.wait(job_uuid).status == SUCCEEDED


def release(core: CoreHarness, ctx, ip_uuid: str) -> None:
    with core.db.write() as session:
        job_uuid = ips.disassociate_ip(session, ctx, ips.get_public_ip(session, ctx, ip_uuid)).uuid
    assert core.wait(job_uuid).status == SUCCEEDED


def test_port_forwarding_lifecycle_and_conflicts(core: CoreHarness) -> None:
    add_range(core)
    tenant = core.new_tenant("pf-a")
    ip_uuid, vm_uuid = acquire(core, tenant), deploy(core, tenant)
    first = forward(core, tenant, ip_uuid, vm_uuid, 2200, public_end_port=2210, private_end_port=32)
    assert listed(core, tenant, PORT_FORWARDING) == [(first, rules.ACTIVE)]
    with pytest.raises(NetworkRuleConflict, match="conflicts with rule"):
        forward(core, tenant, ip_uuid, vm_uuid, 2210)
    forward(core, tenant, ip_uuid, vm_uuid, 2210, protocol="udp")  # other protocol: fine
    with pytest.raises(InvalidParameter, match="equal size"):
        forward(core, tenant, ip_uuid, vm_uuid, 3000, public_end_port=3001)
    with pytest.raises(InvalidParameter, match="tcp or udp"):
        forward(core, tenant, ip_uuid, vm_uuid, 3000, protocol="icmp")
    with pytest.raises(InvalidParameter):
        forward(core, tenant, ip_uuid, vm_uuid, 70000)
    delete(core, tenant, PORT_FORWARDING, first)
    assert [uuid for uuid, _ in listed(core, tenant, PORT_FORWARDING)] != [first]
    assert len(listed(core, tenant, PORT_FORWARDING)) == 1
    forward(core, tenant, ip_uuid, vm_uuid, 2210)  # the range is free again
    with core.db.read() as session:
        types = set(session.scalars(sa.select(Event.event_type)))
        assert {"NET.RULEADD", "NET.RULEDELETE"} <= types


def test_port_forwarding_needs_same_account_and_no_static_nat(core: CoreHarness) -> None:
    add_range(core)
    tenant, other = core.new_tenant("pf-b"), core.new_tenant("pf-c")
    ip_uuid, vm_uuid = acquire(core, tenant), deploy(core, tenant)
    other_vm = deploy(core, other)
    with pytest.raises(NotFound):  # someone else's VM is invisible
        forward(core, tenant, ip_uuid, other_vm, 22)
    with pytest.raises(NotFound):  # and so is someone else's address
        forward(core, other, ip_uuid, other_vm, 22)
    admin = core.admin_context()
    with pytest.raises(InvalidParameter, match="different accounts"):
        forward(core, admin, ip_uuid, other_vm, 22)
    with core.db.write() as session:
        ips.enable_static_nat(
            session,
            tenant,
            ips.get_public_ip(session, tenant, ip_uuid),
            vms.get_vm(session, tenant, uuid=vm_uuid),
        )
    with pytest.raises(NetworkRuleConflict, match="static NAT"):
        forward(core, tenant, ip_uuid, vm_uuid, 22)


def test_rules_vanish_with_their_address(core: CoreHarness) -> None:
    add_range(core, "203.0.113.10", "203.0.113.10")  # one address: re-acquired below
    tenant = core.new_tenant("pf-d")
    ip_uuid, vm_uuid = acquire(core, tenant), deploy(core, tenant)
    rule = forward(core, tenant, ip_uuid, vm_uuid, 22)
    with core.db.write() as session:
        address = ips.get_public_ip(session, tenant, ip_uuid)
        _, job = rules.create_firewall_rule(session, tenant, address, protocol="tcp", start_port=22)
        job_uuid = job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    release(core, tenant, ip_uuid)
    assert listed(core, tenant, PORT_FORWARDING) == []
    assert listed(core, tenant, FIREWALL) == []
    with pytest.raises(NotFound), core.db.read() as session:
        rules.get_rule(session, tenant, PORT_FORWARDING, rule)
    # The same address, acquired again, starts without rules; the first write purges them.
    again = acquire(core, tenant)
    assert again == ip_uuid
    assert listed(core, tenant, PORT_FORWARDING) == []
    forward(core, tenant, again, vm_uuid, 22)
    with core.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(NetworkRule)) == 1


def test_firewall_rules(core: CoreHarness) -> None:
    add_range(core)
    tenant = core.new_tenant("fw-a")
    ip_uuid = acquire(core, tenant)

    def open_(**kw) -> str:
        with core.db.write() as session:
            rule, job = rules.create_firewall_rule(
                session, tenant, ips.get_public_ip(session, tenant, ip_uuid), **kw
            )
            uuid, job_uuid = rule.uuid, job.uuid
        assert core.wait(job_uuid).status == SUCCEEDED
        return uuid

    ssh = open_(protocol="TCP", start_port=22, cidr_list=["10.0.0.0/8"])
    open_(protocol="tcp", start_port=22, cidr_list=["192.168.0.0/16"])  # other sources
    with pytest.raises(NetworkRuleConflict):
        open_(protocol="tcp", start_port=20, end_port=25, cidr_list=["10.0.0.0/8"])
    ping = open_(protocol="icmp", icmp_type=8, icmp_code=0)
    with pytest.raises(NetworkRuleConflict):
        open_(protocol="icmp", icmp_type=8, icmp_code=0)
    with pytest.raises(InvalidParameter):
        open_(protocol="gre")
    with pytest.raises(InvalidParameter, match="CIDR"):
        open_(protocol="udp", start_port=53, cidr_list=["not-a-cidr"])
    with core.db.read() as session:
        row = rules.get_rule(session, tenant, FIREWALL, ping)
        assert (row.icmp_type, row.icmp_code, row.cidrs) == (8, 0, ["0.0.0.0/0"])
        assert rules.get_rule(session, tenant, FIREWALL, ssh).protocol == "tcp"
        with pytest.raises(NotFound):  # a firewall rule is not a port forwarding rule
            rules.get_rule(session, tenant, PORT_FORWARDING, ssh)
    assert len(listed(core, tenant, FIREWALL)) == 3
    other = core.new_tenant("fw-b")
    assert listed(core, other, FIREWALL) == []
    with pytest.raises(NotFound), core.db.read() as session:
        rules.get_rule(session, other, FIREWALL, ssh)
    delete(core, tenant, FIREWALL, ssh)
    assert len(listed(core, tenant, FIREWALL)) == 2
    with core.db.read() as session:
        types = set(session.scalars(sa.select(Event.event_type)))
        assert {"NET.FIREWALLOPEN", "NET.FIREWALLCLOSE"} <= types


def test_ip_forwarding_rules_follow_static_nat(core: CoreHarness) -> None:
    add_range(core)
    tenant = core.new_tenant("ipf-a")
    ip_uuid, vm_uuid = acquire(core, tenant), deploy(core, tenant)

    def create(start: int, end: int | None = None) -> str:
        with core.db.write() as session:
            rule, job = rules.create_ip_forwarding_rule(
                session,
                tenant,
                ips.get_public_ip(session, tenant, ip_uuid),
                protocol="tcp",
                start_port=start,
                end_port=end,
            )
            uuid, job_uuid = rule.uuid, job.uuid
        assert core.wait(job_uuid).status == SUCCEEDED
        return uuid

    with pytest.raises(InvalidParameter, match="Static nat is not enabled"):
        create(22)
    with core.db.write() as session:
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        ips.enable_static_nat(session, tenant, ips.get_public_ip(session, tenant, ip_uuid), vm)
        vm_id = vm.id
    rule = create(1, 100)
    with pytest.raises(NetworkRuleConflict):
        create(100, 200)
    create(101, 200)
    with core.db.read() as session:
        row = rules.get_rule(session, tenant, STATIC_NAT, rule)
        assert row.vm_id == vm_id
        rows, _ = rules.list_rules(session, tenant, ListScope(), STATIC_NAT, vm_id=vm_id)
        assert len(rows) == 2
    delete(core, tenant, STATIC_NAT, rule)
    assert len(listed(core, tenant, STATIC_NAT)) == 1
    with core.db.write() as session:  # disabling static NAT takes its rules along
        job_uuid = ips.disable_static_nat(
            session, tenant, ips.get_public_ip(session, tenant, ip_uuid)
        ).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert listed(core, tenant, STATIC_NAT) == []


def test_rules_to_an_expunged_vm_are_gone(core: CoreHarness) -> None:
    add_range(core)
    tenant = core.new_tenant("pf-e")
    ip_uuid, vm_uuid = acquire(core, tenant), deploy(core, tenant)
    forward(core, tenant, ip_uuid, vm_uuid, 22)
    with core.db.write() as session:
        vm = vms.get_vm(session, tenant, uuid=vm_uuid)
        job_uuid = vms.destroy_vm(session, core.admin_context(), vm, expunge=True).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert listed(core, tenant, PORT_FORWARDING) == []
