"""VPC and network commands through the real server: cs for behaviour, NativeCaller for the
wire (error codes, async jobs), limits, isolation and the default VPC of every account."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def cs_client(server: ServerProcess, keys: dict[str, str]) -> CloudStack:
    return CloudStack(
        endpoint=server.native_url,
        key=keys["apikey"],
        secret=keys["secretkey"],
        fetch_result=True,
        job_timeout=60,
        poll_interval=0.2,
    )


def caller(server: ServerProcess, keys: dict[str, str]) -> NativeCaller:
    return NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])


@pytest.fixture(scope="module")
def keys(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "net-api-a")


@pytest.fixture(scope="module")
def vpc_tier_offering(admin: NativeCaller) -> str:
    found = admin.call("listNetworkOfferings", name="DefaultIsolatedNetworkOfferingForVpcNetworks")
    return str(found["networkoffering"][0]["id"])


def make_vpc(cs: CloudStack, zone: str, name: str, cidr: str) -> dict[str, Any]:
    offering = cs.listVPCOfferings()["vpcoffering"][0]["id"]
    vpc: dict[str, Any] = cs.createVPC(
        name=name, displaytext=name, cidr=cidr, zoneid=zone, vpcofferingid=offering
    )["vpc"]
    return vpc


def test_every_account_has_a_default_vpc(server: ServerProcess, keys, demo) -> None:
    cs = cs_client(server, keys)
    [vpc] = cs.listVPCs()["vpc"]
    assert (vpc["name"], vpc["cidr"], vpc["state"]) == ("default", "172.31.0.0/16", "Enabled")
    assert vpc["vpcofferingname"] == "Default VPC offering" and vpc["account"] == "net-api-a"
    # one default tier per zone; other tests of this shared server may have added zones
    tier = {t["zoneid"]: t for t in vpc["network"]}[demo["zoneid"]]
    assert (tier["cidr"], tier["gateway"], tier["isdefault"]) == (
        "172.31.0.0/20",
        "172.31.0.1",
        True,
    )
    assert tier["zoneid"] == demo["zoneid"] and tier["vpcid"] == vpc["id"]
    assert tier["networkofferingname"] == "DefaultIsolatedNetworkOfferingForVpcNetworks"
    assert {n["id"] for n in cs.listNetworks()["network"]} == {t["id"] for t in vpc["network"]}
    [offering] = cs.listVPCOfferings()["vpcoffering"]
    assert offering["name"] == "Default VPC offering" and offering["isdefault"] is True
    assert cs.listVPCOfferings(name="other") == {}


def test_vpc_and_tier_lifecycle(server: ServerProcess, keys, demo, vpc_tier_offering) -> None:
    cs, wire = cs_client(server, keys), caller(server, keys)
    vpc = make_vpc(cs, demo["zoneid"], "app", "10.1.0.0/16")
    assert vpc["cidr"] == "10.1.0.0/16" and vpc["network"] == []
    tier = cs.createNetwork(
        name="web", displaytext="web tier", networkofferingid=vpc_tier_offering,
        zoneid=demo["zoneid"], vpcid=vpc["id"], gateway="10.1.1.1", netmask="255.255.255.0",
    )["network"]  # fmt: skip
    assert (tier["cidr"], tier["netmask"], tier["state"]) == (
        "10.1.1.0/24",
        "255.255.255.0",
        "Allocated",
    )
    assert (tier["type"], tier["traffictype"], tier["vpcname"]) == ("Isolated", "Guest", "app")
    assert [n["id"] for n in cs.listVPCs(id=vpc["id"])["vpc"][0]["network"]] == [tier["id"]]
    assert cs.listNetworks(vpcid=vpc["id"])["count"] == 1

    tier_params = {"name": "x", "networkofferingid": vpc_tier_offering, "zoneid": demo["zoneid"],
                   "vpcid": vpc["id"], "netmask": "255.255.255.0"}  # fmt: skip
    outside = wire.request("createNetwork", gateway="10.2.0.1", **tier_params)
    assert outside.status_code == 431
    overlap = wire.request("createNetwork", gateway="10.1.1.129", **tier_params)
    assert overlap.status_code == 431 and "conflicts" in overlap.text
    assert wire.request("deleteVPC", id=vpc["id"]).status_code == 536
    renamed = cs.updateNetwork(id=tier["id"], name="frontend")["network"]
    assert renamed["name"] == "frontend"
    updated = cs.updateVPC(id=vpc["id"], displaytext="application")["vpc"]
    assert updated["displaytext"] == "application"
    assert cs.deleteNetwork(id=tier["id"])["success"] in (True, "true")
    assert cs.deleteVPC(id=vpc["id"])["success"] in (True, "true")
    assert cs.listVPCs(id=vpc["id"]) == {}


def test_wire_details(server: ServerProcess, demo, vpc_tier_offering) -> None:
    keys = create_tenant(server, "net-api-wire")
    cs, wire = cs_client(server, keys), caller(server, keys)
    vpc = make_vpc(cs, demo["zoneid"], "w", "10.9.0.0/16")
    cs.createNetwork(name="t", networkofferingid=vpc_tier_offering, zoneid=demo["zoneid"],
                     vpcid=vpc["id"], gateway="10.9.0.1", netmask="255.255.255.0")  # fmt: skip
    busy = wire.request("deleteVPC", id=vpc["id"])
    assert busy.status_code == 536
    assert busy.json()["deletevpcresponse"]["errorcode"] == 536
    offering = cs.listVPCOfferings()["vpcoffering"][0]["id"]
    created = wire.call("createVPC", name="async", displaytext="a", cidr="10.8.0.0/16",
                        zoneid=demo["zoneid"], vpcofferingid=offering)  # fmt: skip
    assert set(created) == {"id", "jobid"}
    job = wire.wait_job(created["jobid"])
    assert (job["jobstatus"], job["jobinstancetype"], job["jobinstanceid"]) == (
        1,
        "Vpc",
        created["id"],
    )
    assert job["jobresult"]["vpc"]["cidr"] == "10.8.0.0/16"
    assert job["cmd"] == "org.apache.cloudstack.api.command.user.vpc.CreateVPCCmd"
    bad_cidr = wire.request("createVPC", name="b", displaytext="b", cidr="10.0.0.0/99",
                            zoneid=demo["zoneid"], vpcofferingid=offering)  # fmt: skip
    assert bad_cidr.status_code == 431
    unknown_offering = wire.request(
        "createVPC", name="c", displaytext="c", cidr="10.7.0.0/16", zoneid=demo["zoneid"],
        vpcofferingid=demo["zoneid"],
    )  # fmt: skip
    assert unknown_offering.status_code == 431
    isolated = cs.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingWithSourceNatService")
    plain = cs.createNetwork(
        name="plain", displaytext="p", zoneid=demo["zoneid"],
        networkofferingid=isolated["networkoffering"][0]["id"],
    )["network"]  # fmt: skip
    assert "vpcid" not in plain and plain["cidr"] == "10.1.0.0/16"
    assert [n["id"] for n in cs.listNetworks(forvpc=False)["network"]] == [plain["id"]]


def test_limits(server: ServerProcess, admin: NativeCaller, demo) -> None:
    keys = create_tenant(server, "net-api-limited")
    domain_id = admin.call("listDomains", name="ROOT")["domain"][0]["id"]
    admin.call("updateResourceLimit", resourcetype=7, max=1, account="net-api-limited",
               domainid=domain_id)  # fmt: skip
    offering = cs_client(server, keys).listVPCOfferings()["vpcoffering"][0]["id"]
    over = caller(server, keys).request("createVPC", name="one-too-many", displaytext="x",
                                        cidr="10.3.0.0/16", zoneid=demo["zoneid"],
                                        vpcofferingid=offering)  # fmt: skip
    assert over.status_code == 535
    limits = caller(server, keys).call("listResourceLimits", resourcetype=7)["resourcelimit"]
    assert [limit["max"] for limit in limits] == [1]


def test_tenant_isolation(server: ServerProcess, keys, admin: NativeCaller, demo) -> None:
    owner = cs_client(server, keys)
    vpc = make_vpc(owner, demo["zoneid"], "private", "10.5.0.0/16")
    other_keys = create_tenant(server, "net-api-b")
    other = cs_client(server, other_keys)
    assert vpc["id"] not in {v["id"] for v in other.listVPCs(listall=True)["vpc"]}
    assert other.listVPCs(id=vpc["id"]) == {}
    for command in ("deleteVPC", "updateVPC"):
        reply = caller(server, other_keys).request(command, id=vpc["id"])
        assert reply.status_code == 431, (command, reply.text)
    tier_offering = admin.call(
        "listNetworkOfferings", name="DefaultIsolatedNetworkOfferingForVpcNetworks"
    )["networkoffering"][0]["id"]
    sneaky = caller(server, other_keys).request(
        "createNetwork", name="n", networkofferingid=tier_offering, zoneid=demo["zoneid"],
        vpcid=vpc["id"], gateway="10.5.1.1", netmask="255.255.255.0",
    )  # fmt: skip
    assert sneaky.status_code == 431
    seen = admin.call("listVPCs", listall=True)["vpc"]
    assert vpc["id"] in {v["id"] for v in seen}
    assert admin.call("listVPCs", listall=True, account="net-api-a",
                      domainid=vpc["domainid"])["count"] == 2  # fmt: skip
