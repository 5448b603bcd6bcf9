"""CloudStack's dynamic roles: named roles of a role type, each with ordered permission rules.

A command runs only if the command table admits the caller's role type and the account's
role allows it: the role's rules are tried in order, the first whose rule (an API name, `*`
as wildcard) matches decides allow or deny, and no matching rule denies. The default roles
(Root Admin, Domain Admin, User) carry one rule, `*` allow.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext, Role
from core.db import Base, IdMixin, get_live, utcnow
from core.errors import Conflict, InvalidParameter, NotFound, PermissionDenied
from core.events import record_for_caller
from core.visibility import ensure_root_admin

ALLOW = "allow"
DENY = "deny"
ROLE_TYPES = {Role.ADMIN: "Admin", Role.DOMAIN_ADMIN: "DomainAdmin", Role.USER: "User"}
TYPE_ROLES = {label.lower(): role for role, label in ROLE_TYPES.items()}
DEFAULT_ROLES = (
    ("Root Admin", Role.ADMIN, "Default root admin role"),
    ("Domain Admin", Role.DOMAIN_ADMIN, "Default domain admin role"),
    ("User", Role.USER, "Default user role"),
)
_RULE = re.compile(r"^[a-zA-Z0-9*]+$")


class CsRole(IdMixin, Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(sa.String(255))
    role_type: Mapped[str] = mapped_column(sa.String(32))
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    removed: Mapped[dt.datetime | None]

    @property
    def role(self) -> Role:
        return TYPE_ROLES[self.role_type.lower()]


class RolePermission(IdMixin, Base):
    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(sa.ForeignKey("roles.id"), index=True)
    rule: Mapped[str] = mapped_column(sa.String(255))
    permission: Mapped[str] = mapped_column(sa.String(8), default=ALLOW)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    sort_order: Mapped[int] = mapped_column(default=0)


def role_type(label: str) -> Role:
    try:
        return TYPE_ROLES[label.strip().lower()]
    except KeyError:
        raise InvalidParameter(
            f"Invalid role type {label}: one of Admin, DomainAdmin, User", parameter="type"
        ) from None


def default_role(session: Session, role: Role) -> CsRole:
    """The default role of a type; seeded here when a database predates the migration's rows."""
    found = session.scalar(
        sa.select(CsRole).where(
            CsRole.is_default.is_(True),
            CsRole.role_type == ROLE_TYPES[role],
            CsRole.removed.is_(None),
        )
    )
    if found is not None:
        return found
    for name, seeded_type, description in DEFAULT_ROLES:
        if seeded_type is role:
            found = CsRole(
                name=name, role_type=ROLE_TYPES[role], description=description, is_default=True
            )
            session.add(found)
            session.flush()
            session.add(RolePermission(role_id=found.id, rule="*", permission=ALLOW))
            session.flush()
            return found
    raise NotFound("role", ROLE_TYPES[role])


@lru_cache(maxsize=1024)
def _pattern(rule: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in rule.split("*")) + "$", re.I)


def is_allowed(session: Session, role_id: int | None, command: str) -> bool:
    """First matching rule of the role decides; no rule matches → denied."""
    if role_id is None:
        return True
    rules = session.execute(
        sa.select(RolePermission.rule, RolePermission.permission)
        .where(RolePermission.role_id == role_id)
        .order_by(RolePermission.sort_order, RolePermission.id)
    ).all()
    for rule, permission in rules:
        if _pattern(rule).match(command):
            return permission == ALLOW
    return False


def allowed_commands(session: Session, role_id: int | None, commands: list[str]) -> set[str]:
    """The subset of `commands` the role may run (listApis)."""
    return {name for name in commands if is_allowed(session, role_id, name)}


def get_role(session: Session, uuid: str) -> CsRole:
    return get_live(session, CsRole, "role", uuid=uuid)


def list_roles(
    session: Session,
    ctx: CallContext,
    *,
    uuid: str | None = None,
    name: str | None = None,
    type_label: str | None = None,
    keyword: str | None = None,
) -> list[CsRole]:
    """Roles a caller may see: a domain admin sees roles of its own type and below."""
    query = sa.select(CsRole).where(CsRole.removed.is_(None)).order_by(CsRole.id)
    if uuid:
        query = query.where(CsRole.uuid == uuid)
    if name:
        query = query.where(CsRole.name == name)
    if type_label:
        query = query.where(CsRole.role_type == ROLE_TYPES[role_type(type_label)])
    if keyword:
        query = query.where(CsRole.name.contains(keyword))
    if ctx.role is not Role.ADMIN:
        query = query.where(CsRole.role_type.in_(("DomainAdmin", "User")))
    return list(session.scalars(query))


def create_role(
    session: Session, ctx: CallContext, *, name: str, type_label: str, description: str = ""
) -> CsRole:
    ensure_root_admin(ctx)
    if not name.strip():
        raise InvalidParameter("Role name cannot be empty", parameter="name")
    _ensure_name_free(session, name)
    role = CsRole(
        name=name, role_type=ROLE_TYPES[role_type(type_label)], description=description or ""
    )
    session.add(role)
    session.flush()
    record_for_caller(session, ctx, "ROLE.CREATE", f"Role {name} created", resource_uuid=role.uuid)
    return role


