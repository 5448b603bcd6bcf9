"""A VPC's implied network resources, read-only: DescribeRouteTables, DescribeInternetGateways,
DescribeNetworkAcls and DescribeDhcpOptions.

CloudStack's VPC routes between its tiers and out through its virtual router, with no route
table, gateway or ACL rows a tenant manages; AWS tools still ask for them (Terraform's aws
provider reads a VPC's main route table and default ACL, Ansible's `ec2_vpc_*_info` modules
and libcloud list them). So each VPC shows, derived from its own row and never stored:

- one main route table (`rtb-`, the VPC's id): a `local` route for the VPC's CIDR and
  `0.0.0.0/0` through the VPC's internet gateway, implicitly associated with every subnet;
- one internet gateway (`igw-`, the VPC's id), attached to it;
- one default network ACL (`acl-`, the VPC's id) allowing all traffic both ways, associated
  with each of its subnets (`aclassoc-`, the subnet's id);
- and each account one DHCP options set (`dopt-`, the account's id), the one its VPCs name.

Differs from AWS: nothing here can be created, changed or tagged (the VPC's security groups
are the tenant's filter), so there are no Create/Replace/Associate actions and `tag:` filters
match nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core import networks as nets
from core.networks import Network, Vpc
from core.visibility import ListScope
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import Ec2Error
from ec2_api.paging import page
from ec2_api.tagging import filter_set
from translators.filters import FilterSet, parse_filters
from translators.ids import (
    DHCP_OPTIONS,
    INTERNET_GATEWAY,
    NETWORK_ACL,
    NETWORK_ACL_ASSOCIATION,
    ROUTE_TABLE,
    ROUTE_TABLE_ASSOCIATION,
    SUBNET,
    VPC,
)

View = dict[str, Any]
ALL_IPV4 = "0.0.0.0/0"
LAST_RULE = 32767  # AWS's catch-all rule number, which denies


def _own_vpcs(call: Call) -> list[Vpc]:
    return list(nets.list_vpcs(call.session, call.ctx, ListScope())[0])


def _subnets_by_vpc(call: Call) -> dict[int, list[Network]]:
    found: dict[int, list[Network]] = {}
    for network in nets.list_networks(call.session, call.ctx, ListScope(), in_vpc=True)[0]:
        assert network.vpc_id is not None
        found.setdefault(network.vpc_id, []).append(network)
    return found


# ---- rendering


def route_table(call: Call, vpc: Vpc) -> View:
    table_id = call.ids.encode(ROUTE_TABLE, vpc.id)
    return {
        "RouteTableId": table_id,
        "VpcId": call.ids.encode(VPC, vpc.id),
        "OwnerId": call.ids.account_number(vpc.account_id),
        "Associations": [
            {
                "Main": True,
                "RouteTableAssociationId": call.ids.encode(ROUTE_TABLE_ASSOCIATION, vpc.id),
                "RouteTableId": table_id,
                "AssociationState": {"State": "associated"},
            }
        ],
        "PropagatingVgws": [],
        "Routes": [
            {
                "DestinationCidrBlock": vpc.cidr,
                "GatewayId": "local",
                "Origin": "CreateRouteTable",
                "State": "active",
            },
            {
                "DestinationCidrBlock": ALL_IPV4,
                "GatewayId": call.ids.encode(INTERNET_GATEWAY, vpc.id),
                "Origin": "CreateRoute",
                "State": "active",
            },
        ],
        "Tags": [],
    }


def internet_gateway(call: Call, vpc: Vpc) -> View:
    return {
        "InternetGatewayId": call.ids.encode(INTERNET_GATEWAY, vpc.id),
        "OwnerId": call.ids.account_number(vpc.account_id),
        "Attachments": [{"State": "available", "VpcId": call.ids.encode(VPC, vpc.id)}],
        "Tags": [],
    }


def _allow_all(egress: bool, rule_number: int, action: str) -> View:
    return {
        "CidrBlock": ALL_IPV4,
        "Egress": egress,
        "Protocol": "-1",
        "RuleAction": action,
        "RuleNumber": rule_number,
    }


def network_acl(call: Call, vpc: Vpc, subnets: Sequence[Network]) -> View:
    acl_id = call.ids.encode(NETWORK_ACL, vpc.id)
    return {
        "NetworkAclId": acl_id,
        "VpcId": call.ids.encode(VPC, vpc.id),
        "OwnerId": call.ids.account_number(vpc.account_id),
        "IsDefault": True,
        "Associations": [
            {
                "NetworkAclAssociationId": call.ids.encode(NETWORK_ACL_ASSOCIATION, subnet.id),
                "NetworkAclId": acl_id,
                "SubnetId": call.ids.encode(SUBNET, subnet.id),
            }
            for subnet in subnets
        ],
        "Entries": [
            _allow_all(egress, number, action)
            for egress in (True, False)
            for number, action in ((100, "allow"), (LAST_RULE, "deny"))
        ],
        "Tags": [],
    }


def dhcp_options_id(call: Call, account_id: int) -> str:
    """The id of an account's one DHCP options set (what its VPCs show as DhcpOptionsId)."""
    return call.ids.encode(DHCP_OPTIONS, account_id)


