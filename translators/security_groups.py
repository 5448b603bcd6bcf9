"""EC2 security groups ⇄ core security groups: ids, IpPermissions ⇄ core rules.

A core rule allows one protocol and port range (or ICMP type/code) from one source, a CIDR or
another group; EC2 groups the same thing as IpPermissions: one protocol and port range with
lists of IpRanges, Ipv6Ranges and UserIdGroupPairs. Parsing an IpPermissions list therefore
yields one `RuleSpec` per source, and rendering folds a group's rules back into permissions.

Protocols: EC2's `-1` is the core's `all`; `tcp`, `udp`, `icmp` and protocol numbers are the
same on both sides. For ICMP, FromPort is the ICMP type and ToPort the code (-1 = any). Ports
given with `-1` or a numbered protocol are ignored, as AWS ignores them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidParameter
from core.security_groups import SecurityGroup, SecurityGroupRule, Traffic
from translators.ids import SECURITY_GROUP, SECURITY_GROUP_RULE, IdCodec

ALL = "all"
PORTED = ("tcp", "udp")


def group_id(ids: IdCodec, group: SecurityGroup | int) -> str:
    """The `sg-…` id of a core group (or of a core group id)."""
    return ids.encode(SECURITY_GROUP, group if isinstance(group, int) else group.id)


def core_group_id(ids: IdCodec, ec2_id: str) -> int | None:
    """The core id behind `sg-…`; None when well-formed but not ours; MalformedId otherwise."""
    return ids.decode(SECURITY_GROUP, ec2_id)


def rule_id(ids: IdCodec, rule: SecurityGroupRule) -> str:
    return ids.encode(SECURITY_GROUP_RULE, rule.id)


@dataclass(frozen=True)
class GroupRef:
    """A source group named in UserIdGroupPairs (or SourceSecurityGroupName)."""

    group_id: str | None = None
    group_name: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    """One core rule's worth of an IpPermission: protocol, ports and one source."""

    protocol: str
    start_port: int | None
    end_port: int | None
    icmp_type: int | None
    icmp_code: int | None
    cidr: str | None = None
    group: GroupRef | None = None
    description: str | None = None

    def traffic(self) -> Traffic:
        """The protocol and ports in the core's terms."""
        return Traffic(
            self.protocol, self.start_port, self.end_port, self.icmp_type, self.icmp_code
        )


def _core_protocol(value: Any) -> str:
    protocol = str(value if value is not None else "").strip().lower()
    if not protocol:
        raise InvalidParameter("Invalid value '' for IP protocol", parameter="IpProtocol")
    return ALL if protocol in ("-1", ALL) else protocol


def _ports(protocol: str, permission: Mapping[str, Any]) -> tuple[int | None, ...]:
    """(start, end, icmp type, icmp code) for the core."""
    from_port, to_port = permission.get("FromPort"), permission.get("ToPort")
    if protocol in PORTED or protocol in ("6", "17"):
        if from_port == -1 and to_port in (-1, None):  # all ports
            return 0, 65535, None, None
        return from_port, to_port, None, None
    if protocol in ("icmp", "1"):
        icmp_type = -1 if from_port is None else from_port
        icmp_code = -1 if to_port is None else to_port
        return None, None, icmp_type, icmp_code
    return None, None, None, None


def rule_specs(permission: Mapping[str, Any]) -> list[RuleSpec]:
    """One RuleSpec per source of an IpPermission; an IpPermission needs a source."""
    protocol = _core_protocol(permission.get("IpProtocol"))
    start, end, icmp_type, icmp_code = _ports(protocol, permission)

    def spec(**source: Any) -> RuleSpec:
        return RuleSpec(protocol, start, end, icmp_type, icmp_code, **source)

    specs = [
        spec(cidr=r.get("CidrIp"), description=r.get("Description"))
        for r in permission.get("IpRanges") or ()
    ]
    specs += [
        spec(cidr=r.get("CidrIpv6"), description=r.get("Description"))
        for r in permission.get("Ipv6Ranges") or ()
    ]
    specs += [
        spec(
            group=GroupRef(p.get("GroupId"), p.get("GroupName"), p.get("UserId")),
            description=p.get("Description"),
        )
        for p in permission.get("UserIdGroupPairs") or ()
    ]
    if permission.get("PrefixListIds"):
        raise InvalidParameter("Prefix lists are not supported", parameter="PrefixListIds")
    if any(s.cidr is None and s.group is None for s in specs):
        raise InvalidParameter("A CIDR range is required", parameter="CidrIp")
    return specs


