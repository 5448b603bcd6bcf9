"""Security groups: named sets of ingress and egress rules that VMs are placed in.

Every account owns a "default" group from its creation (an ACCOUNT_CREATED_HOOKS entry). A
rule allows a protocol (tcp, udp, icmp, all or a protocol number) with a port range or ICMP
type/code, from one CIDR or from the members of one other group; a request with several CIDRs
and groups makes one rule each, as in CloudStack. Authorize and revoke are asynchronous in
CloudStack's API: the rule rows change in the request (so a duplicate is refused at once) and
the job pushes the group's rules to the hosts — nothing yet, as no driver enforces rules.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import identity
from core.context import CallContext
from core.db import Base, IdMixin
from core.errors import InvalidParameter, NetworkRuleConflict, NotFound, ResourceInUse
from core.events import record_for_caller
from core.jobs import AsyncJob, job_handler, submit_job
from core.listing import Page, paginate
from core.tags import delete_tags, tag_filter
from core.visibility import ListScope, ensure_access, scope_filter

RESOURCE_TYPE = "SecurityGroup"
RULE_RESOURCE_TYPE = "SecurityGroupRule"
DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default Security Group"
INGRESS = "ingress"
EGRESS = "egress"
NAMED_PROTOCOLS = ("tcp", "udp", "icmp", "all")


class SecurityGroup(IdMixin, Base):
    __tablename__ = "security_group"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)

    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(4096), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)


class SecurityGroupRule(IdMixin, Base):
    __tablename__ = "security_group_rule"

    security_group_id: Mapped[int] = mapped_column(sa.ForeignKey("security_group.id"), index=True)
    direction: Mapped[str] = mapped_column(sa.String(8))
    protocol: Mapped[str] = mapped_column(sa.String(16))
    start_port: Mapped[int | None]
    end_port: Mapped[int | None]
    icmp_type: Mapped[int | None]
    icmp_code: Mapped[int | None]
    cidr: Mapped[str | None] = mapped_column(sa.String(64))
    allowed_group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("security_group.id"), index=True
    )


class SecurityGroupVm(Base):
    __tablename__ = "security_group_vm_map"

    security_group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("security_group.id"), primary_key=True
    )
    vm_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_instance.id"), primary_key=True)


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
    session: Session, ctx: CallContext, *, name: str, description: str = ""
) -> SecurityGroup:
    """A new, empty group of the account in `ctx`; names are unique per account."""
    if not name or len(name) > 255:
        raise InvalidParameter("Security group name must be 1 to 255 characters")
    if name.lower() == DEFAULT_NAME:
        raise InvalidParameter("The security group name default is reserved", parameter="name")
    if _group_by_name(session, ctx.account_id, name) is not None:
        raise InvalidParameter(
            f"Unable to create security group, a group with name {name} already exists.",
            parameter="name",
        )
    group = SecurityGroup(
        name=name,
        description=description or "",
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
    )
    session.add(group)
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


def _group_by_name(session: Session, account_id: int, name: str) -> SecurityGroup | None:
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
    group = _group_by_name(session, ctx.account_id, name)
    if group is None:
        raise NotFound("security group", name, f"Unable to find security group by name {name}")
    return group


def delete_security_group(session: Session, ctx: CallContext, group: SecurityGroup) -> None:
    """Delete a group that no VM uses and no other group's rule names; never "default"."""
    ensure_access(session, ctx, group, "security group", group.uuid)
    if group.name == DEFAULT_NAME:
        raise InvalidParameter("The network default group cannot be deleted")
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
        delete_tags(session, resource_type=RULE_RESOURCE_TYPE, resource_id=rule_id, tags={})
    session.execute(
        sa.delete(SecurityGroupRule).where(SecurityGroupRule.security_group_id == group.id)
    )
    delete_tags(session, resource_type=RESOURCE_TYPE, resource_id=group.id, tags={})
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
    page: Page = Page(),
) -> tuple[list[SecurityGroup], int]:
    query = sa.select(SecurityGroup).where(
        scope_filter(session, ctx, scope, SecurityGroup.account_id, SecurityGroup.domain_id)
    )
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
        group = _group_by_name(session, ctx.account_id, name)
        if group is None:
            raise NotFound("security group", name, f"Unable to find security group by name {name}")
        groups.append(group)
    if not groups:
        default = _group_by_name(session, ctx.account_id, DEFAULT_NAME)
        if default is None:
            account = identity.get_account(session, ctx.account_id)
            _create_default_group(session, account)
            default = _group_by_name(session, ctx.account_id, DEFAULT_NAME)
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


