"""Domains, accounts and users through the CloudStack API: behaviour with `cs`, wire details
and each role's view with NativeCaller."""

from __future__ import annotations

import uuid

import pytest
from cs import CloudStack, CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client, native_caller, unique
from tests.support.server import ServerProcess


def _name(prefix: str) -> str:
    return unique(prefix, 6)


@pytest.fixture(scope="module")
def cs_admin(server: ServerProcess) -> CloudStack:
    return cs_client(server)


def _account_with_keys(
    admin: NativeCaller, server: ServerProcess, *, domainid: str | None = None, accounttype: int = 0
) -> tuple[dict, NativeCaller]:
    name = _name("acct")
    params = {"domainid": domainid} if domainid else {}
    account = admin.call(
        "createAccount",
        username=name,
        password="secret",
        email=f"{name}@example.com",
        firstname="F",
        lastname="L",
        accounttype=accounttype,
        **params,
    )["account"]
    user_id = account["user"][0]["id"]
    keys = admin.call("registerUserKeys", id=user_id)["userkeys"]
    return account, native_caller(server, keys)


def test_domain_tree_create_update_list_delete(cs_admin: CloudStack) -> None:
    parent = cs_admin.createDomain(name=_name("sales"))["domain"]
    child = cs_admin.createDomain(name="eu", parentdomainid=parent["id"])["domain"]
    assert child["path"] == f"ROOT/{parent['name']}/eu"
    assert child["parentdomainid"] == parent["id"]
    assert child["level"] == 2

    renamed = cs_admin.updateDomain(id=parent["id"], name=parent["name"] + "x")["domain"]
    assert renamed["path"] == f"ROOT/{parent['name']}x"
    moved = cs_admin.listDomains(id=child["id"])["domain"][0]
    assert moved["path"] == f"ROOT/{parent['name']}x/eu"

    children = cs_admin.listDomainChildren(id=parent["id"])["domain"]
    assert [d["id"] for d in children] == [child["id"]]
    everything = cs_admin.listDomains(listall=True)["domain"]
    assert {parent["id"], child["id"]} <= {d["id"] for d in everything}
    assert [d["name"] for d in cs_admin.listDomains()["domain"]] == ["ROOT"]
    # without listall an admin's listAccounts names its own account only (CloudStack)
    assert [a["name"] for a in cs_admin.listAccounts()["account"]] == ["admin"]

    # without cleanup a domain with children stays (the job fails); with cleanup all goes
    with pytest.raises(CloudStackApiException):
        cs_admin.deleteDomain(id=parent["id"])
    assert cs_admin.listDomains(id=parent["id"])["domain"]
    cs_admin.createAccount(
        username=_name("u"),
        password="p",
        email="e@x",
        firstname="f",
        lastname="l",
        accounttype=0,
        domainid=child["id"],
    )
    assert cs_admin.deleteDomain(id=parent["id"], cleanup=True)["success"] is True
    assert cs_admin.listDomains(listall=True, name="eu").get("domain", []) == [] or all(
        d["id"] != child["id"] for d in cs_admin.listDomains(listall=True)["domain"]
    )


def test_account_lifecycle_with_cs(cs_admin: CloudStack, server: ServerProcess) -> None:
    name = _name("acme")
    account = cs_admin.createAccount(
        username=name,
        password="pw1",
        email="a@example.com",
        firstname="A",
        lastname="B",
        accounttype=0,
        account=name,
    )["account"]
    assert account["name"] == name
    assert account["accounttype"] == 0
    assert account["roletype"] == "User" and account["rolename"] == "User"
    assert account["state"] == "enabled"
    assert account["vmtotal"] == 0 and account["vmlimit"] == "20"
    assert account["user"][0]["username"] == name

    updated = cs_admin.updateAccount(id=account["id"], newname=name + "2")["account"]
    assert updated["name"] == name + "2"

    locked = cs_admin.disableAccount(id=account["id"], lock=True)["account"]
    assert locked["state"] == "locked"
    disabled = cs_admin.disableAccount(id=account["id"], lock=False)["account"]
    assert disabled["state"] == "disabled"
    enabled = cs_admin.enableAccount(id=account["id"])["account"]
    assert enabled["state"] == "enabled"

    assert cs_admin.deleteAccount(id=account["id"])["success"] is True
    with pytest.raises(CloudStackApiException) as gone:  # CloudStack: 431 unknown id
        cs_admin.listAccounts(id=account["id"])
    assert gone.value.error["errorcode"] == 431
    # the name is free again
    cs_admin.createAccount(
        username=name + "b",
        password="pw",
        email="a@x",
        firstname="A",
        lastname="B",
        accounttype=0,
        account=name + "2",
    )


