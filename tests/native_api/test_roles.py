"""Dynamic roles: the account's role rules decide which commands run (432 otherwise)."""

from __future__ import annotations

import uuid

from cs import CloudStack

from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_default_roles_are_seeded(admin: NativeCaller) -> None:
    roles = {r["name"]: r for r in admin.call("listRoles")["role"]}
    assert roles["Root Admin"]["type"] == "Admin"
    assert roles["Domain Admin"]["type"] == "DomainAdmin"
    assert roles["User"]["type"] == "User"
    assert all(roles[n]["isdefault"] for n in ("Root Admin", "Domain Admin", "User"))
    rules = admin.call("listRolePermissions", roleid=roles["User"]["id"])["rolepermission"]
    assert [(r["rule"], r["permission"]) for r in rules] == [("*", "allow")]
    me = admin.call("listAccounts", name="admin")["account"][0]
    assert me["roleid"] == roles["Root Admin"]["id"]
    reply = admin.request("deleteRole", id=roles["User"]["id"])
    assert reply.status_code == 531


def test_role_rules_gate_commands(admin: NativeCaller, server: ServerProcess) -> None:
    cs_admin = CloudStack(
        endpoint=server.native_url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )
    role = cs_admin.createRole(name=_name("readonly"), type="User", description="lists only")[
        "role"
    ]
    assert role["type"] == "User" and role["isdefault"] is False
    allow_lists = cs_admin.createRolePermission(
        roleid=role["id"], rule="list*", permission="allow", description="reads"
    )["rolepermission"]
    deny_zones = cs_admin.createRolePermission(
        roleid=role["id"], rule="listZones", permission="deny"
    )["rolepermission"]
    assert allow_lists["rolename"] == role["name"]

    name = _name("ro")
    account = cs_admin.createAccount(
        username=name,
        password="pw",
        email="e@x",
        firstname="f",
        lastname="l",
        roleid=role["id"],
    )["account"]
    assert account["roleid"] == role["id"] and account["accounttype"] == 0
    keys = cs_admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    caller = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])

    assert caller.request("listServiceOfferings").status_code == 200
    # list* allows listZones first: the first matching rule wins
    assert caller.request("listZones").status_code == 200
    # nothing matches deployVirtualMachine: denied like an unknown command
    denied = caller.request("deployVirtualMachine", zoneid=str(uuid.uuid4()))
    assert denied.status_code == 432
    assert denied.json()["deployvirtualmachineresponse"]["errorcode"] == 432
    names = {api["name"] for api in caller.call("listApis")["api"]}
    assert "listZones" in names and "deployVirtualMachine" not in names

    # reorder: the deny rule first
    cs_admin.updateRolePermission(
        roleid=role["id"], ruleorder=f"{deny_zones['id']},{allow_lists['id']}"
    )
    assert caller.request("listZones").status_code == 432
    assert caller.request("listServiceOfferings").status_code == 200
    # change the permission of one rule
    cs_admin.updateRolePermission(roleid=role["id"], ruleid=deny_zones["id"], permission="allow")
    assert caller.request("listZones").status_code == 200
    cs_admin.deleteRolePermission(id=allow_lists["id"])
    assert caller.request("listServiceOfferings").status_code == 432
    rules = cs_admin.listRolePermissions(roleid=role["id"])["rolepermission"]
    assert [r["rule"] for r in rules] == ["listZones"]

    # a role in use cannot go; once the account moves to another role it can
    assert admin.request("deleteRole", id=role["id"]).status_code == 431
    user_role = admin.call("listRoles", name="User")["role"][0]
    cs_admin.updateAccount(id=account["id"], roleid=user_role["id"])
    assert caller.request("deployVirtualMachine", zoneid=str(uuid.uuid4())).status_code == 431
    assert cs_admin.deleteRole(id=role["id"])["success"] == "true"


def test_roles_are_admin_business(admin: NativeCaller, tenant: NativeCaller) -> None:
    assert tenant.request("listRoles").status_code == 432
    assert tenant.request("createRole", name="x", type="Admin").status_code == 432
    role = admin.call("createRole", name=_name("ops"), type="DomainAdmin")["role"]
    renamed = admin.call("updateRole", id=role["id"], name=role["name"] + "x")["role"]
    assert renamed["name"] == role["name"] + "x"
    assert admin.request("createRole", name=role["name"] + "x", type="User").status_code == 431
    assert admin.request("createRole", name=_name("bad"), type="Wizard").status_code == 431
    assert (
        admin.request(
            "createRolePermission", roleid=role["id"], rule="list*", permission="maybe"
        ).status_code
        == 431
    )
    clone = admin.call("createRole", name=_name("clone"), roleid=role["id"])["role"]
    assert clone["type"] == "DomainAdmin"
