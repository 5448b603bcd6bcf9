"""Templates: register, list, update, delete, copy, create from a volume, and permissions.

ISOs share most of this (they are templates of format ISO): native_api/commands/isos.py
uses the views and parsers below.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import infra
from core import templates as core_templates
from core.context import CallContext, Role
from core.errors import InvalidParameter
from core.infra import Zone
from core.os_types import os_type_by_uuid
from core.tags import tag_filter, tags_of
from core.templates import Template, TemplateRow, TemplateSpec, TemplateUpdate
from core.visibility import can_access
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, owner_params, started, zone_id_of
from native_api.errors import PARAM_ERROR, ApiError
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.render import list_body
from native_api.views import JOB_RESULTS, JobResult, _owner

USER_CMD = "org.apache.cloudstack.api.command.user.template."
ISO_CMD = "org.apache.cloudstack.api.command.user.iso."
TEMPLATE_FIELDS = (
    Field("id", description="the template ID"),
    Field("name", description="the template name"),
    Field("displaytext", description="the template display text"),
    Field("isready", "boolean", "true if the template is ready to be deployed from"),
    Field("ispublic", "boolean", "true if this template is a public template, false otherwise"),
    Field("isfeatured", "boolean", "true if this template is a featured template"),
    Field("format", description="the format of the template"),
    Field("ostypeid", description="the ID of the OS type for this template"),
    Field("ostypename", description="the name of the OS type for this template"),
    Field("zoneid", description="the ID of the zone for this template"),
    Field("status", description="the status of the template"),
    Field("size", "long", "the size of the template"),
    Field("account", description="the account name to which the template belongs"),
    Field("created", "date", "the date this template was created"),
)
TAGS = LIST_TAGS  # the old name; isos.py and others import it


# views -----------------------------------------------------------------------------------


def _tag_views(session: Session, template: Template) -> list[dict[str, Any]]:
    from native_api.commands.tags import tag_view

    resource_type = "ISO" if template.is_iso else "Template"
    found = tags_of(session, resource_type, [template.id]).get(template.id, [])
    return [tag_view(session, tag) for tag in found]


def row_view(session: Session, row: TemplateRow, ctx: CallContext) -> dict[str, Any]:
    """A TemplateResponse: one template as held in one zone."""
    template = row.template
    zone = session.get(Zone, row.zone_id) if row.zone_id is not None else None
    os_type = core_templates.os_type_of(session, template)
    view: dict[str, Any] = {
        "id": template.uuid,
        "name": template.name,
        "displaytext": template.display_text,
        "ispublic": template.is_public,
        "created": template.created,
        "removed": template.removed,
        "isready": row.is_ready,
        "passwordenabled": template.password_enabled,
        "format": template.format,
        "isfeatured": template.is_featured,
        "crossZones": template.zone_id is None,
        "ostypeid": os_type.uuid if os_type else None,
        "ostypename": os_type.display_name if os_type else template.os_type,
        **_owner(session, template.account_id),
        "zoneid": zone.uuid if zone else None,
        "zonename": zone.name if zone else None,
        "status": row.status,
        "size": template.size_bytes or None,
        "physicalsize": row.size_bytes or None,
        "templatetype": template.template_type,
        "hypervisor": template.hypervisor or None,
        "isextractable": template.is_extractable,
        "checksum": template.checksum or None,
        "sshkeyenabled": template.sshkey_enabled,
        "isdynamicallyscalable": template.dynamically_scalable,
        "directdownload": False,
        "deployasis": False,
        "requireshvm": template.requires_hvm,
        "bootable": template.bootable,
        "details": template.detail_map or None,
        "downloaddetails": [
            {
                "datastore": zone.name if zone else "",
                "downloadPercent": "100" if row.is_ready else _percent(row.status),
                "downloadState": "DOWNLOADED" if row.is_ready else _state(row),
            }
        ],
        "tags": _tag_views(session, template),
        "hasannotations": False,
    }
    if template.sort_key:
        view["sortkey"] = template.sort_key
    if ctx.role is Role.ADMIN and template.url:
        view["url"] = template.url
    return view


def _percent(status: str) -> str:
    head = status.split("%", 1)[0]
    return head if head.isdigit() else "0"


def _state(row: TemplateRow) -> str:
    if row.status.startswith("Failed"):
        return "DOWNLOAD_ERROR"
    return "DOWNLOAD_IN_PROGRESS" if row.status else "NOT_DOWNLOADED"


def rows_of(session: Session, template: Template, zone_id: int | None = None) -> list[TemplateRow]:
    """The zone rows of one template, as listTemplates would show them (any readiness)."""
    refs = core_templates.zone_refs(session, template.id)
    if refs:
        rows = [TemplateRow(template, r.zone_id, r.is_ready, r.status, r.size_bytes) for r in refs]
    else:
        rows = [
            TemplateRow(
                template, template.zone_id, template.is_ready, template.status, template.size_bytes
            )
        ]
    return [row for row in rows if zone_id is None or row.zone_id == zone_id] or rows[:1]


def template_view(session: Session, template: Template, ctx: CallContext) -> dict[str, Any]:
    """A template's first zone row (for job results)."""
    return row_view(session, rows_of(session, template)[0], ctx)


