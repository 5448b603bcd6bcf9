"""updateResourceLimit / listResourceLimits / updateResourceCount over real HTTP."""

from __future__ import annotations

import pytest

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def limited(server: ServerProcess) -> NativeCaller:
    keys = create_tenant(server, "limited-tenant")
    return NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])


def test_account_limit_blocks_the_deploy(
    admin: NativeCaller, limited: NativeCaller, demo: dict[str, str]
) -> None:
    mine = limited.call("listResourceLimits")["resourcelimit"]
    assert len(mine) == 12
    vm_limit = next(r for r in mine if r["resourcetype"] == "0")
    assert vm_limit["resourcetypename"] == "user_vm" and vm_limit["max"] == 20
    domain_id = vm_limit["domainid"]

    # users may not change limits (the command is not theirs)
    assert limited.request("updateResourceLimit", resourcetype=0, max=5).status_code == 432

    updated = admin.call(
        "updateResourceLimit", resourcetype=0, max=1, account="limited-tenant", domainid=domain_id
    )["resourcelimit"]
    assert updated["max"] == 1 and updated["account"] == "limited-tenant"
    assert updated["resourcetype"] == "0"
    only = limited.call("listResourceLimits", resourcetypename="user_vm")["resourcelimit"]
    assert [r["max"] for r in only] == [1]

    first = limited.call("deployVirtualMachine", name="limit-1", startvm=False, **demo)
    limited.wait_job(first["jobid"])
    reply = limited.request("deployVirtualMachine", name="limit-2", startvm=False, **demo)
    assert reply.status_code == 535, reply.text

    bad = admin.request("updateResourceLimit", resourcetype=99, max=1, account="limited-tenant",
                        domainid=domain_id)  # fmt: skip
    assert bad.status_code == 431
    bad = admin.request("updateResourceLimit", resourcetype=0, max=-5, account="limited-tenant",
                        domainid=domain_id)  # fmt: skip
    assert bad.status_code == 431


def test_update_resource_count(admin: NativeCaller, limited: NativeCaller) -> None:
    domain_id = limited.call("listResourceLimits")["resourcelimit"][0]["domainid"]
    counted = admin.call(
        "updateResourceCount", domainid=domain_id, account="limited-tenant", resourcetype=0
    )["resourcecount"]
    assert counted == [
        {
            "account": "limited-tenant",
            "domainid": domain_id,
            "domain": "ROOT",
            "domainpath": "ROOT",
            "resourcetype": "0",
            "resourcetypename": "user_vm",
            "resourcecount": counted[0]["resourcecount"],
        }
    ]
    assert counted[0]["resourcecount"] >= 1
    assert limited.request("updateResourceCount", domainid=domain_id).status_code == 432


def test_domain_admin_sees_only_its_subtree(server: ServerProcess, admin: NativeCaller) -> None:
    keys = create_tenant(server, "limits-dadmin", role="domain-admin")
    domain_admin = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])
    own = domain_admin.call("listResourceLimits")["resourcelimit"]
    assert {r["account"] for r in own} == {"limits-dadmin"}
    domain_id = own[0]["domainid"]
    # its own account's limits are not its to change
    reply = domain_admin.request(
        "updateResourceLimit", resourcetype=0, max=3, account="limits-dadmin", domainid=domain_id
    )
    assert reply.status_code == 531
    # the ROOT domain has no limits to set
    reply = admin.request("updateResourceLimit", resourcetype=0, max=3, domainid=domain_id)
    assert reply.status_code == 431


def test_domain_limit_counts_its_accounts(admin: NativeCaller, demo: dict[str, str]) -> None:
    domain = admin.call("createDomain", name="limited-dept")["domain"]
    for name in ("dept-one", "dept-two"):
        admin.call(
            "createAccount",
            accounttype=0,
            username=name,
            password="pw",
            email=f"{name}@example.com",
            firstname=name,
            lastname="x",
            account=name,
            domainid=domain["id"],
        )
    limit = admin.call("updateResourceLimit", resourcetype=0, max=1, domainid=domain["id"])
    assert limit["resourcelimit"]["max"] == 1 and "account" not in limit["resourcelimit"]
    listed = admin.call("listResourceLimits", domainid=domain["id"], resourcetype=0)
    assert [r["max"] for r in listed["resourcelimit"]] == [1]

    first = admin.call(
        "deployVirtualMachine", account="dept-one", domainid=domain["id"], startvm=False, **demo
    )
    admin.wait_job(first["jobid"])
    second = admin.request(
        "deployVirtualMachine", account="dept-two", domainid=domain["id"], startvm=False, **demo
    )
    assert second.status_code == 535, second.text
    assert "domain" in second.json()["deployvirtualmachineresponse"]["errortext"]
