"""VPCs and subnets: Create/Delete/DescribeVpcs, Describe/ModifyVpcAttribute and
Create/Delete/DescribeSubnets, over the core's VPCs and their tiers (core.networks).

A VPC is a core VPC, a subnet a core network of a VPC (stand-alone CloudStack networks are
not subnets and are not shown). Every account has a default VPC (172.31.0.0/16) with a
default /20 subnet per availability zone, made by the core when the account or zone is
created (never by a Describe). EC2 callers see and touch their own account's only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from core import errors
from core import networks as nets
from core.infra import Zone, list_zones
from core.networks import Network, Vpc
from core.networks.addressing import usable_count
from core.visibility import ListScope
from ec2_api.action import Action
from ec2_api.actions.vpc_views import dhcp_options_id
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from ec2_api.paging import page
from ec2_api.tagging import filter_set, specified_tags, tag_new, tags_by_id
from translators import zones
from translators.filters import parse_filters
from translators.ids import SUBNET, VPC

CIDR_ASSOCIATION = "vpc-cidr-assoc"
MIN_PREFIX, MAX_PREFIX = 16, 28  # AWS's bounds for VPC and subnet CIDR blocks
DNS_ATTRIBUTES = {"enableDnsSupport": "dns_support", "enableDnsHostnames": "dns_hostnames"}


def _not_found(kind: str, missing: Sequence[str]) -> Ec2Error:
    code = "InvalidVpcID.NotFound" if kind == "vpc" else "InvalidSubnetID.NotFound"
    listed = ", ".join(missing)
    if len(missing) == 1:
        return Ec2Error(code, f"The {kind} ID '{listed}' does not exist")
    return Ec2Error(code, f"The {kind} IDs '{listed}' do not exist")


def _own(
    call: Call, prefix: str, kind: str, ec2_ids: Sequence[str] | None, lister: Callable[..., Any]
) -> list[Any]:
    """The caller's rows from `lister` (all, or exactly `ec2_ids`: …NotFound if any is not)."""
    if not ec2_ids:
        return list(lister(call.session, call.ctx, ListScope())[0])
    wanted = {ec2_id: call.ids.decode(prefix, ec2_id) for ec2_id in dict.fromkeys(ec2_ids)}
    core_ids = tuple(i for i in wanted.values() if i is not None)
    found = {row.id: row for row in lister(call.session, call.ctx, ListScope(), ids=core_ids)[0]}
    missing = [ec2_id for ec2_id, core_id in wanted.items() if core_id not in found]
    if missing:
        raise _not_found(kind, missing)
    return [found[core_id] for core_id in wanted.values() if core_id is not None]


def _own_vpcs(call: Call, vpc_ids: Sequence[str] | None) -> list[Vpc]:
    return _own(call, VPC, "vpc", vpc_ids, nets.list_vpcs)


def _own_subnets(call: Call, subnet_ids: Sequence[str] | None) -> list[Network]:
    return _own(call, SUBNET, "subnet", subnet_ids, partial(nets.list_networks, in_vpc=True))


def _aws_cidr(cidr: str | None, error_code: str) -> str:
    """AWS's own bounds on a CIDR block (/16 to /28); the core checks the rest."""
    if not cidr:
        raise missing_parameter("CidrBlock")
    prefix = cidr.rpartition("/")[2]
    if not prefix.isdigit():
        raise invalid_value(
            f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
        )
    if not MIN_PREFIX <= int(prefix) <= MAX_PREFIX:
        raise Ec2Error(error_code, f"The CIDR '{cidr}' is invalid.")
    return cidr


# ---- rendering


def vpc_view(call: Call, vpc: Vpc, tags: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "VpcId": call.ids.encode(VPC, vpc.id),
        "OwnerId": call.ids.account_number(vpc.account_id),
        "State": "available",
        "CidrBlock": vpc.cidr,
        "CidrBlockAssociationSet": [
            {
                "AssociationId": call.ids.encode(CIDR_ASSOCIATION, vpc.id),
                "CidrBlock": vpc.cidr,
                "CidrBlockState": {"State": "associated"},
            }
        ],
        "Ipv6CidrBlockAssociationSet": [],
        "DhcpOptionsId": dhcp_options_id(call, vpc.account_id),
        "InstanceTenancy": vpc.tenancy,
        "IsDefault": vpc.is_default,
        "Tags": tags,
    }