def test_delete_account_destroys_its_vms(
    admin: NativeCaller, server: ServerProcess, demo: dict[str, str]
) -> None:
    account, caller = _account_with_keys(admin, server)
    started = caller.call("deployVirtualMachine", name="doomed", **demo)
    caller.wait_job(started["jobid"])
    job = admin.wait_job(admin.call("deleteAccount", id=account["id"])["jobid"])
    assert job["jobstatus"] == 1, job
    assert job["cmd"] == "org.apache.cloudstack.api.command.admin.account.DeleteAccountCmd"
    assert job["jobinstancetype"] == "Account" and job["jobinstanceid"] == account["id"]
    for _ in range(100):
        found = admin.call("listVirtualMachines", id=started["id"], listall=True)
        if not found or found["virtualmachine"][0]["state"] in ("Expunging", "Destroyed"):
            break
    else:
        raise AssertionError(found)
    assert caller.request("listZones").status_code == 401


def test_disabled_and_locked_users_and_accounts_fail_authentication(
    admin: NativeCaller, server: ServerProcess
) -> None:
    account, caller = _account_with_keys(admin, server)
    user_id = account["user"][0]["id"]
    assert caller.request("listZones").status_code == 200

    job = admin.wait_job(admin.call("disableUser", id=user_id)["jobid"])
    assert job["jobresult"]["user"]["state"] == "disabled"
    assert caller.request("listZones").status_code == 401
    assert admin.call("enableUser", id=user_id)["user"]["state"] == "enabled"
    assert caller.request("listZones").status_code == 200
    assert admin.call("lockUser", id=user_id)["user"]["state"] == "locked"
    assert caller.request("listZones").status_code == 401
    admin.call("enableUser", id=user_id)

    admin.call("lockAccount", account=account["name"], domainid=account["domainid"])
    assert caller.request("listZones").status_code == 401
    admin.call("enableAccount", id=account["id"])
    assert caller.request("listZones").status_code == 200


def test_users_and_keys(admin: NativeCaller, server: ServerProcess) -> None:
    account, _ = _account_with_keys(admin, server)
    second = admin.call(
        "createUser",
        account=account["name"],
        domainid=account["domainid"],
        username=_name("second"),
        password="pw",
        email="s@x",
        firstname="S",
        lastname="T",
    )["user"]
    assert second["accountid"] == account["id"]
    listed = admin.call("listUsers", account=account["name"], domainid=account["domainid"])
    assert listed["count"] == 2

    keys = admin.call("registerUserKeys", id=second["id"])["userkeys"]
    assert admin.call("getUserKeys", id=second["id"])["userkeys"] == keys
    assert admin.call("getUser", userapikey=keys["apikey"])["user"]["id"] == second["id"]
    second_caller = native_caller(server, keys)
    me = second_caller.call("listUsers")
    assert {u["id"] for u in me["user"]} == {second["id"], account["user"][0]["id"]}

    # a user changes its own password only with the current one, and names
    reply = second_caller.request("updateUser", id=second["id"], password="new")
    assert reply.status_code == 431
    changed = second_caller.call(
        "updateUser", id=second["id"], password="new", currentpassword="pw", firstname="Z"
    )["user"]
    assert changed["firstname"] == "Z"
    # a user cannot touch another user of its account, nor run admin commands
    assert second_caller.request("getUserKeys", id=account["user"][0]["id"]).status_code == 431
    assert (
        second_caller.request(
            "createUser",
            account="x",
            username="y",
            password="z",
            email="e",
            firstname="f",
            lastname="l",
        ).status_code
        == 432
    )
    assert second_caller.request("getUser", userapikey=keys["apikey"]).status_code == 432

    assert admin.call("deleteUser", id=second["id"])["success"] == "true"
    assert second_caller.request("listZones").status_code == 401


