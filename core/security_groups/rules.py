"""Rules: authorize, find, change and revoke them.

A rule allows a protocol (tcp, udp, icmp, all or a protocol number) with a port range or ICMP
type/code, from one CIDR or from the members of one other group; a request with several CIDRs
and groups makes one rule each, as in CloudStack. Authorize and revoke are asynchronous in
CloudStack's API: the rule rows change in the request (so a duplicate is refused at once) and
the job pushes the group's rules to the hosts — nothing yet, as no driver enforces rules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import identity
from core.context import CallContext
from core.errors import InvalidParameter, NetworkRuleConflict, NotFound
from core.events import record_for_caller
from core.jobs import AsyncJob, job_handler, submit_job
from core.security_groups.groups import group_named
from core.security_groups.models import (
    EGRESS,
    INGRESS,
    NAMED_PROTOCOLS,
    RESOURCE_TYPE,
    RULE_RESOURCE_TYPE,
    SecurityGroup,
    SecurityGroupRule,
)
from core.tags import forget_resource
from core.visibility import ListScope, ensure_access, scope_filter


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
        allowed = group_named(session, account.id, group_name) if account else None
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
    allowed_groups: Sequence[SecurityGroup] = (),
    description: str | None = None,
) -> tuple[list[SecurityGroupRule], AsyncJob]:
    """Add one rule per CIDR and per allowed group; a rule that exists already is a conflict.

    Allowed groups come by account and group name (`user_groups`, CloudStack's form) or as
    groups the caller has already looked up (`allowed_groups`, EC2's group ids).
    """
    ensure_access(session, ctx, group, "security group", group.uuid)
    if direction not in (INGRESS, EGRESS):
        raise InvalidParameter(f"Invalid rule direction {direction}")
    name = _protocol(protocol)
    start, end, itype, icode = _ports(name, start_port, end_port, icmp_type, icmp_code)
    cidr_values = [_cidr(value) for value in (cidrs or []) if value.strip()]
    allowed = [*_allowed_groups(session, group, user_groups or []), *allowed_groups]
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
        if _same_rule(session, group, direction, name, start, end, itype, icode, cidr, allowed_id):
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
            description=description,
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


@dataclass(frozen=True)
class Traffic:
    """What a rule lets through: a protocol and its port range or ICMP type and code."""

    protocol: str | None
    start_port: int | None = None
    end_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None

    def normalized(self) -> tuple[str, int | None, int | None, int | None, int | None]:
        """(protocol, start, end, icmp type, icmp code) as stored, checked as authorize does."""
        name = _protocol(self.protocol)
        return name, *_ports(name, self.start_port, self.end_port, self.icmp_type, self.icmp_code)


def find_rule(
    session: Session,
    group: SecurityGroup,
    *,
    direction: str,
    traffic: Traffic,
    cidr: str | None = None,
    allowed_group_id: int | None = None,
) -> SecurityGroupRule | None:
    """The rule of `group` that `authorize_rules` with these values would have made, if any."""
    source = _cidr(cidr) if cidr is not None else None
    return _same_rule(session, group, direction, *traffic.normalized(), source, allowed_group_id)


def _same_rule(
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
) -> SecurityGroupRule | None:
    def same(column: Any, value: object) -> sa.ColumnElement[bool]:
        return column.is_(None) if value is None else column == value

    return session.scalar(
        sa.select(SecurityGroupRule).where(
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


def list_rules(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    ids: Sequence[int] | None = None,
    group_ids: Sequence[int] | None = None,
) -> list[SecurityGroupRule]:
    """The rules of the groups the caller may list in `scope`, oldest first."""
    visible = sa.select(SecurityGroup.id).where(
        scope_filter(session, ctx, scope, SecurityGroup.account_id, SecurityGroup.domain_id)
    )
    query = sa.select(SecurityGroupRule).where(SecurityGroupRule.security_group_id.in_(visible))
    if ids is not None:
        query = query.where(SecurityGroupRule.id.in_(ids))
    if group_ids is not None:
        query = query.where(SecurityGroupRule.security_group_id.in_(group_ids))
    return list(session.scalars(query.order_by(SecurityGroupRule.id)))


def update_rule(
    session: Session,
    ctx: CallContext,
    rule: SecurityGroupRule,
    *,
    traffic: Traffic,
    cidr: str | None = None,
    allowed_group: SecurityGroup | None = None,
    description: str | None = None,
) -> AsyncJob:
    """Replace what a rule allows, keeping its id (EC2's ModifySecurityGroupRules)."""
    group = session.get_one(SecurityGroup, rule.security_group_id)
    ensure_access(session, ctx, group, "security group rule", rule.uuid)
    name, start, end, itype, icode = traffic.normalized()
    if (cidr is None) == (allowed_group is None):
        raise InvalidParameter("A rule needs exactly one cidr or one security group")
    source = _cidr(cidr) if cidr is not None else None
    allowed_id = allowed_group.id if allowed_group is not None else None
    same = _same_rule(
        session, group, rule.direction, name, start, end, itype, icode, source, allowed_id
    )
    if same is not None and same.id != rule.id:
        raise NetworkRuleConflict(f"The rule already exists in security group {group.name}")
    rule.protocol, rule.start_port, rule.end_port = name, start, end
    rule.icmp_type, rule.icmp_code = itype, icode
    rule.cidr, rule.allowed_group_id, rule.description = source, allowed_id, description
    session.flush()
    record_for_caller(
        session,
        ctx,
        "SG.AUTH.INGRESS" if rule.direction == INGRESS else "SG.AUTH.EGRESS",
        f"Updated {rule.direction} rule {rule.uuid} of security group {group.name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=group.uuid,
    )
    return submit_job(
        session,
        ctx,
        f"securitygroup.authorize.{rule.direction}",
        instance_type=RESOURCE_TYPE,
        instance_id=group.id,
        params={"rules": [rule.id]},
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
    forget_resource(session, RULE_RESOURCE_TYPE, rule.id)
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