def _vpc_views(call: Call, vpcs: list[Vpc]) -> list[dict[str, Any]]:
    tags = tags_by_id(call, "vpc", [vpc.id for vpc in vpcs])
    return [vpc_view(call, vpc, tags[vpc.id]) for vpc in vpcs]


class SubnetRenderer:
    """Subnets of one request: tags, zones and used addresses read once for all of them."""

    def __init__(self, call: Call, networks: list[Network]) -> None:
        self.call = call
        ids = [network.id for network in networks]
        self.tags = tags_by_id(call, "subnet", ids)
        self.used = nets.used_addresses(call.session, ids)
        self.zones = {zone.id: zone for zone in list_zones(call.session)}

    def zone(self, zone_id: int) -> Zone:
        zone = self.zones.get(zone_id)
        if zone is None:  # a removed zone still names its subnets
            zone = self.call.session.get_one(Zone, zone_id)
            self.zones[zone_id] = zone
        return zone

    def subnet(self, network: Network) -> dict[str, Any]:
        call = self.call
        subnet_id = call.ids.encode(SUBNET, network.id)
        owner = call.ids.account_number(network.account_id)
        zone = self.zone(network.zone_id)
        assert network.vpc_id is not None
        return {
            "SubnetId": subnet_id,
            "SubnetArn": f"arn:aws:ec2:{call.region}:{owner}:subnet/{subnet_id}",
            "VpcId": call.ids.encode(VPC, network.vpc_id),
            "OwnerId": owner,
            "State": "available",
            "CidrBlock": network.cidr,
            "AvailabilityZone": zone.name,
            "AvailabilityZoneId": zones.zone_id(call.region, zone),
            "AvailableIpAddressCount": usable_count(network.cidr) - self.used[network.id],
            "DefaultForAz": network.is_default,
            "MapPublicIpOnLaunch": network.map_public_ip,
            "MapCustomerOwnedIpOnLaunch": False,
            "AssignIpv6AddressOnCreation": False,
            "Ipv6CidrBlockAssociationSet": [],
            "EnableDns64": False,
            "Ipv6Native": False,
            "PrivateDnsNameOptionsOnLaunch": {
                "HostnameType": "ip-name",
                "EnableResourceNameDnsARecord": False,
                "EnableResourceNameDnsAAAARecord": False,
            },
            "Tags": self.tags[network.id],
        }


VPC_FILTERS = filter_set(
    {
        "vpc-id": lambda v: v["VpcId"],
        "cidr": lambda v: v["CidrBlock"],
        "cidr-block-association.cidr-block": lambda v: [
            a["CidrBlock"] for a in v["CidrBlockAssociationSet"]
        ],
        "cidr-block-association.association-id": lambda v: [
            a["AssociationId"] for a in v["CidrBlockAssociationSet"]
        ],
        "cidr-block-association.state": lambda v: [
            a["CidrBlockState"]["State"] for a in v["CidrBlockAssociationSet"]
        ],
        "dhcp-options-id": lambda v: v["DhcpOptionsId"],
        "instance-tenancy": lambda v: v["InstanceTenancy"],
        "is-default": lambda v: v["IsDefault"],
        "isDefault": lambda v: v["IsDefault"],  # the wire name: AWS accepts it (Ansible sends it)
        "owner-id": lambda v: v["OwnerId"],
        "state": lambda v: v["State"],
    },
    lambda v: v["Tags"],
)

SUBNET_FILTERS = filter_set(
    {
        "subnet-id": lambda s: s["SubnetId"],
        "subnet-arn": lambda s: s["SubnetArn"],
        "vpc-id": lambda s: s["VpcId"],
        "availability-zone": lambda s: s["AvailabilityZone"],
        "availabilityZone": lambda s: s["AvailabilityZone"],
        "availability-zone-id": lambda s: s["AvailabilityZoneId"],
        "available-ip-address-count": lambda s: s["AvailableIpAddressCount"],
        "cidr-block": lambda s: s["CidrBlock"],
        "cidr": lambda s: s["CidrBlock"],
        "cidrBlock": lambda s: s["CidrBlock"],
        "default-for-az": lambda s: s["DefaultForAz"],
        "defaultForAz": lambda s: s["DefaultForAz"],
        "map-public-ip-on-launch": lambda s: s["MapPublicIpOnLaunch"],
        "owner-id": lambda s: s["OwnerId"],
        "state": lambda s: s["State"],
    },
    lambda s: s["Tags"],
)


