"""Firewall, port forwarding and IP forwarding rules through the real server."""

from __future__ import annotations

import pytest
from cs import CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, create_public_range, cs_client, native_caller
from tests.support.server import ServerProcess

_FIREWALL = "org.apache.cloudstack.api.command.user.firewall."


@pytest.fixture(scope="module")
def public_range(admin: NativeCaller, demo: dict[str, str]) -> dict:
    return create_public_range(admin, demo["zoneid"], 1)


def test_port_forwarding_rules(server: ServerProcess, demo: dict[str, str], public_range) -> None:
    cs = cs_client(server, create_tenant(server, "nr-api-a"))
    address = cs.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    vm = cs.deployVirtualMachine(**demo)["virtualmachine"]
    rule = cs.createPortForwardingRule(
        ipaddressid=address["id"],
        protocol="TCP",
        publicport=2222,
        privateport=22,
        virtualmachineid=vm["id"],
        openfirewall=True,
    )["portforwardingrule"]
    assert rule["state"] == "Active" and rule["protocol"] == "tcp"
    assert (rule["publicport"], rule["publicendport"]) == ("2222", "2222")
    assert (rule["privateport"], rule["privateendport"]) == ("22", "22")
    assert rule["virtualmachineid"] == vm["id"] and rule["virtualmachinename"] == vm["name"]
    assert rule["ipaddress"] == address["ipaddress"] and rule["ipaddressid"] == address["id"]
    assert rule["cidrlist"] == "0.0.0.0/0"
    listed = cs.listPortForwardingRules(ipaddressid=address["id"])
    assert listed["count"] == 1 and listed["portforwardingrule"][0]["id"] == rule["id"]
    with pytest.raises(CloudStackApiException) as conflict:
        cs.createPortForwardingRule(
            ipaddressid=address["id"],
            protocol="tcp",
            publicport=2220,
            publicendport=2230,
            privateport=20,
            privateendport=30,
            virtualmachineid=vm["id"],
        )
    assert conflict.value.error["errorcode"] == 537
    assert cs.deletePortForwardingRule(id=rule["id"])["success"] in (True, "true")
    assert cs.listPortForwardingRules() == {}
    # rules on a released address are gone with it
    cs.createPortForwardingRule(
        ipaddressid=address["id"],
        protocol="udp",
        publicport=53,
        privateport=53,
        virtualmachineid=vm["id"],
    )
    cs.disassociateIpAddress(id=address["id"])
    assert cs.listPortForwardingRules() == {}


def test_firewall_rules(server: ServerProcess, demo: dict[str, str], public_range) -> None:
    cs = cs_client(server, create_tenant(server, "nr-api-b"))
    address = cs.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    rule = cs.createFirewallRule(
        ipaddressid=address["id"], protocol="tcp", startport=80, endport=81, cidrlist="10.0.0.0/8"
    )["firewallrule"]
    assert (rule["startport"], rule["endport"], rule["cidrlist"]) == (80, 81, "10.0.0.0/8")
    ping = cs.createFirewallRule(
        ipaddressid=address["id"], protocol="icmp", icmptype=8, icmpcode=0
    )["firewallrule"]
    assert (ping["icmptype"], ping["icmpcode"]) == (8, 0) and "startport" not in ping
    listed = cs.listFirewallRules(ipaddressid=address["id"])
    assert listed["count"] == 2
    assert cs.listFirewallRules(id=ping["id"])["firewallrule"][0]["protocol"] == "icmp"
    assert cs.deleteFirewallRule(id=ping["id"])["success"] in (True, "true")
    assert cs.listFirewallRules()["count"] == 1