def vm_ids_of(session: Session, group_id: int) -> list[int]:
    return list(
        session.scalars(
            sa.select(SecurityGroupVm.vm_id).where(SecurityGroupVm.security_group_id == group_id)
        )
    )


# ---- rules


def _protocol(value: str | None) -> str:
    protocol = (value or "").strip().lower()
    if protocol in NAMED_PROTOCOLS:
        return protocol
    if protocol.isdigit() and 0 <= int(protocol) <= 255:
        return {"6": "tcp", "17": "udp", "1": "icmp"}.get(str(int(protocol)), str(int(protocol)))
    raise InvalidParameter(f"Invalid protocol {value}", parameter="protocol")


def _ports(
    protocol: str,
    start_port: int | None,
    end_port: int | None,
    icmp_type: int | None,
    icmp_code: int | None,
) -> tuple[int | None, int | None, int | None, int | None]:
    if protocol in ("tcp", "udp"):
        if start_port is None or end_port is None:
            raise InvalidParameter(f"Invalid port range {start_port}-{end_port}")
        if not (0 <= start_port <= 65535 and 0 <= end_port <= 65535 and start_port <= end_port):
            raise InvalidParameter(f"Invalid port range {start_port}-{end_port}")
        return start_port, end_port, None, None
    if protocol == "icmp":
        if icmp_type is None or icmp_code is None:
            raise InvalidParameter(
                f"Invalid ICMP type/code specified, icmpType = {icmp_type}, icmpCode = {icmp_code}"
            )
        if not (-1 <= icmp_type <= 255 and -1 <= icmp_code <= 255):
            raise InvalidParameter(
                f"Invalid ICMP type/code specified, icmpType = {icmp_type}, icmpCode = {icmp_code}"
            )
        return None, None, icmp_type, icmp_code
    if start_port is not None or end_port is not None:
        raise InvalidParameter("Cannot specify startPort or endPort without tcp/udp as protocol")
    return None, None, None, None


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise InvalidParameter(f"Invalid cidr {value}", parameter="cidrlist") from None


def _allowed_groups(
    session: Session, group: SecurityGroup, entries: list[dict[str, str]]
) -> list[SecurityGroup]:
    found = []
    for entry in entries:
        account_name, group_name = entry.get("account"), entry.get("group")
        if not account_name or not group_name:
            raise InvalidParameter(
                "Invalid user group specified, fields 'group' and 'account' cannot be null, "
                "please specify groups in the form: userGroupList[0].group=XXX&"
                "userGroupList[0].account=YYY",
                parameter="usersecuritygrouplist",
            )
        account = session.scalar(
            sa.select(identity.Account).where(
                identity.Account.domain_id == group.domain_id,
                identity.Account.name == account_name,
                identity.Account.removed.is_(None),
            )
        )
        allowed = _group_by_name(session, account.id, group_name) if account else None
        if allowed is None:
            raise InvalidParameter(
                f"Unable to find security group {group_name} for account {account_name}",
                parameter="usersecuritygrouplist",
            )
        found.append(allowed)
    return found