def dhcp_options(call: Call, account_id: int) -> View:
    return {
        "DhcpOptionsId": dhcp_options_id(call, account_id),
        "OwnerId": call.ids.account_number(account_id),
        "DhcpConfigurations": [
            {"Key": "domain-name", "Values": [{"Value": f"{call.region}.compute.internal"}]},
            {"Key": "domain-name-servers", "Values": [{"Value": "AmazonProvidedDNS"}]},
        ],
        "Tags": [],
    }


# ---- filters


def _each(key: str, read: Callable[[View], Any]) -> Callable[[View], list[Any]]:
    return lambda view: [read(entry) for entry in view[key]]


ROUTE_TABLE_FILTERS = filter_set(
    {
        "route-table-id": lambda t: t["RouteTableId"],
        "vpc-id": lambda t: t["VpcId"],
        "owner-id": lambda t: t["OwnerId"],
        "association.main": _each("Associations", lambda a: a["Main"]),
        "association.route-table-association-id": _each(
            "Associations", lambda a: a["RouteTableAssociationId"]
        ),
        "association.route-table-id": _each("Associations", lambda a: a["RouteTableId"]),
        "association.subnet-id": _each("Associations", lambda a: a.get("SubnetId")),
        "association.gateway-id": _each("Associations", lambda a: a.get("GatewayId")),
        "association.association-state": _each(
            "Associations", lambda a: a["AssociationState"]["State"]
        ),
        "route.destination-cidr-block": _each("Routes", lambda r: r["DestinationCidrBlock"]),
        "route.gateway-id": _each("Routes", lambda r: r["GatewayId"]),
        "route.origin": _each("Routes", lambda r: r["Origin"]),
        "route.state": _each("Routes", lambda r: r["State"]),
    },
    lambda t: t["Tags"],
)

INTERNET_GATEWAY_FILTERS = filter_set(
    {
        "internet-gateway-id": lambda g: g["InternetGatewayId"],
        "owner-id": lambda g: g["OwnerId"],
        "attachment.state": _each("Attachments", lambda a: a["State"]),
        "attachment.vpc-id": _each("Attachments", lambda a: a["VpcId"]),
    },
    lambda g: g["Tags"],
)

NETWORK_ACL_FILTERS = filter_set(
    {
        "network-acl-id": lambda n: n["NetworkAclId"],
        "vpc-id": lambda n: n["VpcId"],
        "owner-id": lambda n: n["OwnerId"],
        "default": lambda n: n["IsDefault"],
        "association.association-id": _each("Associations", lambda a: a["NetworkAclAssociationId"]),
        "association.network-acl-id": _each("Associations", lambda a: a["NetworkAclId"]),
        "association.subnet-id": _each("Associations", lambda a: a["SubnetId"]),
        "entry.cidr": _each("Entries", lambda e: e["CidrBlock"]),
        "entry.egress": _each("Entries", lambda e: e["Egress"]),
        "entry.protocol": _each("Entries", lambda e: e["Protocol"]),
        "entry.rule-action": _each("Entries", lambda e: e["RuleAction"]),
        "entry.rule-number": _each("Entries", lambda e: e["RuleNumber"]),
    },
    lambda n: n["Tags"],
)

DHCP_OPTIONS_FILTERS = filter_set(
    {
        "dhcp-options-id": lambda d: d["DhcpOptionsId"],
        "owner-id": lambda d: d["OwnerId"],
        "key": _each("DhcpConfigurations", lambda c: c["Key"]),
        "value": lambda d: [v["Value"] for c in d["DhcpConfigurations"] for v in c["Values"]],
    },
    lambda d: d["Tags"],
)


# ---- the Describe calls


