"""Dynamic roles and their permission rules (CloudStack's acl commands)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import roles
from core.context import Role
from core.roles import CsRole, RolePermission
from native_api.call import Call
from native_api.commands.common import delete_command
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command

MANAGERS = frozenset({Role.ADMIN, Role.DOMAIN_ADMIN})

ROLE_FIELDS = (
    Field("id", description="the ID of the role"),
    Field("name", description="the name of the role"),
    Field("type", description="the type of the role"),
    Field("description", description="the description of the role"),
    Field("isdefault", "boolean", "true if role is default, false otherwise"),
)
PERMISSION_FIELDS = (
    Field("id", description="the ID of the role permission"),
    Field("roleid", description="the ID of the role to which the role permission belongs"),
    Field("rolename", description="the name of the role to which the role permission belongs"),
    Field("rule", description="the api name or wildcard rule"),
    Field("permission", description="the permission type of the api name or wildcard rule"),
    Field("description", description="the description of the role permission"),
)


def role_view(role: CsRole) -> dict[str, Any]:
    return {
        "id": role.uuid,
        "name": role.name,
        "type": role.role_type,
        "description": role.description,
        "isdefault": role.is_default,
        "ispublic": True,
        "state": "ENABLED",
    }


def permission_view(session: Session, entry: RolePermission) -> dict[str, Any]:
    role = session.get_one(CsRole, entry.role_id)
    return {
        "id": entry.uuid,
        "roleid": role.uuid,
        "rolename": role.name,
        "rule": entry.rule,
        "permission": entry.permission,
        "description": entry.description,
    }


@command(
    "createRole",
    kind=Kind.SYNC,
    description="Creates a role",
    response_name="role",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="Creates a role with this unique name"),
        Param(
            "type",
            description="The type of the role, valid options are: Admin, ResourceAdmin, "
            "DomainAdmin, User",
        ),
        Param("description", description="The description of the role"),
        Param("roleid", "uuid", description="ID of the role to be cloned from."),
    ),
    response_fields=ROLE_FIELDS,
    differences="ResourceAdmin is not a role type of cloudgate",
)
def create_role(call: Call) -> Reply:
    source = roles.get_role(call.session, call.get("roleid")) if call.get("roleid") else None
    type_label = call.get("type") or (source.role_type if source else None)
    if not type_label:
        from core.errors import InvalidParameter

        raise InvalidParameter("Either type or roleid is required", parameter="type")
    role = roles.create_role(
        call.session,
        call.ctx,
        name=call.get("name"),
        type_label=type_label,
        description=call.get("description") or "",
    )
    if source is not None:
        for entry in roles.list_permissions(call.session, call.ctx, source):
            roles.create_permission(
                call.session,
                call.ctx,
                role,
                rule=entry.rule,
                permission=entry.permission,
                description=entry.description,
            )
    return Reply(obj=role_view(role))


@command(
    "updateRole",
    kind=Kind.SYNC,
    description="Updates a role",
    response_name="role",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "ID of the role"),
        Param("name", description="creates a role with this unique name"),
        Param(
            "type",
            description="The type of the role, valid options are: Admin, "
            "ResourceAdmin, DomainAdmin, User",
        ),
        Param("description", description="The description of the role"),
    ),
    response_fields=ROLE_FIELDS,
)
def update_role(call: Call) -> Reply:
    role = roles.get_role(call.session, call.get("id"))
    roles.update_role(
        call.session,
        call.ctx,
        role,
        name=call.get("name"),
        type_label=call.get("type"),
        description=call.get("description"),
    )
    return Reply(obj=role_view(role))


@delete_command("deleteRole", "Deletes a role", "ID of the role", response_fields=())
def delete_role(call: Call) -> Reply:
    roles.delete_role(call.session, call.ctx, roles.get_role(call.session, call.get("id")))
    return Reply(success=True)


@command(
    "listRoles",
    kind=Kind.LIST,
    description="Lists dynamic roles in CloudStack",
    response_name="role",
    roles=MANAGERS,
    params=(
        Param("id", "uuid", description="List role by role ID."),
        Param("name", description="List role by role name."),
        Param(
            "type",
            description="List role by role type, valid options are: Admin, "
            "ResourceAdmin, DomainAdmin, User.",
        ),
        *PAGING,
    ),
    response_fields=ROLE_FIELDS,
)
def list_roles(call: Call) -> Reply:
    found = roles.list_roles(
        call.session,
        call.ctx,
        uuid=call.get("id"),
        name=call.get("name"),
        type_label=call.get("type"),
        keyword=call.get("keyword"),
    )
    return call.paged([role_view(role) for role in found])


@command(
    "createRolePermission",
    kind=Kind.SYNC,
    description="Adds an API permission to a role",
    response_name="rolepermission",
    roles=ADMIN_ONLY,
    params=(
        Param("roleid", "uuid", True, "ID of the role"),
        Param("rule", required=True, description="The API name or wildcard rule such as list*"),
        Param(
            "permission",
            required=True,
            description="The rule permission, allow or deny. Default: deny.",
        ),
        Param("description", description="The description of the role permission"),
    ),
    response_fields=PERMISSION_FIELDS,
)
def create_role_permission(call: Call) -> Reply:
    role = roles.get_role(call.session, call.get("roleid"))
    entry = roles.create_permission(
        call.session,
        call.ctx,
        role,
        rule=call.get("rule"),
        permission=call.get("permission"),
        description=call.get("description") or "",
    )
    return Reply(obj=permission_view(call.session, entry))


@command(
    "updateRolePermission",
    kind=Kind.SYNC,
    description="Updates a role permission order",
    response_name="success",
    roles=ADMIN_ONLY,
    params=(
        Param("roleid", "uuid", True, "ID of the role"),
        Param(
            "ruleorder",
            "list",
            description="The parent role permission uuid, use 0 to move this rule at the top "
            "of the list",
        ),
        Param("ruleid", "uuid", description="Role permission rule id"),
        Param("permission", description="Rule permission, can be: allow or deny"),
    ),
)
def update_role_permission(call: Call) -> Reply:
    role = roles.get_role(call.session, call.get("roleid"))
    roles.update_permission(
        call.session,
        call.ctx,
        role,
        order=call.get("ruleorder"),
        permission_uuid=call.get("ruleid"),
        permission=call.get("permission"),
    )
    return Reply(success=True)


@delete_command(
    "deleteRolePermission",
    "Deletes a role permission",
    "ID of the role permission",
    response_fields=(),
)
def delete_role_permission(call: Call) -> Reply:
    roles.delete_permission(call.session, call.ctx, call.get("id"))
    return Reply(success=True)


@command(
    "listRolePermissions",
    kind=Kind.LIST,
    description="Lists role permissions",
    response_name="rolepermission",
    roles=MANAGERS,
    params=(Param("roleid", "uuid", description="ID of the role"),),
    response_fields=PERMISSION_FIELDS,
)
def list_role_permissions(call: Call) -> Reply:
    role = roles.get_role(call.session, call.get("roleid")) if call.get("roleid") else None
    entries = roles.list_permissions(call.session, call.ctx, role)
    views = [permission_view(call.session, entry) for entry in entries]
    return Reply(items=views, total=len(views))
