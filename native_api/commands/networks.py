"""VPCs, VPC offerings and guest networks: CloudStack's VPC and network commands.

createVPC is async-create, updateVPC/deleteVPC and updateNetwork/deleteNetwork are async,
createNetwork is synchronous, as in CloudStack. The rows change in the request; the jobs
have nothing left to do (no network element builds routers yet), so they finish at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import infra, offerings
from core import networks as nets
from core.infra import Zone
from core.networks import Network, Vpc
from core.tags import parse_tag_maps
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, started, zone_id_of
from native_api.commands.network_views import (
    NETWORK_FIELDS,
    OWNER_PARAMS,
    VPC_FIELDS,
    VPC_SERVICES,
    network_view,
    vpc_offering_view,
    vpc_view,
)
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult

_VPC_COMMANDS = "org.apache.cloudstack.api.command.user.vpc."
_NETWORK_COMMANDS = "org.apache.cloudstack.api.command.user.network."


VPC_FOR_DISPLAY = Param(
    "fordisplay",
    "boolean",
    description="an optional field, whether to the display the vpc to the end user or not",
)
DISPLAY_NETWORK = Param(
    "displaynetwork",
    "boolean",
    description="an optional field, whether to the display the network to the end user or not.",
)


def _zone(call: Call) -> Zone:
    return infra.zone_by_uuid(call.session, call.get("zoneid"))


def _listed(
    call: Call, lister: Callable[..., Any], view: Callable[..., Any], **wanted: Any
) -> Reply:
    """A list command's page: the core's rows for the caller's scope, zone, tags and `wanted`."""
    rows, total = lister(
        call.session,
        call.ctx,
        call.scope(),
        uuid=call.get("id"),
        zone_id=zone_id_of(call),
        tags=parse_tag_maps(call.get("tags", [])),
        page=call.page(),
        **wanted,
    )
    return Reply(items=[view(call.session, row) for row in rows], total=total)


# ---- VPCs


@command(
    "createVPC",
    kind=Kind.ASYNC_CREATE,
    description="Creates a VPC",
    response_name="vpc",
    params=(
        Param("name", required=True, description="the name of the VPC"),
        Param("displaytext", description="The display text of the VPC, defaults to its 'name'."),
        Param(
            "cidr",
            required=True,
            description="the cidr of the VPC. All VPC guest networks' "
            "cidrs should be within this CIDR",
        ),
        Param("vpcofferingid", "uuid", True, "the ID of the VPC offering"),
        Param("zoneid", "uuid", True, "the ID of the availability zone"),
        Param(
            "networkdomain",
            description="VPC network domain. All networks inside the VPC "
            "will belong to this domain",
        ),
        Param(
            "start",
            "boolean",
            description="If set to false, the VPC won't start (VPC VR "
            "will not get allocated) until its first network gets implemented. True by "
            "default.",
        ),
        VPC_FOR_DISPLAY,
        *OWNER_PARAMS,
    ),
    response_fields=VPC_FIELDS,
    entity="Vpc",
    job_command_class=_VPC_COMMANDS + "CreateVPCCmd",
    differences="There is one VPC offering (no VPC routers are built: `start` has no effect); "
    "a VPC's networks may lie in other zones than the VPC's, as AWS subnets may.",
)
def create_vpc(call: Call) -> Reply:
    nets.vpc_offering_by_uuid(call.get("vpcofferingid"))
    vpc, job = nets.create_vpc(
        call.session,
        call.owner(),
        zone=_zone(call),
        name=call.get("name"),
        cidr=call.get("cidr"),
        display_text=call.get("displaytext"),
        network_domain=call.get("networkdomain"),
    )
    return started(job, vpc)


