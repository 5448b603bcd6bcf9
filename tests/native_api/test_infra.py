"""Infrastructure administration over the CloudStack API: zones, pods, clusters, hosts,
storage, capacity, hypervisors, the simulator — with `cs` and at the wire."""

from __future__ import annotations

import uuid

import pytest
from cs import CloudStack, CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, unique
from tests.support.server import ServerProcess


def build_zone(cs: CloudStack, *, hosts: int = 1, host_query: str = "") -> dict[str, str]:
    """A zone of our own: pod, cluster, hosts and a primary pool (no other test's VMs)."""
    zone = cs.createZone(
        name=unique("zone"), dns1="8.8.8.8", internaldns1="10.0.0.2", networktype="Advanced"
    )["zone"]
    pod = cs.createPod(
        zoneid=zone["id"],
        name="pod",
        gateway="10.9.0.1",
        netmask="255.255.255.0",
        startip="10.9.0.10",
        endip="10.9.0.50",
    )["pod"]
    cluster = cs.addCluster(
        zoneid=zone["id"],
        podid=pod["id"],
        clustername="cluster",
        clustertype="CloudManaged",
        hypervisor="Simulator",
    )["cluster"][0]
    host_ids = []
    for index in range(hosts):
        host = cs.addHost(
            zoneid=zone["id"],
            podid=pod["id"],
            clusterid=cluster["id"],
            hypervisor="Simulator",
            url=f"http://sim/{zone['name']}/h{index}{host_query}",
            username="root",
            password="password",
        )["host"][0]
        host_ids.append(host["id"])
    pool = cs.createStoragePool(
        zoneid=zone["id"],
        podid=pod["id"],
        clusterid=cluster["id"],
        name="ps",
        url=f"nfs://10.9.0.5/{zone['name']}",
        scope="CLUSTER",
        capacitybytes=500 * 1024**3,
    )["storagepool"]
    return {
        "zoneid": zone["id"],
        "podid": pod["id"],
        "clusterid": cluster["id"],
        "poolid": pool["id"],
        "hostids": ",".join(host_ids),
    }


def test_build_list_and_tear_down_a_zone(cs: CloudStack) -> None:
    built = build_zone(cs, hosts=2, host_query="?cpunumber=4&cpuspeed=1000&memory=4096")
    zone = cs.listZones(id=built["zoneid"], showcapacities=True)["zone"][0]
    assert zone["networktype"] == "Advanced" and zone["allocationstate"] == "Enabled"
    assert {c["type"] for c in zone["capacity"]} >= {0, 1, 2, 3, 5}
    memory = next(c for c in zone["capacity"] if c["type"] == 0)
    assert memory["capacitytotal"] == 2 * 4096 * 1024**2 and memory["capacityused"] == 0
    hosts = cs.listHosts(zoneid=built["zoneid"], type="Routing")["host"]
    assert len(hosts) == 2
    host = hosts[0]
    assert (host["cpunumber"], host["cpuspeed"], host["memorytotal"]) == (4, 1000, 4096 * 1024**2)
    assert host["state"] == "Up" and host["resourcestate"] == "Enabled"
    assert host["cpuallocated"] == "0.00%" and host["hypervisor"] == "Simulator"
    assert cs.listPods(zoneid=built["zoneid"])["pod"][0]["startip"] == ["10.9.0.10"]
    assert cs.listClusters(zoneid=built["zoneid"])["cluster"][0]["hypervisortype"] == "Simulator"
    pools = cs.listStoragePools(zoneid=built["zoneid"])["storagepool"]
    assert pools[0]["disksizetotal"] == 500 * 1024**3 and pools[0]["scope"] == "CLUSTER"

    # in use: zone, pod, cluster refuse to go (536)
    with pytest.raises(CloudStackApiException) as refused:
        cs.deleteZone(id=built["zoneid"])
    assert refused.value.error["errorcode"] == 536
    with pytest.raises(CloudStackApiException) as refused:
        cs.deleteCluster(id=built["clusterid"])
    assert refused.value.error["errorcode"] == 536

    for host_id in built["hostids"].split(","):
        assert cs.deleteHost(id=host_id, forced=True)["success"] == "true"
    assert cs.deleteStoragePool(id=built["poolid"])["success"] == "true"
    assert cs.deleteCluster(id=built["clusterid"])["success"] == "true"
    assert cs.deletePod(id=built["podid"])["success"] == "true"
    assert cs.deleteZone(id=built["zoneid"])["success"] == "true"
    assert built["zoneid"] not in [z["id"] for z in cs.listZones().get("zone", [])]


