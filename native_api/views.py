"""Core objects as CloudStack response objects, with CloudStack's field names."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.identity import Account, Domain, User
from core.infra import Host, Zone
from core.jobs import FAILED, IN_PROGRESS, AsyncJob
from core.offerings import ServiceOffering
from core.templates import Template
from core.vms.models import VirtualMachine
from core.volumes import volumes_of_vm
from native_api.errors import codes_for_kind

GIB = 1024**3

# Resource families add fields to a VM's view (security groups, tags, …) by registering a
# function here at import, instead of editing vm_view: (session, vm, ctx) → extra fields.
VM_VIEW_EXTENSIONS: list[Callable[[Session, VirtualMachine, CallContext], dict[str, Any]]] = []


def owner_fields(session: Session, account_id: int) -> dict[str, Any]:
    """Who owns a resource, as most CloudStack responses show it."""
    account = session.get_one(Account, account_id)
    domain = session.get_one(Domain, account.domain_id)
    return {
        "account": account.name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT",
    }


def _owner(session: Session, account_id: int) -> dict[str, Any]:
    """The owner with the account's id too (VMs, volumes and VM snapshots show it)."""
    account = session.get_one(Account, account_id)
    return {"account": account.name, "accountid": account.uuid, **owner_fields(session, account_id)}


def zone_view(zone: Zone, ctx: CallContext) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": zone.uuid,
        "name": zone.name,
        "description": zone.description,
        "dns1": zone.dns1,
        "internaldns1": zone.internal_dns1,
        "networktype": zone.network_type,
        "securitygroupsenabled": False,
        "allocationstate": zone.allocation_state,
        "zonetoken": zone.uuid,
        "dhcpprovider": "VirtualRouter",
        "localstorageenabled": zone.local_storage_enabled,
        "type": "Core",
        "tags": [],
        "hasannotations": False,
    }
    if ctx.role is Role.ADMIN:
        view["guestcidraddress"] = zone.guest_cidr
    return view


def vm_view(session: Session, vm: VirtualMachine, ctx: CallContext) -> dict[str, Any]:
    zone = session.get_one(Zone, vm.zone_id)
    template = session.get_one(Template, vm.template_id)
    offering = session.get_one(ServiceOffering, vm.service_offering_id)
    user = session.get_one(User, vm.user_id)
    root = next(iter(volumes_of_vm(session, vm.id)), None)
    view: dict[str, Any] = {
        "id": vm.uuid,
        "name": vm.name,
        "displayname": vm.display_name,
        **_owner(session, vm.account_id),
        "userid": user.uuid,
        "username": user.username,
        "created": vm.created,
        "lastupdated": vm.state_changed,
        "state": vm.state,
        "haenable": vm.ha_enabled,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "templateid": template.uuid,
        "templatename": template.name,
        "templatedisplaytext": template.display_text,
        "templatetype": template.template_type,
        "passwordenabled": template.password_enabled,
        "serviceofferingid": offering.uuid,
        "serviceofferingname": offering.name,
        "cpunumber": vm.cpu_number,
        "cpuspeed": vm.cpu_speed_mhz,
        "memory": vm.memory_mb,
        **_guest_os(session, vm.guest_os or template.os_type),
        "rootdeviceid": 0,
        "rootdevicetype": "ROOT",
        "hypervisor": vm.hypervisor,
        "keypairs": vm.keypair or None,
        "group": vm.vm_group or None,
        "securitygroup": [],
        "affinitygroup": [],
        "nic": _nic_views(session, vm, zone),
        "tags": [],
        "details": _vm_details(vm, offering),
        "displayvm": True,
        "isdynamicallyscalable": vm.dynamically_scalable,
        "deleteprotection": vm.disable_api_termination,  # = EC2's disableApiTermination
        "hasannotations": False,
        "sizegb": root.size_bytes // GIB if root else None,
    }
    for extend in VM_VIEW_EXTENSIONS:
        view.update(extend(session, vm, ctx))
    if ctx.role is Role.ADMIN:
        host_id = vm.host_id or vm.last_host_id
        host = session.get(Host, host_id) if host_id else None
        view["instancename"] = vm.instance_name
        if vm.host_id and host:
            view["hostid"] = host.uuid
            view["hostname"] = host.name
    return view


def _guest_os(session: Session, name: str) -> dict[str, Any]:
    from core.os_types import os_type_named

    os_type = os_type_named(session, name)
    return {"guestosid": os_type.uuid if os_type else None, "osdisplayname": name}


def _vm_details(vm: VirtualMachine, offering: ServiceOffering) -> dict[str, str]:
    details = dict(vm.details)
    if offering.is_customized:  # CloudStack keeps a custom offering's sizing among the details
        details.update(
            cpuNumber=str(vm.cpu_number), cpuSpeed=str(vm.cpu_speed_mhz), memory=str(vm.memory_mb)
        )
    if vm.keyboard:
        details["keyboard"] = vm.keyboard
    return details


