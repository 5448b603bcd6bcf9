"""Virtual machines: deploy, list, start, stop, reboot, destroy."""

from __future__ import annotations

from core import infra, networks, offerings
from core.configuration import get_setting
from core.context import Role
from core.db import get_live
from core.errors import InvalidParameter, PermissionDenied
from core.infra import Host
from core.templates import template_for_launch
from core.vms import access, attributes, lifecycle
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.vms.states import VmState
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, owner_params, started, zone_id_of
from native_api.errors import PARAM_ERROR, ApiError
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import vm_view, vm_views

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
    Field("deleteprotection", "boolean", "true if vm has delete protection."),
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
            "keypairs",
            "list",
            description="names of the ssh key pairs used to login to the virtual machine",
            since="4.17",
        ),
        Param(
            "rootdisksize", "long", description="Optional field to resize root disk on deploy (GB)"
        ),
        Param(
            "size",
            "long",
            description="the arbitrary size for the DATADISK volume. Mutually exclusive with "
            "diskOfferingId",
        ),
        Param("group", description="an optional group for the virtual machine"),
        Param(
            "keyboard",
            description="an optional keyboard device type for the virtual machine. valid value "
            "can be one of de,de-ch,es,fi,fr,fr-be,fr-ch,is,it,jp,nl-be,no,pt,uk,us",
        ),
        Param(
            "securitygroupnames",
            "list",
            description="comma separated list of security groups names that going to be applied "
            "to the virtual machine. Should be passed only when vm is created from a zone with "
            "Basic Network support. Mutually exclusive with securitygroupids parameter",
        ),
        Param(
            "affinitygroupids",
            "list",
            description="comma separated list of affinity groups id that are going to be applied "
            "to the virtual machine (accepted, not applied)",
        ),
        Param(
            "affinitygroupnames",
            "list",
            description="comma separated list of affinity groups names that are going to be "
            "applied to the virtual machine (accepted, not applied)",
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
        Param("ipaddress", description="the ip address for default vm's network"),
        Param("securitygroupids", "list", description="comma separated list of security groups id"),
        *owner_params(
            "an optional account for the virtual machine. Must be used with domainId.",
            "an optional domainId for the virtual machine",
            "Deploy vm for the project",
        ),
    ),
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.DeployVMCmd",
    differences="No capacity (533) and limit (535) errors come from the call itself, not from "
    "the job; one network only in networkids (the VM's NIC, at ipaddress if given); affinity "
    "groups are accepted but not applied.",
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
    disk_offering = (
        offerings.disk_offering_by_uuid(session, call.get("diskofferingid"))
        if call.get("diskofferingid")
        else None
    )
    if disk_offering is None and call.get("size") is not None:
        raise ApiError(PARAM_ERROR, "size parameter requires diskofferingid", 4350)
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
            root_disk_size_gb=call.get("rootdisksize"),
            cpu_number=_int_detail(details, "cpuNumber"),
            cpu_speed_mhz=_int_detail(details, "cpuSpeed"),
            memory_mb=_int_detail(details, "memory"),
            group=call.get("group") or "",
            keyboard=call.get("keyboard") or "",
            details=_extra_details(details),
            keypairs=tuple([call.get("keypair")] if call.get("keypair") else [])
            + tuple(call.get("keypairs", [])),
            security_group_ids=tuple(call.get("securitygroupids", [])),
            security_group_names=tuple(call.get("securitygroupnames", [])),
            data_disk_offering=disk_offering,
            data_disk_size_gb=call.get("size"),
            network_id=_network_id(call),
            ip_address=call.get("ipaddress") or None,
        ),
    )
    return started(job, vm)


def _network_id(call: Call) -> int | None:
    """The one network of `networkids` (the VM's NIC goes there, in the deploy)."""
    uuids = call.get("networkids", [])
    if len(uuids) > 1:
        raise ApiError(PARAM_ERROR, "Only one network per virtual machine is supported", 4350)
    if not uuids:
        return None
    return networks.get_network(call.session, call.owner(), uuid=uuids[0]).id