def test_update_zone_pod_cluster_host_pool(cs: CloudStack) -> None:
    built = build_zone(cs)
    updated = cs.updateZone(id=built["zoneid"], allocationstate="Disabled", dns1="9.9.9.9")
    assert updated["zone"]["allocationstate"] == "Disabled" and updated["zone"]["dns1"] == "9.9.9.9"
    cs.updateZone(id=built["zoneid"], allocationstate="Enabled")
    assert cs.updatePod(id=built["podid"], name="renamed")["pod"]["name"] == "renamed"
    cluster = cs.updateCluster(id=built["clusterid"], allocationstate="Disabled")["cluster"]
    assert cluster["allocationstate"] == "Disabled"
    host_id = built["hostids"]
    host = cs.updateHost(id=host_id, hosttags="ssd,gpu", allocationstate="Disable")["host"]
    assert host["hosttags"] == "ssd,gpu" and host["resourcestate"] == "Disabled"
    pool = cs.updateStoragePool(id=built["poolid"], tags="fast", enabled=False)["storagepool"]
    assert pool["tags"] == "fast" and pool["state"] == "Disabled"
    with pytest.raises(CloudStackApiException) as bad:
        cs.updateZone(id=built["zoneid"], allocationstate="Sleeping")
    assert bad.value.error["errorcode"] == 431


def test_image_stores(cs: CloudStack) -> None:
    built = build_zone(cs)
    store = cs.addImageStore(
        provider="NFS", name=unique("ss"), url="nfs://10.9.0.6/secondary", zoneid=built["zoneid"]
    )["imagestore"]
    assert store["providername"] == "NFS" and store["zoneid"] == built["zoneid"]
    listed = cs.listImageStores(zoneid=built["zoneid"])["imagestore"]
    assert [s["id"] for s in listed] == [store["id"]]
    assert cs.deleteImageStore(id=store["id"])["success"] == "true"
    assert cs.listImageStores(zoneid=built["zoneid"]) == {}


def test_capacity_and_hypervisors(cs: CloudStack) -> None:
    built = build_zone(cs)
    capacity = cs.listCapacity(zoneid=built["zoneid"], sortby="usage")["capacity"]
    assert {"type", "name", "zoneid", "capacityused", "capacitytotal", "percentused"} <= set(
        capacity[0]
    )
    cpu = cs.listCapacity(zoneid=built["zoneid"], type=1)["capacity"]
    assert [c["name"] for c in cpu] == ["CPU"] and cpu[0]["capacitytotal"] == 8 * 2000
    per_cluster = cs.listCapacity(clusterid=built["clusterid"], type=0)["capacity"]
    assert per_cluster[0]["clusterid"] == built["clusterid"]
    assert cs.listHypervisors()["hypervisor"] == [{"name": "Simulator"}]


def test_users_see_enabled_zones_and_no_infrastructure(
    server: ServerProcess, admin: NativeCaller, cs: CloudStack
) -> None:
    keys = create_tenant(server, unique("infra-user"))
    user = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])
    built = build_zone(cs)
    visible = [z["id"] for z in user.call("listZones").get("zone", [])]
    assert built["zoneid"] in visible
    admin.call("updateZone", id=built["zoneid"], allocationstate="Disabled")
    assert built["zoneid"] not in [z["id"] for z in user.call("listZones").get("zone", [])]
    assert built["zoneid"] in [z["id"] for z in admin.call("listZones").get("zone", [])]
    assert "guestcidraddress" not in user.call("listZones")["zone"][0]
    for command, params in (
        ("listHosts", {}),
        ("listPods", {}),
        ("listClusters", {}),
        ("listStoragePools", {}),
        ("listCapacity", {}),
        ("createZone", {"name": "x", "dns1": "1", "internaldns1": "1", "networktype": "Basic"}),
        ("deleteZone", {"id": built["zoneid"]}),
        ("configureSimulator", {"name": "StartCommand", "value": "result:fail"}),
    ):
        reply = user.request(command, **params)
        assert reply.status_code == 432, (command, reply.text)
    domain_keys = create_tenant(server, unique("infra-dadmin"), role="domain-admin")
    domain_admin = NativeCaller(server.native_url, domain_keys["apikey"], domain_keys["secretkey"])
    assert domain_admin.request("listHosts").status_code == 432
    assert (
        domain_admin.request(
            "addHost",
            zoneid=built["zoneid"],
            podid=built["podid"],
            url="http://sim/x",
            hypervisor="Simulator",
        ).status_code
        == 432
    )