for _kind, _cmd in (
    ("template.download", "RegisterTemplateCmd"),
    ("template.copy", "CopyTemplateCmd"),
    ("template.create", "CreateTemplateCmd"),
):
    JOB_RESULTS[_kind] = JobResult(
        object_name="template",
        command_class=lambda job, c=_cmd: (
            ISO_CMD + c.replace("Template", "Iso") if job.instance_type == "Iso" else USER_CMD + c
        ),
        instance_model=Template,
        render=template_view,
    )
JOB_RESULTS["template.delete"] = JobResult(
    object_name="template",
    command_class=lambda job: (
        ISO_CMD + "DeleteIsoCmd" if job.instance_type == "Iso" else USER_CMD + "DeleteTemplateCmd"
    ),
    instance_model=Template,
    render=None,
)


# parsing helpers shared with ISOs ----------------------------------------------------------


def zones_param(call: Call) -> list[Zone]:
    """zoneid or zoneids; -1 (alone) means every zone, as CloudStack."""
    zone_id = call.get("zoneid")
    zone_ids = call.get("zoneids")
    if zone_id and zone_ids:
        raise ApiError(PARAM_ERROR, "Both zoneid and zoneids cannot be specified at the same time")
    if not zone_id and not zone_ids:
        raise ApiError(PARAM_ERROR, "Either zoneid or zoneids is required. Both cannot be null.")
    wanted = zone_ids or [zone_id]
    if "-1" in wanted:
        if len(wanted) > 1:
            raise ApiError(
                PARAM_ERROR,
                "Parameter zoneids cannot combine all zones (-1) option with other zones",
            )
        return infra.list_zones(call.session)
    return [infra.zone_by_uuid(call.session, _uuid(value, "zoneid")) for value in wanted]