SIZING_DETAILS = ("cpunumber", "cpuspeed", "memory")


def _extra_details(details: dict[str, str]) -> dict[str, str]:
    """Details other than the custom-offering sizing, kept on the VM as given."""
    return {k: v for k, v in details.items() if k not in SIZING_DETAILS}


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
        LIST_TAGS,
        Param("keypair", description="list vms by ssh keypair name"),
        Param("group", description="list vms by their group name"),
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
        zone_id=zone_id_of(call),
        host_id=host_id,
        template_id=_id_of(call, "templateid"),
        service_offering_id=_id_of(call, "serviceofferingid"),
        tags=tuple(
            (entry["key"], entry.get("value")) for entry in call.get("tags", []) if "key" in entry
        ),
        group=call.get("group"),
        keypair=call.get("keypair"),
        exclude_states=_hidden_states(call),
    )
    rows, total = vms.list_vms(session, call.ctx, call.scope(), vm_filter, call.page())
    return Reply(items=vm_views(session, rows, call.ctx), total=total)


def _hidden_states(call: Call) -> tuple[str, ...]:
    """Users see their destroyed VMs only when `allow.user.view.destroyed.vm` is on."""
    if call.ctx.role is not Role.USER:
        return ()
    try:
        allowed = get_setting(call.session, "allow.user.view.destroyed.vm").lower() == "true"
    except InvalidParameter:  # the setting is not declared
        allowed = False
    return () if allowed else (VmState.DESTROYED, VmState.EXPUNGING)


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
    return started(job, vm)


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
    return started(job, vm)


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
    return started(job, vm)


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
)
def destroy_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    if call.get("expunge") and not lifecycle.may_expunge_or_recover(call.session, call.ctx):
        raise PermissionDenied(
            "Parameter expunge can be passed by Admin only. Or when the "
            f"{lifecycle.ALLOW_USER_EXPUNGE} key is set."
        )
    if vm.state not in (VmState.DESTROYED, VmState.EXPUNGING) or call.get("expunge"):
        try:
            attributes.ensure_may_terminate(vm)  # EC2's termination protection, one flag
        except attributes.VmProtected:
            raise ApiError(
                PARAM_ERROR,
                f"Instance [id = {vm.uuid}, name = {vm.name}] has delete protection enabled "
                "and cannot be deleted.",
                4350,
            ) from None
    job = vms.destroy_vm(call.session, call.ctx, vm, expunge=call.get("expunge", False))
    return started(job, vm)


# recover / expunge ---------------------------------------------------------------------------


@command(
    "recoverVirtualMachine",
    kind=Kind.SYNC,
    description="Recovers a virtual machine.",
    response_name=VM,
    params=(VM_ID,),
    response_fields=VM_FIELDS,
    differences="Users may recover only when allow.user.expunge.recover.vm is true (531 "
    "otherwise), as CloudStack.",
)
def recover_virtual_machine(call: Call) -> Reply:
    vm = lifecycle.recover_vm(call.session, call.ctx, _vm(call))
    return Reply(obj=vm_view(call.session, vm, call.ctx))


@command(
    "expungeVirtualMachine",
    kind=Kind.ASYNC,
    description="Expunge a virtual machine. Once expunged, it cannot be recoverd.",
    response_name="success",
    entity="VirtualMachine",
    params=(VM_ID,),
    job_command_class="org.apache.cloudstack.api.command.admin.vm.ExpungeVMCmd",
)
def expunge_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    job = lifecycle.expunge_vm(call.session, call.ctx, vm)
    return started(job, vm)


# scale / change offering ---------------------------------------------------------------------

OFFERING_PARAMS = (
    VM_ID,
    Param(
        "serviceofferingid",
        "uuid",
        True,
        "the service offering ID to apply to the virtual machine",
    ),
    Param(
        "details",
        "map",
        description="name value pairs of custom parameters for cpuspeed, memory and cpunumber. "
        "example details[i].name=value",
    ),
)


