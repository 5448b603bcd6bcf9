"""Service, disk and network offerings over the CloudStack API."""

from __future__ import annotations

import uuid

import pytest
from cs import CloudStack, CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.native_api.test_infra import build_zone
from tests.support.native import NativeCaller, unique
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def user(server: ServerProcess) -> NativeCaller:
    keys = create_tenant(server, unique("offering-user"))
    return NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])


def test_service_offering_lifecycle(cs: CloudStack, user: NativeCaller) -> None:
    name = unique("so")
    created = cs.createServiceOffering(
        name=name,
        displaytext="two cores",
        cpunumber=2,
        cpuspeed=1000,
        memory=2048,
        hosttags="ssd",
        tags="fast",
        offerha=True,
        storagetype="shared",
    )["serviceoffering"]
    assert (created["cpunumber"], created["cpuspeed"], created["memory"]) == (2, 1000, 2048)
    assert created["hosttags"] == "ssd" and created["tags"] == "fast" and created["offerha"]
    assert created["iscustomized"] is False
    listed = cs.listServiceOfferings(id=created["id"])["serviceoffering"]
    assert listed[0]["name"] == name
    assert [o["id"] for o in cs.listServiceOfferings(keyword=name)["serviceoffering"]] == [
        created["id"]
    ]
    assert created["id"] in [o["id"] for o in user.call("listServiceOfferings")["serviceoffering"]]
    updated = cs.updateServiceOffering(id=created["id"], name=name + "-x", hosttags="gpu")
    assert updated["serviceoffering"]["name"] == name + "-x"
    assert updated["serviceoffering"]["hosttags"] == "gpu"
    assert cs.deleteServiceOffering(id=created["id"])["success"] == "true"
    assert created["id"] not in [
        o["id"] for o in cs.listServiceOfferings().get("serviceoffering", [])
    ]


def test_custom_offering_bounds_deploys(cs: CloudStack, demo: dict[str, str]) -> None:
    custom = cs.createServiceOffering(
        name=unique("custom"),
        displaytext="custom",
        customized=True,
        mincpunumber=1,
        maxcpunumber=2,
        minmemory=256,
        maxmemory=1024,
    )["serviceoffering"]
    assert custom["iscustomized"] is True
    assert custom["details"] == {
        "mincpunumber": "1",
        "maxcpunumber": "2",
        "minmemory": "256",
        "maxmemory": "1024",
    }
    base = {
        "zoneid": demo["zoneid"],
        "templateid": demo["templateid"],
        "serviceofferingid": custom["id"],
    }
    with pytest.raises(CloudStackApiException) as refused:
        cs.deployVirtualMachine(
            name=unique("big"),
            **base,
            **{
                "details[0].cpuNumber": "4",
                "details[0].cpuSpeed": "500",
                "details[0].memory": "512",
            },
        )
    assert refused.value.error["errorcode"] == 431
    vm = cs.deployVirtualMachine(
        name=unique("fits"),
        **base,
        **{"details[0].cpuNumber": "2", "details[0].cpuSpeed": "500", "details[0].memory": "512"},
    )["virtualmachine"]
    assert vm["state"] == "Running"
    # the offerings this VM could change to: not its own
    choices = [
        o["id"] for o in cs.listServiceOfferings(virtualmachineid=vm["id"])["serviceoffering"]
    ]
    assert custom["id"] not in choices and demo["serviceofferingid"] in choices
    cs.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert cs.listServiceOfferings(cpunumber=2, memory=512, id=custom["id"])["count"] == 1
    assert cs.listServiceOfferings(cpunumber=3, id=custom["id"]) == {}


def test_host_and_storage_tags_place_vms(cs: CloudStack, demo: dict[str, str]) -> None:
    built = build_zone(cs, hosts=3)
    hosts = built["hostids"].split(",")
    cs.updateHost(id=hosts[2], hosttags="gpu")
    gold = cs.createStoragePool(
        zoneid=built["zoneid"],
        podid=built["podid"],
        clusterid=built["clusterid"],
        name="gold",
        url=f"nfs://10.9.0.7/{uuid.uuid4().hex}",
        scope="CLUSTER",
        tags="gold",
    )["storagepool"]
    offering = cs.createServiceOffering(
        name=unique("tagged"),
        displaytext="tagged",
        cpunumber=1,
        cpuspeed=100,
        memory=64,
        hosttags="gpu",
        tags="gold",
    )["serviceoffering"]
    vm = cs.deployVirtualMachine(
        zoneid=built["zoneid"],
        templateid=demo["templateid"],
        serviceofferingid=offering["id"],
        name=unique("tagged-vm"),
    )["virtualmachine"]
    assert vm["hostid"] == hosts[2]
    assert cs.listStoragePools(id=gold["id"])["storagepool"][0]["disksizeallocated"] > 0
    cs.destroyVirtualMachine(id=vm["id"], expunge=True)
    nowhere = cs.createServiceOffering(
        name=unique("nowhere"),
        displaytext="n",
        cpunumber=1,
        cpuspeed=100,
        memory=64,
        hosttags="quantum",
    )["serviceoffering"]
    with pytest.raises(CloudStackApiException) as refused:
        cs.deployVirtualMachine(
            zoneid=built["zoneid"],
            templateid=demo["templateid"],
            serviceofferingid=nowhere["id"],
            name=unique("nowhere-vm"),
        )
    assert refused.value.error["errorcode"] == 533


