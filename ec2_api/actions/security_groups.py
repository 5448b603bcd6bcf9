"""Security groups: Create/Delete/DescribeSecurityGroups over core security groups.

An EC2 security group is a core security group of the caller's account (its "default" group
included); its rules are core rules (security_group_rules, translators.security_groups). This
module also finds the groups a request names, for the rule actions and for other families
(RunInstances' SecurityGroupIds): `group_by_ec2_id`, `group_by_name`, `target_group`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import errors
from core import networks as nets
from core import security_groups as groups
from core.security_groups import SecurityGroup
from core.visibility import ListScope
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from ec2_api.paging import page
from ec2_api.tagging import filter_set, specified_tags, tag_new, tags_by_id
from translators import security_groups as sgs
from translators.filters import parse_filters
from translators.ids import VPC

TAG_TYPE = "security-group"
MAX_DESCRIPTION = 255


def group_not_found(ident: str) -> Ec2Error:
    return Ec2Error("InvalidGroup.NotFound", f"The security group '{ident}' does not exist")


def own_groups(call: Call, core_ids: list[int] | None = None) -> list[SecurityGroup]:
    """The caller's own groups (admins too: an EC2 caller acts for its account)."""
    rows, _ = groups.list_security_groups(call.session, call.ctx, ListScope(), ids=core_ids)
    return rows


def group_by_ec2_id(call: Call, ec2_id: str) -> SecurityGroup:
    core_id = sgs.core_group_id(call.ids, ec2_id)
    found = own_groups(call, [core_id]) if core_id is not None else []
    if not found:
        raise group_not_found(ec2_id)
    return found[0]


def group_by_name(call: Call, name: str) -> SecurityGroup:
    for group in own_groups(call):
        if group.name == name:
            return group
    raise _name_not_found(call, name)


def _name_not_found(call: Call, name: str) -> Ec2Error:
    default_vpc = _default_vpc(call)
    if default_vpc is None:
        return group_not_found(name)
    return Ec2Error(
        "InvalidGroup.NotFound",
        f"The security group '{name}' does not exist in default VPC '{default_vpc}'",
    )


def target_group(call: Call) -> SecurityGroup:
    """The group a request acts on, by GroupId or GroupName."""
    if call.get("GroupId"):
        return group_by_ec2_id(call, call.get("GroupId"))
    if call.get("GroupName"):
        return group_by_name(call, call.get("GroupName"))
    raise missing_parameter("GroupId")


def group_pair(call: Call) -> Callable[[int], dict[str, Any]]:
    """UserIdGroupPair rendering for a core group id, cached per request."""
    cache: dict[int, dict[str, Any]] = {}

    def pair(core_id: int) -> dict[str, Any]:
        if core_id not in cache:
            group = call.session.get_one(SecurityGroup, core_id)
            cache[core_id] = {
                "GroupId": sgs.group_id(call.ids, group),
                "GroupName": group.name,
                "UserId": call.ids.account_number(group.account_id),
            }
        return cache[core_id]

    return pair


def _arn(call: Call, owner_id: str, group_ec2_id: str) -> str:
    return f"arn:aws:ec2:{call.region}:{owner_id}:security-group/{group_ec2_id}"


def _vpc_id(call: Call) -> int | None:
    """The core id of the caller's VPC that VpcId names (None when not given)."""
    vpc_id = call.get("VpcId")
    if not vpc_id:
        return None
    core_id = call.ids.decode(VPC, vpc_id)
    vpcs = nets.list_vpcs(call.session, call.ctx, ListScope(), ids=(core_id,))[0] if core_id else []
    if not vpcs:
        raise Ec2Error("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")
    return vpcs[0].id


def _default_vpc(call: Call) -> str | None:
    """The caller's default VPC, where groups created without a VpcId live."""
    vpcs, _ = nets.list_vpcs(call.session, call.ctx, ListScope(), is_default=True)
    return call.ids.encode(VPC, vpcs[0].id) if vpcs else None


# CreateSecurityGroup / DeleteSecurityGroup ------------------------------------------------


def create_security_group(call: Call) -> dict[str, Any]:
    name, description = call.get("GroupName"), call.get("Description")
    if name.startswith("sg-"):
        raise invalid_value("Group names may not be in the format sg-*.")
    if len(description) > MAX_DESCRIPTION:
        raise invalid_value(f"Invalid value for Description: longer than {MAX_DESCRIPTION}")
    tags = specified_tags(call, TAG_TYPE)
    try:
        group = groups.create_security_group(
            call.session,
            call.ctx,
            name=name,
            description=description,
            allow_all_egress=True,
            vpc_id=_vpc_id(call),
        )
    except groups.GroupNameTaken:
        raise Ec2Error(
            "InvalidGroup.Duplicate", f"The security group '{name}' already exists"
        ) from None
    tag_new(call, TAG_TYPE, [group.uuid], tags)
    ec2_id = sgs.group_id(call.ids, group)
    return {
        "GroupId": ec2_id,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
        "SecurityGroupArn": _arn(call, call.ids.account_number(group.account_id), ec2_id),
    }


