"""Public IP ranges, addresses and static NAT through the real server."""

from __future__ import annotations

import pytest

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, create_public_range, cs_client, native_caller
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def public_range(admin: NativeCaller, demo: dict[str, str]) -> dict:
    return create_public_range(admin, demo["zoneid"], 0)


def test_ranges_are_admin_only(server: ServerProcess, admin: NativeCaller, public_range) -> None:
    assert public_range["startip"] == "198.18.0.10" and public_range["vlan"] == "vlan://200"
    listed = admin.call("listVlanIpRanges", id=public_range["id"])
    assert listed["count"] == 1 and listed["vlaniprange"][0]["endip"] == "198.18.0.29"
    tenant = native_caller(server, create_tenant(server, "ip-api-user"))
    for command in ("createVlanIpRange", "listVlanIpRanges", "deleteVlanIpRange"):
        assert tenant.request(command, id=public_range["id"]).status_code == 432
    reply = admin.request(
        "createVlanIpRange", zoneid=public_range["zoneid"], startip="198.18.0.20",
        endip="198.18.0.40", gateway="198.18.0.1", netmask="255.255.255.0",
    )  # fmt: skip
    assert reply.status_code == 431  # overlaps the range above


def test_address_and_static_nat_lifecycle(
    server: ServerProcess, admin: NativeCaller, demo: dict[str, str], public_range
) -> None:
    keys = create_tenant(server, "ip-api-a")
    cs = cs_client(server, keys)
    address = cs.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    assert address["state"] == "Allocated" and address["account"] == "ip-api-a"
    # any range of the zone may serve it (other test modules add ranges to this server)
    ranges = admin.call("listVlanIpRanges", zoneid=demo["zoneid"])["vlaniprange"]
    assert any(
        address["ipaddress"].rsplit(".", 1)[0] == r["startip"].rsplit(".", 1)[0] for r in ranges
    )
    assert address["isstaticnat"] is False and address["issourcenat"] is False
    listed = cs.listPublicIpAddresses()
    assert listed["count"] == 1 and listed["publicipaddress"][0]["id"] == address["id"]
    assert cs.listPublicIpAddresses(ipaddress=address["ipaddress"])["count"] == 1
    assert cs.listPublicIpAddresses(isstaticnat=True) == {}

    vm = cs.deployVirtualMachine(**demo)["virtualmachine"]
    other_vm = cs.deployVirtualMachine(**demo)["virtualmachine"]
    assert cs.enableStaticNat(ipaddressid=address["id"], virtualmachineid=vm["id"])["success"] in (
        True,
        "true",
    )
    nat = cs.listPublicIpAddresses(id=address["id"])["publicipaddress"][0]
    assert nat["isstaticnat"] is True and nat["virtualmachineid"] == vm["id"]
    assert nat["virtualmachinename"] == vm["name"] and nat["vmipaddress"]
    shown = cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert (shown["publicip"], shown["publicipid"]) == (address["ipaddress"], address["id"])

    caller = native_caller(server, keys)
    reply = caller.request(
        "enableStaticNat", ipaddressid=address["id"], virtualmachineid=other_vm["id"]
    )
    body = reply.json()["enablestaticnatresponse"]
    assert reply.status_code == 537 and body["errorcode"] == 537 and body["cserrorcode"] == 4360
    second = cs.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    reply = caller.request("enableStaticNat", ipaddressid=second["id"], virtualmachineid=vm["id"])
    assert reply.status_code == 537

    job = caller.call("disableStaticNat", ipaddressid=address["id"])["jobid"]
    done = caller.wait_job(job)
    assert done["jobstatus"] == 1 and done["cmd"].endswith("DisableStaticNatCmd")
    assert "publicip" not in cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    cs.enableStaticNat(ipaddressid=second["id"], virtualmachineid=vm["id"])

    holding = next(
        r
        for r in admin.call("listVlanIpRanges", zoneid=demo["zoneid"])["vlaniprange"]
        if second["ipaddress"].rsplit(".", 1)[0] == r["startip"].rsplit(".", 1)[0]
    )
    reply = admin.request("deleteVlanIpRange", id=holding["id"])
    assert reply.status_code == 536
    for ip in (address, second):  # releasing disables static NAT first
        assert cs.disassociateIpAddress(id=ip["id"]).get("success") in (True, "true")
    assert cs.listPublicIpAddresses() == {}
    assert "publicip" not in cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    free = cs.listPublicIpAddresses(allocatedonly=False, ipaddress=address["ipaddress"])
    assert free["publicipaddress"][0]["state"] == "Free"