def test_disk_offering_lifecycle(cs: CloudStack, user: NativeCaller) -> None:
    name = unique("do")
    fixed = cs.createDiskOffering(name=name, displaytext="ten", disksize=10, tags="ssd")[
        "diskoffering"
    ]
    assert fixed["disksize"] == 10 and fixed["tags"] == "ssd" and fixed["iscustomized"] is False
    custom = cs.createDiskOffering(
        name=unique("dc"),
        displaytext="custom",
        customized=True,
        **{"details[0].minsize": "5", "details[0].maxsize": "50"},
    )["diskoffering"]
    assert custom["iscustomized"] is True and custom["details"] == {"minsize": "5", "maxsize": "50"}
    assert fixed["id"] in [o["id"] for o in user.call("listDiskOfferings")["diskoffering"]]
    updated = cs.updateDiskOffering(id=fixed["id"], displaytext="TEN", tags="nvme")
    assert updated["diskoffering"]["displaytext"] == "TEN"
    assert updated["diskoffering"]["tags"] == "nvme"
    assert cs.deleteDiskOffering(id=fixed["id"])["success"] == "true"
    with pytest.raises(CloudStackApiException) as gone:
        cs.listDiskOfferings(id=fixed["id"])
    assert gone.value.error["errorcode"] == 431
    with pytest.raises(CloudStackApiException) as both:
        cs.createDiskOffering(name="both", displaytext="b", disksize=5, customized=True)
    assert both.value.error["errorcode"] == 431


def test_network_offerings(cs: CloudStack, user: NativeCaller) -> None:
    defaults = {o["name"]: o for o in cs.listNetworkOfferings(isdefault=True)["networkoffering"]}
    assert "DefaultIsolatedNetworkOfferingWithSourceNatService" in defaults
    assert "DefaultSharedNetworkOffering" in defaults
    source_nat = defaults["DefaultIsolatedNetworkOfferingWithSourceNatService"]
    assert source_nat["guestiptype"] == "Isolated" and source_nat["state"] == "Enabled"
    assert "SourceNat" in {s["name"] for s in source_nat["service"]}
    shared = cs.listNetworkOfferings(guestiptype="Shared")["networkoffering"]
    assert all(o["guestiptype"] == "Shared" for o in shared)
    with_lb = cs.listNetworkOfferings(supportedservices="Lb")["networkoffering"]
    assert all("Lb" in {s["name"] for s in o["service"]} for o in with_lb)

    name = unique("no")
    created = cs.createNetworkOffering(
        name=name,
        displaytext="mine",
        guestiptype="Isolated",
        traffictype="GUEST",
        supportedservices="Dhcp,Dns,SourceNat",
        **{
            "serviceproviderlist[0].service": "Dhcp",
            "serviceproviderlist[0].provider": "VirtualRouter",
        },
    )["networkoffering"]
    assert created["state"] == "Disabled" and created["isdefault"] is False
    assert name not in [o["name"] for o in user.call("listNetworkOfferings")["networkoffering"]]
    enabled = cs.updateNetworkOffering(id=created["id"], state="Enabled")["networkoffering"]
    assert enabled["state"] == "Enabled"
    assert name in [o["name"] for o in user.call("listNetworkOfferings")["networkoffering"]]
    assert (
        user.request(
            "createNetworkOffering", name="u", guestiptype="Shared", traffictype="Guest"
        ).status_code
        == 432
    )
    with pytest.raises(CloudStackApiException) as in_use:
        cs.deleteNetworkOffering(id=source_nat["id"])
    assert in_use.value.error["errorcode"] == 536
    assert cs.deleteNetworkOffering(id=created["id"])["success"] == "true"
    with pytest.raises(CloudStackApiException) as bad:
        cs.createNetworkOffering(
            name=unique("bad"),
            displaytext="b",
            guestiptype="Isolated",
            traffictype="Guest",
            supportedservices="Teleport",
        )
    assert bad.value.error["errorcode"] == 431


def test_admin_only_offering_commands(user: NativeCaller, demo: dict[str, str]) -> None:
    for command, params in (
        ("createServiceOffering", {"name": "x", "cpunumber": 1, "cpuspeed": 1, "memory": 1}),
        ("updateServiceOffering", {"id": demo["serviceofferingid"], "name": "mine"}),
        ("deleteServiceOffering", {"id": demo["serviceofferingid"]}),
        ("createDiskOffering", {"name": "x", "displaytext": "x", "disksize": 1}),
        ("deleteNetworkOffering", {"id": str(uuid.uuid4())}),
    ):
        assert user.request(command, **params).status_code == 432, command