def _sizing_details(call: Call) -> dict[str, int | None]:
    details = _details(call)
    return {name: _int_detail(details, name) for name in ("cpuNumber", "cpuSpeed", "memory")}


@command(
    "scaleVirtualMachine",
    kind=Kind.ASYNC,
    description="Scales the virtual machine to a new service offering. This works for Stopped "
    "and Running VMs.",
    response_name=VM,
    entity="VirtualMachine",
    params=OFFERING_PARAMS,
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.ScaleVMCmd",
    differences="Errors found before the driver is asked (not dynamically scalable, scaling "
    "down a running VM, no room on the host, limits) come from the call, not from the job.",
)
def scale_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    offering = offerings.service_offering_by_uuid(call.session, call.get("serviceofferingid"))
    job = lifecycle.scale_vm(call.session, call.ctx, vm, offering, _sizing_details(call))
    return started(job, vm)


@command(
    "changeServiceForVirtualMachine",
    kind=Kind.SYNC,
    description="Changes the service offering for a virtual machine. The virtual machine must "
    'be in a "Stopped" state for this command to take effect.',
    response_name=VM,
    params=OFFERING_PARAMS,
    response_fields=VM_FIELDS,
)
def change_service_for_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    offering = offerings.service_offering_by_uuid(call.session, call.get("serviceofferingid"))
    lifecycle.change_service_offering(call.session, call.ctx, vm, offering, _sizing_details(call))
    return Reply(obj=vm_view(call.session, vm, call.ctx))


# password, SSH keys, user data, attributes ---------------------------------------------------


@command(
    "resetPasswordForVirtualMachine",
    kind=Kind.ASYNC,
    description="Resets the password for virtual machine. The virtual machine must be in a "
    '"Stopped" state and the template must already support this feature for this command to '
    "take effect.",
    response_name=VM,
    entity="VirtualMachine",
    params=(VM_ID,),
    response_fields=(*VM_FIELDS, Field("password", description="the password (if exists)")),
    job_command_class="org.apache.cloudstack.api.command.user.vm.ResetVMPasswordCmd",
)
def reset_password_for_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    job = access.reset_password(call.session, call.ctx, vm)
    return started(job, vm)


@command(
    "getVMPassword",
    kind=Kind.SYNC,
    description="Returns an encrypted password for the VM",
    response_name="password",
    params=(VM_ID,),
    response_fields=(
        Field(
            "encryptedpassword",
            description="The base64 encoded encrypted password of the VM",
        ),
    ),
)
def get_vm_password(call: Call) -> Reply:
    encrypted = access.encrypted_password(call.session, call.ctx, _vm(call))
    return Reply(obj={"encryptedpassword": encrypted})


@command(
    "resetSSHKeyForVirtualMachine",
    kind=Kind.ASYNC,
    description="Resets the SSH Key for virtual machine. The virtual machine must be in a "
    '"Stopped" state.',
    response_name=VM,
    entity="VirtualMachine",
    params=(
        VM_ID,
        Param(
            "keypair", description="name of the ssh key pair used to login to the virtual machine"
        ),
        Param(
            "keypairs",
            "list",
            description="names of the ssh key pairs to be used to login to the virtual machine",
            since="4.17",
        ),
        *owner_params(
            "an optional account for the ssh key. Must be used with domainId.",
            "an optional domainId for the virtual machine. If the account parameter "
            "is used, domainId must also be used.",
            "an optional project for the ssh key",
        ),
    ),
    response_fields=VM_FIELDS,
    job_command_class="org.apache.cloudstack.api.command.user.vm.ResetVMSSHKeyCmd",
)
def reset_ssh_key_for_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    names = ([call.get("keypair")] if call.get("keypair") else []) + call.get("keypairs", [])
    job = access.reset_ssh_key(call.session, call.ctx, vm, names)
    return started(job, vm)


