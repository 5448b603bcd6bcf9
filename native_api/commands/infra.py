"""Zones, pods and clusters (and, for admins, their capacity); listHypervisors."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core import capacity, infra
from core.context import Role
from core.errors import InvalidParameter
from core.infra import Cluster, Pod, Zone
from core.listing import paginate
from native_api.call import Call
from native_api.commands.common import delete_command
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command
from native_api.views import zone_view

# views --------------------------------------------------------------------------------------


def capacity_view(item: capacity.Capacity) -> dict[str, Any]:
    return {
        "type": item.type,
        "name": item.name,
        "zoneid": item.zone.uuid,
        "zonename": item.zone.name,
        "podid": item.pod.uuid if item.pod else None,
        "podname": item.pod.name if item.pod else None,
        "clusterid": item.cluster.uuid if item.cluster else None,
        "clustername": item.cluster.name if item.cluster else None,
        "capacityused": item.used,
        "capacityallocated": item.used,
        "capacitytotal": item.total,
        "percentused": f"{item.percent_used:.2f}",
    }


def _capacities(call: Call, **where: int) -> list[dict[str, Any]]:
    items = capacity.list_capacity(call.session, call.ctx, capacity.CapacityFilter(**where))
    return [capacity_view(c) for c in items]


def full_zone_view(call: Call, zone: Zone) -> dict[str, Any]:
    view = zone_view(zone, call.ctx)
    view["securitygroupsenabled"] = zone.network_type == "Basic"
    if call.ctx.role is Role.ADMIN and call.get("showcapacities"):
        view["capacity"] = _capacities(call, zone_id=zone.id)
    return view


def pod_view(call: Call, pod: Pod) -> dict[str, Any]:
    zone = call.session.get_one(Zone, pod.zone_id)
    view: dict[str, Any] = {
        "id": pod.uuid,
        "name": pod.name,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "gateway": pod.gateway,
        "netmask": pod.netmask,
        "startip": [pod.start_ip] if pod.start_ip else [],
        "endip": [pod.end_ip] if pod.end_ip else [],
        "forsystemvms": ["0"],
        "vlanid": [],
        "allocationstate": pod.allocation_state,
        "ipranges": [
            {
                "startip": pod.start_ip,
                "endip": pod.end_ip,
                "gateway": pod.gateway,
                "forsystemvms": "0",
            }
        ]
        if pod.start_ip
        else [],
        "hasannotations": False,
    }
    if call.get("showcapacities"):
        view["capacity"] = _capacities(call, zone_id=pod.zone_id, pod_id=pod.id)
    return view


def cluster_view(call: Call, cluster: Cluster) -> dict[str, Any]:
    zone = call.session.get_one(Zone, cluster.zone_id)
    pod = call.session.get_one(Pod, cluster.pod_id)
    view: dict[str, Any] = {
        "id": cluster.uuid,
        "name": cluster.name,
        "podid": pod.uuid,
        "podname": pod.name,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "hypervisortype": cluster.hypervisor,
        "clustertype": cluster.cluster_type,
        "allocationstate": cluster.allocation_state,
        "managedstate": "Managed",
        "cpuovercommitratio": "1.0",
        "memoryovercommitratio": "1.0",
        "resourcedetails": {},
        "hasannotations": False,
    }
    if call.get("showcapacities"):
        view["capacity"] = _capacities(
            call, zone_id=cluster.zone_id, pod_id=cluster.pod_id, cluster_id=cluster.id
        )
    return view


def _zone(call: Call, name: str = "zoneid") -> Zone | None:
    uuid = call.get(name)
    return infra.zone_by_uuid(call.session, uuid) if uuid else None


def _page(call: Call, query: sa.Select[Any], view: Any) -> Reply:
    rows, total = paginate(call.session, query, call.page())
    return Reply(items=[view(call, row) for row in rows], total=total)


# zones --------------------------------------------------------------------------------------

ZONE_FIELDS = (
    Field("id", description="Zone id"),
    Field("name", description="Zone name"),
    Field("description", description="Zone description"),
    Field("dns1", description="the first DNS for the Zone"),
    Field("internaldns1", description="the first internal DNS for the Zone"),
    Field("guestcidraddress", description="the guest CIDR address for the Zone"),
    Field("networktype", description="the network type of the zone; can be Basic or Advanced"),
    Field("allocationstate", description="the allocation state of the cluster"),
    Field("localstorageenabled", "boolean", "true if local storage offering enabled"),
    Field("capacity", "list", "the capacity of the Zone"),
)
_DNS2 = Param("dns2", description="the second DNS for the Zone")
_INTERNAL_DNS2 = Param("internaldns2", description="the second internal DNS for the Zone")
_GUEST_CIDR = Param("guestcidraddress", description="the guest CIDR address for the Zone")
_NETWORK_DOMAIN = Param("domain", description="Network domain name for the networks in the zone")
_LOCAL_STORAGE = Param(
    "localstorageenabled",
    "boolean",
    description="true if local storage offering enabled, false otherwise",
)


# CloudStack's updateZone describes its allocationstate with the cluster commands' words.
_CLUSTER_ALLOCATION_STATE = Param(
    "allocationstate",
    description="Allocation state of this cluster for allocation of new resources",
)


def _zone_settings(call: Call) -> dict[str, Any]:
    """The zone settings createZone and updateZone both take, as core arguments."""
    return {
        "name": call.get("name"),
        "dns1": call.get("dns1"),
        "internal_dns1": call.get("internaldns1"),
        "guest_cidr": call.get("guestcidraddress"),
        "allocation_state": call.get("allocationstate"),
        "local_storage_enabled": call.get("localstorageenabled"),
    }


@command(
    "listZones",
    kind=Kind.LIST,
    description="Lists zones",
    response_name="zone",
    params=(
        Param("id", "uuid", description="the ID of the zone"),
        Param("ids", "list", description="the IDs of the zones, mutually exclusive with id"),
        Param("name", description="the name of the zone"),
        Param(
            "available",
            "boolean",
            description="true if you want to retrieve all available Zones. False if you only "
            "want to return the Zones from which you have at least one VM. Default is false.",
        ),
        Param(
            "networktype",
            description="the network type of the zone that the virtual machine belongs to",
        ),
        Param("domainid", "uuid", description="the ID of the domain associated with the zone"),
        Param("showcapacities", "boolean", description="flag to display the capacity of the zones"),
        *PAGING,
    ),
    response_fields=ZONE_FIELDS,
    differences="available=false still lists every zone the caller may use (CloudStack limits "
    "it to zones holding the caller's VMs only for domain-scoped zones).",
)
def list_zones(call: Call) -> Reply:
    zone_id = infra.zone_by_uuid(call.session, call.get("id")).id if call.get("id") else None
    zones = infra.visible_zones(
        call.session,
        call.ctx,
        zone_id=zone_id,
        name=call.get("name"),
        network_type=call.get("networktype"),
    )
    if call.get("ids"):
        wanted = set(call.get("ids"))
        zones = [z for z in zones if z.uuid in wanted]
    return call.paged([full_zone_view(call, z) for z in zones if call.keyword_match(z.name)])


@command(
    "createZone",
    kind=Kind.SYNC,
    description="Creates a Zone.",
    response_name="zone",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="the name of the Zone"),
        Param("dns1", required=True, description="the first DNS for the Zone"),
        Param("internaldns1", required=True, description="the first internal DNS for the Zone"),
        Param(
            "networktype",
            required=True,
            description="network type of the zone, can be Basic or Advanced",
        ),
        _DNS2,
        _INTERNAL_DNS2,
        _GUEST_CIDR,
        _NETWORK_DOMAIN,
        Param(
            "domainid", "uuid", description="the ID of the containing domain, null for public zones"
        ),
        Param(
            "allocationstate",
            description="Allocation state of this Zone for allocation of new resources",
        ),
        _LOCAL_STORAGE,
        Param(
            "securitygroupenabled",
            "boolean",
            description="true if network is security group enabled, false otherwise",
        ),
    ),
    response_fields=ZONE_FIELDS,
    differences="dns2, internaldns2, domain and domainid are accepted and not kept.",
)
def create_zone(call: Call) -> Reply:
    zone = infra.add_zone(
        call.session,
        call.ctx,
        network_type=call.get("networktype"),
        description=call.get("name"),
        **_zone_settings(call),
    )
    return Reply(obj=full_zone_view(call, zone))


@command(
    "updateZone",
    kind=Kind.SYNC,
    description="Updates a Zone.",
    response_name="zone",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "the ID of the Zone"),
        Param("name", description="the name of the Zone"),
        Param("dns1", description="the first DNS for the Zone"),
        Param("internaldns1", description="the first internal DNS for the Zone"),
        _GUEST_CIDR,
        _CLUSTER_ALLOCATION_STATE,
        _LOCAL_STORAGE,
        _DNS2,
        _INTERNAL_DNS2,
        _NETWORK_DOMAIN,
    ),
    response_fields=ZONE_FIELDS,
)
def update_zone(call: Call) -> Reply:
    zone = infra.zone_by_uuid(call.session, call.get("id"))
    infra.update_zone(call.session, call.ctx, zone, **_zone_settings(call))
    return Reply(obj=full_zone_view(call, zone))


@delete_command("deleteZone", "Deletes a Zone.", "the ID of the Zone")
def delete_zone(call: Call) -> Reply:
    infra.delete_zone(call.session, call.ctx, infra.zone_by_uuid(call.session, call.get("id")))
    return Reply(success=True)


# pods ---------------------------------------------------------------------------------------

POD_FIELDS = (
    Field("id", description="the ID of the Pod"),
    Field("name", description="the name of the Pod"),
    Field("zoneid", description="the Zone ID of the Pod"),
    Field("gateway", description="the gateway of the Pod"),
    Field("netmask", description="the netmask of the Pod"),
    Field("startip", "list", "the starting IP for the Pod"),
    Field("endip", "list", "the ending IP for the Pod"),
    Field("allocationstate", description="the allocation state of the Pod"),
)
POD_RANGE = (
    Param("gateway", description="the gateway for the Pod"),
    Param("netmask", description="the netmask for the Pod"),
    Param("startip", description="the starting IP address for the Pod"),
    Param("endip", description="the ending IP address for the Pod"),
    Param(
        "allocationstate",
        description="Allocation state of this Pod for allocation of new resources",
    ),
)


def _pod_settings(call: Call) -> dict[str, Any]:
    """The pod settings createPod and updatePod both take, as core arguments."""
    return {
        "name": call.get("name"),
        "gateway": call.get("gateway"),
        "netmask": call.get("netmask"),
        "start_ip": call.get("startip"),
        "end_ip": call.get("endip"),
        "allocation_state": call.get("allocationstate"),
    }


@command(
    "createPod",
    kind=Kind.SYNC,
    description="Creates a new Pod.",
    response_name="pod",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="the name of the Pod"),
        Param("zoneid", "uuid", True, "the Zone ID in which the Pod will be created"),
        *POD_RANGE,
    ),
    response_fields=POD_FIELDS,
)
def create_pod(call: Call) -> Reply:
    zone = infra.zone_by_uuid(call.session, call.get("zoneid"))
    settings = _pod_settings(call)
    settings["end_ip"] = settings["end_ip"] or settings["start_ip"]
    pod = infra.add_pod(call.session, call.ctx, zone=zone, **settings)
    return Reply(obj=pod_view(call, pod))


@command(
    "updatePod",
    kind=Kind.SYNC,
    description="Updates a Pod.",
    response_name="pod",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "the ID of the Pod"),
        Param("name", description="the name of the Pod"),
        *POD_RANGE,
    ),
    response_fields=POD_FIELDS,
)
def update_pod(call: Call) -> Reply:
    pod = infra.get_pod(call.session, call.get("id"))
    infra.update_pod(call.session, call.ctx, pod, **_pod_settings(call))
    return Reply(obj=pod_view(call, pod))


@delete_command("deletePod", "Deletes a Pod.", "the ID of the Pod")
def delete_pod(call: Call) -> Reply:
    infra.delete_pod(call.session, call.ctx, infra.get_pod(call.session, call.get("id")))
    return Reply(success=True)


@command(
    "listPods",
    kind=Kind.LIST,
    description="Lists all Pods.",
    response_name="pod",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="list Pods by ID"),
        Param("name", description="list Pods by name"),
        Param("zoneid", "uuid", description="list Pods by Zone ID"),
        Param("allocationstate", description="list pods by allocation state"),
        Param("showcapacities", "boolean", description="flag to display the capacity of the pods"),
        *PAGING,
    ),
    response_fields=POD_FIELDS,
)
def list_pods(call: Call) -> Reply:
    pod = infra.get_pod(call.session, call.get("id")) if call.get("id") else None
    zone = _zone(call)
    query = infra.search(
        call.session,
        Pod,
        keyword=call.get("keyword"),
        id=pod.id if pod else None,
        name=call.get("name"),
        zone_id=zone.id if zone else None,
        allocation_state=call.get("allocationstate"),
    )
    return _page(call, query, pod_view)


# clusters -----------------------------------------------------------------------------------

CLUSTER_FIELDS = (
    Field("id", description="the cluster ID"),
    Field("name", description="the cluster name"),
    Field("podid", description="the Pod ID of the cluster"),
    Field("zoneid", description="the Zone ID of the cluster"),
    Field("hypervisortype", description="the hypervisor type of the cluster"),
    Field("clustertype", description="the type of the cluster"),
    Field("allocationstate", description="the allocation state of the cluster"),
    Field("managedstate", description="whether this cluster is managed by cloudstack"),
)


@command(
    "addCluster",
    kind=Kind.SYNC,
    description="Adds a new cluster",
    response_name="cluster",
    roles=ADMIN_ONLY,
    params=(
        Param("clustername", required=True, description="the cluster name"),
        Param(
            "clustertype",
            required=True,
            description="type of the cluster: CloudManaged, ExternalManaged",
        ),
        Param(
            "hypervisor",
            required=True,
            description="hypervisor type of the cluster: "
            "XenServer,KVM,VMware,Hyperv,BareMetal,Simulator,Ovm3",
        ),
        Param("zoneid", "uuid", True, "the Zone ID for the cluster"),
        Param("podid", "uuid", True, "the Pod ID for the host"),
        _CLUSTER_ALLOCATION_STATE,
        Param("url", description="the URL"),
        Param("username", description="the username for the cluster"),
        Param("password", description="the password for the host"),
    ),
    response_fields=CLUSTER_FIELDS,
    differences="Only the Simulator hypervisor has a driver; url, username, password are "
    "accepted and ignored.",
)
def add_cluster(call: Call) -> Reply:
    zone = infra.zone_by_uuid(call.session, call.get("zoneid"))
    pod = infra.get_pod(call.session, call.get("podid"))
    if pod.zone_id != zone.id:
        raise InvalidParameter("The pod is not in the zone", parameter="podid")
    cluster_type = call.get("clustertype")
    if cluster_type not in ("CloudManaged", "ExternalManaged"):
        raise InvalidParameter(f"Invalid cluster type {cluster_type}", parameter="clustertype")
    cluster = infra.add_cluster(
        call.session,
        call.ctx,
        pod=pod,
        name=call.get("clustername"),
        hypervisor=_hypervisor(call.get("hypervisor")),
        cluster_type=cluster_type,
        allocation_state=call.get("allocationstate"),
    )
    return Reply(raw={"count": 1, "cluster": [cluster_view(call, cluster)]})


def _hypervisor(name: str) -> str:
    for known in HYPERVISORS:
        if known.lower() == (name or "").lower():
            return known
    raise InvalidParameter(f"Unable to resolve hypervisor type {name}", parameter="hypervisor")


@command(
    "updateCluster",
    kind=Kind.SYNC,
    description="Updates an existing cluster",
    response_name="cluster",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "the ID of the Cluster"),
        Param("clustername", description="the cluster name"),
        _CLUSTER_ALLOCATION_STATE,
        Param("managedstate", description="whether this cluster is managed by cloudstack"),
    ),
    response_fields=CLUSTER_FIELDS,
)
def update_cluster(call: Call) -> Reply:
    cluster = infra.get_cluster(call.session, call.get("id"))
    infra.update_cluster(
        call.session,
        call.ctx,
        cluster,
        name=call.get("clustername"),
        allocation_state=call.get("allocationstate"),
    )
    return Reply(obj=cluster_view(call, cluster))


@delete_command("deleteCluster", "Deletes a cluster.", "the cluster ID")
def delete_cluster(call: Call) -> Reply:
    infra.delete_cluster(call.session, call.ctx, infra.get_cluster(call.session, call.get("id")))
    return Reply(success=True)


@command(
    "listClusters",
    kind=Kind.LIST,
    description="Lists clusters.",
    response_name="cluster",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="lists clusters by the cluster ID"),
        Param("name", description="lists clusters by the cluster name"),
        Param("podid", "uuid", description="lists clusters by Pod ID"),
        Param("zoneid", "uuid", description="lists clusters by Zone ID"),
        Param("hypervisor", description="lists clusters by hypervisor type"),
        Param("clustertype", description="lists clusters by cluster type"),
        Param("allocationstate", description="lists clusters by allocation state"),
        Param(
            "showcapacities", "boolean", description="flag to display the capacity of the clusters"
        ),
        *PAGING,
    ),
    response_fields=CLUSTER_FIELDS,
)
def list_clusters(call: Call) -> Reply:
    cluster = infra.get_cluster(call.session, call.get("id")) if call.get("id") else None
    pod = infra.get_pod(call.session, call.get("podid")) if call.get("podid") else None
    zone = _zone(call)
    query = infra.search(
        call.session,
        Cluster,
        keyword=call.get("keyword"),
        id=cluster.id if cluster else None,
        name=call.get("name"),
        pod_id=pod.id if pod else None,
        zone_id=zone.id if zone else None,
        hypervisor=call.get("hypervisor"),
        cluster_type=call.get("clustertype"),
        allocation_state=call.get("allocationstate"),
    )
    return _page(call, query, cluster_view)


# capacity, hypervisors ----------------------------------------------------------------------

HYPERVISORS = ("Simulator",)


@command(
    "listCapacity",
    kind=Kind.LIST,
    description="Lists all the system wide capacities.",
    response_name="capacity",
    roles=ADMIN_ONLY,
    params=(
        Param("zoneid", "uuid", description="lists capacity by the Zone ID"),
        Param("podid", "uuid", description="lists capacity by the Pod ID"),
        Param("clusterid", "uuid", description="lists capacity by the Cluster ID"),
        Param(
            "type",
            "integer",
            description="lists capacity by type* CAPACITY_TYPE_MEMORY = 0* "
            "CAPACITY_TYPE_CPU = 1* CAPACITY_TYPE_STORAGE = 2* "
            "CAPACITY_TYPE_STORAGE_ALLOCATED = 3* CAPACITY_TYPE_VIRTUAL_NETWORK_PUBLIC_IP = 4* "
            "CAPACITY_TYPE_PRIVATE_IP = 5* CAPACITY_TYPE_SECONDARY_STORAGE = 6* "
            "CAPACITY_TYPE_CPU_CORE = 90",
        ),
        Param("fetchlatest", "boolean", description="recalculate capacities and fetch the latest"),
        Param("sortby", description="Sort the results. Available values: Usage"),
        *PAGING,
    ),
    response_fields=(
        Field("type", "short", "the capacity type"),
        Field("name", description="the capacity name"),
        Field("zoneid", description="the Zone ID"),
        Field("podid", description="the Pod ID"),
        Field("clusterid", description="the Cluster ID"),
        Field("capacityused", "long", "the capacity currently in use"),
        Field("capacityallocated", "long", "the capacity currently in allocated"),
        Field("capacitytotal", "long", "the total capacity available"),
        Field("percentused", description="the percentage of capacity currently in use"),
    ),
    differences="Always current (computed from the planner's counters); fetchlatest has "
    "nothing to refresh. Types 7 (VLAN), 8, 9 and 19 (GPU) are not reported.",
)
def list_capacity(call: Call) -> Reply:
    zone = _zone(call)
    pod = infra.get_pod(call.session, call.get("podid")) if call.get("podid") else None
    cluster = (
        infra.get_cluster(call.session, call.get("clusterid")) if call.get("clusterid") else None
    )
    sortby = (call.get("sortby") or "").lower()
    if sortby and sortby != "usage":
        raise InvalidParameter("Only value affected for sortby param is usage", parameter="sortby")
    items = capacity.list_capacity(
        call.session,
        call.ctx,
        capacity.CapacityFilter(
            zone_id=zone.id if zone else None,
            pod_id=pod.id if pod else None,
            cluster_id=cluster.id if cluster else None,
            capacity_type=call.get("type"),
            sort_by_usage=sortby == "usage",
        ),
    )
    return call.paged([capacity_view(c) for c in items])


@command(
    "listHypervisors",
    kind=Kind.LIST,
    description="List hypervisors",
    response_name="hypervisor",
    params=(Param("zoneid", "uuid", description="the zone id for listing hypervisors."),),
    response_fields=(Field("name", description="Hypervisor name"),),
)
def list_hypervisors(call: Call) -> Reply:
    if call.get("zoneid"):
        infra.zone_by_uuid(call.session, call.get("zoneid"))
    return Reply(items=[{"name": name} for name in HYPERVISORS], total=len(HYPERVISORS))


@command(
    "listHypervisorCapabilities",
    kind=Kind.LIST,
    description="Lists all hypervisor capabilities.",
    response_name="hypervisorCapabilities",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="ID of the hypervisor capability"),
        Param("hypervisor", description="the hypervisor for which to restrict the search"),
        *PAGING,
    ),
    response_fields=(
        Field("id", description="the ID of the hypervisor capabilities row"),
        Field("hypervisor", description="the hypervisor type"),
        Field("hypervisorversion", description="the hypervisor version"),
        Field(
            "maxguestslimit",
            "long",
            "the maximum number of guest vms recommended for this hypervisor",
        ),
    ),
)
def list_hypervisor_capabilities(call: Call) -> Reply:
    rows = [
        {
            # A fixed row, as CloudStack's own simulator capability row (id of its seed data).
            "id": "b8a2c8b2-0a3f-4b1e-9c3e-5f0c1d2e3f40",
            "hypervisor": "Simulator",
            "hypervisorversion": "default",
            "maxguestslimit": 50,
            "maxdatavolumeslimit": 6,
            "maxhostspercluster": 1024,
            "securitygroupenabled": True,
            "storagemotionenabled": True,
            "vmsnapshotenabled": True,
        }
    ]
    if call.get("hypervisor") and call.get("hypervisor").lower() != "simulator":
        rows = []
    if call.get("id") and rows and call.get("id") != rows[0]["id"]:
        rows = []
    return call.paged(rows)
