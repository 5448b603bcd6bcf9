"""Guest OS types and categories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import os_types
from core.context import CallContext
from core.templates import Template, os_type_of
from core.vms.models import VirtualMachine
from native_api.call import Call
from native_api.registry import PAGING, Field, Kind, Param, Reply, command
from native_api.views import VM_VIEW_EXTENSIONS


@command(
    "listOsTypes",
    kind=Kind.LIST,
    description="Lists all supported OS types for this cloud.",
    response_name="ostype",
    params=(
        Param("id", "uuid", description="list by Os type Id"),
        Param("oscategoryid", "uuid", description="list by Os Category id"),
        Param("description", description="list os by description"),
        Param("isuserdefined", "boolean", description="list os by user defined or not"),
        *PAGING,
    ),
    response_fields=(
        Field("id", description="the ID of the OS type"),
        Field("description", description="the name/description of the OS type"),
        Field("oscategoryid", description="the ID of the OS category"),
        Field("oscategoryname", description="the name of the OS category"),
        Field("isuserdefined", "boolean", "is the guest OS user defined"),
    ),
)
def list_os_types(call: Call) -> Reply:
    session = call.session
    names = {c.id: c for c in os_types.list_os_categories(session)}
    rows = os_types.list_os_types(
        session,
        uuid=call.get("id"),
        description=call.get("description"),
        category_uuid=call.get("oscategoryid"),
        is_user_defined=call.get("isuserdefined"),
        keyword=call.get("keyword"),
    )
    return call.paged(
        [
            {
                "id": row.uuid,
                "name": row.display_name,
                "description": row.display_name,
                "oscategoryid": names[row.category_id].uuid,
                "oscategoryname": names[row.category_id].name,
                "isuserdefined": row.is_user_defined,
                "fordisplay": row.display,
            }
            for row in rows
        ]
    )


@command(
    "listOsCategories",
    kind=Kind.LIST,
    description="Lists all supported OS categories for this cloud.",
    response_name="oscategory",
    params=(
        Param("id", "uuid", description="list Os category by id"),
        Param("name", description="list os category by name"),
        *PAGING,
    ),
    response_fields=(
        Field("id", description="the ID of the OS category"),
        Field("name", description="the name of the OS category"),
    ),
)
def list_os_categories(call: Call) -> Reply:
    rows = os_types.list_os_categories(call.session, uuid=call.get("id"), name=call.get("name"))
    views = [{"id": c.uuid, "name": c.name} for c in rows if call.keyword_match(c.name)]
    return call.paged(views)


def vm_guest_os(
    session: Session, vms: list[VirtualMachine], _ctx: CallContext
) -> dict[int, dict[str, Any]]:
    """guestosid / ostypeid / osdisplayname of VMs: their template's OS type (looked up once
    per template)."""
    by_template: dict[int, dict[str, Any]] = {}
    for template_id in {vm.template_id for vm in vms}:
        template = session.get(Template, template_id)
        os_type = os_type_of(session, template) if template is not None else None
        by_template[template_id] = (
            {
                "guestosid": os_type.uuid,
                "ostypeid": os_type.uuid,
                "osdisplayname": os_type.display_name,
            }
            if os_type is not None
            else {}
        )
    return {vm.id: by_template[vm.template_id] for vm in vms}


VM_VIEW_EXTENSIONS.append(vm_guest_os)