def test_wire_details(admin: NativeCaller, cs: CloudStack) -> None:
    built = build_zone(cs)
    missing = admin.request("createZone", name="x", dns1="1.1.1.1", internaldns1="1.1.1.1")
    assert missing.status_code == 431
    duplicate = admin.request(
        "createZone",
        name=cs.listZones(id=built["zoneid"])["zone"][0]["name"],
        dns1="1",
        internaldns1="1",
        networktype="Advanced",
    )
    assert duplicate.status_code == 431
    unknown = admin.request("listHosts", id=str(uuid.uuid4()))
    assert unknown.status_code == 431
    bad_hypervisor = admin.request(
        "addCluster",
        zoneid=built["zoneid"],
        podid=built["podid"],
        clustername="k",
        clustertype="CloudManaged",
        hypervisor="Hyperwhatever",
    )
    assert bad_hypervisor.status_code == 431
    added = admin.call(
        "addHost",
        zoneid=built["zoneid"],
        podid=built["podid"],
        clusterid=built["clusterid"],
        hypervisor="Simulator",
        url="http://sim/wire/h9",
        **{"details[0].memory": "2048"},
    )
    assert added["count"] == 1 and added["host"][0]["memorytotal"] == 2048 * 1024**2
    xml = admin.request("listHosts", response="xml", id=added["host"][0]["id"])
    assert xml.status_code == 200 and "<resourcestate>Enabled</resourcestate>" in xml.text
    for command, params in (
        ("listZones", {"showcapacities": True}),
        ("listNetworkOfferings", {}),
        ("listServiceOfferings", {}),
        ("listCapacity", {}),
        ("findHostsForMigration", {"virtualmachineid": str(uuid.uuid4())}),
    ):
        reply = admin.request(command, response="xml", **params)
        expected = 431 if command == "findHostsForMigration" else 200
        assert reply.status_code == expected and reply.text.startswith("<?xml"), command
    job = admin.call("reconnectHost", id=added["host"][0]["id"])
    result = admin.wait_job(job["jobid"])
    assert result["jobstatus"] == 1 and result["jobresult"]["host"]["id"] == added["host"][0]["id"]
    assert result["cmd"] == "org.apache.cloudstack.api.command.admin.host.ReconnectHostCmd"


def test_configure_simulator_drives_failures(cs: CloudStack, demo: dict[str, str]) -> None:
    built = build_zone(cs)
    mock = cs.configureSimulator(name="StartCommand", value="result:fail", count=1)
    assert mock["simulatormock"]["name"] == "StartCommand" and mock["simulatormock"]["count"] == 1
    with pytest.raises(CloudStackApiException):
        cs.deployVirtualMachine(
            zoneid=built["zoneid"],
            serviceofferingid=demo["serviceofferingid"],
            templateid=demo["templateid"],
            name=unique("simfail"),
        )
    vm = cs.deployVirtualMachine(
        zoneid=built["zoneid"],
        serviceofferingid=demo["serviceofferingid"],
        templateid=demo["templateid"],
        name=unique("simok"),
    )["virtualmachine"]
    assert vm["state"] == "Running"
    cs.destroyVirtualMachine(id=vm["id"], expunge=True)
    with pytest.raises(CloudStackApiException) as bad:
        cs.configureSimulator(name="TeleportCommand", value="result:fail")
    assert bad.value.error["errorcode"] == 431
    with pytest.raises(CloudStackApiException) as bad:
        cs.configureSimulator(name="start", value="colour:blue")
    assert bad.value.error["errorcode"] == 431
    cs.configureSimulator(name="start", value="wait:0;result:success")
