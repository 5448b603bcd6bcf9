"""Zones (and, for admins, the infrastructure under them)."""

from __future__ import annotations

from core import infra
from native_api.call import Call
from native_api.registry import PAGING, Field, Kind, Param, Reply, command
from native_api.views import zone_view


@command(
    "listZones",
    kind=Kind.LIST,
    description="Lists zones",
    response_name="zone",
    params=(
        Param("id", "uuid", description="the ID of the zone"),
        Param("name", description="the name of the zone"),
        Param("available", "boolean", description="true to list zones the caller may deploy in"),
        Param("showcapacities", "boolean", description="flag to display the capacity of the zones"),
        *PAGING,
    ),
    response_fields=(
        Field("id", description="Zone id"),
        Field("name", description="Zone name"),
        Field("networktype", description="the network type of the zone; can be Basic or Advanced"),
        Field("allocationstate", description="the allocation state of the cluster"),
    ),
)
def list_zones(call: Call) -> Reply:
    zone_id = infra.zone_by_uuid(call.session, call.get("id")).id if call.get("id") else None
    zones = infra.list_zones(call.session, zone_id=zone_id, name=call.get("name"))
    return call.paged([zone_view(z, call.ctx) for z in zones if call.keyword_match(z.name)])