def legacy_permission(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The flat CidrIp/IpProtocol/FromPort/ToPort/SourceSecurityGroupName form as a permission."""
    cidr, source = params.get("CidrIp"), params.get("SourceSecurityGroupName")
    if cidr is None and source is None and params.get("IpProtocol") is None:
        return None
    permission: dict[str, Any] = {
        "IpProtocol": params.get("IpProtocol") or "-1",
        "FromPort": params.get("FromPort"),
        "ToPort": params.get("ToPort"),
    }
    if cidr is not None:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    if source is not None:
        permission["UserIdGroupPairs"] = [
            {"GroupName": source, "UserId": params.get("SourceSecurityGroupOwnerId")}
        ]
    return permission


def request_spec(request: Mapping[str, Any]) -> RuleSpec:
    """ModifySecurityGroupRules' SecurityGroupRuleRequest (one source) as a RuleSpec."""
    description = request.get("Description")
    permission: dict[str, Any] = {
        "IpProtocol": request.get("IpProtocol"),
        "FromPort": request.get("FromPort"),
        "ToPort": request.get("ToPort"),
    }
    if request.get("CidrIpv4"):
        permission["IpRanges"] = [{"CidrIp": request["CidrIpv4"], "Description": description}]
    if request.get("CidrIpv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": request["CidrIpv6"], "Description": description}]
    if request.get("ReferencedGroupId"):
        permission["UserIdGroupPairs"] = [
            {"GroupId": request["ReferencedGroupId"], "Description": description}
        ]
    if request.get("PrefixListId"):
        permission["PrefixListIds"] = [{"PrefixListId": request["PrefixListId"]}]
    specs = rule_specs(permission)
    if len(specs) != 1:
        raise InvalidParameter(
            "A security group rule needs exactly one of CidrIpv4, CidrIpv6, ReferencedGroupId",
            parameter="SecurityGroupRule",
        )
    return specs[0]


# ---- rendering


def aws_protocol(rule: SecurityGroupRule) -> str:
    return "-1" if rule.protocol == ALL else rule.protocol


def aws_ports(rule: SecurityGroupRule) -> tuple[int | None, int | None]:
    """(FromPort, ToPort) as IpPermissions show them; None for all-protocol/numbered rules."""
    if rule.protocol in PORTED:
        return rule.start_port, rule.end_port
    if rule.protocol == "icmp":
        return rule.icmp_type, rule.icmp_code
    return None, None


def _with_description(entry: dict[str, Any], rule: SecurityGroupRule) -> dict[str, Any]:
    if rule.description:
        entry["Description"] = rule.description
    return entry


def ip_permissions(
    rules: Sequence[SecurityGroupRule], group_pair: Callable[[int], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rules of one direction folded into IpPermissions, in rule order.

    `group_pair(core group id)` gives the UserIdGroupPair (GroupId, UserId …) of a source group.
    """
    permissions: dict[tuple[str, int | None, int | None], dict[str, Any]] = {}
    for rule in rules:
        from_port, to_port = aws_ports(rule)
        key = (aws_protocol(rule), from_port, to_port)
        permission = permissions.get(key)
        if permission is None:
            permission = {
                "IpProtocol": key[0],
                "IpRanges": [],
                "Ipv6Ranges": [],
                "UserIdGroupPairs": [],
                "PrefixListIds": [],
            }
            if from_port is not None:
                permission["FromPort"], permission["ToPort"] = from_port, to_port
            permissions[key] = permission
        if rule.allowed_group_id is not None:
            pair = _with_description(dict(group_pair(rule.allowed_group_id)), rule)
            permission["UserIdGroupPairs"].append(pair)
        elif rule.cidr is not None and ":" in rule.cidr:
            permission["Ipv6Ranges"].append(_with_description({"CidrIpv6": rule.cidr}, rule))
        elif rule.cidr is not None:
            permission["IpRanges"].append(_with_description({"CidrIp": rule.cidr}, rule))
    return list(permissions.values())


def security_group_rule(
    ids: IdCodec,
    rule: SecurityGroupRule,
    owner_id: str,
    group_pair: Callable[[int], dict[str, Any]],
) -> dict[str, Any]:
    """One core rule as DescribeSecurityGroupRules' SecurityGroupRule."""
    from_port, to_port = aws_ports(rule)
    view: dict[str, Any] = {
        "SecurityGroupRuleId": rule_id(ids, rule),
        "GroupId": group_id(ids, rule.security_group_id),
        "GroupOwnerId": owner_id,
        "IsEgress": rule.direction == "egress",
        "IpProtocol": aws_protocol(rule),
        "FromPort": -1 if from_port is None else from_port,
        "ToPort": -1 if to_port is None else to_port,
        "Tags": [],
    }
    if rule.allowed_group_id is not None:
        pair = group_pair(rule.allowed_group_id)
        view["ReferencedGroupInfo"] = {"GroupId": pair["GroupId"], "UserId": pair["UserId"]}
    elif rule.cidr is not None and ":" in rule.cidr:
        view["CidrIpv6"] = rule.cidr
    elif rule.cidr is not None:
        view["CidrIpv4"] = rule.cidr
    if rule.description:
        view["Description"] = rule.description
    return view