def test_ip_forwarding_rules(server: ServerProcess, demo: dict[str, str], public_range) -> None:
    keys = create_tenant(server, "nr-api-c")
    cs = cs_client(server, keys)
    address = cs.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    vm = cs.deployVirtualMachine(**demo)["virtualmachine"]
    caller = native_caller(server, keys)
    refused = caller.request(
        "createIpForwardingRule", ipaddressid=address["id"], protocol="tcp", startport=22
    )
    assert refused.status_code == 431  # static NAT is not enabled
    cs.enableStaticNat(ipaddressid=address["id"], virtualmachineid=vm["id"])
    rule = cs.createIpForwardingRule(
        ipaddressid=address["id"], protocol="tcp", startport=1, endport=1000
    )["ipforwardingrule"]
    assert (rule["startport"], rule["endport"]) == (1, 1000)
    assert rule["virtualmachineid"] == vm["id"] and rule["ipaddress"] == address["ipaddress"]
    assert cs.listIpForwardingRules(virtualmachineid=vm["id"])["count"] == 1
    pf = caller.request(
        "createPortForwardingRule",
        ipaddressid=address["id"],
        protocol="tcp",
        publicport=2222,
        privateport=22,
        virtualmachineid=vm["id"],
    )
    assert pf.status_code == 537  # static NAT address: no port forwarding
    cs.deleteIpForwardingRule(id=rule["id"])
    assert cs.listIpForwardingRules() == {}


def test_async_create_wire_and_events(
    server: ServerProcess, admin: NativeCaller, demo: dict[str, str], public_range
) -> None:
    keys = create_tenant(server, "nr-api-wire")
    caller = native_caller(server, keys)
    address = caller.wait_job(caller.call("associateIpAddress", zoneid=demo["zoneid"])["jobid"])
    ip_id = address["jobinstanceid"]
    body = caller.call("createFirewallRule", ipaddressid=ip_id, protocol="udp", startport=53)
    assert set(body) == {"id", "jobid"}
    done = caller.wait_job(body["jobid"])
    assert done["jobstatus"] == 1
    assert done["cmd"] == _FIREWALL + "CreateFirewallRuleCmd"
    assert done["jobinstanceid"] == body["id"]
    assert done["jobresult"]["firewallrule"]["id"] == body["id"]
    deleted = caller.wait_job(caller.call("deleteFirewallRule", id=body["id"])["jobid"])
    assert deleted["cmd"] == _FIREWALL + "DeleteFirewallRuleCmd"
    assert caller.request("createFirewallRule", ipaddressid=ip_id).status_code == 431
    events = {e["type"] for e in caller.call("listEvents").get("event", [])}
    assert {"NET.FIREWALLOPEN", "NET.FIREWALLCLOSE"} <= events


def test_tenant_isolation(
    server: ServerProcess, admin: NativeCaller, demo: dict[str, str], public_range
) -> None:
    owner = cs_client(server, create_tenant(server, "nr-api-d"))
    address = owner.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    vm = owner.deployVirtualMachine(**demo)["virtualmachine"]
    rule = owner.createPortForwardingRule(
        ipaddressid=address["id"],
        protocol="tcp",
        publicport=80,
        privateport=80,
        virtualmachineid=vm["id"],
    )["portforwardingrule"]
    fw = owner.createFirewallRule(ipaddressid=address["id"], protocol="tcp", startport=80)[
        "firewallrule"
    ]
    other_keys = create_tenant(server, "nr-api-e")
    other = cs_client(server, other_keys)
    other_vm = other.deployVirtualMachine(**demo)["virtualmachine"]
    assert other.listPortForwardingRules(listall=True) == {}
    assert other.listFirewallRules(listall=True) == {}
    caller = native_caller(server, other_keys)
    for command, params in (
        ("deletePortForwardingRule", {"id": rule["id"]}),
        ("deleteFirewallRule", {"id": fw["id"]}),
        ("deleteIpForwardingRule", {"id": rule["id"]}),
        ("listPortForwardingRules", {"ipaddressid": address["id"]}),
        (
            "createPortForwardingRule",
            {
                "ipaddressid": address["id"],
                "protocol": "tcp",
                "publicport": 81,
                "privateport": 81,
                "virtualmachineid": other_vm["id"],
            },
        ),
        ("createFirewallRule", {"ipaddressid": address["id"], "protocol": "tcp", "startport": 1}),
    ):
        assert caller.request(command, **params).status_code == 431, command
    seen = admin.call("listPortForwardingRules", listall=True, id=rule["id"])
    assert seen["count"] == 1 and seen["portforwardingrule"][0]["id"] == rule["id"]
    assert owner.listPortForwardingRules()["count"] == 1
