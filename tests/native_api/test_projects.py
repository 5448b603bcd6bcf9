"""Projects: members share the project account's resources through `projectid`."""

from __future__ import annotations

import uuid

from native_api import commands as _commands  # noqa: F401  (fills the command table)
from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def _tenant(server: ServerProcess) -> tuple[str, NativeCaller]:
    name = f"pm-{uuid.uuid4().hex[:6]}"
    keys = create_tenant(server, name)
    return name, NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])


def test_project_lifecycle_and_membership(
    admin: NativeCaller, server: ServerProcess, demo: dict[str, str]
) -> None:
    owner_name, owner = _tenant(server)
    member_name, member = _tenant(server)
    _, outsider = _tenant(server)

    created = owner.call("createProject", name="apollo", displaytext="moon")
    job = owner.wait_job(created["jobid"])
    assert job["jobstatus"] == 1, job
    project = job["jobresult"]["project"]
    assert project["id"] == created["id"]
    assert project["state"] == "Active" and project["account"] == owner_name
    assert project["displaytext"] == "moon"

    assert [p["id"] for p in owner.call("listProjects")["project"]] == [project["id"]]
    assert member.call("listProjects") == {}
    assert outsider.request("listProjectAccounts", projectid=project["id"]).status_code == 431

    added = owner.wait_job(
        owner.call("addAccountToProject", projectid=project["id"], account=member_name)["jobid"]
    )
    assert added["jobstatus"] == 1, added
    members = owner.call("listProjectAccounts", projectid=project["id"])["projectaccount"]
    assert {(m["account"], m["role"]) for m in members} == {
        (owner_name, "Admin"),
        (member_name, "Regular"),
    }
    # a regular member cannot administer the project
    assert member.request("suspendProject", id=project["id"]).status_code == 531

    assert owner.call("listVirtualMachines", projectid=project["id"]) == {}
    assert outsider.request("listVirtualMachines", projectid=project["id"]).status_code == 431
    # the project account is not an account anyone lists
    listed = admin.call("listAccounts", listall=True)["account"]
    assert all(not a["name"].startswith("PrjAcct") for a in listed)

    # suspend stops the project's VMs and refuses new resources
    suspended = owner.wait_job(owner.call("suspendProject", id=project["id"])["jobid"])
    assert suspended["jobresult"]["project"]["state"] == "Suspended"
    activated = owner.wait_job(owner.call("activateProject", id=project["id"])["jobid"])
    assert activated["jobresult"]["project"]["state"] == "Active"

    updated = owner.wait_job(
        owner.call("updateProject", id=project["id"], displaytext="mars")["jobid"]
    )
    assert updated["jobresult"]["project"]["displaytext"] == "mars"

    removed = owner.wait_job(
        owner.call("deleteAccountFromProject", projectid=project["id"], account=member_name)[
            "jobid"
        ]
    )
    assert removed["jobstatus"] == 1
    assert member.request("listVirtualMachines", projectid=project["id"]).status_code == 431

    deleted = owner.wait_job(owner.call("deleteProject", id=project["id"])["jobid"])
    assert deleted["jobstatus"] == 1, deleted
    assert owner.call("listProjects") == {}


def test_admin_sees_all_projects_with_listall(admin: NativeCaller, server: ServerProcess) -> None:
    _, owner = _tenant(server)
    created = owner.call("createProject", name="hidden")
    owner.wait_job(created["jobid"])
    assert created["id"] in {p["id"] for p in admin.call("listProjects", listall=True)["project"]}
    assert created["id"] not in {p["id"] for p in admin.call("listProjects").get("project", [])}


def test_members_share_project_vms(
    admin: NativeCaller, server: ServerProcess, demo: dict[str, str]
) -> None:
    _, owner = _tenant(server)
    member_name, member = _tenant(server)
    _, outsider = _tenant(server)
    created = owner.call("createProject", name="shared")
    owner.wait_job(created["jobid"])
    project_id = created["id"]
    owner.wait_job(
        owner.call("addAccountToProject", projectid=project_id, account=member_name)["jobid"]
    )
    started = member.call("deployVirtualMachine", name="proj-vm", projectid=project_id, **demo)
    member.wait_job(started["jobid"])
    seen = owner.call("listVirtualMachines", projectid=project_id)["virtualmachine"]
    assert [vm["id"] for vm in seen] == [started["id"]]
    assert seen[0]["projectid"] == project_id and seen[0]["project"] == "shared"
    every = owner.call("listVirtualMachines", projectid="-1")["virtualmachine"]
    assert [vm["id"] for vm in every] == [started["id"]]
    assert owner.call("listVirtualMachines") == {}
    assert outsider.call("listVirtualMachines", listall=True) == {}
    owner.wait_job(owner.call("suspendProject", id=project_id)["jobid"])
    refused = member.request("deployVirtualMachine", projectid=project_id, **demo)
    assert refused.status_code == 431
    owner.wait_job(owner.call("deleteProject", id=project_id)["jobid"])