def test_each_role_sees_its_scope(admin: NativeCaller, server: ServerProcess) -> None:
    domain = admin.call("createDomain", name=_name("tree"))["domain"]
    sub = admin.call("createDomain", name="leaf", parentdomainid=domain["id"])["domain"]
    dadmin_account, dadmin = _account_with_keys(admin, server, domainid=domain["id"], accounttype=2)
    leaf_account, leaf_user = _account_with_keys(admin, server, domainid=sub["id"])
    other_account, _ = _account_with_keys(admin, server)

    # a user: its own account only
    only = leaf_user.call("listAccounts", listall=True)["account"]
    assert [a["id"] for a in only] == [leaf_account["id"]]
    assert leaf_user.request("listAccounts", id=other_account["id"]).status_code == 431
    assert leaf_user.request("listDomains").status_code == 432
    # a domain admin: its subtree, with listall / isrecursive, never outside it
    own = dadmin.call("listAccounts")["account"]
    assert [a["id"] for a in own] == [dadmin_account["id"]]
    subtree = {a["id"] for a in dadmin.call("listAccounts", listall=True)["account"]}
    assert subtree == {dadmin_account["id"], leaf_account["id"]}
    only_leaf = dadmin.call("listAccounts", domainid=sub["id"])["account"]
    assert [a["id"] for a in only_leaf] == [leaf_account["id"]]
    top_only = dadmin.call("listAccounts", domainid=domain["id"])["account"]
    assert [a["id"] for a in top_only] == [dadmin_account["id"]]
    recursive = dadmin.call("listAccounts", domainid=domain["id"], isrecursive=True)["account"]
    assert {a["id"] for a in recursive} == {dadmin_account["id"], leaf_account["id"]}
    users = {u["accountid"] for u in dadmin.call("listUsers", listall=True)["user"]}
    assert users == {dadmin_account["id"], leaf_account["id"]}
    assert {u["accountid"] for u in leaf_user.call("listUsers", listall=True)["user"]} == {
        leaf_account["id"]
    }
    assert (
        dadmin.request("listAccounts", id=other_account["id"]).json()
        == {"listaccountsresponse": {}}
        or dadmin.request("listAccounts", id=other_account["id"]).status_code == 431
    )
    assert {d["id"] for d in dadmin.call("listDomains", listall=True)["domain"]} == {
        domain["id"],
        sub["id"],
    }
    outside = dadmin.request("createDomain", name="x", parentdomainid=other_account["domainid"])
    assert outside.status_code == 431
    assert dadmin.request("deleteAccount", id=other_account["id"]).status_code == 431
    assert (
        dadmin.request(
            "createAccount",
            username="boss",
            password="p",
            email="e",
            firstname="f",
            lastname="l",
            accounttype=1,
        ).status_code
        == 531
    )
    # the admin: everything
    everyone = {a["id"] for a in admin.call("listAccounts", listall=True)["account"]}
    assert {dadmin_account["id"], leaf_account["id"], other_account["id"]} <= everyone


def test_wire_errors(admin: NativeCaller, tenant: NativeCaller) -> None:
    reply = admin.request("createAccount", username="x", password="y")
    assert reply.status_code == 431
    body = reply.json()["createaccountresponse"]
    assert body["errorcode"] == 431 and "errortext" in body
    missing = admin.request("updateDomain", id=str(uuid.uuid4()), name="n")
    assert missing.status_code == 431
    assert tenant.request("createDomain", name="nope").status_code == 432
    admin_user = admin.call("listUsers", username="admin")["user"][0]
    assert tenant.request("getUserKeys", id=admin_user["id"]).status_code == 431
    assert tenant.request("deleteAccount", id=admin_user["accountid"]).status_code == 432


def test_create_tenant_roles_map_to_account_types(server: ServerProcess) -> None:
    name = _name("da")
    keys = create_tenant(server, name, role="domain-admin")
    me = native_caller(server, keys).call("listAccounts", name=name)["account"][0]
    assert me["accounttype"] == 2 and me["roletype"] == "DomainAdmin"
