"""Snapshot and snapshot-policy commands over real HTTP (cs for behaviour, NativeCaller for
the wire)."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess

GIB = 1024**3


@pytest.fixture(scope="module")
def erin(server: ServerProcess) -> CloudStack:
    return cs_client(server, create_tenant(server, "snap-erin"))


@pytest.fixture(scope="module")
def frank_keys(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "snap-frank")


def data_volume(cs: CloudStack, demo: dict[str, str], vm_id: str) -> dict:
    small = cs.listDiskOfferings(name="Small")["diskoffering"][0]["id"]
    return cs.createVolume(zoneid=demo["zoneid"], diskofferingid=small, virtualmachineid=vm_id)[
        "volume"
    ]


def test_snapshot_lifecycle_with_cs(erin: CloudStack, demo: dict[str, str]) -> None:
    vm = erin.deployVirtualMachine(**demo)["virtualmachine"]
    volume = data_volume(erin, demo, vm["id"])
    snapshot = erin.createSnapshot(volumeid=volume["id"], name="snap-1")["snapshot"]
    assert snapshot["state"] == "BackedUp" and snapshot["name"] == "snap-1"
    assert snapshot["snapshottype"] == "MANUAL" and snapshot["volumeid"] == volume["id"]
    # physicalsize: the size of the backup object (tests/native_api/test_snapshot_objects.py)
    assert snapshot["virtualsize"] == 5 * GIB and 0 < snapshot["physicalsize"] < GIB
    assert snapshot["volumetype"] == "DATADISK" and snapshot["revertable"] is True

    listed = erin.listSnapshots(volumeid=volume["id"])
    assert listed["count"] == 1 and listed["snapshot"][0]["id"] == snapshot["id"]
    assert erin.listSnapshots(snapshottype="RECURRING") == {}

    # revert needs the VM stopped
    with pytest.raises(CloudStackApiException) as refused:
        erin.revertSnapshot(id=snapshot["id"])
    assert refused.value.error["errorcode"] == 431
    erin.stopVirtualMachine(id=vm["id"])
    reverted = erin.revertSnapshot(id=snapshot["id"])["snapshot"]
    assert reverted["id"] == snapshot["id"]

    copy = erin.createVolume(snapshotid=snapshot["id"], name="from-snap")["volume"]
    assert copy["state"] == "Ready" and copy["size"] == 5 * GIB

    assert erin.deleteSnapshot(id=snapshot["id"]) == {"success": True}
    assert erin.listSnapshots(id=snapshot["id"]) == {}


def test_snapshot_wire_and_isolation(
    server: ServerProcess, admin: NativeCaller, frank_keys: dict[str, str], demo: dict[str, str]
) -> None:
    frank = NativeCaller(server.native_url, frank_keys["apikey"], frank_keys["secretkey"])
    vm = frank.wait_job(frank.call("deployVirtualMachine", **demo)["jobid"])
    vm_id = vm["jobresult"]["virtualmachine"]["id"]
    root = frank.call("listVolumes", virtualmachineid=vm_id, type="ROOT")["volume"][0]
    created = frank.call("createSnapshot", volumeid=root["id"])
    assert set(created) == {"id", "jobid"}
    job = frank.wait_job(created["jobid"])
    assert job["cmd"] == "org.apache.cloudstack.api.command.user.snapshot.CreateSnapshotCmd"
    assert job["jobinstancetype"] == "Snapshot" and job["jobinstanceid"] == created["id"]
    assert job["jobresult"]["snapshot"]["volumetype"] == "ROOT"

    other_keys = create_tenant(server, "snap-grace")
    grace = NativeCaller(server.native_url, other_keys["apikey"], other_keys["secretkey"])
    assert grace.call("listSnapshots", id=created["id"]) == {}
    assert grace.request("deleteSnapshot", id=created["id"]).status_code == 431
    assert grace.request("createSnapshot", volumeid=root["id"]).status_code == 431
    # the admin sees it with listall, and in its job result
    assert admin.call("listSnapshots", id=created["id"], listall=True)["count"] == 1

    deleted = frank.wait_job(frank.call("deleteSnapshot", id=created["id"])["jobid"])
    assert deleted["jobresult"] == {"success": True}


def test_snapshot_policies(erin: CloudStack, demo: dict[str, str]) -> None:
    vm = erin.deployVirtualMachine(**demo, startvm=False)["virtualmachine"]
    volume = data_volume(erin, demo, vm["id"])
    policy = erin.createSnapshotPolicy(
        volumeid=volume["id"],
        intervaltype="WEEKLY",
        schedule="30:04:2",
        timezone="Europe/Paris",
        maxsnaps=3,
    )["snapshotpolicy"]
    assert policy["intervaltype"] == 2 and policy["schedule"] == "30:04:2"
    assert policy["maxsnaps"] == 3 and policy["timezone"] == "Europe/Paris"
    assert "fordisplay" not in policy  # admin-only field

    listed = erin.listSnapshotPolicies(volumeid=volume["id"])
    assert listed["count"] == 1 and listed["snapshotpolicy"][0]["id"] == policy["id"]
    updated = erin.updateSnapshotPolicy(id=policy["id"], fordisplay=False)["snapshotpolicy"]
    assert updated["id"] == policy["id"]

    with pytest.raises(CloudStackApiException) as bad:
        erin.createSnapshotPolicy(
            volumeid=volume["id"],
            intervaltype="MONTHLY",
            schedule="30:04:31",
            timezone="UTC",
            maxsnaps=3,
        )
    assert bad.value.error["errorcode"] == 431

    assert erin.deleteSnapshotPolicies(id=policy["id"]) == {"success": "true"}
    assert erin.listSnapshotPolicies(volumeid=volume["id"]) == {}


def test_policy_of_another_tenant_is_not_found(
    server: ServerProcess, erin: CloudStack, frank_keys: dict[str, str], demo: dict[str, str]
) -> None:
    vm = erin.deployVirtualMachine(**demo, startvm=False)["virtualmachine"]
    volume = data_volume(erin, demo, vm["id"])
    policy = erin.createSnapshotPolicy(
        volumeid=volume["id"], intervaltype="DAILY", schedule="00:03", timezone="UTC", maxsnaps=2
    )["snapshotpolicy"]
    frank = NativeCaller(server.native_url, frank_keys["apikey"], frank_keys["secretkey"])
    assert frank.call("listSnapshotPolicies") == {}
    assert frank.request("deleteSnapshotPolicies", id=policy["id"]).status_code == 431
    assert frank.request("listSnapshotPolicies", volumeid=volume["id"]).status_code == 431
