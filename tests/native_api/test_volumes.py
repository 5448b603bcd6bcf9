"""Volume commands over real HTTP: the `cs` client for behaviour, NativeCaller for the wire."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess

GIB = 1024**3


@pytest.fixture(scope="module")
def alice(server: ServerProcess) -> CloudStack:
    return cs_client(server, create_tenant(server, "vol-alice"))


@pytest.fixture(scope="module")
def bob_keys(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "vol-bob")


def offering(cs: CloudStack, name: str) -> str:
    return cs.listDiskOfferings(name=name)["diskoffering"][0]["id"]


def test_volume_lifecycle_with_cs(alice: CloudStack, demo: dict[str, str]) -> None:
    vm = alice.deployVirtualMachine(**demo)["virtualmachine"]
    created = alice.createVolume(
        name="data-1", zoneid=demo["zoneid"], diskofferingid=offering(alice, "Custom"), size=7
    )["volume"]
    assert created["name"] == "data-1" and created["type"] == "DATADISK"
    assert created["state"] == "Allocated" and created["size"] == 7 * GIB
    assert "virtualmachineid" not in created and "storage" not in created

    attached = alice.attachVolume(id=created["id"], virtualmachineid=vm["id"])["volume"]
    assert attached["virtualmachineid"] == vm["id"] and attached["deviceid"] == 1
    assert attached["state"] == "Ready" and attached["vmstate"] == "Running"
    assert "attached" in attached

    listed = alice.listVolumes(virtualmachineid=vm["id"])
    assert listed["count"] == 2
    assert sorted(v["type"] for v in listed["volume"]) == ["DATADISK", "ROOT"]

    resized = alice.resizeVolume(id=created["id"], size=9)["volume"]
    assert resized["size"] == 9 * GIB
    with pytest.raises(CloudStackApiException) as refused:
        alice.resizeVolume(id=created["id"], size=8)
    assert refused.value.error["errorcode"] == 431

    detached = alice.detachVolume(id=created["id"])["volume"]
    assert "virtualmachineid" not in detached
    assert alice.deleteVolume(id=created["id"]) == {"success": "true"}
    assert alice.listVolumes(id=created["id"]) == {}
    alice.destroyVirtualMachine(id=vm["id"])


def test_create_with_virtualmachineid_attaches(alice: CloudStack, demo: dict[str, str]) -> None:
    vm = alice.deployVirtualMachine(**demo, startvm=False)["virtualmachine"]
    volume = alice.createVolume(
        zoneid=demo["zoneid"], diskofferingid=offering(alice, "Small"), virtualmachineid=vm["id"]
    )["volume"]
    assert volume["virtualmachineid"] == vm["id"] and volume["state"] == "Ready"
    assert volume["name"] == volume["id"]  # CloudStack names an unnamed volume by its uuid


def test_wire_details(admin: NativeCaller, tenant: NativeCaller, demo: dict[str, str]) -> None:
    small = admin.call("listDiskOfferings", name="Small")["diskoffering"][0]["id"]
    created = admin.call("createVolume", zoneid=demo["zoneid"], diskofferingid=small)
    assert set(created) == {"id", "jobid"}
    job = admin.wait_job(created["jobid"])
    assert job["cmd"] == "org.apache.cloudstack.api.command.user.volume.CreateVolumeCmd"
    assert job["jobinstancetype"] == "Volume" and job["jobinstanceid"] == created["id"]
    assert job["jobresult"]["volume"]["id"] == created["id"]

    missing = admin.request("createVolume", zoneid=demo["zoneid"])
    assert missing.status_code == 431
    root = admin.call("listVolumes", type="ROOT", listall=True)
    assert all(v["type"] == "ROOT" for v in root.get("volume", []))
    # deleting a ROOT volume is refused
    if root.get("volume"):
        refused = admin.request("deleteVolume", id=root["volume"][0]["id"])
        assert refused.status_code == 431
    # a tenant does not see the admin's volume, and cannot touch it
    assert tenant.call("listVolumes", id=created["id"]) == {}
    hidden = tenant.request("deleteVolume", id=created["id"])
    assert hidden.status_code == 431
    assert "Unable to find" in hidden.json()["deletevolumeresponse"]["errortext"]
    # storageid and migrateVolume are for root admins
    assert tenant.request("listVolumes", storageid=created["id"]).status_code == 531
    assert tenant.request("migrateVolume", volumeid=created["id"], storageid="x").status_code == 432
    xml = admin.request("listVolumes", response="xml", listall=True)
    assert xml.status_code == 200 and "<listvolumesresponse" in xml.text
    assert "<volume>" in xml.text
    admin.call("deleteVolume", id=created["id"])


def test_roles_see_what_their_scope_allows(
    server: ServerProcess, bob_keys: dict[str, str], demo: dict[str, str]
) -> None:
    bob = NativeCaller(server.native_url, bob_keys["apikey"], bob_keys["secretkey"])
    small = bob.call("listDiskOfferings", name="Small")["diskoffering"][0]["id"]
    created = bob.call("createVolume", zoneid=demo["zoneid"], diskofferingid=small, name="bobs")
    bob.wait_job(created["jobid"])
    keys = create_tenant(server, "vol-domadmin", role="domain-admin")
    domain_admin = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])
    # the DomainAdmin of ROOT sees every account's volume with listall
    listed = domain_admin.call("listVolumes", listall=True, name="bobs")
    assert listed["count"] == 1 and listed["volume"][0]["account"] == "vol-bob"
    assert domain_admin.call("listVolumes", name="bobs") == {}  # own account only by default
    other_keys = create_tenant(server, "vol-carol")
    carol = NativeCaller(server.native_url, other_keys["apikey"], other_keys["secretkey"])
    assert carol.call("listVolumes", listall=True, name="bobs") == {}
    bob.call("deleteVolume", id=created["id"])


def test_admin_creates_for_an_account_and_sees_storage(
    server: ServerProcess, admin: NativeCaller, demo: dict[str, str]
) -> None:
    create_tenant(server, "vol-dave")
    domain = admin.call("listDomains", name="ROOT")["domain"][0]["id"]
    small = admin.call("listDiskOfferings", name="Small")["diskoffering"][0]["id"]
    created = admin.call(
        "createVolume",
        zoneid=demo["zoneid"],
        diskofferingid=small,
        account="vol-dave",
        domainid=domain,
    )
    volume = admin.wait_job(created["jobid"])["jobresult"]["volume"]
    assert volume["account"] == "vol-dave"
    deployed = admin.call(
        "deployVirtualMachine",
        zoneid=demo["zoneid"],
        serviceofferingid=demo["serviceofferingid"],
        templateid=demo["templateid"],
        account="vol-dave",
        domainid=domain,
    )
    vm = admin.wait_job(deployed["jobid"])["jobresult"]["virtualmachine"]
    [root] = admin.call("listVolumes", type="ROOT", virtualmachineid=vm["id"], listall=True)[
        "volume"
    ]
    # Whichever pool the planner chose (other tests add pools), the volume names it rightly.
    [pool] = admin.call("listStoragePools", id=root["storageid"])["storagepool"]
    assert root["storage"] == pool["name"] and pool["zoneid"] == demo["zoneid"]
    assert root["account"] == "vol-dave" and root["virtualmachineid"] == vm["id"]


def test_list_by_tags(alice: CloudStack, demo: dict[str, str]) -> None:
    small = offering(alice, "Small")
    tagged = alice.createVolume(zoneid=demo["zoneid"], diskofferingid=small, name="tagged")
    alice.createVolume(zoneid=demo["zoneid"], diskofferingid=small, name="untagged")
    alice.createTags(
        resourcetype="Volume",
        resourceids=tagged["volume"]["id"],
        tags=[{"key": "tier", "value": "gold"}],
    )
    found = alice.listVolumes(tags=[{"key": "tier", "value": "gold"}])
    assert [v["name"] for v in found["volume"]] == ["tagged"]
    assert found["volume"][0]["tags"][0]["key"] == "tier"
    assert alice.listVolumes(tags=[{"key": "tier", "value": "silver"}]) == {}