def _paged(call: Call, key: str, views: list[dict[str, Any]]) -> dict[str, Any]:
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {key: shown}
    if next_token:
        result["NextToken"] = next_token
    return result


# ---- VPCs


def describe_vpcs(call: Call) -> dict[str, Any]:
    filters = parse_filters(call.get("Filters"))
    views = _vpc_views(call, _own_vpcs(call, call.get("VpcIds")))
    return _paged(call, "Vpcs", VPC_FILTERS.select(views, filters))


def create_vpc(call: Call) -> dict[str, Any]:
    cidr = _aws_cidr(call.get("CidrBlock"), "InvalidVpc.Range")
    tags = specified_tags(call, "vpc")
    try:
        vpc, _job = nets.create_vpc(
            call.session,
            call.ctx,
            zone=zones.default_zone(call.session),
            name=tags.get("Name") or "vpc",
            cidr=cidr,
            tenancy=call.get("InstanceTenancy") or "default",
        )
    except errors.LimitExceeded:
        raise Ec2Error("VpcLimitExceeded", "The maximum number of VPCs has been reached.") from None
    if "Name" not in tags:  # CloudStack wants a name; the EC2 id is the natural one
        vpc.name = call.ids.encode(VPC, vpc.id)
    tag_new(call, "vpc", [vpc.uuid], tags)
    return {"Vpc": _vpc_views(call, [vpc])[0]}


def delete_vpc(call: Call) -> None:
    vpc_id = call.get("VpcId")
    [vpc] = _own_vpcs(call, [vpc_id])
    try:
        nets.delete_vpc(call.session, call.ctx, vpc)
    except errors.ResourceInUse:
        raise Ec2Error(
            "DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
        ) from None


def describe_vpc_attribute(call: Call) -> dict[str, Any]:
    attribute = call.get("Attribute")
    [vpc] = _own_vpcs(call, [call.get("VpcId")])
    result: dict[str, Any] = {"VpcId": call.ids.encode(VPC, vpc.id)}
    if attribute in DNS_ATTRIBUTES:
        value = getattr(vpc, DNS_ATTRIBUTES[attribute])
        result[attribute[0].upper() + attribute[1:]] = {"Value": value}
    elif attribute == "enableNetworkAddressUsageMetrics":
        result["EnableNetworkAddressUsageMetrics"] = {"Value": False}
    else:
        raise invalid_value(f"Value ({attribute}) for parameter attribute is invalid.")
    return result


def modify_vpc_attribute(call: Call) -> None:
    [vpc] = _own_vpcs(call, [call.get("VpcId")])
    given = {
        field: call.get(name[0].upper() + name[1:])["Value"]
        for name, field in DNS_ATTRIBUTES.items()
        if call.get(name[0].upper() + name[1:]) is not None
    }
    if len(given) != 1:
        raise Ec2Error(
            "InvalidParameterCombination",
            "Fields for multiple attribute types specified: exactly one attribute is expected",
        )
    if call.get("EnableDnsSupport") is None and not vpc.dns_support and given["dns_hostnames"]:
        raise invalid_value("enableDnsHostnames requires enableDnsSupport")
    nets.update_vpc(call.session, call.ctx, vpc, **given)


# ---- subnets


def _zone(call: Call) -> Zone:
    name, zone_id = call.get("AvailabilityZone"), call.get("AvailabilityZoneId")
    if name:
        return zones.zone_by_name(call.session, name)
    if zone_id:
        for zone in list_zones(call.session):
            if zones.zone_id(call.region, zone) == zone_id:
                return zone
        raise invalid_value(f"Value ({zone_id}) for parameter availabilityZoneId is invalid.")
    return zones.default_zone(call.session)


