"""Security group commands through the real server: cs for behaviour, NativeCaller for wire."""

from __future__ import annotations

import pytest
from cs import CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client, native_caller
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def keys_a(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "sg-api-a")


def test_default_group_and_rules_with_cs(server: ServerProcess, keys_a) -> None:
    cs = cs_client(server, keys_a)
    listed = cs.listSecurityGroups()
    assert listed["count"] == 1
    default = listed["securitygroup"][0]
    assert (default["name"], default["description"]) == ("default", "Default Security Group")
    assert default["ingressrule"] == [] and default["account"] == "sg-api-a"

    web = cs.createSecurityGroup(name="web", description="web servers")["securitygroup"]
    assert web["name"] == "web" and web["description"] == "web servers"
    result = cs.authorizeSecurityGroupIngress(
        securitygroupid=web["id"], protocol="tcp", startport=80, endport=443,
        cidrlist="0.0.0.0/0,10.0.0.0/8",
    )  # fmt: skip
    rules = result["securitygroup"]["ingressrule"]
    assert {(r["protocol"], r["startport"], r["endport"], r["cidr"]) for r in rules} == {
        ("tcp", 80, 443, "0.0.0.0/0"),
        ("tcp", 80, 443, "10.0.0.0/8"),
    }
    by_group = cs.authorizeSecurityGroupIngress(
        securitygroupname="web", protocol="udp", startport=53, endport=53,
        usersecuritygrouplist=[{"account": "sg-api-a", "group": "default"}],
    )  # fmt: skip
    group_rule = next(r for r in by_group["securitygroup"]["ingressrule"] if r["protocol"] == "udp")
    assert group_rule["securitygroupname"] == "default" and group_rule["account"] == "sg-api-a"
    egress = cs.authorizeSecurityGroupEgress(
        securitygroupid=web["id"], protocol="icmp", icmptype=8, icmpcode=0, cidrlist="0.0.0.0/0"
    )["securitygroup"]["egressrule"]
    assert egress[0]["icmptype"] == 8 and egress[0]["icmpcode"] == 0

    revoke = cs.revokeSecurityGroupIngress(id=group_rule["ruleid"])
    assert revoke.get("success") in (True, "true")
    after = cs.listSecurityGroups(securitygroupname="web")["securitygroup"][0]
    assert len(after["ingressrule"]) == 2 and len(after["egressrule"]) == 1
    cs.revokeSecurityGroupEgress(id=egress[0]["ruleid"])
    assert cs.listSecurityGroups(id=web["id"])["securitygroup"][0]["egressrule"] == []
    assert cs.listSecurityGroups(keyword="we")["count"] == 1
    assert cs.deleteSecurityGroup(name="web")["success"] in (True, "true")
    assert cs.listSecurityGroups(id=web["id"]) == {}


def test_wire_errors(server: ServerProcess, keys_a) -> None:
    caller = native_caller(server, keys_a)
    caller.call("createSecurityGroup", name="wire")
    reply = caller.request("createSecurityGroup", name="wire")
    assert reply.status_code == 431
    rule = {"securitygroupname": "wire", "protocol": "tcp", "startport": 22, "endport": 22}
    job = caller.call("authorizeSecurityGroupIngress", cidrlist="1.2.3.0/24", **rule)["jobid"]
    done = caller.wait_job(job)
    assert done["jobstatus"] == 1
    assert done["cmd"].endswith("AuthorizeSecurityGroupIngressCmd")
    assert done["jobresult"]["securitygroup"]["name"] == "wire"
    reply = caller.request("authorizeSecurityGroupIngress", cidrlist="1.2.3.0/24", **rule)
    body = reply.json()["authorizesecuritygroupingressresponse"]
    assert reply.status_code == 537 and body["errorcode"] == 537 and body["cserrorcode"] == 4360
    reply = caller.request(
        "authorizeSecurityGroupIngress", securitygroupname="wire", protocol="tcp", startport=9,
        endport=1, cidrlist="0.0.0.0/0",
    )  # fmt: skip
    assert reply.status_code == 431
    reply = caller.request("deleteSecurityGroup", name="default")
    assert reply.status_code == 431
    reply = caller.request("revokeSecurityGroupIngress", id="00000000-0000-0000-0000-000000000000")
    assert reply.status_code == 431


def test_vm_membership(server: ServerProcess, demo: dict[str, str]) -> None:
    keys = create_tenant(server, "sg-api-vm")
    cs = cs_client(server, keys)
    web = cs.createSecurityGroup(name="web")["securitygroup"]
    vm = cs.deployVirtualMachine(securitygroupids=web["id"], **demo)["virtualmachine"]
    assert [g["name"] for g in vm["securitygroup"]] == ["web"]
    plain = cs.deployVirtualMachine(**demo)["virtualmachine"]
    assert [g["name"] for g in plain["securitygroup"]] == ["default"]
    listed = cs.listSecurityGroups(virtualmachineid=vm["id"])["securitygroup"]
    assert [g["name"] for g in listed] == ["web"]
    assert listed[0]["virtualmachinecount"] == 1 and listed[0]["virtualmachineids"] == [vm["id"]]
    reply = native_caller(server, keys).request("deleteSecurityGroup", id=web["id"])
    assert reply.status_code == 536
    assert reply.json()["deletesecuritygroupresponse"]["errorcode"] == 536


def test_tenant_isolation_and_roles(server: ServerProcess, keys_a, admin: NativeCaller) -> None:
    owner = cs_client(server, keys_a)
    group = owner.createSecurityGroup(name="private")["securitygroup"]
    other_keys = create_tenant(server, "sg-api-b")
    other = cs_client(server, other_keys)
    assert [g["name"] for g in other.listSecurityGroups(listall=True)["securitygroup"]] == [
        "default"
    ]
    assert other.listSecurityGroups(id=group["id"]) == {}
    for command, params in (
        ("deleteSecurityGroup", {"id": group["id"]}),
        (
            "authorizeSecurityGroupIngress",
            {"securitygroupid": group["id"], "protocol": "all", "cidrlist": "0.0.0.0/0"},
        ),
    ):
        reply = native_caller(server, other_keys).request(command, **params)
        assert reply.status_code == 431, (command, reply.text)
    with pytest.raises(CloudStackApiException):
        other.deleteSecurityGroup(name="private")
    names = {g["name"] for g in admin.call("listSecurityGroups", listall=True)["securitygroup"]}
    assert "private" in names
    assert admin.call("listSecurityGroups", id=group["id"], listall=True)["count"] == 1


def test_tags_filter_and_render(server: ServerProcess) -> None:
    cs = cs_client(server, create_tenant(server, "sg-api-tags"))
    tagged = cs.createSecurityGroup(name="tagged")["securitygroup"]
    cs.createSecurityGroup(name="untagged")
    cs.createTags(
        resourcetype="SecurityGroup",
        resourceids=tagged["id"],
        tags=[{"key": "env", "value": "prod"}],
    )
    found = cs.listSecurityGroups(tags=[{"key": "env", "value": "prod"}])
    assert [g["name"] for g in found["securitygroup"]] == ["tagged"]
    assert [(t["key"], t["value"]) for t in found["securitygroup"][0]["tags"]] == [("env", "prod")]
    assert cs.listSecurityGroups(tags=[{"key": "env", "value": "dev"}]) == {}
