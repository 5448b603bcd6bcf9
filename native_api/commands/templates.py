"""Templates."""

from __future__ import annotations

from core import infra, templates
from core.db import get_live
from native_api.call import Call
from native_api.errors import PARAM_ERROR, ApiError
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import template_view

TEMPLATE_FILTERS = (
    "featured",
    "self",
    "selfexecutable",
    "sharedexecutable",
    "executable",
    "community",
    "all",
)


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
        Param("name", description="the template name"),
        Param("zoneid", "uuid", description="list templates by zoneId"),
        Param("hypervisor", description="the hypervisor for which to restrict the search"),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=(
        Field("id", description="the template ID"),
        Field("name", description="the template name"),
        Field("isready", "boolean", "true if the template is ready to be deployed from"),
        Field("ispublic", "boolean", "true if this template is a public template"),
        Field("isfeatured", "boolean", "true if this template is a featured template"),
    ),
)
def list_templates(call: Call) -> Reply:
    template_filter = call.get("templatefilter").lower()
    if template_filter not in TEMPLATE_FILTERS:
        raise ApiError(PARAM_ERROR, f"Invalid templatefilter {template_filter}", 4350)
    template_id = (
        get_live(call.session, templates.Template, "template", uuid=call.get("id")).id
        if call.get("id")
        else None
    )
    zone_id = (
        infra.zone_by_uuid(call.session, call.get("zoneid")).id if call.get("zoneid") else None
    )
    rows = templates.list_templates(
        call.session,
        call.ctx,
        template_filter=template_filter,
        template_id=template_id,
        name=call.get("name"),
        zone_id=zone_id,
    )
    hypervisor = call.get("hypervisor")
    rows = [
        t
        for t in rows
        if call.keyword_match(t.name)
        and (not hypervisor or t.hypervisor.lower() == hypervisor.lower())
    ]
    return call.paged([template_view(call.session, t) for t in rows])
