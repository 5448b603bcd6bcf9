"""Groups: create, find, delete and list them; which VMs are in which group.

Every account owns a "default" group from its creation (an ACCOUNT_CREATED_HOOKS entry).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import identity
from core.context import CallContext
from core.errors import InvalidParameter, NotFound, ResourceInUse
from core.events import record_for_caller
from core.listing import Page, paginate
from core.security_groups.models import (
    ANYWHERE,
    DEFAULT_DESCRIPTION,
    DEFAULT_NAME,
    EGRESS,
    RESOURCE_TYPE,
    RULE_RESOURCE_TYPE,
    SecurityGroup,
    SecurityGroupRule,
    SecurityGroupVm,
)
from core.tags import forget_resource, tag_filter
from core.visibility import ListScope, ensure_access, scope_filter


class GroupNameTaken(InvalidParameter):
    """The account has a group of that name already (431 in CloudStack's API)."""


class DefaultGroupUndeletable(InvalidParameter):
    """An account's "default" group lives as long as the account."""


# ---- groups


def _create_default_group(session: Session, account: identity.Account) -> None:
    session.add(
        SecurityGroup(
            name=DEFAULT_NAME,
            description=DEFAULT_DESCRIPTION,
            account_id=account.id,
            domain_id=account.domain_id,
        )
    )
    session.flush()


identity.ACCOUNT_CREATED_HOOKS.append(_create_default_group)


def create_security_group(
    session: Session,
    ctx: CallContext,
    *,
    name: str,
    description: str = "",
    allow_all_egress: bool = False,
    vpc_id: int | None = None,
) -> SecurityGroup:
    """A new group of the account in `ctx`; names are unique per account.

    Empty as in CloudStack (no egress rule = all egress allowed), or with one explicit
    "all protocols to 0.0.0.0/0" egress rule, which is how EC2 shows a new group's open egress.
    """
    if not name or len(name) > 255:
        raise InvalidParameter("Security group name must be 1 to 255 characters")
    if name.lower() == DEFAULT_NAME:
        raise GroupNameTaken("The security group name default is reserved", parameter="name")
    if group_named(session, ctx.account_id, name) is not None:
        raise GroupNameTaken(
            f"Unable to create security group, a group with name {name} already exists.",
            parameter="name",
        )
    group = SecurityGroup(
        name=name,
        description=description or "",
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        vpc_id=vpc_id,
    )
    session.add(group)
    session.flush()
    if allow_all_egress:
        session.add(
            SecurityGroupRule(
                security_group_id=group.id, direction=EGRESS, protocol="all", cidr=ANYWHERE
            )
        )
        session.flush()
    record_for_caller(
        session,
        ctx,
        "SG.CREATE",
        f"Created security group {name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=group.uuid,
    )
    return group


def group_named(session: Session, account_id: int, name: str) -> SecurityGroup | None:
    return session.scalar(
        sa.select(SecurityGroup).where(
            SecurityGroup.account_id == account_id, SecurityGroup.name == name
        )
    )


def get_security_group(
    session: Session, ctx: CallContext, *, uuid: str | None = None, name: str | None = None
) -> SecurityGroup:
    """A group by uuid (any the caller may see) or by name (of the account in `ctx`)."""
    if uuid:
        group = session.scalar(sa.select(SecurityGroup).where(SecurityGroup.uuid == uuid))
        ensure_access(session, ctx, group, "security group", uuid)
        assert group is not None
        return group
    if not name:
        raise InvalidParameter("Either id or name must be specified")
    group = group_named(session, ctx.account_id, name)
    if group is None:
        raise NotFound("security group", name, f"Unable to find security group by name {name}")
    return group


def delete_security_group(session: Session, ctx: CallContext, group: SecurityGroup) -> None:
    """Delete a group that no VM uses and no other group's rule names; never "default"."""
    ensure_access(session, ctx, group, "security group", group.uuid)
    if group.name == DEFAULT_NAME:
        raise DefaultGroupUndeletable("The network default group cannot be deleted")
    if session.scalar(
        sa.select(SecurityGroupVm.vm_id).where(SecurityGroupVm.security_group_id == group.id)
    ):
        raise ResourceInUse("Cannot delete group when it's in use by virtual machines")
    if session.scalar(
        sa.select(SecurityGroupRule.id).where(
            SecurityGroupRule.allowed_group_id == group.id,
            SecurityGroupRule.security_group_id != group.id,
        )
    ):
        raise ResourceInUse("Cannot delete group when it's in use by other groups' rules")
    rule_ids = list(
        session.scalars(
            sa.select(SecurityGroupRule.id).where(SecurityGroupRule.security_group_id == group.id)
        )
    )
    for rule_id in rule_ids:
        forget_resource(session, RULE_RESOURCE_TYPE, rule_id)
    session.execute(
        sa.delete(SecurityGroupRule).where(SecurityGroupRule.security_group_id == group.id)
    )
    forget_resource(session, RESOURCE_TYPE, group.id)
    record_for_caller(
        session,
        ctx,
        "SG.DELETE",
        f"Deleted security group {group.name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=group.uuid,
    )
    session.delete(group)
    session.flush()


def list_security_groups(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    uuid: str | None = None,
    name: str | None = None,
    vm_id: int | None = None,
    keyword: str | None = None,
    tags: list[tuple[str, str | None]] | None = None,
    ids: Sequence[int] | None = None,
    page: Page = Page(),
) -> tuple[list[SecurityGroup], int]:
    query = sa.select(SecurityGroup).where(
        scope_filter(session, ctx, scope, SecurityGroup.account_id, SecurityGroup.domain_id)
    )
    if ids is not None:
        query = query.where(SecurityGroup.id.in_(ids))
    if uuid:
        query = query.where(SecurityGroup.uuid == uuid)
    if name:
        query = query.where(SecurityGroup.name == name)
    if vm_id is not None:
        members = sa.select(SecurityGroupVm.security_group_id).where(SecurityGroupVm.vm_id == vm_id)
        query = query.where(SecurityGroup.id.in_(members))
    if keyword:
        query = query.where(SecurityGroup.name.contains(keyword, autoescape=True))
    if tags:
        query = query.where(tag_filter(RESOURCE_TYPE, SecurityGroup.__table__.c.id, tags))
    return paginate(session, query.order_by(SecurityGroup.id), page)


def rules_of(session: Session, group_ids: list[int]) -> dict[int, list[SecurityGroupRule]]:
    """Rules of many groups in one query (for rendering lists)."""
    found: dict[int, list[SecurityGroupRule]] = {gid: [] for gid in group_ids}
    if not group_ids:
        return found
    for rule in session.scalars(
        sa.select(SecurityGroupRule)
        .where(SecurityGroupRule.security_group_id.in_(group_ids))
        .order_by(SecurityGroupRule.id)
    ):
        found[rule.security_group_id].append(rule)
    return found


# ---- VM membership (called by deployVirtualMachine)


def resolve_for_deploy(
    session: Session, ctx: CallContext, *, ids: list[str], names: list[str]
) -> list[SecurityGroup]:
    """The groups a new VM of the account in `ctx` joins; its default group when none given."""
    if ids and names:
        raise InvalidParameter(
            "securitygroupids parameter is mutually exclusive with securitygroupnames parameter"
        )
    groups: list[SecurityGroup] = []
    for uuid in ids:
        group = session.scalar(sa.select(SecurityGroup).where(SecurityGroup.uuid == uuid))
        if group is None or group.account_id != ctx.account_id:
            raise NotFound("security group", uuid)
        groups.append(group)
    for name in names:
        group = group_named(session, ctx.account_id, name)
        if group is None:
            raise NotFound("security group", name, f"Unable to find security group by name {name}")
        groups.append(group)
    if not groups:
        default = group_named(session, ctx.account_id, DEFAULT_NAME)
        if default is None:
            account = identity.get_account(session, ctx.account_id)
            _create_default_group(session, account)
            default = group_named(session, ctx.account_id, DEFAULT_NAME)
        assert default is not None
        groups.append(default)
    unique = {group.id: group for group in groups}
    return list(unique.values())


def attach_to_vm(session: Session, vm_id: int, groups: list[SecurityGroup]) -> None:
    """Place the VM in `groups` (already resolved for its owner); idempotent."""
    present = set(
        session.scalars(
            sa.select(SecurityGroupVm.security_group_id).where(SecurityGroupVm.vm_id == vm_id)
        )
    )
    for group in groups:
        if group.id not in present:
            session.add(SecurityGroupVm(security_group_id=group.id, vm_id=vm_id))
            present.add(group.id)
    session.flush()


def detach_from_vm(session: Session, vm_id: int) -> None:
    """Take an expunged VM out of all its groups."""
    session.execute(sa.delete(SecurityGroupVm).where(SecurityGroupVm.vm_id == vm_id))


def groups_of_vm(session: Session, vm_id: int) -> list[SecurityGroup]:
    return list(
        session.scalars(
            sa.select(SecurityGroup)
            .join(SecurityGroupVm, SecurityGroupVm.security_group_id == SecurityGroup.id)
            .where(SecurityGroupVm.vm_id == vm_id)
            .order_by(SecurityGroup.id)
        )
    )


def groups_of_vms(session: Session, vm_ids: list[int]) -> dict[int, list[SecurityGroup]]:
    """`groups_of_vm` for many VMs in one query (for rendering lists)."""
    found: dict[int, list[SecurityGroup]] = {vm_id: [] for vm_id in vm_ids}
    if not vm_ids:
        return found
    for vm_id, group in session.execute(
        sa.select(SecurityGroupVm.vm_id, SecurityGroup)
        .join(SecurityGroupVm, SecurityGroupVm.security_group_id == SecurityGroup.id)
        .where(SecurityGroupVm.vm_id.in_(vm_ids))
        .order_by(SecurityGroup.id)
    ):
        found[vm_id].append(group)
    return found


def vm_ids_of(session: Session, group_id: int) -> list[int]:
    return list(
        session.scalars(
            sa.select(SecurityGroupVm.vm_id).where(SecurityGroupVm.security_group_id == group_id)
        )
    )