def create_subnet(call: Call) -> dict[str, Any]:
    cidr = _aws_cidr(call.get("CidrBlock"), "InvalidSubnet.Range")
    [vpc] = _own_vpcs(call, [call.get("VpcId")])
    tags = specified_tags(call, "subnet")
    try:
        network = nets.create_network(
            call.session,
            call.ctx,
            zone=_zone(call),
            offering=None,
            name=tags.get("Name") or "subnet",
            cidr=cidr,
            vpc=vpc,
        )
    except errors.Conflict:
        raise Ec2Error(
            "InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another subnet"
        ) from None
    except errors.InvalidParameter as error:
        if error.parameter == "cidr":
            raise Ec2Error("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.") from None
        raise
    except errors.LimitExceeded:
        raise Ec2Error(
            "SubnetLimitExceeded", "The maximum number of subnets has been reached."
        ) from None
    if "Name" not in tags:
        network.name = call.ids.encode(SUBNET, network.id)
    tag_new(call, "subnet", [network.uuid], tags)
    return {"Subnet": SubnetRenderer(call, [network]).subnet(network)}


def delete_subnet(call: Call) -> None:
    subnet_id = call.get("SubnetId")
    [network] = _own_subnets(call, [subnet_id])
    try:
        nets.delete_network(call.session, call.ctx, network)
    except errors.ResourceInUse:
        raise Ec2Error(
            "DependencyViolation",
            f"The subnet '{subnet_id}' has dependencies and cannot be deleted.",
        ) from None


def modify_subnet_attribute(call: Call) -> None:
    [network] = _own_subnets(call, [call.get("SubnetId")])
    supported = {"SubnetId", "MapPublicIpOnLaunch"}
    unsupported = sorted(name for name in call.params if name not in supported)
    if unsupported:
        raise invalid_value(f"The attribute {unsupported[0]} is not supported")
    given = call.get("MapPublicIpOnLaunch")
    if given is None:
        raise missing_parameter("MapPublicIpOnLaunch")
    nets.update_network(call.session, call.ctx, network, map_public_ip=given["Value"])


def describe_subnets(call: Call) -> dict[str, Any]:
    filters = parse_filters(call.get("Filters"))
    rows = _own_subnets(call, call.get("SubnetIds"))
    renderer = SubnetRenderer(call, rows)
    views = [renderer.subnet(network) for network in rows]
    return _paged(call, "Subnets", SUBNET_FILTERS.select(views, filters))


ACTIONS = (
    Action(
        "CreateVpc",
        create_vpc,
        writes=True,
        notes="a CloudStack VPC in the first enabled zone; IPv6 and IPAM pools are not "
        "supported; the VPC is `available` at once",
    ),
    Action("DeleteVpc", delete_vpc, writes=True, notes="DependencyViolation while subnets remain"),
    Action(
        "DescribeVpcs",
        describe_vpcs,
        notes="every account has a default VPC 172.31.0.0/16, made when the account (or the "
        "first zone) is created; DhcpOptionsId names the account's one DHCP options set",
    ),
    Action(
        "DescribeVpcAttribute",
        describe_vpc_attribute,
        notes="enableDnsSupport and enableDnsHostnames are recorded, not enforced",
    ),
    Action("ModifyVpcAttribute", modify_vpc_attribute, writes=True),
    Action(
        "CreateSubnet",
        create_subnet,
        writes=True,
        notes="a tier of the VPC (network offering DefaultIsolatedNetworkOfferingForVpcNetworks)"
        "; IPv6 and IPAM pools are not supported",
    ),
    Action(
        "DeleteSubnet", delete_subnet, writes=True, notes="DependencyViolation while VMs use it"
    ),
    Action(
        "ModifySubnetAttribute",
        modify_subnet_attribute,
        writes=True,
        notes="MapPublicIpOnLaunch only (recorded; RunInstances decides what it maps)",
    ),
    Action(
        "DescribeSubnets",
        describe_subnets,
        notes="subnets are VPC tiers (CloudStack networks without a VPC are not shown); a "
        "default /20 per zone in the default VPC",
    ),
)
