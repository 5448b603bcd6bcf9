"""Host maintenance and live migration over the CloudStack API (cs and the wire)."""

from __future__ import annotations

import uuid

import pytest
from cs import CloudStack, CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.native_api.test_infra import build_zone
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def _deploy(cs: CloudStack, built: dict[str, str], demo: dict[str, str], **extra: str) -> dict:
    return cs.deployVirtualMachine(
        zoneid=built["zoneid"],
        templateid=demo["templateid"],
        serviceofferingid=demo["serviceofferingid"],
        name=f"m-{uuid.uuid4().hex[:8]}",
        **extra,
    )["virtualmachine"]


def test_migrate_and_find_hosts(cs: CloudStack, demo: dict[str, str]) -> None:
    built = build_zone(cs, hosts=2)
    first, second = built["hostids"].split(",")
    vm = _deploy(cs, built, demo)
    assert vm["hostid"] == first
    found = cs.findHostsForMigration(virtualmachineid=vm["id"])["host"]
    assert [h["id"] for h in found] == [second]
    assert found[0]["suitableformigration"] is True and found[0]["requiresStorageMotion"] is False
    moved = cs.migrateVirtualMachine(virtualmachineid=vm["id"], hostid=second)["virtualmachine"]
    assert moved["hostid"] == second and moved["state"] == "Running"
    hosts = {h["id"]: h for h in cs.listHosts(zoneid=built["zoneid"])["host"]}
    assert hosts[first]["cpuallocatedvalue"] == 0 and hosts[second]["cpuallocatedvalue"] == 500
    with pytest.raises(CloudStackApiException) as same:
        cs.migrateVirtualMachine(virtualmachineid=vm["id"], hostid=second)
    assert same.value.error["errorcode"] == 431
    # planner's choice when no host is given
    back = cs.migrateVirtualMachine(virtualmachineid=vm["id"])["virtualmachine"]
    assert back["hostid"] == first
    cs.destroyVirtualMachine(id=vm["id"], expunge=True)


def test_maintenance_moves_vms_and_cancel_restores(cs: CloudStack, demo: dict[str, str]) -> None:
    built = build_zone(cs, hosts=2)
    first, second = built["hostids"].split(",")
    vms = [_deploy(cs, built, demo) for _ in range(2)]
    assert {vm["hostid"] for vm in vms} == {first}
    host = cs.prepareHostForMaintenance(id=first)["host"]
    assert host["resourcestate"] == "Maintenance"
    for vm in vms:
        listed = cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
        assert listed["state"] == "Running" and listed["hostid"] == second
    # nothing new lands on a host in maintenance
    third = _deploy(cs, built, demo)
    assert third["hostid"] == second
    assert cs.listHosts(id=first)["host"][0]["resourcestate"] == "Maintenance"
    assert [
        h["id"] for h in cs.listHosts(resourcestate="Maintenance", zoneid=built["zoneid"])["host"]
    ] == [first]
    restored = cs.cancelHostMaintenance(id=first)["host"]
    assert restored["resourcestate"] == "Enabled"
    for vm in (*vms, third):
        cs.destroyVirtualMachine(id=vm["id"], expunge=True)


def test_vm_that_cannot_move_gives_error_in_maintenance(
    cs: CloudStack,
    admin: NativeCaller,
    demo: dict[str, str],
) -> None:
    built = build_zone(cs, hosts=2)
    first, second = built["hostids"].split(",")
    vm = _deploy(cs, built, demo)
    cs.updateHost(id=second, allocationstate="Disable")
    job = admin.call("prepareHostForMaintenance", id=first)
    result = admin.wait_job(job["jobid"], timeout=60)
    assert result["jobstatus"] == 1
    assert result["cmd"] == (
        "org.apache.cloudstack.api.command.admin.host.PrepareForMaintenanceCmd"
    )
    assert result["jobresult"]["host"]["resourcestate"] == "ErrorInMaintenance"
    assert cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["hostid"] == first
    # a failing migration also ends in ErrorInMaintenance, and the VM stays where it was
    cs.updateHost(id=second, allocationstate="Enable")
    cs.configureSimulator(name="MigrateCommand", value="result:fail", count=1)
    host = cs.prepareHostForMaintenance(id=first)["host"]
    assert host["resourcestate"] == "ErrorInMaintenance"
    listed = cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert (listed["state"], listed["hostid"]) == ("Running", first)
    # the simulator behaves again: retrying succeeds
    assert cs.prepareHostForMaintenance(id=first)["host"]["resourcestate"] == "Maintenance"
    assert cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["hostid"] == second
    with pytest.raises(CloudStackApiException) as twice:
        cs.prepareHostForMaintenance(id=first)
    assert twice.value.error["errorcode"] == 431
    cs.cancelHostMaintenance(id=first)
    cs.destroyVirtualMachine(id=vm["id"], expunge=True)


def test_migration_job_wire_and_roles(
    server: ServerProcess,
    cs: CloudStack,
    admin: NativeCaller,
    demo: dict[str, str],
) -> None:
    built = build_zone(cs, hosts=2)
    keys = create_tenant(server, f"mig-user-{uuid.uuid4().hex[:6]}")
    user = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])
    vm = user.call(
        "deployVirtualMachine",
        zoneid=built["zoneid"],
        templateid=demo["templateid"],
        serviceofferingid=demo["serviceofferingid"],
    )
    assert user.wait_job(vm["jobid"])["jobstatus"] == 1
    for command, params in (
        ("migrateVirtualMachine", {"virtualmachineid": vm["id"]}),
        ("findHostsForMigration", {"virtualmachineid": vm["id"]}),
        ("prepareHostForMaintenance", {"id": built["hostids"].split(",")[0]}),
        ("cancelHostMaintenance", {"id": built["hostids"].split(",")[0]}),
    ):
        assert user.request(command, **params).status_code == 432, command
    job = admin.call("migrateVirtualMachine", virtualmachineid=vm["id"])
    assert set(job) == {"jobid"}
    result = admin.wait_job(job["jobid"])
    assert result["cmd"] == "org.apache.cloudstack.api.command.admin.vm.MigrateVMCmd"
    assert result["jobinstancetype"] == "VirtualMachine" and result["jobinstanceid"] == vm["id"]
    assert result["jobresult"]["virtualmachine"]["hostid"] == built["hostids"].split(",")[1]
    # the owner still sees the VM, running, on its new host
    listed = user.call("listVirtualMachines", id=vm["id"])["virtualmachine"][0]
    assert listed["state"] == "Running"
    missing = admin.request("migrateVirtualMachine", virtualmachineid=str(uuid.uuid4()))
    assert missing.status_code == 431
    stopped = admin.call("stopVirtualMachine", id=vm["id"])
    admin.wait_job(stopped["jobid"])
    not_running = admin.request("migrateVirtualMachine", virtualmachineid=vm["id"])
    assert not_running.status_code == 431