def test_async_create_wire(server: ServerProcess, demo: dict[str, str], public_range) -> None:
    caller = native_caller(server, create_tenant(server, "ip-api-wire"))
    body = caller.call("associateIpAddress", zoneid=demo["zoneid"])
    assert set(body) == {"id", "jobid"}
    done = caller.wait_job(body["jobid"])
    assert done["jobstatus"] == 1
    assert done["cmd"] == "org.apache.cloudstack.api.command.user.address.AssociateIPAddrCmd"
    assert done["jobinstanceid"] == body["id"]
    assert done["jobresult"]["ipaddress"]["id"] == body["id"]
    assert caller.request("associateIpAddress").status_code == 431  # no zone


def test_tenant_isolation(server: ServerProcess, admin: NativeCaller, demo, public_range) -> None:
    owner = cs_client(server, create_tenant(server, "ip-api-b"))
    address = owner.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    other_keys = create_tenant(server, "ip-api-c")
    other = cs_client(server, other_keys)
    assert other.listPublicIpAddresses(listall=True) == {}
    assert other.listPublicIpAddresses(id=address["id"]) == {}
    other_vm = other.deployVirtualMachine(**demo)["virtualmachine"]
    caller = native_caller(server, other_keys)
    for command, params in (
        ("disassociateIpAddress", {"id": address["id"]}),
        ("disableStaticNat", {"ipaddressid": address["id"]}),
        ("enableStaticNat", {"ipaddressid": address["id"], "virtualmachineid": other_vm["id"]}),
    ):
        assert caller.request(command, **params).status_code == 431, command
    seen = admin.call("listPublicIpAddresses", listall=True, id=address["id"])
    assert seen["publicipaddress"][0]["account"] == "ip-api-b"
    assert "vlanid" in seen["publicipaddress"][0]  # admin-only detail
    assert "vlanid" not in owner.listPublicIpAddresses()["publicipaddress"][0]


def test_tags_filter(server: ServerProcess, demo: dict[str, str], public_range) -> None:
    cs = cs_client(server, create_tenant(server, "ip-api-tags"))
    tagged = cs.associateIpAddress(zoneid=demo["zoneid"])["ipaddress"]
    cs.associateIpAddress(zoneid=demo["zoneid"])
    cs.createTags(
        resourcetype="PublicIpAddress",
        resourceids=tagged["id"],
        tags=[{"key": "role", "value": "lb"}],
    )
    found = cs.listPublicIpAddresses(tags=[{"key": "role", "value": "lb"}])["publicipaddress"]
    assert [ip["id"] for ip in found] == [tagged["id"]]
    assert found[0]["tags"][0]["key"] == "role"
    assert cs.listPublicIpAddresses()["count"] == 2


def test_zone_taken_from_network_or_vpc(
    server: ServerProcess, demo: dict[str, str], public_range
) -> None:
    keys = create_tenant(server, "ip-api-net")
    caller = native_caller(server, keys)
    # the account's default subnet in the demo zone (other tests may have added zones)
    network = next(
        n for n in caller.call("listNetworks")["network"] if n["zoneid"] == demo["zoneid"]
    )
    [vpc] = caller.call("listVpcs")["vpc"]
    by_network = caller.wait_job(
        caller.call("associateIpAddress", networkid=network["id"])["jobid"]
    )
    assert by_network["jobresult"]["ipaddress"]["zoneid"] == network["zoneid"] == demo["zoneid"]
    by_vpc = caller.wait_job(caller.call("associateIpAddress", vpcid=vpc["id"])["jobid"])
    assert by_vpc["jobresult"]["ipaddress"]["zoneid"] == vpc["zoneid"] == demo["zoneid"]
    assert by_vpc["jobresult"]["ipaddress"]["account"] == "ip-api-net"
    other = native_caller(server, create_tenant(server, "ip-api-net2"))
    for asked in ({"networkid": network["id"]}, {"vpcid": vpc["id"]}):
        refused = other.request("associateIpAddress", **asked)
        assert refused.status_code == 431, asked  # someone else's network is not found
    assert other.call("listPublicIpAddresses") == {}
    none = caller.request("associateIpAddress")
    assert none.status_code == 431
    assert "Please specify either zoneId, or networkId, or vpcId" in none.text
