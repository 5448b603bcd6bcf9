"""Network offerings: what guest networks (core.networks) are created from."""

from __future__ import annotations

from typing import Any

from core import offerings
from core.offerings import NetworkOffering
from native_api.call import Call
from native_api.commands.common import OFFERING_DOMAINS, OFFERING_ZONES, delete_command
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command

FIELDS = (
    Field("id", description="the id of the network offering"),
    Field("name", description="the name of the network offering"),
    Field("displaytext", description="an alternate display text of the network offering."),
    Field(
        "traffictype",
        description="the traffic type for the network offering, supported "
        "types are Public, Management, Control, Guest, Vlan or Storage.",
    ),
    Field(
        "guestiptype", description="guest type of the network offering, can be Shared or Isolated"
    ),
    Field("isdefault", "boolean", "true if network offering is default, false otherwise"),
    Field("specifyvlan", "boolean", "true if network offering supports vlans, false otherwise"),
    Field("availability", description="availability of the network offering"),
    Field("state", description="state of the network offering. Can be Disabled/Enabled/Inactive"),
    Field("service", "list", "the list of supported services"),
    Field("forvpc", "boolean", "true if network offering can be used by VPC networks only"),
)


def network_offering_view(offering: NetworkOffering) -> dict[str, Any]:
    services = [
        {
            "name": service,
            "provider": [{"name": provider} for provider in providers],
            "capability": [],
        }
        for service, providers in offering.service_map().items()
    ]
    return {
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "tags": offering.tags or None,
        "traffictype": offering.traffic_type,
        "isdefault": offering.is_default,
        "specifyvlan": offering.specify_vlan,
        "conservemode": offering.conserve_mode,
        "specifyipranges": offering.specify_ip_ranges,
        "availability": offering.availability,
        "networkrate": offering.network_rate,
        "state": "Enabled" if offering.state == offerings.ACTIVE else "Disabled",
        "guestiptype": offering.guest_ip_type,
        "service": services,
        "forvpc": offering.for_vpc,
        "fornsx": False,
        "ispersistent": offering.is_persistent,
        "egressdefaultpolicy": offering.egress_default_policy,
        "supportspublicaccess": False,
        "supportsstrechedl2subnet": False,
        "internetprotocol": "IPv4",
        "created": offering.created,
        "hasannotations": False,
    }


_TAGS = Param("tags", description="the tags for the network offering.", length=4096)


def _providers(call: Call) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for entry in call.get("serviceproviderlist", []):
        service, provider = entry.get("service"), entry.get("provider")
        if service and provider:
            chosen[service.lower()] = provider
    return chosen


@command(
    "createNetworkOffering",
    kind=Kind.SYNC,
    description="Creates a network offering.",
    response_name="networkoffering",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="the name of the network offering"),
        Param(
            "displaytext",
            description="the display text of the network offering, defaults to "
            "the value of 'name'.",
        ),
        Param(
            "traffictype",
            required=True,
            description="the traffic type for the network "
            "offering. Supported type in current release is GUEST only",
        ),
        Param(
            "guestiptype",
            required=True,
            description="guest type of the network offering: Shared or Isolated",
        ),
        Param(
            "supportedservices", "list", description="services supported by the network offering"
        ),
        Param(
            "serviceproviderlist",
            "map",
            description="provider to service mapping. If not "
            "specified, the provider for the service will be mapped to the default provider on "
            "the physical network",
        ),
        Param("specifyvlan", "boolean", description="true if network offering supports vlans"),
        Param(
            "specifyipranges",
            "boolean",
            description="true if network offering supports "
            "specifying ip ranges; defaulted to false if not specified",
        ),
        Param(
            "conservemode",
            "boolean",
            description="true if the network offering is IP conserve mode enabled",
        ),
        Param(
            "availability",
            description="the availability of network offering. The default "
            "value is Optional.  Another value is Required, which will make it as the default "
            "network offering for new networks",
        ),
        Param(
            "networkrate",
            "integer",
            description="data transfer rate in megabits per second allowed",
        ),
        _TAGS,
        Param(
            "ispersistent",
            "boolean",
            description="true if network offering supports "
            "persistent networks; defaulted to false if not specified",
        ),
        Param(
            "egressdefaultpolicy",
            "boolean",
            description="true if guest network default "
            "egress policy is allow; false if default egress policy is deny",
        ),
        Param(
            "forvpc",
            "boolean",
            description="true if network offering is meant to be used for VPC, false otherwise.",
        ),
        Param(
            "enable",
            "boolean",
            description="set to true if the offering is to be enabled "
            "during creation. Default is false",
            since="4.16",
        ),
        OFFERING_DOMAINS,
        OFFERING_ZONES,
    ),
    response_fields=FIELDS,
    differences="domainid/zoneid are not kept.",
)
def create_network_offering(call: Call) -> Reply:
    offering = offerings.add_network_offering(
        call.session,
        call.ctx,
        name=call.get("name"),
        display_text=call.get("displaytext"),
        guest_ip_type=call.get("guestiptype"),
        traffic_type=call.get("traffictype"),
        services=call.get("supportedservices", []),
        providers=_providers(call),
        specify_vlan=bool(call.get("specifyvlan")),
        specify_ip_ranges=bool(call.get("specifyipranges")),
        conserve_mode=call.get("conservemode", True),
        egress_default_policy=call.get("egressdefaultpolicy", True),
        is_persistent=bool(call.get("ispersistent")),
        for_vpc=bool(call.get("forvpc")),
        availability=call.get("availability") or "Optional",
        network_rate=call.get("networkrate"),
        tags=call.get("tags"),
    )
    if call.get("enable"):
        offerings.update_network_offering(call.session, call.ctx, offering, state="Enabled")
    return Reply(obj=network_offering_view(offering))


