"""Hosts: add, update, delete, list, maintenance, reconnect."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import host_maintenance, infra
from core.configuration import get_float
from core.context import CallContext
from core.errors import InvalidParameter
from core.infra import Cluster, Host, Pod, Zone
from core.listing import paginate
from native_api.call import Call
from native_api.commands.common import started
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult

HOST_FIELDS = (
    Field("id", description="the ID of the host"),
    Field("name", description="the name of the host"),
    Field("state", description="the state of the host"),
    Field("type", description="the host type"),
    Field("resourcestate", description="the resource state of the host"),
    Field("ipaddress", description="the IP address of the host"),
    Field("zoneid", description="the Zone ID of the host"),
    Field("podid", description="the Pod ID of the host"),
    Field("clusterid", description="the cluster ID of the host"),
    Field("hypervisor", description="the host hypervisor"),
    Field("cpunumber", "integer", "the CPU number of the host"),
    Field("cpuspeed", "long", "the CPU speed of the host"),
    Field("cpuallocated", description="the amount of the host's CPU currently allocated"),
    Field("cpuallocatedvalue", "long", "the amount of the host's CPU currently allocated in MHz"),
    Field("memorytotal", "long", "the memory total of the host"),
    Field("memoryallocated", "long", "the amount of the host's memory currently allocated"),
    Field("memoryused", "long", "the amount of the host's memory currently used"),
    Field("hosttags", description="comma-separated list of tags for the host"),
    Field(
        "suitableformigration",
        "boolean",
        "true if this host is suitable(has enough capacity "
        "and satisfies all conditions like hosttags, max guests vm limit etc) to migrate a VM "
        "to it , false otherwise",
    ),
)
HOST_JOB = "org.apache.cloudstack.api.command.admin.host."


def _percent(part: float, whole: float) -> str:
    return f"{(part * 100 / whole) if whole else 0:.2f}%"


def host_view(
    session: Session, host: Host, ctx: CallContext | None = None, **extra: Any
) -> dict[str, Any]:
    """CloudStack's HostResponse (allocation figures from the planner's counters)."""
    zone = session.get_one(Zone, host.zone_id)
    pod = session.get_one(Pod, host.pod_id)
    cluster = session.get_one(Cluster, host.cluster_id)
    cpu_total = host.cpu_total_mhz
    cpu_factor = get_float(session, "cpu.overprovisioning.factor")
    memory_factor = get_float(session, "mem.overprovisioning.factor")
    view: dict[str, Any] = {
        "id": host.uuid,
        "name": host.name,
        "state": host.state,
        "disconnected": host.last_ping,
        "type": host.host_type,
        "ipaddress": host.ip_address,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "podid": pod.uuid,
        "podname": pod.name,
        "clusterid": cluster.uuid,
        "clustername": cluster.name,
        "clustertype": cluster.cluster_type,
        "version": host.version,
        "hypervisor": host.hypervisor,
        "hypervisorversion": None,
        "cpusockets": host.cpu_sockets,
        "cpunumber": host.cpu_cores,
        "cpuspeed": host.cpu_speed_mhz,
        "cpuallocated": _percent(host.cpu_used_mhz, cpu_total),
        "cpuallocatedvalue": host.cpu_used_mhz,
        "cpuallocatedpercentage": _percent(host.cpu_used_mhz, cpu_total),
        "cpuallocatedwithoverprovisioning": _percent(host.cpu_used_mhz, cpu_total * cpu_factor),
        "cpuused": _percent(host.cpu_used_mhz, cpu_total),
        "cpuwithoverprovisioning": f"{cpu_total * cpu_factor:.1f}",
        "cpuloadaverage": 0.0,
        "networkkbsread": 0,
        "networkkbswrite": 0,
        "memorytotal": host.memory_bytes,
        "memorywithoverprovisioning": f"{host.memory_bytes * memory_factor:.1f}",
        "memoryallocated": host.memory_used_bytes,
        "memoryallocatedbytes": host.memory_used_bytes,
        "memoryallocatedpercentage": _percent(host.memory_used_bytes, host.memory_bytes),
        "memoryused": host.memory_used_bytes,
        "disksizetotal": 0,
        "disksizeallocated": 0,
        "capabilities": "hvm",
        "lastpinged": host.last_ping or host.created,
        "islocalstorageactive": False,
        "created": host.created,
        "removed": host.removed,
        "events": "PingTimeout; AgentDisconnected; ShutdownRequested; HostDown; Remove; "
        "AgentConnected; Ping; StartAgentRebalance; ManagementServerDown",
        "hosttags": host.host_tags or None,
        "explicithosttags": host.host_tags or None,
        "resourcestate": host.resource_state,
        "hahost": False,
        "encryptionsupported": False,
        "instanceconversionsupported": False,
        "hasannotations": False,
    }
    view.update(extra)
    return view


def _host_view(session: Session, host: Host, ctx: CallContext) -> dict[str, Any]:
    return host_view(session, host, ctx)


for _kind, _command in (
    (host_maintenance.PREPARE, "PrepareForMaintenanceCmd"),
    (host_maintenance.CANCEL, "CancelMaintenanceCmd"),
    (host_maintenance.RECONNECT, "ReconnectHostCmd"),
):
    JOB_RESULTS[_kind] = JobResult(
        object_name="host",
        command_class=HOST_JOB + _command,
        instance_model=Host,
        render=_host_view,
    )


def _host(call: Call, name: str = "id") -> Host:
    return infra.get_host(call.session, call.get(name))


@command(
    "addHost",
    kind=Kind.SYNC,
    description="Adds a new host.",
    response_name="host",
    roles=ADMIN_ONLY,
    params=(
        Param("zoneid", "uuid", True, "the Zone ID for the host"),
        Param("podid", "uuid", True, "the Pod ID for the host"),
        Param("url", required=True, description="the host URL"),
        Param("hypervisor", required=True, description="hypervisor type of the host"),
        Param(
            "username",
            description="the username for the host; required to be passed for "
            "hypervisors other than VMWare",
        ),
        Param(
            "password",
            description="the password for the host; required to be passed for "
            "hypervisors other than VMWare",
        ),
        Param("clusterid", "uuid", description="the cluster ID for the host"),
        Param("clustername", description="the cluster name for the host"),
        Param("hosttags", "list", description="list of tags to be added to the host"),
        Param(
            "allocationstate",
            description="Allocation state of this Host for allocation of new resources",
        ),
        Param(
            "details",
            "map",
            description="details (cpunumber, cpuspeed, memory in MiB for the simulator)",
        ),
    ),
    response_fields=HOST_FIELDS,
    differences="The simulator's host size comes from url query parameters or details "
    "(cpunumber, cpuspeed, memory in MiB; default 8 x 2000 MHz, 16 GiB) instead of CloudStack's "
    "mock-host configuration; clustername does not create a cluster.",
)
def add_host(call: Call) -> Reply:
    zone = infra.zone_by_uuid(call.session, call.get("zoneid"))
    pod = infra.get_pod(call.session, call.get("podid"))
    if pod.zone_id != zone.id:
        raise InvalidParameter("The pod is not in the zone", parameter="podid")
    if call.get("clusterid"):
        cluster = infra.get_cluster(call.session, call.get("clusterid"))
    else:
        clusters = [
            c
            for c in call.session.scalars(infra.search(call.session, Cluster, pod_id=pod.id))
            if not call.get("clustername") or c.name == call.get("clustername")
        ]
        if not clusters:
            raise InvalidParameter("A cluster is required to add a host", parameter="clusterid")
        cluster = clusters[0]
    if cluster.pod_id != pod.id:
        raise InvalidParameter("The cluster is not in the pod", parameter="clusterid")
    details: dict[str, str] = {}
    for entry in call.get("details", []):
        details.update(entry)
    host = infra.register_host(
        call.session,
        call.ctx,
        cluster=cluster,
        url=call.get("url"),
        hypervisor=call.get("hypervisor"),
        host_tags=",".join(call.get("hosttags", [])),
        details=details,
    )
    state = (call.get("allocationstate") or "").lower()
    if state:
        if state not in ("enabled", "disabled"):
            raise InvalidParameter(
                "allocationstate must be Enabled or Disabled", parameter="allocationstate"
            )
        infra.update_host(call.session, call.ctx, host, allocation_state=state.removesuffix("d"))
    return Reply(raw={"count": 1, "host": [host_view(call.session, host, call.ctx)]})


@command(
    "updateHost",
    kind=Kind.SYNC,
    description="Updates a host.",
    response_name="host",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "the ID of the host to update"),
        Param("hosttags", "list", description="list of tags to be added to the host"),
        Param(
            "allocationstate",
            description="Change resource state of host, valid values are "
            "[Enable, Disable]. Operation may failed if host in states not allowing Enable or "
            "Disable",
        ),
        Param("name", description="the new name of the host"),
        Param("annotation", description="Add an annotation to this host"),
    ),
    response_fields=HOST_FIELDS,
)
def update_host(call: Call) -> Reply:
    host = _host(call)
    tags = call.get("hosttags")
    infra.update_host(
        call.session,
        call.ctx,
        host,
        host_tags=",".join(tags) if tags is not None else None,
        allocation_state=call.get("allocationstate"),
        name=call.get("name"),
    )
    return Reply(obj=host_view(call.session, host, call.ctx))


@command(
    "deleteHost",
    kind=Kind.SYNC,
    description="Deletes a host.",
    response_name="success",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "the host ID"),
        Param(
            "forced",
            "boolean",
            description="Force delete the host. All HA enabled vms running "
            "on the host will be put to HA; HA disabled ones will be stopped",
        ),
        Param(
            "forcedestroylocalstorage",
            "boolean",
            description="Force destroy local storage on "
            "this host. All VMs created on this local storage will be destroyed",
        ),
    ),
    response_fields=(Field("success", "boolean", "true if operation is executed successfully"),),
    differences="forced deletes a host outside maintenance but never one with VMs on it "
    "(CloudStack stops or HA-restarts them).",
)
def delete_host(call: Call) -> Reply:
    infra.delete_host(call.session, call.ctx, _host(call), forced=bool(call.get("forced")))
    return Reply(success=True)


@command(
    "listHosts",
    kind=Kind.LIST,
    description="Lists hosts.",
    response_name="host",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="the id of the host"),
        Param("name", description="the name of the host"),
        Param("zoneid", "uuid", description="the Zone ID for the host"),
        Param("podid", "uuid", description="the Pod ID for the host"),
        Param("clusterid", "uuid", description="lists hosts existing in particular cluster"),
        Param("type", description="the host type"),
        Param("state", description="the state of the host"),
        Param(
            "resourcestate",
            description="list hosts by resource state. Resource state "
            "represents current state determined by admin of host, value can be one of "
            "[Enabled, Disabled, Unmanaged, PrepareForMaintenance, ErrorInMaintenance, "
            "Maintenance, Error]",
        ),
        Param(
            "hypervisor",
            description="hypervisor type of host: XenServer,KVM,VMware,Hyperv,BareMetal,Simulator",
        ),
        Param("hahost", "boolean", description="if true, list only hosts dedicated to HA"),
        Param("details", "list", description="comma separated list of host details requested"),
        Param(
            "virtualmachineid",
            "uuid",
            description="lists hosts in the same cluster as this "
            "VM and flag hosts with enough CPU/RAm to host this VM",
        ),
        *PAGING,
    ),
    response_fields=HOST_FIELDS,
)
def list_hosts(call: Call) -> Reply:
    host = _host(call) if call.get("id") else None
    zone = infra.zone_by_uuid(call.session, call.get("zoneid")) if call.get("zoneid") else None
    pod = infra.get_pod(call.session, call.get("podid")) if call.get("podid") else None
    cluster = (
        infra.get_cluster(call.session, call.get("clusterid")) if call.get("clusterid") else None
    )
    if call.get("virtualmachineid"):
        return _hosts_for_vm(call)
    query = infra.search(
        call.session,
        Host,
        keyword=call.get("keyword"),
        id=host.id if host else None,
        name=call.get("name"),
        zone_id=zone.id if zone else None,
        pod_id=pod.id if pod else None,
        cluster_id=cluster.id if cluster else None,
        host_type=call.get("type"),
        state=call.get("state"),
        resource_state=call.get("resourcestate"),
        hypervisor=call.get("hypervisor"),
    )
    if call.get("hahost"):
        return Reply(items=[], total=0)
    rows, total = paginate(call.session, query, call.page())
    return Reply(items=[host_view(call.session, h, call.ctx) for h in rows], total=total)


def _hosts_for_vm(call: Call) -> Reply:
    from core.vms import migrate
    from core.vms.service import get_vm

    vm = get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    found = migrate.find_hosts_for_migration(call.session, call.ctx, vm)
    views = [host_view(call.session, h, call.ctx, hasenoughcapacity=fit) for h, fit in found]
    return call.paged(views)


def _host_job(name: str, description: str, command_class: str, differences: str = "") -> Any:
    """An administrator's async command on one host (by id) that answers the host."""
    return command(
        name,
        kind=Kind.ASYNC,
        description=description,
        response_name="host",
        roles=ADMIN_ONLY,
        params=(Param("id", "uuid", True, "the host ID"),),
        response_fields=HOST_FIELDS,
        job_command_class=HOST_JOB + command_class,
        differences=differences,
    )


def _async(call: Call, start: Any) -> Reply:
    host = _host(call)
    job = start(call.session, call.ctx, host)
    return started(job, host)


@_host_job(
    "prepareHostForMaintenance",
    "Prepares a host for maintenance.",
    "PrepareForMaintenanceCmd",
    differences="Running VMs are live-migrated by the planner; a VM that cannot move (or is "
    "starting or stopping) leaves the host in ErrorInMaintenance.",
)
def prepare_host_for_maintenance(call: Call) -> Reply:
    return _async(call, host_maintenance.prepare_for_maintenance)


@_host_job("cancelHostMaintenance", "Cancels host maintenance.", "CancelMaintenanceCmd")
def cancel_host_maintenance(call: Call) -> Reply:
    return _async(call, host_maintenance.cancel_maintenance)


@_host_job(
    "reconnectHost",
    "Reconnects a host.",
    "ReconnectHostCmd",
    differences="The simulator's agent is always connected: the job only records a ping.",
)
def reconnect_host(call: Call) -> Reply:
    return _async(call, host_maintenance.reconnect_host)
