"""VPCs and guest networks as CloudStack response objects, with CloudStack's field names."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import networks as nets
from core.context import CallContext
from core.infra import Zone
from core.networks import Network, Vpc
from core.networks.models import DEFAULT_VPC_OFFERING
from core.offerings import NetworkOffering
from core.tags import tags_of
from native_api.commands.common import owner_params
from native_api.commands.network_offerings import network_offering_view
from native_api.commands.tags import tag_view
from native_api.registry import Field
from native_api.views import owner_fields

VPC_SERVICES = (
    "Dhcp", "Dns", "UserData", "SourceNat", "StaticNat", "PortForwarding", "Lb", "NetworkACL",
    "Gateway", "Vpn",
)  # fmt: skip

VPC_FIELDS = (
    Field("id", description="the id of the VPC"),
    Field("name", description="the name of the VPC"),
    Field("displaytext", description="an alternate display text of the VPC."),
    Field("state", description="state of the VPC. Can be Inactive/Enabled"),
    Field("cidr", description="the cidr the VPC"),
    Field("zoneid", description="zone id of the vpc"),
    Field("zonename", description="the name of the zone the VPC belongs to"),
    Field("vpcofferingid", description="vpc offering id the VPC is created from"),
    Field("vpcofferingname", description="vpc offering name the VPC is created from"),
    Field("networkdomain", description="the network domain of the VPC"),
    Field("account", description="the owner of the VPC"),
    Field("domainid", description="the domain id of the VPC owner"),
    Field("domain", description="the domain name of the owner"),
    Field("network", "list", "the list of networks belongign to the VPC"),
    Field("service", "list", "the list of supported services"),
    Field("restartrequired", "boolean", "true VPC requires restart"),
    Field("fordisplay", "boolean", "is vpc for display to the regular user"),
    Field("created", "date", "the date this VPC was created"),
    Field("tags", "list", "the list of resource tags associated with the project"),
)
NETWORK_FIELDS = (
    Field("id", description="the id of the network"),
    Field("name", description="the name of the network"),
    Field("displaytext", description="the displaytext of the network"),
    Field("traffictype", description="the traffic type of the network"),
    Field("type", description="the type of the network"),
    Field("state", description="state of the network"),
    Field(
        "cidr",
        description="Cloudstack managed address space, all CloudStack managed VMs "
        "get IP address from CIDR",
    ),
    Field("gateway", description="the network's gateway"),
    Field("netmask", description="the network's netmask"),
    Field("zoneid", description="zone id of the network"),
    Field("zonename", description="the name of the zone the network belongs to"),
    Field("networkofferingid", description="network offering id the network is created from"),
    Field(
        "networkofferingname",
        description="name of the network offering the network is created from",
    ),
    Field("vpcid", description="VPC the network belongs to"),
    Field("vpcname", description="Name of the VPC to which this network belongs"),
    Field("networkdomain", description="the network domain"),
    Field("account", description="the owner of the network"),
    Field("domainid", description="the domain id of the network owner"),
    Field("domain", description="the domain name of the network owner"),
    Field("acltype", description="acl type - access type to the network"),
    Field("isdefault", "boolean", "true if network is default, false otherwise"),
    Field("service", "list", "the list of services"),
    Field("tags", "list", "the list of resource tags associated with network"),
    Field("created", "date", "the date this network was created"),
)
OWNER_PARAMS = owner_params(
    "the account associated with the resource. Must be used with the domainId parameter.",
    "the domain ID associated with the resource. If used with the account parameter returns "
    "the resource associated with the account for the specified domain.",
    "create the resource for the project",
)


def _services() -> list[dict[str, Any]]:
    """What a VPC (and its one offering) offers, each by the VPC virtual router."""
    return [
        {"name": name, "provider": [{"name": "VpcVirtualRouter"}], "capability": []}
        for name in VPC_SERVICES
    ]


def _tags(session: Session, resource_type: str, row_id: int) -> list[dict[str, Any]]:
    return [tag_view(session, tag) for tag in tags_of(session, resource_type, [row_id])[row_id]]


def network_view(
    session: Session, network: Network, _ctx: CallContext | None = None
) -> dict[str, Any]:
    zone = session.get_one(Zone, network.zone_id)
    offering = session.get_one(NetworkOffering, network.network_offering_id)
    vpc = session.get(Vpc, network.vpc_id) if network.vpc_id else None
    return {
        "id": network.uuid,
        "name": network.name,
        "displaytext": network.display_text,
        "broadcastdomaintype": "Vlan",
        "traffictype": network.traffic_type,
        "gateway": network.gateway,
        "netmask": network.netmask,
        "cidr": network.cidr,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "networkofferingid": offering.uuid,
        "networkofferingname": offering.name,
        "networkofferingdisplaytext": offering.display_text,
        "networkofferingconservemode": offering.conserve_mode,
        "networkofferingavailability": offering.availability,
        "issystem": False,
        "state": network.state,
        "related": network.uuid,
        "dns1": zone.dns1,
        "type": network.guest_type,
        "acltype": "Account",
        **owner_fields(session, network.account_id),
        "service": network_offering_view(offering)["service"],
        "networkdomain": network.network_domain,
        "restartrequired": False,
        "specifyipranges": False,
        "vpcid": vpc.uuid if vpc else None,
        "vpcname": vpc.name if vpc else None,
        "canusefordeploy": True,
        "ispersistent": offering.is_persistent,
        "isdefault": network.is_default,
        "displaynetwork": True,
        "tags": _tags(session, "Network", network.id),
        "created": network.created,
        "hasannotations": False,
    }


def vpc_view(session: Session, vpc: Vpc, ctx: CallContext | None = None) -> dict[str, Any]:
    zone = session.get_one(Zone, vpc.zone_id)
    tiers = nets.tiers_of(session, vpc.id)
    return {
        "id": vpc.uuid,
        "name": vpc.name,
        "displaytext": vpc.display_text,
        "state": vpc.state,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "cidr": vpc.cidr,
        "vpcofferingid": nets.VPC_OFFERING_UUID,
        "vpcofferingname": vpc.vpc_offering,
        "networkdomain": vpc.network_domain,
        **owner_fields(session, vpc.account_id),
        "network": [network_view(session, tier) for tier in tiers],
        "service": _services(),
        "restartrequired": False,
        "regionlevelvpc": False,
        "distributedvpcrouter": False,
        "redundantvpcrouter": False,
        "fordisplay": True,
        "created": vpc.created,
        "tags": _tags(session, "Vpc", vpc.id),
        "hasannotations": False,
    }


def vpc_offering_view() -> dict[str, Any]:
    return {
        "id": nets.VPC_OFFERING_UUID,
        "name": DEFAULT_VPC_OFFERING,
        "displaytext": DEFAULT_VPC_OFFERING,
        "isdefault": True,
        "state": "Enabled",
        "service": _services(),
        "distributedvpcrouter": False,
        "supportsregionLevelvpc": False,
        "fordisplay": True,
        "internetprotocol": "IPv4",
        "hasannotations": False,
    }