@command(
    "updateNetworkOffering",
    kind=Kind.SYNC,
    description="Updates a network offering.",
    response_name="networkoffering",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="the id of the network offering"),
        Param("name", description="the name of the network offering"),
        Param("displaytext", description="the display text of the network offering"),
        Param(
            "availability",
            description="the availability of network offering. The default "
            "value is Optional. Another value is Required, which will make it as the default "
            "network offering for new networks",
        ),
        Param("state", description="update state for the network offering"),
        _TAGS,
    ),
    response_fields=FIELDS,
)
def update_network_offering(call: Call) -> Reply:
    from core.errors import InvalidParameter

    if not call.get("id"):
        raise InvalidParameter("id is required", parameter="id")
    offering = offerings.network_offering_by_uuid(call.session, call.get("id"))
    offerings.update_network_offering(
        call.session,
        call.ctx,
        offering,
        name=call.get("name"),
        display_text=call.get("displaytext"),
        availability=call.get("availability"),
        state=call.get("state"),
        tags=call.get("tags"),
    )
    return Reply(obj=network_offering_view(offering))


@delete_command(
    "deleteNetworkOffering", "Deletes a network offering.", "the ID of the network offering"
)
def delete_network_offering(call: Call) -> Reply:
    offering = offerings.network_offering_by_uuid(call.session, call.get("id"))
    offerings.delete_network_offering(call.session, call.ctx, offering)
    return Reply(success=True)


@command(
    "listNetworkOfferings",
    kind=Kind.LIST,
    description="Lists all available network offerings.",
    response_name="networkoffering",
    params=(
        Param("id", "uuid", description="list network offerings by ID"),
        Param("name", description="list network offerings by name"),
        Param(
            "guestiptype", description="list network offerings by guest type: shared or isolated"
        ),
        Param("traffictype", description="list by traffic type"),
        Param(
            "isdefault",
            "boolean",
            description="true if need to list only default network "
            "offerings. Default value is false",
        ),
        Param("state", description="list network offerings by state"),
        Param(
            "forvpc",
            "boolean",
            description="the network offering can be used only for network creation inside the VPC",
        ),
        Param("specifyvlan", "boolean", description="the tags for the network offering."),
        Param(
            "availability",
            description="the availability of network offering. Default value is required",
        ),
        Param(
            "supportedservices",
            "list",
            description="list network offerings supporting certain services",
        ),
        Param(
            "zoneid",
            "uuid",
            description="list network offerings available for network creation in specific zone",
        ),
        *PAGING,
    ),
    response_fields=FIELDS,
)
def list_network_offerings(call: Call) -> Reply:
    offering_id = (
        offerings.network_offering_by_uuid(call.session, call.get("id")).id
        if call.get("id")
        else None
    )
    rows = offerings.list_network_offerings(
        call.session,
        offering_id=offering_id,
        name=call.get("name"),
        keyword=call.get("keyword"),
        guest_ip_type=call.get("guestiptype"),
        state=call.get("state"),
        is_default=call.get("isdefault"),
        for_vpc=call.get("forvpc"),
        ctx=call.ctx,
    )
    wanted = {s.lower() for s in call.get("supportedservices", [])}
    if wanted:
        rows = [o for o in rows if wanted <= {s.lower() for s in o.service_map()}]
    if call.get("specifyvlan") is not None:
        rows = [o for o in rows if o.specify_vlan is call.get("specifyvlan")]
    if call.get("availability"):
        rows = [o for o in rows if o.availability.lower() == call.get("availability").lower()]
    if call.get("traffictype"):
        rows = [o for o in rows if o.traffic_type.lower() == call.get("traffictype").lower()]
    return call.paged([network_offering_view(o) for o in rows])