def _ensure_name_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    query = sa.select(CsRole.id).where(CsRole.name == name, CsRole.removed.is_(None))
    if except_id is not None:
        query = query.where(CsRole.id != except_id)
    if session.scalar(query):
        raise Conflict(f"Role with name {name} already exists")


def update_role(
    session: Session,
    ctx: CallContext,
    role: CsRole,
    *,
    name: str | None = None,
    type_label: str | None = None,
    description: str | None = None,
) -> CsRole:
    ensure_root_admin(ctx)
    if role.is_default and (name or type_label):
        raise PermissionDenied("The default roles cannot be renamed or retyped")
    if name:
        _ensure_name_free(session, name, except_id=role.id)
        role.name = name
    if type_label:
        from core.identity import Account

        in_use = session.scalar(
            sa.select(Account.id).where(Account.role_id == role.id, Account.removed.is_(None))
        )
        if in_use:
            raise Conflict("The role type cannot be changed while accounts use the role")
        role.role_type = ROLE_TYPES[role_type(type_label)]
    if description is not None:
        role.description = description
    session.flush()
    record_for_caller(session, ctx, "ROLE.UPDATE", f"Role {role.name} updated")
    return role


def delete_role(session: Session, ctx: CallContext, role: CsRole) -> None:
    ensure_root_admin(ctx)
    from core.identity import Account

    if role.is_default:
        raise PermissionDenied("Default roles cannot be deleted")
    if session.scalar(
        sa.select(Account.id).where(Account.role_id == role.id, Account.removed.is_(None))
    ):
        raise Conflict(f"Role {role.name} is in use by accounts and cannot be deleted")
    session.execute(sa.delete(RolePermission).where(RolePermission.role_id == role.id))
    role.removed = utcnow()
    session.flush()
    record_for_caller(session, ctx, "ROLE.DELETE", f"Role {role.name} deleted")


def _check_rule(rule: str, permission: str) -> None:
    if not rule or not _RULE.match(rule):
        raise InvalidParameter(f"Invalid rule {rule!r}: an API name, * as wildcard")
    if permission.lower() not in (ALLOW, DENY):
        raise InvalidParameter("permission must be allow or deny", parameter="permission")


def list_permissions(
    session: Session, ctx: CallContext, role: CsRole | None
) -> list[RolePermission]:
    query = sa.select(RolePermission).order_by(
        RolePermission.role_id, RolePermission.sort_order, RolePermission.id
    )
    if role is not None:
        query = query.where(RolePermission.role_id == role.id)
    visible = {r.id for r in list_roles(session, ctx)}
    return [p for p in session.scalars(query) if p.role_id in visible]


def create_permission(
    session: Session,
    ctx: CallContext,
    role: CsRole,
    *,
    rule: str,
    permission: str,
    description: str = "",
) -> RolePermission:
    """A new rule, appended after the role's existing rules."""
    ensure_root_admin(ctx)
    _check_rule(rule, permission)
    last = session.scalar(
        sa.select(sa.func.max(RolePermission.sort_order)).where(RolePermission.role_id == role.id)
    )
    if session.scalar(
        sa.select(RolePermission.id).where(
            RolePermission.role_id == role.id, RolePermission.rule == rule
        )
    ):
        raise Conflict(f"Rule {rule} already exists for role {role.name}")
    entry = RolePermission(
        role_id=role.id,
        rule=rule,
        permission=permission.lower(),
        description=description or "",
        sort_order=(last if last is not None else -1) + 1,
    )
    session.add(entry)
    session.flush()
    record_for_caller(
        session, ctx, "ROLE.PERMISSION.CREATE", f"Rule {rule} added to role {role.name}"
    )
    return entry


def update_permission(
    session: Session,
    ctx: CallContext,
    role: CsRole,
    *,
    order: list[str] | None = None,
    permission_uuid: str | None = None,
    permission: str | None = None,
) -> None:
    """Reorder all rules of the role (ruleorder) or change one rule's permission."""
    ensure_root_admin(ctx)
    rules = list(
        session.scalars(sa.select(RolePermission).where(RolePermission.role_id == role.id))
    )
    if order:
        by_uuid = {r.uuid: r for r in rules}
        if sorted(order) != sorted(by_uuid):
            raise InvalidParameter(
                "ruleorder must list every rule of the role exactly once", parameter="ruleorder"
            )
        for position, rule_uuid in enumerate(order):
            by_uuid[rule_uuid].sort_order = position
    elif permission_uuid and permission:
        entry = next((r for r in rules if r.uuid == permission_uuid), None)
        if entry is None:
            raise NotFound("role permission", permission_uuid)
        _check_rule(entry.rule, permission)
        entry.permission = permission.lower()
    else:
        raise InvalidParameter("Either ruleorder or ruleid and permission are required")
    session.flush()
    record_for_caller(session, ctx, "ROLE.PERMISSION.UPDATE", f"Rules of role {role.name} updated")


def delete_permission(session: Session, ctx: CallContext, uuid: str) -> None:
    ensure_root_admin(ctx)
    entry = session.scalar(sa.select(RolePermission).where(RolePermission.uuid == uuid))
    if entry is None:
        raise NotFound("role permission", uuid)
    session.delete(entry)
    session.flush()
    record_for_caller(session, ctx, "ROLE.PERMISSION.DELETE", f"Rule {entry.rule} deleted")