@command(
    "updateVirtualMachine",
    kind=Kind.SYNC,
    description="Updates properties of a virtual machine. The VM has to be stopped and "
    "restarted for the new properties to take effect. UpdateVirtualMachine does not first "
    "check whether the VM is stopped. Therefore, stop the VM manually before issuing this call.",
    response_name=VM,
    params=(
        VM_ID,
        Param("displayname", description="user generated name"),
        Param(
            "name",
            description="new host name of the vm. The VM has to be stopped/started "
            "for this update to take affect",
        ),
        Param("group", description="group of the virtual machine"),
        Param(
            "haenable",
            "boolean",
            description="true if high-availability is enabled for the "
            "virtual machine, false otherwise",
        ),
        Param(
            "ostypeid", "uuid", description="the ID of the OS type that best represents this VM."
        ),
        Param(
            "userdata",
            description="an optional binary data that can be sent to the virtual machine upon a "
            "successful deployment. This binary data must be base64 encoded before adding it to "
            "the request.",
            length=1048576,
        ),
        Param(
            "details",
            "map",
            description="Details in key/value pairs. 'extraconfig' is not "
            "allowed to be passed in details.",
        ),
        Param(
            "cleanupdetails",
            "boolean",
            description="optional boolean field, which indicates "
            "if details should be cleaned up or not (if set to true, details removed for this "
            "resource, details field ignored; if false or not set, no action)",
        ),
        Param(
            "isdynamicallyscalable",
            "boolean",
            description="true if VM contains XS/VMWare "
            "tools inorder to support dynamic scaling of VM cpu/memory",
        ),
        Param(
            "displayvm",
            "boolean",
            description="an optional field, whether to the display the vm to the end user or not.",
        ),
        Param(
            "deleteprotection",
            "boolean",
            description="Set delete protection for the virtual machine. If true, the instance "
            "will be protected from deletion.",
        ),
    ),
    response_fields=VM_FIELDS,
    differences="displayvm is accepted and ignored; a new name needs a stopped VM; "
    "deleteprotection is EC2's disableApiTermination of the same VM.",
)
def update_virtual_machine(call: Call) -> Reply:
    vm = _vm(call)
    guest_os = None
    if call.get("ostypeid"):
        from core.os_types import os_type_by_uuid

        guest_os = os_type_by_uuid(call.session, call.get("ostypeid")).display_name
    details: dict[str, str] | None = None
    if call.get("details"):
        details = {}
        for entry in call.get("details", []):
            details.update(entry)
        if "extraconfig" in {key.lower() for key in details}:
            raise ApiError(PARAM_ERROR, "'extraconfig' should not be included in details", 4350)
    userdata = call.get("userdata")
    access.update_vm(
        call.session,
        call.ctx,
        vm,
        access.VmUpdate(
            display_name=call.get("displayname"),
            name=call.get("name"),
            group=call.get("group"),
            ha_enabled=call.get("haenable"),
            guest_os=guest_os,
            user_data=vms.decode_user_data(userdata) if userdata is not None else None,
            details=details,
            cleanup_details=bool(call.get("cleanupdetails", False)),
            dynamically_scalable=call.get("isdynamicallyscalable"),
            delete_protection=call.get("deleteprotection"),
        ),
    )
    return Reply(obj=vm_view(call.session, vm, call.ctx))


@command(
    "getVirtualMachineUserData",
    kind=Kind.SYNC,
    description="Returns user data associated with the VM",
    response_name="virtualmachineuserdata",
    params=(Param("virtualmachineid", "uuid", True, "The ID of the virtual machine"),),
    response_fields=(
        Field("virtualmachineid", description="the ID of the virtual machine"),
        Field("userdata", description="Base 64 encoded VM user data"),
    ),
)
def get_virtual_machine_user_data(call: Call) -> Reply:
    vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    return Reply(obj={"virtualmachineid": vm.uuid, "userdata": access.user_data_base64(vm)})