def _not_found(code: str, noun: str, missing: list[str]) -> Ec2Error:
    if len(missing) == 1:
        return Ec2Error(code, f"The {noun} ID '{missing[0]}' does not exist")
    return Ec2Error(code, f"The {noun} IDs '{', '.join(missing)}' do not exist")


def describe_views(
    call: Call,
    views: list[View],
    *,
    asked: Sequence[str] | None,
    id_key: str,
    prefix: str,
    not_found: tuple[str, str],
    filters: FilterSet[View],
    result_key: str,
    maximum: int = 100,
) -> dict[str, Any]:
    """A Describe over views rendered in full: the ids asked for (malformed or unknown ones
    refused, `not_found` = (code, noun)), then the filters, then one page."""
    wanted = list(dict.fromkeys(asked or ()))
    for ec2_id in wanted:
        call.ids.decode(prefix, ec2_id)  # …Malformed for a wrong shape
    if wanted:
        by_id = {view[id_key]: view for view in views}
        missing = [ec2_id for ec2_id in wanted if ec2_id not in by_id]
        if missing:
            raise _not_found(*not_found, missing)
        views = [by_id[ec2_id] for ec2_id in wanted]
    views = filters.select(views, parse_filters(call.get("Filters")))
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"), maximum=maximum)
    result: dict[str, Any] = {result_key: shown}
    if next_token:
        result["NextToken"] = next_token
    return result


def describe_route_tables(call: Call) -> dict[str, Any]:
    return describe_views(
        call,
        [route_table(call, vpc) for vpc in _own_vpcs(call)],
        asked=call.get("RouteTableIds"),
        id_key="RouteTableId",
        prefix=ROUTE_TABLE,
        not_found=("InvalidRouteTableID.NotFound", "routeTable"),
        filters=ROUTE_TABLE_FILTERS,
        result_key="RouteTables",
    )


def describe_internet_gateways(call: Call) -> dict[str, Any]:
    return describe_views(
        call,
        [internet_gateway(call, vpc) for vpc in _own_vpcs(call)],
        asked=call.get("InternetGatewayIds"),
        id_key="InternetGatewayId",
        prefix=INTERNET_GATEWAY,
        not_found=("InvalidInternetGatewayID.NotFound", "internetGateway"),
        filters=INTERNET_GATEWAY_FILTERS,
        result_key="InternetGateways",
    )


def describe_network_acls(call: Call) -> dict[str, Any]:
    subnets = _subnets_by_vpc(call)
    return describe_views(
        call,
        [network_acl(call, vpc, subnets.get(vpc.id, [])) for vpc in _own_vpcs(call)],
        asked=call.get("NetworkAclIds"),
        id_key="NetworkAclId",
        prefix=NETWORK_ACL,
        not_found=("InvalidNetworkAclID.NotFound", "network ACL"),
        filters=NETWORK_ACL_FILTERS,
        result_key="NetworkAcls",
    )


def describe_dhcp_options(call: Call) -> dict[str, Any]:
    return describe_views(
        call,
        [dhcp_options(call, call.ctx.account_id)],
        asked=call.get("DhcpOptionsIds"),
        id_key="DhcpOptionsId",
        prefix=DHCP_OPTIONS,
        not_found=("InvalidDhcpOptionID.NotFound", "dhcpOption"),
        filters=DHCP_OPTIONS_FILTERS,
        result_key="DhcpOptions",
    )


_READ_ONLY = "read-only, derived from the VPC (nothing to create, change or tag)"

ACTIONS = (
    Action(
        "DescribeRouteTables",
        describe_route_tables,
        notes=f"{_READ_ONLY}: one main table per VPC, a `local` route for its CIDR and "
        "0.0.0.0/0 through its internet gateway; subnets are associated implicitly",
    ),
    Action(
        "DescribeInternetGateways",
        describe_internet_gateways,
        notes=f"{_READ_ONLY}: one gateway per VPC, attached to it",
    ),
    Action(
        "DescribeNetworkAcls",
        describe_network_acls,
        notes=f"{_READ_ONLY}: one default ACL per VPC allowing all traffic, associated with "
        "each of its subnets (security groups are what filters)",
    ),
    Action(
        "DescribeDhcpOptions",
        describe_dhcp_options,
        notes=f"{_READ_ONLY}: one set per account (AmazonProvidedDNS, "
        "`<region>.compute.internal`), the DhcpOptionsId every VPC of the account names",
    ),
)
