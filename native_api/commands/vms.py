"""Virtual machines: deploy, list, start, stop, reboot, destroy."""

from __future__ import annotations

from core import infra, offerings
from core.db import get_live
from core.infra import Host
from core.templates import template_for_launch
from core.vms import service as vms
from core.vms.models import VirtualMachine
from native_api.call import Call
from native_api.errors import PARAM_ERROR, ApiError
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import vm_view

VM = "virtualmachine"
VM_FIELDS = (
    Field("id", description="the ID of the virtual machine"),
    Field("name", description="the name of the virtual machine"),
    Field(
        "displayname",
        description="user generated name; the name of the virtual machine if not set",
    ),
    Field("state", description="the state of the virtual machine"),
    Field("zoneid", description="the ID of the availability zone for the virtual machine"),
    Field("templateid", description="the ID of the template for the virtual machine"),
    Field("serviceofferingid", description="the ID of the service offering of the virtual machine"),
    Field("account", description="the account associated with the virtual machine"),
    Field("domainid", description="the ID of the domain in which the virtual machine exists"),
    Field("created", "date", "the date when this virtual machine was created"),
    Field("nic", "list", "the list of nics associated with vm"),
)
VM_ID = Param("id", "uuid", required=True, description="The ID of the virtual machine")


def _details(call: Call) -> dict[str, str]:
    merged: dict[str, str] = {}
    for entry in call.get("details", []):
        merged.update({k.lower(): v for k, v in entry.items()})
    return merged


def _int_detail(details: dict[str, str], name: str) -> int | None:
    value = details.get(name.lower())
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(PARAM_ERROR, f"Invalid value for details {name}: {value}", 4350) from None


@command(
    "deployVirtualMachine",
    kind=Kind.ASYNC_CREATE,
    description="Creates and automatically starts a virtual machine based on a service offering, "
    "disk offering, and template.",
    response_name=VM,
    entity="VirtualMachine",
    params=(
        Param(
            "serviceofferingid",
            "uuid",
            True,
            "the ID of the service offering for the virtual machine",
        ),
        Param("templateid", "uuid", True, "the ID of the template for the virtual machine"),
        Param("zoneid", "uuid", True, "availability zone for the virtual machine"),
        Param("name", description="host name for the virtual machine"),
        Param("displayname", description="an optional user generated name for the virtual machine"),
        Param(
            "startvm",
            "boolean",
            description="true by default; false creates the VM without starting it",
        ),
        Param(
            "hostid",
            "uuid",
            description="destination Host ID to deploy the VM to (root admin only)",
        ),
        Param(
            "userdata",
            description="base64 user data sent to the virtual machine on deployment",
            length=1048576,
        ),
        Param(
            "keypair", description="name of the ssh key pair used to login to the virtual machine"
        ),
        Param(
            "rootdisksize", "long", description="Optional field to resize root disk on deploy (GB)"
        ),
        Param(
            "details",
            "map",
            description="used to specify the custom parameters (cpuNumber, cpuSpeed, memory)",
        ),
        Param(
            "diskofferingid", "uuid", description="the ID of the disk offering for the data disk"
        ),
        Param("networkids", "list", description="list of network ids used by virtual machine"),
        Param("securitygroupids", "list", description="comma separated list of security groups id"),
        Param(
            "account",
            description="an optional account for the virtual machine. Must be used with domainId.",
        ),
        Param("domainid", "uuid", description="an optional domainId for the virtual machine"),
    ),
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.DeployVMCmd",
    differences="No capacity (533) and limit (535) errors come from the call itself, not from "
    "the job; networkids, securitygroupids and diskofferingid are accepted but not applied yet.",
)
def deploy_virtual_machine(call: Call) -> Reply:
    session = call.session
    zone = infra.zone_by_uuid(session, call.get("zoneid"))
    offering = offerings.service_offering_by_uuid(session, call.get("serviceofferingid"))
    template = template_for_launch(session, call.ctx, uuid=call.get("templateid"))
    host_id = (
        get_live(session, Host, "host", uuid=call.get("hostid")).id if call.get("hostid") else None
    )
    details = _details(call)
    vm, job = vms.deploy_vm(
        session,
        call.owner(),
        vms.DeploySpec(
            zone=zone,
            service_offering=offering,
            template=template,
            name=call.get("name"),
            display_name=call.get("displayname"),
            start=call.get("startvm", True),
            host_id=host_id,
            user_data=vms.decode_user_data(call.get("userdata")),
            keypair=call.get("keypair", ""),
            root_disk_size_gb=call.get("rootdisksize"),
            cpu_number=_int_detail(details, "cpuNumber"),
            cpu_speed_mhz=_int_detail(details, "cpuSpeed"),
            memory_mb=_int_detail(details, "memory"),
        ),
    )
    return Reply(job_uuid=job.uuid, instance_uuid=vm.uuid)


