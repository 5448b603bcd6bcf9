"""VM snapshots over real HTTP: `cs` for behaviour, NativeCaller for the wire."""

from __future__ import annotations

import pytest
from cs import CloudStack

from tests.native_api.conftest import create_tenant
from tests.native_api.test_vm_ops import error_of
from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def owner(server: ServerProcess) -> tuple[CloudStack, NativeCaller]:
    keys = create_tenant(server, "vmsnap-owner")
    return (
        cs_client(server, keys),
        NativeCaller(server.native_url, keys["apikey"], keys["secretkey"]),
    )


def test_create_list_revert_delete(
    owner: tuple[CloudStack, NativeCaller], demo: dict[str, str]
) -> None:
    cs, _ = owner
    vm = cs.deployVirtualMachine(name="snap-vm", **demo)["virtualmachine"]
    with_memory = cs.createVMSnapshot(
        virtualmachineid=vm["id"], snapshotmemory=True, name="live", description="d"
    )["vmsnapshot"]
    assert (with_memory["state"], with_memory["type"]) == ("Ready", "DiskAndMemory")
    assert (with_memory["displayname"], with_memory["description"]) == ("live", "d")
    assert with_memory["virtualmachineid"] == vm["id"] and with_memory["current"] is True
    disk = cs.createVMSnapshot(virtualmachineid=vm["id"])["vmsnapshot"]
    assert disk["type"] == "Disk" and disk["parent"] == with_memory["id"]
    assert disk["parentName"] == "live"

    listed = cs.listVMSnapshot(virtualmachineid=vm["id"])
    assert listed["count"] == 2
    assert [s["id"] for s in listed["vmSnapshot"]] == [with_memory["id"], disk["id"]]
    assert cs.listVMSnapshot(vmsnapshotid=disk["id"])["vmSnapshot"][0]["current"] is True

    reverted = cs.revertToVMSnapshot(vmsnapshotid=disk["id"])["virtualmachine"]
    assert reverted["id"] == vm["id"] and reverted["state"] == "Stopped"
    reverted = cs.revertToVMSnapshot(vmsnapshotid=with_memory["id"])["virtualmachine"]
    assert reverted["state"] == "Running"

    assert cs.deleteVMSnapshot(vmsnapshotid=disk["id"]) == {"success": True}
    assert cs.deleteVMSnapshot(vmsnapshotid=with_memory["id"]) == {"success": True}
    assert cs.listVMSnapshot(virtualmachineid=vm["id"]) == {}
    cs.destroyVirtualMachine(id=vm["id"])


def test_wire_shapes_and_errors(
    owner: tuple[CloudStack, NativeCaller], demo: dict[str, str]
) -> None:
    cs, caller = owner
    vm = cs.deployVirtualMachine(name="snap-wire", startvm=False, **demo)["virtualmachine"]
    status, body = error_of(caller, "createVMSnapshot", virtualmachineid=vm["id"],
                            snapshotmemory=True)  # fmt: skip
    assert (status, body["errorcode"], body["cserrorcode"]) == (431, 431, 4350)

    created = caller.call("createVMSnapshot", virtualmachineid=vm["id"])
    assert set(created) == {"id", "jobid"}
    job = caller.wait_job(created["jobid"])
    assert job["cmd"] == "org.apache.cloudstack.api.command.user.vmsnapshot.CreateVMSnapshotCmd"
    assert job["jobinstanceid"] == created["id"] and job["jobresult"]["vmsnapshot"]["id"]

    status, body = error_of(caller, "deleteVMSnapshot", vmsnapshotid=created["id"])
    assert status == 200
    status, body = error_of(caller, "revertToVMSnapshot", vmsnapshotid=created["id"])
    assert status == 431  # being deleted (Expunging) or gone
    cs.destroyVirtualMachine(id=vm["id"])
    status, body = error_of(caller, "createVMSnapshot", virtualmachineid=vm["id"])
    assert (status, body["cserrorcode"]) == (431, 4350)  # a destroyed VM


def test_snapshots_are_tenant_private(
    server: ServerProcess,
    owner: tuple[CloudStack, NativeCaller],
    admin: NativeCaller,
    demo: dict[str, str],
) -> None:
    cs, _ = owner
    vm = cs.deployVirtualMachine(name="snap-private", startvm=False, **demo)["virtualmachine"]
    snapshot = cs.createVMSnapshot(virtualmachineid=vm["id"])["vmsnapshot"]
    keys = create_tenant(server, "vmsnap-intruder")
    intruder = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])
    assert intruder.call("listVMSnapshot") == {}
    assert intruder.call("listVMSnapshot", vmsnapshotid=snapshot["id"]) == {}
    for command, params in (
        ("revertToVMSnapshot", {"vmsnapshotid": snapshot["id"]}),
        ("deleteVMSnapshot", {"vmsnapshotid": snapshot["id"]}),
        ("createVMSnapshot", {"virtualmachineid": vm["id"]}),
    ):
        status, body = error_of(intruder, command, **params)
        assert status == 431 and body["errortext"].startswith("Unable to find"), (command, body)
    everything = admin.call("listVMSnapshot", listall=True)["vmSnapshot"]
    assert snapshot["id"] in [s["id"] for s in everything]
    assert cs.listVMSnapshot(vmsnapshotid=snapshot["id"])["count"] == 1
    cs.destroyVirtualMachine(id=vm["id"])