def _uuid(value: str, name: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(
            PARAM_ERROR, f"Invalid parameter {name} value={value} due to incorrect uuid format"
        ) from None


def details_param(call: Call) -> dict[str, str]:
    merged: dict[str, str] = {}
    for entry in call.get("details", []):
        merged.update(entry)
    return merged


def tags_param(call: Call) -> list[tuple[str, str | None]]:
    return [(entry.get("key", ""), entry.get("value")) for entry in call.get("tags", [])]


def os_type_param(call: Call, required: bool = False) -> Any:
    value = call.get("ostypeid")
    if not value:
        if required:
            raise ApiError(
                PARAM_ERROR, "Unable to execute API command due to missing parameter ostypeid", 4350
            )
        return None
    return os_type_by_uuid(call.session, value)


def list_rows(call: Call, *, is_iso: bool, filter_param: str) -> Reply:
    """listTemplates / listIsos."""
    session = call.session
    template_filter = (call.get(filter_param) or "executable").lower()
    if template_filter not in core_templates.FILTERS:
        raise ApiError(PARAM_ERROR, f"Invalid {filter_param} {template_filter}", 4350)
    ids = ([call.get("id")] if call.get("id") else []) + [
        _uuid(value, "ids") for value in call.get("ids", [])
    ]
    template_ids = None
    if ids:
        template_ids = list(session.scalars(sa.select(Template.id).where(Template.uuid.in_(ids))))
    zone_id = zone_id_of(call)
    tags = tags_param(call)
    resource_type = "ISO" if is_iso else "Template"
    rows = core_templates.list_template_rows(
        session,
        call.ctx,
        template_filter=template_filter,
        is_iso=is_iso,
        scope=call.scope(),
        template_ids=template_ids,
        name=call.get("name"),
        keyword=call.get("keyword"),
        zone_id=zone_id,
        hypervisor=call.get("hypervisor"),
        bootable=call.get("bootable"),
        is_public=call.get("ispublic"),
        is_ready=call.get("isready"),
        show_removed=bool(call.get("showremoved", False)),
        extra=tag_filter(resource_type, Template.id, tags) if tags else None,
    )
    return call.paged([row_view(session, row, call.ctx) for row in rows])


def spec_from(call: Call, fmt: str) -> TemplateSpec:
    return TemplateSpec(
        name=call.get("name"),
        display_text=call.get("displaytext") or call.get("name"),
        url=call.get("url"),
        format=fmt,
        zones=zones_param(call),
        hypervisor=call.get("hypervisor") or "Simulator",
        os_type=os_type_param(call),
        checksum=call.get("checksum") or "",
        is_public=bool(call.get("ispublic", False)),
        is_featured=bool(call.get("isfeatured", False)),
        is_extractable=bool(call.get("isextractable", False)),
        password_enabled=bool(call.get("passwordenabled", False)),
        requires_hvm=bool(call.get("requireshvm", True)),
        sshkey_enabled=bool(call.get("sshkeyenabled", False)),
        dynamically_scalable=bool(call.get("isdynamicallyscalable", False)),
        bootable=bool(call.get("bootable", True)),
        details=details_param(call),
    )


def registered_reply(call: Call, template: Template, object_name: str) -> Reply:
    views = [row_view(call.session, row, call.ctx) for row in rows_of(call.session, template)]
    return Reply(raw=list_body(object_name, views, len(views)))


def update_from(call: Call, template: Template, object_name: str) -> Reply:
    change = TemplateUpdate(
        name=call.get("name"),
        display_text=call.get("displaytext"),
        os_type=os_type_param(call),
        password_enabled=call.get("passwordenabled"),
        bootable=call.get("bootable"),
        format=call.get("format"),
        sort_key=call.get("sortkey"),
        requires_hvm=call.get("requireshvm"),
        sshkey_enabled=call.get("sshkeyenabled"),
        dynamically_scalable=call.get("isdynamicallyscalable"),
    )
    core_templates.update_template(call.session, call.ctx, template, change)
    return Reply(obj=template_view(call.session, template, call.ctx))


def copy_from(call: Call, template: Template) -> Reply:
    session = call.session
    source = call.get("sourcezoneid")
    dest = list(call.get("destzoneids", []))
    if call.get("destzoneid"):
        dest.append(call.get("destzoneid"))
    dest_ids = [infra.zone_by_uuid(session, _uuid(value, "destzoneids")).id for value in dest]
    source_id = infra.zone_by_uuid(session, source).id if source else None
    jobs = core_templates.copy_template(
        session, call.ctx, template, source_zone_id=source_id, dest_zone_ids=dest_ids
    )
    return Reply(job_uuid=jobs[0].uuid, instance_uuid=template.uuid)


def delete_from(call: Call, template: Template) -> Reply:
    zone_id = zone_id_of(call)
    job = core_templates.delete_template(
        call.session, call.ctx, template, zone_id=zone_id, forced=bool(call.get("forced", False))
    )
    return started(job, template)


def permissions_update(call: Call, template: Template) -> Reply:
    if call.get("projectids"):
        raise InvalidParameter("Projects are not supported yet", parameter="projectids")
    core_templates.update_permissions(
        call.session,
        call.ctx,
        template,
        is_public=call.get("ispublic"),
        is_featured=call.get("isfeatured"),
        is_extractable=call.get("isextractable"),
        accounts=call.get("accounts"),
        operation=call.get("op"),
    )
    return Reply(success=True)


def permissions_view(call: Call, template: Template) -> Reply:
    if not can_access(call.session, call.ctx, template):
        raise InvalidParameter(
            f"Account {call.ctx.account_name} does not own the {template.kind} {template.uuid}"
        )
    owner = _owner(call.session, template.account_id)
    view = {
        "id": template.uuid,
        "ispublic": template.is_public,
        "domainid": owner["domainid"],
        "account": [a.name for a in core_templates.shared_accounts(call.session, template)],
    }
    return Reply(obj=view)


# Parameters registerTemplate/registerIso, updateTemplate/updateIso, copyTemplate/copyIso and
# the permission commands share.
OPTIONAL_DOMAIN = (
    "an optional domainId. If the account parameter is used, domainId must also be used."
)
UPDATE_PARAMS = (
    Param("id", "uuid", True, "the ID of the image file"),
    Param("name", description="the name of the image file"),
    Param("displaytext", description="the display text of the image", length=4096),
    Param(
        "ostypeid",
        "uuid",
        description="the ID of the OS type that best represents the OS of this image.",
    ),
    Param(
        "passwordenabled",
        "boolean",
        description="true if the image supports the password reset feature; default is false",
    ),
    Param("bootable", "boolean", description="true if image is bootable, false otherwise"),
)
SORT_KEY = Param("sortkey", "integer", description="sort key of the template, integer")
UPDATE_SCALING = Param(
    "isdynamicallyscalable",
    "boolean",
    description="true if template/ISO contains "
    "XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory",
)
COPY_DESTINATIONS = (
    Param("destzoneid", "uuid", description="ID of the zone the template is being copied to."),
    Param(
        "destzoneids",
        "list",
        description="A list of IDs of the zones that the template needs to be copied to.",
    ),
)
TEMPLATE_ID = Param("id", "uuid", True, "the template ID")


def checksum_param(noun: str) -> Param:
    return Param(
        "checksum",
        description=f"the checksum value of this {noun}. The parameter containing the "
        "checksum will be considered a MD5sum if it is not prefixed and just a plain "
        "ascii/utf8 representation of a hexadecimal string. If it is required to use another "
        "algorithm the hexadecimal string is to be prefixed with a string of the form, "
        '"{<algorithm>}", not including the double quotes.',
    )


PERMISSION_PARAMS = (
    TEMPLATE_ID,
    Param(
        "accounts",
        "list",
        description="a comma delimited list of accounts within caller's "
        'domain. If specified, "op" parameter has to be passed in.',
    ),
    Param("isextractable", "boolean", description="true if the template/iso is extractable"),
    Param("isfeatured", "boolean", description="true for featured template/iso, false otherwise"),
    Param("ispublic", "boolean", description="true for public template/iso, false for private"),
    Param("op", description="permission operator (add, remove, reset)"),
    Param("projectids", "list", description="a comma delimited list of projects."),
)
PERMISSION_FIELDS = (
    Field("id", description="the template ID"),
    Field("ispublic", "boolean", "true if this template is a public template"),
    Field("domainid", description="the ID of the domain to which the template belongs"),
    Field("account", "list", "the list of accounts the template is available for"),
)


_REQUIRES_HVM = Param("requireshvm", "boolean", description="true if the template requires HVM")
_SSHKEY_ENABLED = Param(
    "sshkeyenabled",
    "boolean",
    description="true if the template supports the sshkey upload feature; default is false",
)


# commands --------------------------------------------------------------------------------


def _template(call: Call) -> Template:
    return core_templates.get_template(call.session, call.ctx, call.get("id"), is_iso=False)


@command(
    "listTemplates",
    kind=Kind.LIST,
    description="List all public, private, and privileged templates.",
    response_name="template",
    params=(
        Param(
            "templatefilter",
            required=True,
            description=(
                'possible values are "featured", "self", "selfexecutable", '
                '"sharedexecutable", "executable", and "community"'
            ),
        ),
        Param("id", "uuid", description="the template ID"),
        Param("ids", "list", description="the IDs of the templates, mutually exclusive with id"),
        Param("name", description="the template name"),
        Param("zoneid", "uuid", description="list templates by zoneId"),
        Param("hypervisor", description="the hypervisor for which to restrict the search"),
        Param("showremoved", "boolean", description="show removed templates as well"),
        Param("isready", "boolean", description="list templates that are ready to be deployed"),
        TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=TEMPLATE_FIELDS,
    differences="One row per template per zone as CloudStack; projectid is accepted but "
    "projects are not modelled.",
)
def list_templates(call: Call) -> Reply:
    return list_rows(call, is_iso=False, filter_param="templatefilter")


@command(
    "registerTemplate",
    kind=Kind.SYNC,
    description="Registers an existing template into the CloudStack cloud. ",
    response_name="template",
    params=(
        Param("name", required=True, description="the name of the template"),
        Param(
            "displaytext",
            description="The display text of the template, defaults to 'name'.",
            length=4096,
        ),
        Param(
            "format",
            required=True,
            description="the format for the template. Possible "
            "values include QCOW2, RAW, VHD and OVA.",
        ),
        Param("hypervisor", required=True, description="the target hypervisor for the template"),
        Param(
            "url",
            required=True,
            length=2048,
            description="the URL of where the template is "
            "hosted. Possible URL include http:// and https://",
        ),
        Param("zoneid", description="the ID of the zone the template is to be hosted on"),
        Param(
            "zoneids",
            "list",
            description="A list of zone ids where the template will be "
            "hosted. Passing only -1 registers a cross zone template.",
        ),
        Param(
            "ostypeid",
            "uuid",
            description="the ID of the OS Type that best represents the OS of this template.",
        ),
        checksum_param("template"),
        Param(
            "ispublic",
            "boolean",
            description="true if the template is available to all accounts; default is true",
        ),
        Param("isfeatured", "boolean", description="true if this template is a featured template"),
        Param(
            "passwordenabled",
            "boolean",
            description="true if the template supports the "
            "password reset feature; default is false",
        ),
        Param(
            "isextractable",
            "boolean",
            description="true if the template or its derivatives are extractable; default is false",
        ),
        Param("requireshvm", "boolean", description="true if this template requires HVM"),
        _SSHKEY_ENABLED,
        Param(
            "isdynamicallyscalable",
            "boolean",
            description="true if template contains XS/VMWare "
            "tools inorder to support dynamic scaling of VM cpu/memory",
        ),
        Param(
            "details",
            "map",
            description="Template details in key/value pairs using format "
            "details[i].keyname=keyvalue.",
        ),
        *owner_params(
            "an optional accountName. Must be used with domainId.",
            OPTIONAL_DOMAIN,
            "Register template for the project",
        ),
    ),
    response_fields=TEMPLATE_FIELDS,
    differences="ispublic defaults to false for everyone; the URL's file extension is not "
    "checked against the format; directdownload, deployasis and templatetag are not supported.",
)
def register_template(call: Call) -> Reply:
    if (call.get("format") or "").upper() == "ISO":
        raise ApiError(PARAM_ERROR, "Image format: ISO is incorrect. Use registerIso", 4350)
    hypervisor = call.get("hypervisor")
    known = {h.lower(): h for h in core_templates.HYPERVISORS}
    if hypervisor.lower() not in known:
        raise ApiError(PARAM_ERROR, f"Hypervisor Type: {hypervisor} is invalid. ", 4350)
    spec = spec_from(call, call.get("format").upper())
    spec.hypervisor = known[hypervisor.lower()]
    template, _jobs = core_templates.register_template(call.session, call.owner(), spec)
    return registered_reply(call, template, "template")


@command(
    "updateTemplate",
    kind=Kind.SYNC,
    description="Updates attributes of a template.",
    response_name="template",
    params=(
        *UPDATE_PARAMS,
        Param("format", description="the format for the image"),
        SORT_KEY,
        _REQUIRES_HVM,
        _SSHKEY_ENABLED,
        UPDATE_SCALING,
    ),
    response_fields=TEMPLATE_FIELDS,
)
def update_template(call: Call) -> Reply:
    return update_from(call, _template(call), "template")


@command(
    "deleteTemplate",
    kind=Kind.ASYNC,
    description="Deletes a template from the system. All virtual machines using the deleted "
    "template will not be affected.",
    response_name="template",
    params=(
        Param("id", "uuid", True, "the ID of the template"),
        Param("zoneid", "uuid", description="the ID of zone of the template"),
        Param("forced", "boolean", description="Force delete a template."),
    ),
    job_command_class=USER_CMD + "DeleteTemplateCmd",
)
def delete_template(call: Call) -> Reply:
    return delete_from(call, _template(call))


@command(
    "copyTemplate",
    kind=Kind.ASYNC,
    description="Copies a template from one zone to another.",
    response_name="template",
    params=(
        Param("id", "uuid", True, "Template ID."),
        Param(
            "sourcezoneid",
            "uuid",
            description="ID of the zone the template is currently "
            "hosted on. If not specified and template is cross-zone, then we will sync this "
            "template to region wide image store.",
        ),
        *COPY_DESTINATIONS,
    ),
    response_fields=TEMPLATE_FIELDS,
    job_command_class=USER_CMD + "CopyTemplateCmd",
)
def copy_template(call: Call) -> Reply:
    return copy_from(call, _template(call))


@command(
    "createTemplate",
    kind=Kind.ASYNC_CREATE,
    description="Creates a template of a virtual machine. The virtual machine must be in a "
    "STOPPED state. A template created from this command is automatically designated as a "
    "private template visible to the account that created it.",
    response_name="template",
    entity="Template",
    params=(
        Param("name", required=True, description="the name of the template"),
        Param(
            "displaytext",
            description="The display text of the template, defaults to the 'name'.",
            length=4096,
        ),
        Param(
            "ostypeid",
            "uuid",
            True,
            "the ID of the OS Type that best represents the OS of this template.",
        ),
        Param(
            "volumeid",
            "uuid",
            description="the ID of the disk volume the template is being "
            "created from. Either this parameter, or snapshotId has to be passed in",
        ),
        Param(
            "snapshotid",
            "uuid",
            description="the ID of the snapshot the template is being "
            "created from. Either this parameter, or volumeId has to be passed in",
        ),
        Param(
            "ispublic",
            "boolean",
            description="true if this template is a public template, false otherwise",
        ),
        Param("isfeatured", "boolean", description="true if this template is a featured template"),
        Param(
            "passwordenabled",
            "boolean",
            description="true if the template supports the "
            "password reset feature; default is false",
        ),
        _REQUIRES_HVM,
        Param(
            "isdynamicallyscalable",
            "boolean",
            description="true if template contains "
            "XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory",
        ),
        Param("account", description="an optional accountName. Must be used with domainId."),
        Param("domainid", "uuid", description="an optional domainId."),
    ),
    response_fields=TEMPLATE_FIELDS,
    job_command_class=USER_CMD + "CreateTemplateCmd",
    differences="The simulator holds no disk bytes: the stored image of a volume is a small "
    "descriptor of it; from a snapshot, a copy of the snapshot's backup object.",
)
def create_template(call: Call) -> Reply:
    template, job = core_templates.create_private_template(
        call.session,
        call.owner(),
        volume_uuid=call.get("volumeid"),
        snapshot_uuid=call.get("snapshotid"),
        name=call.get("name"),
        display_text=call.get("displaytext") or call.get("name"),
        os_type=os_type_param(call, required=True),
        is_public=bool(call.get("ispublic", False)),
        is_featured=bool(call.get("isfeatured", False)),
        password_enabled=bool(call.get("passwordenabled", False)),
        requires_hvm=bool(call.get("requireshvm", True)),
        is_dynamically_scalable=bool(call.get("isdynamicallyscalable", False)),
    )
    return started(job, template)


@command(
    "updateTemplatePermissions",
    kind=Kind.SYNC,
    description="Updates a template visibility permissions. A public template is visible to "
    "all accounts within the same domain. A private template is visible only to the owner of "
    "the template. A privileged template is a private template with account permissions "
    "added. Only accounts specified under the template permissions are visible to them.",
    response_name="success",
    params=PERMISSION_PARAMS,
)
def update_template_permissions(call: Call) -> Reply:
    return permissions_update(call, _template(call))


@command(
    "listTemplatePermissions",
    kind=Kind.SYNC,
    description="List template visibility and all accounts that have permissions to view "
    "this template.",
    response_name="templatepermission",
    params=(TEMPLATE_ID,),
    response_fields=PERMISSION_FIELDS,
)
def list_template_permissions(call: Call) -> Reply:
    return permissions_view(call, _template(call))