@command(
    "listVirtualMachines",
    kind=Kind.LIST,
    description="List the virtual machines owned by the account.",
    response_name=VM,
    params=(
        Param("id", "uuid", description="the ID of the virtual machine"),
        Param(
            "ids", "list", description="the IDs of the virtual machines, mutually exclusive with id"
        ),
        Param("name", description="name of the virtual machine (a substring match is not done)"),
        Param("state", description="state of the virtual machine"),
        Param("zoneid", "uuid", description="the availability zone ID"),
        Param("hostid", "uuid", description="the host ID (root admin only)"),
        Param("templateid", "uuid", description="list vms by template"),
        Param("serviceofferingid", "uuid", description="list by the service offering"),
        Param("details", "list", description="comma separated list of vm details requested"),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=VM_FIELDS,
)
def list_virtual_machines(call: Call) -> Reply:
    session = call.session
    uuids = ([call.get("id")] if call.get("id") else []) + call.get("ids", [])
    ids = None
    if uuids:
        ids = tuple(vm.id for vm in _visible_vms_by_uuid(call, uuids))
    host_id = None
    if call.get("hostid"):
        host_id = get_live(session, Host, "host", uuid=call.get("hostid")).id
    state = call.get("state")
    vm_filter = vms.VmFilter(
        ids=ids,
        name=call.get("name"),
        keyword=call.get("keyword"),
        states=(state.capitalize(),) if state else None,
        zone_id=infra.zone_by_uuid(session, call.get("zoneid")).id if call.get("zoneid") else None,
        host_id=host_id,
        template_id=_id_of(call, "templateid"),
        service_offering_id=_id_of(call, "serviceofferingid"),
    )
    rows, total = vms.list_vms(session, call.ctx, call.scope(), vm_filter, call.page())
    return Reply(items=[vm_view(session, vm, call.ctx) for vm in rows], total=total)


def _visible_vms_by_uuid(call: Call, uuids: list[str]) -> list[VirtualMachine]:
    found = []
    for uuid in uuids:
        try:
            found.append(get_live(call.session, VirtualMachine, "virtual machine", uuid=uuid))
        except Exception:  # a list filter on an unknown id lists nothing, like CloudStack
            continue
    return found


def _id_of(call: Call, name: str) -> int | None:
    from core.offerings import ServiceOffering
    from core.templates import Template

    model = {"templateid": Template, "serviceofferingid": ServiceOffering}[name]
    uuid = call.get(name)
    return get_live(call.session, model, name, uuid=uuid).id if uuid else None


def _vm(call: Call) -> VirtualMachine:
    return vms.get_vm(call.session, call.ctx, uuid=call.get("id"))


@command(
    "startVirtualMachine",
    kind=Kind.ASYNC,
    description="Starts a virtual machine.",
    response_name=VM,
    entity="VirtualMachine",
    params=(
        VM_ID,
        Param(
            "hostid",
            "uuid",
            description="destination Host ID to deploy the VM to (root admin only)",
        ),
    ),
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.StartVMCmd",
    differences="No capacity (533) comes from the call itself, not from the job.",
)
def start_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    host_id = (
        get_live(call.session, Host, "host", uuid=call.get("hostid")).id
        if call.get("hostid")
        else None
    )
    job = vms.start_vm(call.session, call.ctx, vm, host_id=host_id)
    return Reply(job_uuid=job.uuid, instance_uuid=vm.uuid)


@command(
    "stopVirtualMachine",
    kind=Kind.ASYNC,
    description="Stops a virtual machine.",
    response_name=VM,
    entity="VirtualMachine",
    params=(VM_ID, Param("forced", "boolean", description="Force stop the VM")),
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.StopVMCmd",
)
def stop_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    job = vms.stop_vm(call.session, call.ctx, vm, force=call.get("forced", False))
    return Reply(job_uuid=job.uuid, instance_uuid=vm.uuid)


@command(
    "rebootVirtualMachine",
    kind=Kind.ASYNC,
    description="Reboots a virtual machine.",
    response_name=VM,
    entity="VirtualMachine",
    params=(VM_ID,),
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.RebootVMCmd",
)
def reboot_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    job = vms.reboot_vm(call.session, call.ctx, vm)
    return Reply(job_uuid=job.uuid, instance_uuid=vm.uuid)


@command(
    "destroyVirtualMachine",
    kind=Kind.ASYNC,
    description="Destroys a virtual machine.",
    response_name=VM,
    entity="VirtualMachine",
    params=(
        VM_ID,
        Param(
            "expunge", "boolean", description="If true is passed, the vm is expunged immediately"
        ),
    ),
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.DestroyVMCmd",
    differences="expunge=true is allowed to every role (CloudStack asks "
    "allow.user.expunge.recover.vm for users).",
)
def destroy_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    job = vms.destroy_vm(call.session, call.ctx, vm, expunge=call.get("expunge", False))
    return Reply(job_uuid=job.uuid, instance_uuid=vm.uuid)