def authorize_rules(
    session: Session,
    ctx: CallContext,
    group: SecurityGroup,
    *,
    direction: str,
    protocol: str | None,
    start_port: int | None = None,
    end_port: int | None = None,
    icmp_type: int | None = None,
    icmp_code: int | None = None,
    cidrs: list[str] | None = None,
    user_groups: list[dict[str, str]] | None = None,
) -> tuple[list[SecurityGroupRule], AsyncJob]:
    """Add one rule per CIDR and per allowed group; a rule that exists already is a conflict."""
    ensure_access(session, ctx, group, "security group", group.uuid)
    if direction not in (INGRESS, EGRESS):
        raise InvalidParameter(f"Invalid rule direction {direction}")
    name = _protocol(protocol)
    start, end, itype, icode = _ports(name, start_port, end_port, icmp_type, icmp_code)
    cidr_values = [_cidr(value) for value in (cidrs or []) if value.strip()]
    allowed = _allowed_groups(session, group, user_groups or [])
    if not cidr_values and not allowed:
        raise InvalidParameter(
            "At least one cidr or at least one security group needs to be specified"
        )
    sources: list[tuple[str | None, int | None]] = [
        (cidr, None) for cidr in dict.fromkeys(cidr_values)
    ]
    sources += [(None, other.id) for other in {g.id: g for g in allowed}.values()]
    rules = []
    for cidr, allowed_id in sources:
        if _existing_rule(
            session, group, direction, name, start, end, itype, icode, cidr, allowed_id
        ):
            raise NetworkRuleConflict(
                f"The {direction} rule for protocol {name} from "
                f"{cidr or 'security group'} already exists in security group {group.name}"
            )
        rule = SecurityGroupRule(
            security_group_id=group.id,
            direction=direction,
            protocol=name,
            start_port=start,
            end_port=end,
            icmp_type=itype,
            icmp_code=icode,
            cidr=cidr,
            allowed_group_id=allowed_id,
        )
        session.add(rule)
        rules.append(rule)
    session.flush()
    event = "SG.AUTH.INGRESS" if direction == INGRESS else "SG.AUTH.EGRESS"
    record_for_caller(
        session,
        ctx,
        event,
        f"Authorized {len(rules)} {direction} rule(s) in security group {group.name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=group.uuid,
    )
    job = submit_job(
        session,
        ctx,
        f"securitygroup.authorize.{direction}",
        instance_type=RESOURCE_TYPE,
        instance_id=group.id,
        params={"rules": [rule.id for rule in rules]},
    )
    return rules, job


def _existing_rule(
    session: Session,
    group: SecurityGroup,
    direction: str,
    protocol: str,
    start: int | None,
    end: int | None,
    itype: int | None,
    icode: int | None,
    cidr: str | None,
    allowed_id: int | None,
) -> bool:
    def same(column: Any, value: object) -> sa.ColumnElement[bool]:
        return column.is_(None) if value is None else column == value

    return (
        session.scalar(
            sa.select(SecurityGroupRule.id).where(
                SecurityGroupRule.security_group_id == group.id,
                SecurityGroupRule.direction == direction,
                SecurityGroupRule.protocol == protocol,
                same(SecurityGroupRule.start_port, start),
                same(SecurityGroupRule.end_port, end),
                same(SecurityGroupRule.icmp_type, itype),
                same(SecurityGroupRule.icmp_code, icode),
                same(SecurityGroupRule.cidr, cidr),
                same(SecurityGroupRule.allowed_group_id, allowed_id),
            )
        )
        is not None
    )


def revoke_rule(session: Session, ctx: CallContext, *, rule_uuid: str, direction: str) -> AsyncJob:
    """Remove one rule (by its id) of the given direction from a group the caller owns."""
    rule = session.scalar(sa.select(SecurityGroupRule).where(SecurityGroupRule.uuid == rule_uuid))
    if rule is None:
        raise NotFound("security group rule", rule_uuid)
    group = session.get_one(SecurityGroup, rule.security_group_id)
    ensure_access(session, ctx, group, "security group rule", rule_uuid)
    if rule.direction != direction:
        raise InvalidParameter(f"The rule {rule_uuid} is not an {direction} rule")
    delete_tags(session, resource_type=RULE_RESOURCE_TYPE, resource_id=rule.id, tags={})
    session.delete(rule)
    session.flush()
    event = "SG.REVOKE.INGRESS" if direction == INGRESS else "SG.REVOKE.EGRESS"
    record_for_caller(
        session,
        ctx,
        event,
        f"Revoked {direction} rule {rule_uuid} of security group {group.name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=group.uuid,
    )
    return submit_job(
        session,
        ctx,
        f"securitygroup.revoke.{direction}",
        instance_type=RESOURCE_TYPE,
        instance_id=group.id,
    )


def _apply_rules(_runtime: object, _job: AsyncJob) -> dict[str, object]:
    # Rule rows are committed with the request; no hypervisor driver enforces them yet, so
    # pushing them to the hosts is nothing to do (and trivially idempotent).
    return {}


def _nothing_to_undo(_runtime: object, _job: AsyncJob, _error: Exception) -> None:
    return None


for _kind in (
    "securitygroup.authorize.ingress",
    "securitygroup.authorize.egress",
    "securitygroup.revoke.ingress",
    "securitygroup.revoke.egress",
):
    job_handler(_kind, fail=_nothing_to_undo)(_apply_rules)