def delete_security_group(call: Call) -> dict[str, Any]:
    group = target_group(call)
    ec2_id = sgs.group_id(call.ids, group)
    try:
        groups.delete_security_group(call.session, call.ctx, group)
    except groups.DefaultGroupUndeletable:
        raise Ec2Error(
            "CannotDelete",
            f'the specified group: "{ec2_id}" name: "{group.name}" cannot be deleted by a user',
        ) from None
    except errors.ResourceInUse:
        raise Ec2Error("DependencyViolation", f"resource {ec2_id} has a dependent object") from None
    return {"Return": True, "GroupId": ec2_id}


# DescribeSecurityGroups -------------------------------------------------------------------


def _permission_filters(prefix: str, key: str) -> dict[str, Any]:
    def values(read: Any) -> Any:
        return lambda g: [v for p in g[key] for v in read(p)]

    return {
        f"{prefix}protocol": values(lambda p: [p["IpProtocol"]]),
        f"{prefix}from-port": values(lambda p: [p.get("FromPort")]),
        f"{prefix}to-port": values(lambda p: [p.get("ToPort")]),
        f"{prefix}cidr": values(lambda p: [r["CidrIp"] for r in p["IpRanges"]]),
        f"{prefix}ipv6-cidr": values(lambda p: [r["CidrIpv6"] for r in p["Ipv6Ranges"]]),
        f"{prefix}group-id": values(lambda p: [u["GroupId"] for u in p["UserIdGroupPairs"]]),
        f"{prefix}group-name": values(lambda p: [u["GroupName"] for u in p["UserIdGroupPairs"]]),
        f"{prefix}user-id": values(lambda p: [u["UserId"] for u in p["UserIdGroupPairs"]]),
        f"{prefix}prefix-list-id": lambda g: [],
    }


GROUP_FILTERS = filter_set(
    {
        "group-id": lambda g: g["GroupId"],
        "group-name": lambda g: g["GroupName"],
        "description": lambda g: g["Description"],
        "owner-id": lambda g: g["OwnerId"],
        "vpc-id": lambda g: g.get("VpcId"),
        **_permission_filters("ip-permission.", "IpPermissions"),
        **_permission_filters("egress.ip-permission.", "IpPermissionsEgress"),
    },
    lambda g: g["Tags"],
)


def render_groups(call: Call, rows: list[SecurityGroup]) -> list[dict[str, Any]]:
    """SecurityGroup views for many groups, with rules and tags read in one query each."""
    core_ids = [group.id for group in rows]
    rules = groups.rules_of(call.session, core_ids)
    tags = tags_by_id(call, TAG_TYPE, core_ids)
    pair = group_pair(call)
    default_vpc = _default_vpc(call) if rows else None
    views = []
    for group in rows:
        ec2_id, owner = sgs.group_id(call.ids, group), call.ids.account_number(group.account_id)
        own_rules = rules[group.id]
        vpc_id = call.ids.encode(VPC, group.vpc_id) if group.vpc_id else default_vpc
        views.append(
            {
                "GroupId": ec2_id,
                **({"VpcId": vpc_id} if vpc_id else {}),
                "GroupName": group.name,
                "Description": group.description,
                "OwnerId": owner,
                "SecurityGroupArn": _arn(call, owner, ec2_id),
                "IpPermissions": sgs.ip_permissions(
                    [r for r in own_rules if r.direction == groups.INGRESS], pair
                ),
                "IpPermissionsEgress": sgs.ip_permissions(
                    [r for r in own_rules if r.direction == groups.EGRESS], pair
                ),
                "Tags": tags.get(group.id, []),
            }
        )
    return views


def _requested(call: Call, rows: list[SecurityGroup]) -> list[SecurityGroup]:
    wanted_ids, wanted_names = call.get("GroupIds") or [], call.get("GroupNames") or []
    if not wanted_ids and not wanted_names:
        return rows
    by_id = {sgs.group_id(call.ids, group): group for group in rows}
    by_name = {group.name: group for group in rows}
    chosen: dict[int, SecurityGroup] = {}
    for ec2_id in wanted_ids:
        sgs.core_group_id(call.ids, ec2_id)  # a malformed id is refused as such
        if ec2_id not in by_id:
            raise group_not_found(ec2_id)
        chosen[by_id[ec2_id].id] = by_id[ec2_id]
    for name in wanted_names:
        if name not in by_name:
            raise _name_not_found(call, name)
        chosen[by_name[name].id] = by_name[name]
    return [group for group in rows if group.id in chosen]


def describe_security_groups(call: Call) -> dict[str, Any]:
    filters = parse_filters(call.get("Filters"))
    matches = GROUP_FILTERS.predicate(filters)
    views = [view for view in render_groups(call, _requested(call, own_groups(call)))]
    views = [view for view in views if matches(view)]
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {"SecurityGroups": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


ACTIONS = (
    Action(
        "CreateSecurityGroup",
        create_security_group,
        writes=True,
        notes="group names are unique per account, not per VPC; a new group allows all "
        "egress to 0.0.0.0/0",
    ),
    Action("DeleteSecurityGroup", delete_security_group, writes=True),
    Action(
        "DescribeSecurityGroups",
        describe_security_groups,
        notes="the account's `default` group has no rules (CloudStack's), not AWS's "
        "ingress-from-itself and all-egress rules",
    ),
)
