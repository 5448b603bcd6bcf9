"""Security group rules: Authorize/Revoke Ingress and Egress, ModifySecurityGroupRules and
DescribeSecurityGroupRules — over core security group rules.

An EC2 rule (`sgr-…`) is a core rule: one protocol, port range (or ICMP type/code) and one
source, a CIDR or a group. IpPermissions are parsed into one RuleSpec per source and folded
back by translators.security_groups; a request that fails half-way writes nothing (one
transaction per request).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from core import errors
from core import security_groups as groups
from core.security_groups import SecurityGroup, SecurityGroupRule
from core.visibility import ListScope
from ec2_api.action import Action
from ec2_api.actions.security_groups import (
    group_by_ec2_id,
    group_by_name,
    group_not_found,
    group_pair,
    target_group,
)
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from ec2_api.paging import page
from ec2_api.tagging import filter_set
from translators import security_groups as sgs
from translators.filters import parse_filters
from translators.ids import SECURITY_GROUP_RULE

# Authorize / Revoke -----------------------------------------------------------------------


def _permissions(call: Call) -> list[dict[str, Any]]:
    permissions = list(call.get("IpPermissions") or [])
    legacy = sgs.legacy_permission(call.params)
    if legacy is not None:
        permissions.append(legacy)
    if not permissions:
        raise missing_parameter("IpPermissions")
    return permissions


def _source_group(call: Call, ref: sgs.GroupRef) -> SecurityGroup:
    """A UserIdGroupPair's group: one of the caller's own (cross-account pairs unsupported)."""
    own = call.ids.account_number(call.ctx.account_id)
    if ref.user_id and ref.user_id != own:
        raise group_not_found(ref.group_id or ref.group_name or "")
    if ref.group_id:
        return group_by_ec2_id(call, ref.group_id)
    if ref.group_name:
        return group_by_name(call, ref.group_name)
    raise missing_parameter("GroupId")


def _rule_views(call: Call, rules: list[SecurityGroupRule]) -> list[dict[str, Any]]:
    pair = group_pair(call)
    owners: dict[int, str] = {}
    views = []
    for rule in rules:
        if rule.security_group_id not in owners:
            group = call.session.get_one(SecurityGroup, rule.security_group_id)
            owners[group.id] = call.ids.account_number(group.account_id)
        views.append(sgs.security_group_rule(call.ids, rule, owners[rule.security_group_id], pair))
    return views


@contextmanager
def _as_permission(spec: sgs.RuleSpec) -> Iterator[None]:
    try:
        yield
    except errors.NetworkRuleConflict:
        source = spec.cidr or (spec.group.group_id or spec.group.group_name if spec.group else "")
        ports = f"{spec.start_port}-{spec.end_port}" if spec.start_port is not None else "all"
        raise Ec2Error(
            "InvalidPermission.Duplicate",
            f'the specified rule "peer: {source}, {spec.protocol.upper()}, ports: {ports}, '
            f'ALLOW" already exists',
        ) from None


def _authorize(call: Call, direction: str) -> dict[str, Any]:
    group = target_group(call)
    if call.get("TagSpecifications"):
        raise invalid_value("Tags on security group rules are not supported")
    added: list[SecurityGroupRule] = []
    for permission in _permissions(call):
        for spec in sgs.rule_specs(permission):
            allowed = [_source_group(call, spec.group)] if spec.group else []
            with _as_permission(spec):
                rules, _ = groups.authorize_rules(
                    call.session,
                    call.ctx,
                    group,
                    direction=direction,
                    **asdict(spec.traffic()),
                    cidrs=[spec.cidr] if spec.cidr else None,
                    allowed_groups=allowed,
                    description=spec.description,
                )
            added += rules
    return {"Return": True, "SecurityGroupRules": _rule_views(call, added)}


def own_rules(
    call: Call,
    rule_ids: list[str],
    group: SecurityGroup | None = None,
    direction: str | None = None,
) -> list[SecurityGroupRule]:
    """The caller's rules `rule_ids` (of `group` and `direction` when given), in order.

    InvalidSecurityGroupRuleId.NotFound for the first id that is not one of them.
    """
    core_ids = [call.ids.decode(SECURITY_GROUP_RULE, rule_id) for rule_id in rule_ids]
    found = {
        rule.id: rule
        for rule in groups.list_rules(
            call.session,
            call.ctx,
            ListScope(),
            ids=[i for i in core_ids if i is not None],
            group_ids=[group.id] if group is not None else None,
        )
        if direction is None or rule.direction == direction
    }
    for rule_id, core_id in zip(rule_ids, core_ids, strict=True):
        if core_id not in found:
            raise Ec2Error(
                "InvalidSecurityGroupRuleId.NotFound",
                f"The security group rule ID '{rule_id}' does not exist",
            )
    return [found[core_id] for core_id in dict.fromkeys(core_ids) if core_id is not None]


def _rules_by_permissions(
    call: Call, group: SecurityGroup, direction: str
) -> list[SecurityGroupRule]:
    found: dict[int, SecurityGroupRule] = {}
    for permission in _permissions(call):
        for spec in sgs.rule_specs(permission):
            source = _source_group(call, spec.group) if spec.group else None
            rule = groups.find_rule(
                call.session,
                group,
                direction=direction,
                traffic=spec.traffic(),
                cidr=spec.cidr,
                allowed_group_id=source.id if source else None,
            )
            if rule is None:
                raise Ec2Error(
                    "InvalidPermission.NotFound",
                    "The specified rule does not exist in this security group.",
                )
            found[rule.id] = rule
    return list(found.values())


def _revoke(call: Call, direction: str) -> dict[str, Any]:
    group = target_group(call)
    if call.get("SecurityGroupRuleIds"):
        rules = own_rules(call, call.get("SecurityGroupRuleIds"), group, direction)
    else:
        rules = _rules_by_permissions(call, group, direction)
    views = _rule_views(call, rules)
    for rule in rules:
        groups.revoke_rule(call.session, call.ctx, rule_uuid=rule.uuid, direction=direction)
    return {"Return": True, "RevokedSecurityGroupRules": views}


def authorize_ingress(call: Call) -> dict[str, Any]:
    return _authorize(call, groups.INGRESS)


def authorize_egress(call: Call) -> dict[str, Any]:
    return _authorize(call, groups.EGRESS)


def revoke_ingress(call: Call) -> dict[str, Any]:
    return _revoke(call, groups.INGRESS)


def revoke_egress(call: Call) -> dict[str, Any]:
    return _revoke(call, groups.EGRESS)


def modify_security_group_rules(call: Call) -> dict[str, Any]:
    group = target_group(call)
    updates = call.get("SecurityGroupRules") or []
    if not updates:
        raise missing_parameter("SecurityGroupRule")
    for update in updates:
        [rule] = own_rules(call, [update.get("SecurityGroupRuleId") or ""], group)
        spec = sgs.request_spec(update.get("SecurityGroupRule") or {})
        with _as_permission(spec):
            groups.update_rule(
                call.session,
                call.ctx,
                rule,
                traffic=spec.traffic(),
                cidr=spec.cidr,
                allowed_group=_source_group(call, spec.group) if spec.group else None,
                description=spec.description,
            )
    return {"Return": True}


# DescribeSecurityGroupRules ---------------------------------------------------------------

RULE_FILTERS = filter_set(
    {
        "group-id": lambda r: r["GroupId"],
        "security-group-rule-id": lambda r: r["SecurityGroupRuleId"],
    },
    lambda r: r["Tags"],
)


def describe_security_group_rules(call: Call) -> dict[str, Any]:
    matches = RULE_FILTERS.predicate(parse_filters(call.get("Filters")))
    wanted = call.get("SecurityGroupRuleIds")
    if wanted:
        rules = own_rules(call, wanted)
    else:
        rules = groups.list_rules(call.session, call.ctx, ListScope())
    views = [view for view in _rule_views(call, rules) if matches(view)]
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {"SecurityGroupRules": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


_RULE_NOTES = (
    "one core rule per source; UserIdGroupPairs name the caller's own groups only; "
    "PrefixListIds and rule tags are refused"
)
_EGRESS_NOTES = (
    f"{_RULE_NOTES}; a group without egress rules allows all egress (CloudStack's rule), "
    "where AWS would allow none"
)

ACTIONS = (
    Action("AuthorizeSecurityGroupIngress", authorize_ingress, writes=True, notes=_RULE_NOTES),
    Action("AuthorizeSecurityGroupEgress", authorize_egress, writes=True, notes=_EGRESS_NOTES),
    Action("RevokeSecurityGroupIngress", revoke_ingress, writes=True),
    Action("RevokeSecurityGroupEgress", revoke_egress, writes=True),
    Action("ModifySecurityGroupRules", modify_security_group_rules, writes=True),
    Action(
        "DescribeSecurityGroupRules",
        describe_security_group_rules,
        notes="rules carry no tags",
    ),
)