def _nic_views(session: Session, vm: VirtualMachine, zone: Zone) -> list[dict[str, Any]]:
    """The VM's NICs in guest networks (with the network), else its NIC in the zone's
    shared guest network."""
    from core.networks import Network, nics_of_vm

    views = []
    for nic in nics_of_vm(session, vm.id):
        network = session.get_one(Network, nic.network_id)
        views.append(
            {
                "id": vm.uuid if nic.is_default else f"{vm.uuid}-{nic.id}",
                "networkid": network.uuid,
                "networkname": network.name,
                "netmask": network.netmask,
                "gateway": network.gateway,
                "ipaddress": nic.ip_address,
                "traffictype": network.traffic_type,
                "type": network.guest_type,
                "isdefault": nic.is_default,
                "macaddress": vm.mac_address,
                "deviceid": str(len(views)),
                **({"vpcid": _vpc_uuid(session, network.vpc_id)} if network.vpc_id else {}),
            }
        )
    return views or [_nic_view(vm, zone)]


def _vpc_uuid(session: Session, vpc_id: int) -> str:
    from core.networks import Vpc

    return session.get_one(Vpc, vpc_id).uuid


def _nic_view(vm: VirtualMachine, zone: Zone) -> dict[str, Any]:
    import ipaddress

    network = ipaddress.ip_network(zone.guest_cidr, strict=False)
    return {
        "id": vm.uuid,
        "networkname": f"{zone.name}-guest",
        "netmask": str(network.netmask),
        "gateway": str(network.network_address + 1),
        "ipaddress": vm.private_ip,
        "traffictype": "Guest",
        "type": "Isolated",
        "isdefault": True,
        "macaddress": vm.mac_address,
        "deviceid": "0",
    }


@dataclass(frozen=True, slots=True)
class JobResult:
    """How queryAsyncJobResult shows the jobs of one kind.

    `command_class` is CloudStack's command class name (`cmd`), or a function of the job for
    kinds several commands share; `instance_model` resolves `jobinstanceid`; `render` gives
    the result object (None: the job answers `{"success": true}`).
    """

    object_name: str
    command_class: str | Callable[[AsyncJob], str]
    instance_model: type[Any] | None = None
    render: Callable[[Session, Any, CallContext], dict[str, Any]] | None = None


# Job kind → JobResult; each command family registers its own kinds at import.
JOB_RESULTS: dict[str, JobResult] = {}

_VM_COMMANDS = "org.apache.cloudstack.api.command.user.vm."


def _vm_job(command: str) -> JobResult:
    def command_class(job: AsyncJob) -> str:
        return _VM_COMMANDS + ("DeployVMCmd" if job.arguments.get("deploy") else command)

    return JobResult("virtualmachine", command_class, VirtualMachine, vm_view)


JOB_RESULTS.update(
    {
        "vm.create": _vm_job("DeployVMCmd"),
        "vm.start": _vm_job("StartVMCmd"),
        "vm.stop": _vm_job("StopVMCmd"),
        "vm.reboot": _vm_job("RebootVMCmd"),
        "vm.destroy": _vm_job("DestroyVMCmd"),
        "vm.expunge": JobResult(
            "virtualmachine",
            "org.apache.cloudstack.api.command.admin.vm.ExpungeVMCmd",
            VirtualMachine,
        ),
        "vm.scale": _vm_job("ScaleVMCmd"),
        "vm.resetpassword": _vm_job("ResetVMPasswordCmd"),
        "vm.resetsshkey": _vm_job("ResetVMSSHKeyCmd"),
    }
)


def job_view(session: Session, job: AsyncJob, ctx: CallContext) -> dict[str, Any]:
    account = session.get_one(Account, job.account_id)
    user = session.get_one(User, job.user_id)
    spec = JOB_RESULTS.get(job.kind)
    command = spec.command_class if spec else job.kind
    view: dict[str, Any] = {
        "accountid": account.uuid,
        "account": account.name,
        "userid": user.uuid,
        "cmd": command(job) if callable(command) else command,
        "jobstatus": job.status,
        "jobprocstatus": 0,
        "jobresultcode": 0,
        "jobinstancetype": job.instance_type or None,
        "jobinstanceid": None,
        "created": job.created,
        "completed": job.completed,
        "jobid": job.uuid,
    }
    instance = None
    if spec and spec.instance_model is not None and job.instance_id is not None:
        instance = session.get(spec.instance_model, job.instance_id)
        view["jobinstanceid"] = instance.uuid if instance else None
    if job.status == IN_PROGRESS:
        return view
    view["jobresulttype"] = "object"
    if job.status == FAILED:
        code, cscode = codes_for_kind(job.error_kind)
        view["jobresultcode"] = code
        view["jobresult"] = {"errorcode": code, "cserrorcode": cscode, "errortext": job.error_text}
    elif spec and spec.render and instance is not None:
        rendered = spec.render(session, instance, ctx)
        # A generated password is shown once, in the result of the job that set it.
        password = json.loads(job.result or "{}").get("password")
        if password:
            rendered = {**rendered, "password": password}
        view["jobresult"] = {spec.object_name: rendered}
    else:
        view["jobresult"] = {"success": True}
    return view
