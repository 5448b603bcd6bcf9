"""Dynamic roles: ordered rules, first match wins, no match denies; on both databases."""

from __future__ import annotations

import pytest

from core import identity, identity_admin, roles
from core.context import Role
from core.errors import Conflict, InvalidParameter, PermissionDenied
from tests.core.conftest import CoreHarness


def test_default_roles_allow_everything(core: CoreHarness) -> None:
    ctx = core.new_tenant("plain")
    with core.db.write() as session:
        account = identity.get_account(session, ctx.account_id)
        default = roles.default_role(session, Role.USER)
        assert account.role_id == default.id
        assert roles.is_allowed(session, account.role_id, "deployVirtualMachine")


def test_first_matching_rule_wins(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        role = roles.create_role(session, admin, name="auditor", type_label="User")
        deny = roles.create_permission(session, admin, role, rule="listUsers", permission="deny")
        allow = roles.create_permission(session, admin, role, rule="list*", permission="allow")
        assert roles.is_allowed(session, role.id, "listZones")
        assert roles.is_allowed(session, role.id, "listzones")  # names are case-insensitive
        assert not roles.is_allowed(session, role.id, "listUsers")
        assert not roles.is_allowed(session, role.id, "deployVirtualMachine")
        roles.update_permission(session, admin, role, order=[allow.uuid, deny.uuid])
        assert roles.is_allowed(session, role.id, "listUsers")
        roles.update_permission(session, admin, role, permission_uuid=allow.uuid, permission="deny")
        assert not roles.is_allowed(session, role.id, "listZones")
        with pytest.raises(InvalidParameter):
            roles.update_permission(session, admin, role, order=[allow.uuid])
        with pytest.raises(Conflict):
            roles.create_permission(session, admin, role, rule="list*", permission="allow")
        with pytest.raises(InvalidParameter):
            roles.create_permission(session, admin, role, rule="list zones", permission="allow")


def test_roles_in_use_and_default_roles_stay(core: CoreHarness) -> None:
    admin = core.admin_context()
    tenant = core.new_tenant("roleuser")
    with core.db.write() as session:
        role = roles.create_role(session, admin, name="custom", type_label="User")
        account = identity.get_account(session, tenant.account_id)
        identity_admin.update_account(session, admin, account, role_uuid=role.uuid)
        with pytest.raises(Conflict):
            roles.delete_role(session, admin, role)
        with pytest.raises(PermissionDenied):
            roles.delete_role(session, admin, roles.default_role(session, Role.USER))
        with pytest.raises(InvalidParameter):
            identity_admin.update_account(
                session, admin, account, role_uuid=roles.default_role(session, Role.ADMIN).uuid
            )
        with pytest.raises(PermissionDenied):
            roles.create_role(session, tenant, name="mine", type_label="Admin")
        identity_admin.update_account(
            session, admin, account, role_uuid=roles.default_role(session, Role.USER).uuid
        )
        roles.delete_role(session, admin, role)
        assert all(r.id != role.id for r in roles.list_roles(session, admin))