@command(
    "listVPCs",
    kind=Kind.LIST,
    description="Lists VPCs",
    response_name="vpc",
    params=(
        Param("id", "uuid", description="list VPC by id"),
        Param("name", description="list by name of the VPC"),
        Param("displaytext", description="List by display text of the VPC"),
        Param(
            "cidr",
            description="list by cidr of the VPC. All VPC guest networks' cidrs "
            "should be within this CIDR",
        ),
        Param("zoneid", "uuid", description="list by zone"),
        Param("vpcofferingid", "uuid", description="list by ID of the VPC offering"),
        Param("state", description="list VPCs by state"),
        Param("restartrequired", "boolean", description="list VPCs by restartRequired option"),
        Param("supportedservices", "list", description="list VPC supporting certain services"),
        Param("fordisplay", "boolean", description="list resources by display flag"),
        LIST_TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=VPC_FIELDS,
)
def list_vpcs(call: Call) -> Reply:
    if call.get("vpcofferingid"):
        nets.vpc_offering_by_uuid(call.get("vpcofferingid"))
    if call.get("restartrequired"):
        return Reply()
    return _listed(
        call,
        nets.list_vpcs,
        vpc_view,
        name=call.get("name"),
        cidr=call.get("cidr"),
        state=call.get("state"),
        keyword=call.get("keyword") or call.get("displaytext"),
    )


@command(
    "updateVPC",
    kind=Kind.ASYNC,
    description="Updates a VPC",
    response_name="vpc",
    params=(
        Param("id", "uuid", True, "the id of the VPC"),
        Param("name", description="the name of the VPC"),
        Param("displaytext", description="the display text of the VPC"),
        VPC_FOR_DISPLAY,
    ),
    response_fields=VPC_FIELDS,
    entity="Vpc",
    job_command_class=_VPC_COMMANDS + "UpdateVPCCmd",
)
def update_vpc(call: Call) -> Reply:
    vpc = nets.get_vpc(call.session, call.ctx, uuid=call.get("id"))
    _, job = nets.update_vpc(
        call.session, call.ctx, vpc, name=call.get("name"), display_text=call.get("displaytext")
    )
    return Reply(job_uuid=job.uuid)


@command(
    "deleteVPC",
    kind=Kind.ASYNC,
    description="Deletes a VPC",
    response_name="success",
    params=(Param("id", "uuid", True, "the ID of the VPC"),),
    entity="Vpc",
    job_command_class=_VPC_COMMANDS + "DeleteVPCCmd",
    differences="Refused (536) while the VPC has networks; CloudStack refuses too.",
)
def delete_vpc(call: Call) -> Reply:
    vpc = nets.get_vpc(call.session, call.ctx, uuid=call.get("id"))
    job = nets.delete_vpc(call.session, call.ctx, vpc)
    return Reply(job_uuid=job.uuid)


@command(
    "listVPCOfferings",
    kind=Kind.LIST,
    description="Lists VPC offerings",
    response_name="vpcoffering",
    params=(
        Param("id", "uuid", description="list VPC offerings by id"),
        Param("name", description="list VPC offerings by name"),
        Param("displaytext", description="list VPC offerings by display text"),
        Param(
            "isdefault",
            "boolean",
            description="true if need to list only default VPC offerings. Default value is false",
        ),
        Param("state", description="list VPC offerings by state"),
        Param(
            "supportedservices",
            "list",
            description="list VPC offerings supporting certain services",
        ),
        Param("zoneid", "uuid", description="id of zone VPC offering is associated with"),
        *PAGING,
    ),
    response_fields=(
        Field("id", description="the id of the vpc offering"),
        Field("name", description="the name of the vpc offering"),
        Field("displaytext", description="an alternate display text of the vpc offering."),
        Field("isdefault", "boolean", "true if vpc offering is default, false otherwise"),
        Field("state", description="state of the vpc offering. Can be Disabled/Enabled"),
        Field("service", "list", "the list of supported services"),
    ),
    differences='One offering, "Default VPC offering"; VPC offerings cannot be created.',
)
def list_vpc_offerings(call: Call) -> Reply:
    view = vpc_offering_view()
    wanted = {
        "id": call.get("id"),
        "name": call.get("name"),
        "displaytext": call.get("displaytext"),
        "state": call.get("state"),
    }
    matches = all(value is None or view[key] == value for key, value in wanted.items())
    services = {service.lower() for service in call.get("supportedservices", [])}
    matches = matches and services <= {name.lower() for name in VPC_SERVICES}
    if not matches or not call.keyword_match(view["name"]):
        return Reply()
    return call.paged([view])


# ---- networks


@command(
    "createNetwork",
    kind=Kind.SYNC,
    description="Creates a network",
    response_name="network",
    params=(
        Param("name", required=True, description="the name of the network"),
        Param("displaytext", description="the display text of the network"),
        Param("networkofferingid", "uuid", True, "the network offering ID"),
        Param("zoneid", "uuid", True, "the zone ID for the network"),
        Param(
            "gateway",
            description="the gateway of the network. Required for shared networks "
            "and isolated networks when it belongs to VPC",
        ),
        Param(
            "netmask",
            description="the netmask of the network. Required for shared networks "
            "and isolated networks when it belongs to VPC",
        ),
        Param("vpcid", "uuid", description="the VPC network belongs to"),
        Param("networkdomain", description="network domain"),
        Param(
            "acltype", description="Access control type; supported values are account and domain."
        ),
        DISPLAY_NETWORK,
        *OWNER_PARAMS,
    ),
    response_fields=NETWORK_FIELDS,
    differences="Isolated networks only (Shared and L2 offerings are refused); without "
    "gateway/netmask an isolated network takes the zone's guest CIDR; startip, endip, vlan "
    "and aclid are not supported.",
)
def create_network(call: Call) -> Reply:
    vpc = None
    if call.get("vpcid"):
        vpc = nets.get_vpc(call.session, call.ctx, uuid=call.get("vpcid"))
    network = nets.create_network(
        call.session,
        call.owner(),
        zone=_zone(call),
        offering=offerings.network_offering_by_uuid(call.session, call.get("networkofferingid")),
        name=call.get("name"),
        display_text=call.get("displaytext"),
        gateway=call.get("gateway"),
        netmask=call.get("netmask"),
        vpc=vpc,
        network_domain=call.get("networkdomain"),
    )
    return Reply(obj=network_view(call.session, network))


@command(
    "listNetworks",
    kind=Kind.LIST,
    description="Lists all available networks.",
    response_name="network",
    params=(
        Param("id", "uuid", description="list networks by ID"),
        Param("zoneid", "uuid", description="the zone ID of the network"),
        Param("vpcid", "uuid", description="List networks by VPC"),
        Param(
            "type",
            description="the type of the network. Supported values are: isolated, "
            "l2, shared and all",
        ),
        Param("traffictype", description="type of the traffic"),
        Param("issystem", "boolean", description="true if network is system, false otherwise"),
        Param("forvpc", "boolean", description="the network belongs to VPC"),
        Param(
            "canusefordeploy", "boolean", description="list networks available for VM deployment"
        ),
        Param("networkofferingid", "uuid", description="list networks by network offering ID"),
        LIST_TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=NETWORK_FIELDS,
)
def list_networks(call: Call) -> Reply:
    kind = (call.get("type") or "all").lower()
    traffic = (call.get("traffictype") or "guest").lower()
    if kind not in ("all", "isolated") or traffic != "guest" or call.get("issystem"):
        return Reply()
    if call.get("canusefordeploy") is False:
        return Reply()
    vpc_id = None
    if call.get("vpcid"):
        vpc_id = nets.get_vpc(call.session, call.ctx, uuid=call.get("vpcid")).id
    return _listed(
        call,
        nets.list_networks,
        network_view,
        vpc_id=vpc_id,
        in_vpc=call.get("forvpc"),
        offering_id=(
            offerings.network_offering_by_uuid(call.session, call.get("networkofferingid")).id
            if call.get("networkofferingid")
            else None
        ),
        keyword=call.get("keyword"),
    )


@command(
    "updateNetwork",
    kind=Kind.ASYNC,
    description="Updates a network",
    response_name="network",
    params=(
        Param("id", "uuid", True, "the ID of the network"),
        Param("name", description="the new name for the network"),
        Param("displaytext", description="the new display text for the network"),
        Param("networkdomain", description="network domain"),
        DISPLAY_NETWORK,
    ),
    response_fields=NETWORK_FIELDS,
    entity="Network",
    job_command_class=_NETWORK_COMMANDS + "UpdateNetworkCmd",
    differences="Name, display text and network domain only (no offering or CIDR changes).",
)
def update_network(call: Call) -> Reply:
    network = nets.get_network(call.session, call.ctx, uuid=call.get("id"))
    _, job = nets.update_network(
        call.session,
        call.ctx,
        network,
        name=call.get("name"),
        display_text=call.get("displaytext"),
        network_domain=call.get("networkdomain"),
    )
    return Reply(job_uuid=job.uuid)


@command(
    "deleteNetwork",
    kind=Kind.ASYNC,
    description="Deletes a network",
    response_name="success",
    params=(
        Param("id", "uuid", True, "the ID of the network"),
        Param(
            "forced",
            "boolean",
            description="Force delete a network. Network will be marked "
            "as 'Destroy' even when commands to shutdown and cleanup to the backend fails.",
        ),
    ),
    entity="Network",
    job_command_class=_NETWORK_COMMANDS + "DeleteNetworkCmd",
    differences="Refused (536) while a VM that is not expunged has a NIC in the network.",
)
def delete_network(call: Call) -> Reply:
    network = nets.get_network(call.session, call.ctx, uuid=call.get("id"))
    job = nets.delete_network(call.session, call.ctx, network)
    return Reply(job_uuid=job.uuid)


JOB_RESULTS.update(
    {
        "vpc.create": JobResult("vpc", _VPC_COMMANDS + "CreateVPCCmd", Vpc, vpc_view),
        "vpc.update": JobResult("vpc", _VPC_COMMANDS + "UpdateVPCCmd", Vpc, vpc_view),
        "vpc.delete": JobResult("vpc", _VPC_COMMANDS + "DeleteVPCCmd"),
        "network.update": JobResult(
            "network", _NETWORK_COMMANDS + "UpdateNetworkCmd", Network, network_view
        ),
        "network.delete": JobResult("network", _NETWORK_COMMANDS + "DeleteNetworkCmd"),
    }
)
