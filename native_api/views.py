"""Core objects as CloudStack response objects, with CloudStack's field names."""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.identity import Account, Domain, User
from core.infra import Host, Zone
from core.jobs import FAILED, IN_PROGRESS, AsyncJob
from core.offerings import ServiceOffering
from core.templates import Template
from core.vms.models import VirtualMachine
from core.volumes import root_sizes_of
from native_api.errors import codes_for_kind

GIB = 1024**3
T = TypeVar("T")

# Resource families add fields to VM views (security groups, tags, …) by registering a
# function here at import, instead of editing vm_views: (session, vms, ctx) → {vm id: extra
# fields}. It gets a whole page of VMs at once so that it can answer with one query, not one
# per VM (a listVirtualMachines page is 500 VMs).
VmViewExtension = Callable[[Session, list[VirtualMachine], CallContext], dict[int, dict[str, Any]]]
VM_VIEW_EXTENSIONS: list[VmViewExtension] = []


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
    return vm_views(session, [vm], ctx)[0]


def vm_views(session: Session, vms: list[VirtualMachine], ctx: CallContext) -> list[dict[str, Any]]:
    """The views of many VMs with a fixed number of queries: what the VMs refer to (zone,
    template, offering, owner) is loaded once per page, and what each VM has (volumes, NICs,
    extension fields) is loaded for all of them at once."""
    ids = [vm.id for vm in vms]
    root_sizes = root_sizes_of(session, ids)
    rows = RowsById(session)
    nics = _nic_views_of(rows, vms)
    extras = [extend(session, vms, ctx) for extend in VM_VIEW_EXTENSIONS]
    owners: dict[int, dict[str, Any]] = {}
    guest_os: dict[str, dict[str, Any]] = {}
    views = []
    for vm in vms:
        template = rows.get(Template, vm.template_id)
        os_name = vm.guest_os or template.os_type
        if os_name not in guest_os:
            guest_os[os_name] = _guest_os(session, os_name)
        if vm.account_id not in owners:
            owners[vm.account_id] = _owner(session, vm.account_id)
        view = _vm_fields(rows, vm, ctx, template, owners[vm.account_id], guest_os[os_name])
        view["nic"] = nics.get(vm.id) or [_nic_view(vm, rows.get(Zone, vm.zone_id))]
        view["sizegb"] = root_sizes[vm.id] // GIB if vm.id in root_sizes else None
        for extra in extras:
            view.update(extra.get(vm.id, {}))
        views.append(view)
    return views


class RowsById:
    """Rows a page of views refers to, each loaded once: the session's identity map holds
    objects weakly, so a row no view keeps would be loaded again for the next VM."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: dict[tuple[type[Any], int], Any] = {}

    def get(self, model: type[T], row_id: int) -> T:
        key = (model, row_id)
        if key not in self._rows:
            self._rows[key] = self.session.get_one(model, row_id)
        row: T = self._rows[key]
        return row


def _vm_fields(
    rows: RowsById,
    vm: VirtualMachine,
    ctx: CallContext,
    template: Template,
    owner: dict[str, Any],
    guest_os: dict[str, Any],
) -> dict[str, Any]:
    zone = rows.get(Zone, vm.zone_id)
    offering = rows.get(ServiceOffering, vm.service_offering_id)
    user = rows.get(User, vm.user_id)
    view: dict[str, Any] = {
        "id": vm.uuid,
        "name": vm.name,
        "displayname": vm.display_name,
        **owner,
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
        **guest_os,
        "rootdeviceid": 0,
        "rootdevicetype": "ROOT",
        "hypervisor": vm.hypervisor,
        "keypairs": vm.keypair or None,
        "group": vm.vm_group or None,
        "securitygroup": [],
        "affinitygroup": [],
        "nic": [],
        "tags": [],
        "details": _vm_details(vm, offering),
        "displayvm": True,
        "isdynamicallyscalable": vm.dynamically_scalable,
        "deleteprotection": vm.disable_api_termination,  # = EC2's disableApiTermination
        "hasannotations": False,
        "sizegb": None,
    }
    if ctx.role is Role.ADMIN:
        view["instancename"] = vm.instance_name
        if vm.host_id:
            host = rows.get(Host, vm.host_id)
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


def _nic_views_of(rows: RowsById, vms: list[VirtualMachine]) -> dict[int, list[dict[str, Any]]]:
    """Each VM's NICs in guest networks (with the network); empty for a VM whose only NIC is
    in the zone's shared guest network (`_nic_view`)."""
    from core.networks import Network, Vpc, nics_of_vms

    views: dict[int, list[dict[str, Any]]] = {}
    by_id = {vm.id: vm for vm in vms}
    for vm_id, nics in nics_of_vms(rows.session, list(by_id)).items():
        vm = by_id[vm_id]
        views[vm_id] = []
        for nic in nics:
            network = rows.get(Network, nic.network_id)
            views[vm_id].append(
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
                    "deviceid": str(len(views[vm_id])),
                    **({"vpcid": rows.get(Vpc, network.vpc_id).uuid} if network.vpc_id else {}),
                }
            )
    return views


def _nic_view(vm: VirtualMachine, zone: Zone) -> dict[str, Any]:
    netmask, gateway = _guest_netmask_gateway(zone.guest_cidr)
    return {
        "id": vm.uuid,
        "networkname": f"{zone.name}-guest",
        "netmask": netmask,
        "gateway": gateway,
        "ipaddress": vm.private_ip,
        "traffictype": "Guest",
        "type": "Isolated",
        "isdefault": True,
        "macaddress": vm.mac_address,
        "deviceid": "0",
    }


@functools.lru_cache(maxsize=64)
def _guest_netmask_gateway(cidr: str) -> tuple[str, str]:
    """A zone guest CIDR's netmask and gateway (its first address), parsed once."""
    network = ipaddress.ip_network(cidr, strict=False)
    return str(network.netmask), str(network.network_address + 1)


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
