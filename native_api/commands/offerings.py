"""Service and disk offerings."""

from __future__ import annotations

from core import offerings
from native_api.call import Call
from native_api.registry import PAGING, Field, Kind, Param, Reply, command
from native_api.views import disk_offering_view, service_offering_view


@command(
    "listServiceOfferings",
    kind=Kind.LIST,
    description="Lists all available service offerings.",
    response_name="serviceoffering",
    params=(
        Param("id", "uuid", description="ID of the service offering"),
        Param("name", description="name of the service offering"),
        Param("zoneid", "uuid", description="id of zone disk offering is associated with"),
        Param("virtualmachineid", "uuid", description="offerings a VM can change to"),
        *PAGING,
    ),
    response_fields=(
        Field("id", description="the id of the service offering"),
        Field("name", description="the name of the service offering"),
        Field("cpunumber", "integer", "the number of CPU"),
        Field("cpuspeed", "integer", "the clock rate CPU speed in Mhz"),
        Field("memory", "integer", "the memory in MB"),
    ),
)
def list_service_offerings(call: Call) -> Reply:
    offering_id = (
        offerings.service_offering_by_uuid(call.session, call.get("id")).id
        if call.get("id")
        else None
    )
    rows = offerings.list_service_offerings(
        call.session, offering_id=offering_id, name=call.get("name")
    )
    return call.paged([service_offering_view(o) for o in rows if call.keyword_match(o.name)])


@command(
    "listDiskOfferings",
    kind=Kind.LIST,
    description="Lists all available disk offerings.",
    response_name="diskoffering",
    params=(
        Param("id", "uuid", description="ID of the disk offering"),
        Param("name", description="name of the disk offering"),
        Param("zoneid", "uuid", description="id of zone disk offering is associated with"),
        *PAGING,
    ),
    response_fields=(
        Field("id", description="unique ID of the disk offering"),
        Field("name", description="the name of the disk offering"),
        Field("disksize", "long", "the size of the disk offering in GB"),
        Field("iscustomized", "boolean", "true if disk offering uses custom size"),
    ),
)
def list_disk_offerings(call: Call) -> Reply:
    offering_id = (
        offerings.disk_offering_by_uuid(call.session, call.get("id")).id if call.get("id") else None
    )
    rows = offerings.list_disk_offerings(
        call.session, offering_id=offering_id, name=call.get("name")
    )
    return call.paged([disk_offering_view(o) for o in rows if call.keyword_match(o.name)])
