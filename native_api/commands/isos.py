"""ISOs: register, list, update, delete, copy, permissions, attach to and detach from VMs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import isos as core_isos
from core import templates as core_templates
from core.context import CallContext
from core.vms import service as vms
from core.vms.models import VirtualMachine
from native_api.call import Call
from native_api.commands.common import owner_params, started
from native_api.commands.templates import (
    COPY_DESTINATIONS,
    OPTIONAL_DOMAIN,
    PERMISSION_FIELDS,
    PERMISSION_PARAMS,
    SORT_KEY,
    TAGS,
    TEMPLATE_FIELDS,
    TEMPLATE_ID,
    UPDATE_PARAMS,
    UPDATE_SCALING,
    checksum_param,
    copy_from,
    delete_from,
    list_rows,
    permissions_update,
    permissions_view,
    registered_reply,
    spec_from,
    update_from,
)
from native_api.registry import OWNER_SCOPE, PAGING, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, VM_VIEW_EXTENSIONS, JobResult, vm_view

ISO_CMD = "org.apache.cloudstack.api.command.user.iso."


def vm_iso_fields(
    session: Session, vms: list[VirtualMachine], _ctx: CallContext
) -> dict[int, dict[str, Any]]:
    """isoid / isoname / isodisplaytext on the VMs that have an ISO attached."""
    return {
        vm_id: {"isoid": iso.uuid, "isoname": iso.name, "isodisplaytext": iso.display_text}
        for vm_id, iso in core_isos.isos_of_vms(session, [vm.id for vm in vms]).items()
    }


VM_VIEW_EXTENSIONS.append(vm_iso_fields)
JOB_RESULTS["iso.attach"] = JobResult(
    "virtualmachine", ISO_CMD + "AttachIsoCmd", VirtualMachine, vm_view
)
JOB_RESULTS["iso.detach"] = JobResult(
    "virtualmachine", ISO_CMD + "DetachIsoCmd", VirtualMachine, vm_view
)


def _iso(call: Call) -> core_templates.Template:
    return core_templates.get_template(call.session, call.ctx, call.get("id"), is_iso=True)


@command(
    "registerIso",
    kind=Kind.SYNC,
    description="Registers an existing ISO into the CloudStack Cloud.",
    response_name="iso",
    params=(
        Param("name", required=True, description="the name of the ISO"),
        Param(
            "displaytext",
            description="the display text of the ISO, defaults to the 'name'",
            length=4096,
        ),
        Param(
            "url",
            required=True,
            length=2048,
            description="the URL to where the ISO is currently being hosted",
        ),
        Param(
            "zoneid",
            required=True,
            description="the ID of the zone you wish to register the ISO to.",
        ),
        Param(
            "bootable",
            "boolean",
            description="true if this ISO is bootable. If not passed "
            "explicitly its assumed to be true",
        ),
        Param(
            "ostypeid",
            "uuid",
            description="the ID of the OS type that best represents the OS "
            "of this ISO. If the ISO is bootable this parameter needs to be passed",
        ),
        Param(
            "ispublic",
            "boolean",
            description="true if you want to register the ISO to be "
            "publicly available to all users, false otherwise.",
        ),
        Param("isfeatured", "boolean", description="true if you want this ISO to be featured"),
        Param(
            "isextractable",
            "boolean",
            description="true if the ISO or its derivatives are extractable; default is false",
        ),
        Param(
            "passwordenabled",
            "boolean",
            description="true if password reset feature is supported; default is false",
        ),
        Param(
            "isdynamicallyscalable",
            "boolean",
            description="true if ISO contains XS/VMWare "
            "tools inorder to support dynamic scaling of VM CPU/memory",
        ),
        checksum_param("ISO"),
        *owner_params(
            "an optional account name. Must be used with domainId.",
            OPTIONAL_DOMAIN,
            "Register ISO for the project",
        ),
    ),
    response_fields=TEMPLATE_FIELDS,
)
def register_iso(call: Call) -> Reply:
    spec = spec_from(call, core_templates.ISO)
    iso, _jobs = core_isos.register_iso(call.session, call.owner(), spec)
    return registered_reply(call, iso, "iso")


@command(
    "listIsos",
    kind=Kind.LIST,
    description="Lists all available ISO files.",
    response_name="iso",
    params=(
        Param(
            "isofilter",
            description='possible values are "featured", "self", '
            '"selfexecutable","sharedexecutable","executable", and "community"',
        ),
        Param("id", "uuid", description="list ISO by ID"),
        Param("ids", "list", description="the IDs of the ISOs, mutually exclusive with id"),
        Param("name", description="list all ISOs by name"),
        Param("zoneid", "uuid", description="the ID of the zone"),
        Param("bootable", "boolean", description="true if the ISO is bootable, false otherwise"),
        Param(
            "ispublic",
            "boolean",
            description="true if the ISO is publicly available to all users, false otherwise.",
        ),
        Param("isready", "boolean", description="true if this ISO is ready to be deployed"),
        Param("hypervisor", description="the hypervisor for which to restrict the search"),
        Param("showremoved", "boolean", description="show removed ISOs as well"),
        TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=TEMPLATE_FIELDS,
)
def list_isos(call: Call) -> Reply:
    return list_rows(call, is_iso=True, filter_param="isofilter")


@command(
    "updateIso",
    kind=Kind.SYNC,
    description="Updates an ISO file.",
    response_name="iso",
    params=(*UPDATE_PARAMS, SORT_KEY, UPDATE_SCALING),
    response_fields=TEMPLATE_FIELDS,
)
def update_iso(call: Call) -> Reply:
    return update_from(call, _iso(call), "iso")


@command(
    "deleteIso",
    kind=Kind.ASYNC,
    description="Deletes an ISO file.",
    response_name="iso",
    params=(
        Param("id", "uuid", True, "the ID of the ISO file"),
        Param(
            "zoneid",
            "uuid",
            description="the ID of the zone of the ISO file. If not "
            "specified, the ISO will be deleted from all the zones",
        ),
    ),
    job_command_class=ISO_CMD + "DeleteIsoCmd",
)
def delete_iso(call: Call) -> Reply:
    return delete_from(call, _iso(call))


@command(
    "copyIso",
    kind=Kind.ASYNC,
    description="Copies an iso from one zone to another.",
    response_name="iso",
    params=(
        Param("id", "uuid", True, "Template ID."),
        Param(
            "sourcezoneid",
            "uuid",
            description="ID of the zone the template is currently hosted on.",
        ),
        *COPY_DESTINATIONS,
    ),
    response_fields=TEMPLATE_FIELDS,
    job_command_class=ISO_CMD + "CopyIsoCmd",
)
def copy_iso(call: Call) -> Reply:
    return copy_from(call, _iso(call))


@command(
    "updateIsoPermissions",
    kind=Kind.SYNC,
    description="Updates ISO permissions",
    response_name="success",
    params=PERMISSION_PARAMS,
)
def update_iso_permissions(call: Call) -> Reply:
    return permissions_update(call, _iso(call))


@command(
    "listIsoPermissions",
    kind=Kind.SYNC,
    description="List iso visibility and all accounts that have permissions to view this iso.",
    response_name="templatepermission",
    params=(TEMPLATE_ID,),
    response_fields=PERMISSION_FIELDS,
)
def list_iso_permissions(call: Call) -> Reply:
    return permissions_view(call, _iso(call))


@command(
    "attachIso",
    kind=Kind.ASYNC,
    description="Attaches an ISO to a virtual machine.",
    response_name="virtualmachine",
    params=(
        Param("id", "uuid", True, "the ID of the ISO file"),
        Param("virtualmachineid", "uuid", True, "the ID of the virtual machine"),
        Param(
            "forced",
            "boolean",
            description="If true, ejects existing ISO before attaching on VMware. Default: false",
        ),
    ),
    job_command_class=ISO_CMD + "AttachIsoCmd",
)
def attach_iso(call: Call) -> Reply:
    iso = _iso(call)
    vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    job = core_isos.attach_iso(call.session, call.ctx, iso, vm)
    return started(job, vm)


@command(
    "detachIso",
    kind=Kind.ASYNC,
    description="Detaches any ISO file (if any) currently attached to a virtual machine.",
    response_name="virtualmachine",
    params=(
        Param("virtualmachineid", "uuid", True, "The ID of the virtual machine"),
        Param(
            "forced",
            "boolean",
            description="If true, ejects the ISO before detaching on VMware. Default: false",
        ),
    ),
    job_command_class=ISO_CMD + "DetachIsoCmd",
)
def detach_iso(call: Call) -> Reply:
    vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    job = core_isos.detach_iso(call.session, call.ctx, vm)
    return started(job, vm)
