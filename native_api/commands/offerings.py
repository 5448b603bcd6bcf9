"""Service and disk offerings: create, update, delete, list."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from core import infra, offerings
from core.errors import InvalidParameter
from core.identity import Domain
from core.infra import Zone
from core.offerings import DiskOffering, ServiceOffering
from native_api.call import Call
from native_api.commands.common import (
    IS_RECURSIVE,
    LIST_ALL,
    OFFERING_DOMAINS,
    OFFERING_ZONES,
    PROVISIONING_TYPE,
    delete_command,
    domain_id_of,
    zone_id_of,
)
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command

SERVICE_FIELDS = (
    Field("id", description="the id of the service offering"),
    Field("name", description="the name of the service offering"),
    Field("displaytext", description="an alternate display text of the service offering."),
    Field("cpunumber", "integer", "the number of CPU"),
    Field("cpuspeed", "integer", "the clock rate CPU speed in Mhz"),
    Field("memory", "integer", "the memory in MB"),
    Field("iscustomized", "boolean", "is true if the offering is customized"),
    Field("hosttags", description="the host tag for the service offering"),
    Field("tags", description="the tags for the service offering"),
    Field("storagetype", description="is this a the systemvm type for system vm offering"),
    Field("offerha", "boolean", "the ha support in the service offering"),
    Field("limitcpuuse", "boolean", "restrict the CPU usage to committed service offering"),
    Field("domainid", description="the domain ID(s) this disk offering belongs to."),
    Field("zoneid", description="the zone ID(s) this disk offering belongs to."),
    Field("details", "map", "additional key/value details tied with this service offering"),
)
DISK_FIELDS = (
    Field("id", description="unique ID of the disk offering"),
    Field("name", description="the name of the disk offering"),
    Field("displaytext", description="an alternate display text of the disk offering."),
    Field("disksize", "long", "the size of the disk offering in GB"),
    Field("iscustomized", "boolean", "true if disk offering uses custom size"),
    Field("tags", description="the tags for the disk offering"),
    Field("storagetype", description="the storage type for this disk offering"),
)


def _place(session: Session, offering: Any) -> dict[str, Any]:
    domain = session.get(Domain, offering.domain_id) if offering.domain_id else None
    zone = session.get(Zone, offering.zone_id) if offering.zone_id else None
    return {
        "domainid": domain.uuid if domain else None,
        "domain": domain.name if domain else None,
        "zoneid": zone.uuid if zone else None,
        "zone": zone.name if zone else None,
    }


def service_offering_view(session: Session, offering: ServiceOffering) -> dict[str, Any]:
    details = {
        key: str(value)
        for key, value in (
            ("mincpunumber", offering.min_cpu_number),
            ("maxcpunumber", offering.max_cpu_number),
            ("minmemory", offering.min_memory_mb),
            ("maxmemory", offering.max_memory_mb),
        )
        if value is not None
    }
    return {
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "cpunumber": offering.cpu_number,
        "cpuspeed": offering.cpu_speed_mhz,
        "memory": offering.memory_mb,
        "created": offering.created,
        "storagetype": offering.storage_type,
        "provisioningtype": "thin",
        "offerha": offering.offer_ha,
        "limitcpuuse": offering.limit_cpu_use,
        "isvolatile": False,
        "tags": offering.storage_tags or None,
        "hosttags": offering.host_tag or None,
        **_place(session, offering),
        "issystem": offering.is_system,
        "defaultuse": False,
        "iscustomized": offering.is_customized,
        "iscustomizediops": False,
        "cacheMode": "none",
        "dynamicscalingenabled": True,
        "diskofferingstrictness": False,
        "details": details or None,
        "state": offering.state,
        "hasannotations": False,
    }


def disk_offering_view(session: Session, offering: DiskOffering) -> dict[str, Any]:
    details = {
        key: str(value)
        for key, value in (("minsize", offering.min_size_gb), ("maxsize", offering.max_size_gb))
        if value is not None
    }
    return {
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "disksize": offering.disk_size_gb,
        "created": offering.created,
        "iscustomized": offering.is_customized,
        "iscustomizediops": False,
        "storagetype": offering.storage_type,
        "provisioningtype": "thin",
        "displayoffering": True,
        "cacheMode": "none",
        "tags": offering.tags or None,
        **_place(session, offering),
        "disksizestrictness": False,
        "encrypt": False,
        "details": details or None,
        "state": offering.state,
        "hasannotations": False,
    }


_ZONES = replace(OFFERING_ZONES, since="4.13")
_LIST_ZONE = Param(
    "zoneid", "uuid", description="id of zone disk offering is associated with", since="4.13"
)


def _state_filter(noun: str) -> Param:
    return Param(
        "state",
        description=f"Filter by state of the {noun}. Defaults to 'Active'. If set to 'all' "
        "shows both Active & Inactive offerings.",
        since="4.19",
    )


def _rows(call: Call, by_uuid: Any, list_rows: Any, **filters: Any) -> list[Any]:
    """listServiceOfferings / listDiskOfferings: the filters both take, then `filters`."""
    offering_id = by_uuid(call.session, call.get("id")).id if call.get("id") else None
    state = (call.get("state") or "").lower()
    rows = list_rows(
        call.session,
        offering_id=offering_id,
        name=call.get("name"),
        ctx=call.ctx,
        keyword=call.get("keyword"),
        domain_id=domain_id_of(call),
        zone_id=zone_id_of(call),
        active_only=state in ("", "active"),
        **filters,
    )
    if state == "inactive":
        rows = [o for o in rows if o.state == offerings.INACTIVE]
    return list(rows)


def _first_uuid(call: Call, name: str, kind: str) -> int | None:
    """CloudStack takes lists of domains and zones; cloudgate keeps one of each."""
    values = call.get(name) or []
    if len(values) > 1:
        raise InvalidParameter(f"Only one {kind} may be given", parameter=name)
    if not values:
        return None
    if kind == "zone":
        return infra.zone_by_uuid(call.session, values[0]).id
    from core.db import get_live

    return get_live(call.session, Domain, "domain", uuid=values[0]).id


def _new_offering(call: Call) -> dict[str, Any]:
    """The arguments createServiceOffering and createDiskOffering share."""
    return {
        "name": call.get("name"),
        "display_text": call.get("displaytext"),
        "customized": call.get("customized"),
        "storage_type": call.get("storagetype"),
        "domain_id": _first_uuid(call, "domainid", "domain"),
        "zone_id": _first_uuid(call, "zoneid", "zone"),
    }


def _offering_change(call: Call) -> dict[str, Any]:
    """The changes updateServiceOffering and updateDiskOffering share."""
    return {
        "name": call.get("name"),
        "display_text": call.get("displaytext"),
        "state": call.get("state"),
    }


def _details(call: Call) -> dict[str, str]:
    merged: dict[str, str] = {}
    for entry in call.get("details", []):
        if "key" in entry and "value" in entry:
            merged[entry["key"].lower()] = entry["value"]
        else:
            merged.update({k.lower(): v for k, v in entry.items()})
    return merged


def _int(details: dict[str, str], key: str) -> int | None:
    if key not in details:
        return None
    try:
        return int(details[key])
    except ValueError:
        raise InvalidParameter(f"Invalid {key}: {details[key]}", parameter="details") from None


# service offerings --------------------------------------------------------------------------


@command(
    "createServiceOffering",
    kind=Kind.SYNC,
    description="Creates a service offering.",
    response_name="serviceoffering",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="the name of the service offering"),
        Param(
            "displaytext",
            description="The display text of the service offering, defaults to 'name'.",
            length=4096,
        ),
        Param("cpunumber", "integer", description="the CPU number of the service offering"),
        Param("cpuspeed", "integer", description="the CPU speed of the service offering in MHz."),
        Param("memory", "integer", description="the total memory of the service offering in MB"),
        Param(
            "customized",
            "boolean",
            description="Whether service offering size is custom or not",
            since="4.13",
        ),
        Param(
            "mincpunumber",
            "integer",
            description="The minimum number of CPUs to be set with Custom Computer Offering",
            since="4.13",
        ),
        Param(
            "maxcpunumber",
            "integer",
            description="The maximum number of CPUs to be set with Custom Computer Offering",
            since="4.13",
        ),
        Param(
            "minmemory",
            "integer",
            description="The minimum memory size of the custom service offering in MB",
            since="4.13",
        ),
        Param(
            "maxmemory",
            "integer",
            description="The maximum memory size of the custom service offering in MB",
            since="4.13",
        ),
        Param("hosttags", description="the host tag for this service offering."),
        Param("tags", description="the tags for this service offering.", length=4096),
        Param(
            "storagetype",
            description="the storage type of the service offering. Values are local and shared.",
        ),
        Param("offerha", "boolean", description="the HA for the service offering"),
        Param(
            "limitcpuuse",
            "boolean",
            description="restrict the CPU usage to committed service offering",
        ),
        OFFERING_DOMAINS,
        _ZONES,
        Param("issystem", "boolean", description="is this a system vm offering"),
        PROVISIONING_TYPE,
        Param(
            "details", "map", description="details for planner, used to store specific parameters"
        ),
    ),
    response_fields=SERVICE_FIELDS,
    differences="One domain and one zone at most; system offerings (issystem) are refused.",
)
def create_service_offering(call: Call) -> Reply:
    if call.get("issystem"):
        raise InvalidParameter("System offerings are not supported", parameter="issystem")
    offering = offerings.add_service_offering(
        call.session,
        call.ctx,
        cpu_number=call.get("cpunumber"),
        cpu_speed_mhz=call.get("cpuspeed"),
        memory_mb=call.get("memory"),
        min_cpu_number=call.get("mincpunumber"),
        max_cpu_number=call.get("maxcpunumber"),
        min_memory_mb=call.get("minmemory"),
        max_memory_mb=call.get("maxmemory"),
        host_tags=call.get("hosttags"),
        storage_tags=call.get("tags"),
        offer_ha=bool(call.get("offerha")),
        limit_cpu_use=bool(call.get("limitcpuuse")),
        **_new_offering(call),
    )
    return Reply(obj=service_offering_view(call.session, offering))


@command(
    "updateServiceOffering",
    kind=Kind.SYNC,
    description="Updates a service offering.",
    response_name="serviceoffering",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "the ID of the service offering to be updated"),
        Param("name", description="the name of the service offering to be updated"),
        Param("displaytext", description="the display text of the service offering to be updated"),
        Param(
            "hosttags",
            description="comma-separated list of host tags for the service "
            "offering, tags should match with existing storage pool tags",
            since="4.16",
        ),
        Param(
            "storagetags",
            description="comma-separated list of tags for the service offering, "
            "tags should match with existing storage pool tags",
            since="4.16",
        ),
        Param("state", description="state of the service offering", since="4.19"),
    ),
    response_fields=SERVICE_FIELDS,
)
def update_service_offering(call: Call) -> Reply:
    offering = offerings.service_offering_by_uuid(call.session, call.get("id"))
    offerings.update_offering(
        call.session,
        call.ctx,
        offering,
        host_tag=call.get("hosttags"),
        storage_tags=call.get("storagetags"),
        **_offering_change(call),
    )
    return Reply(obj=service_offering_view(call.session, offering))


@delete_command(
    "deleteServiceOffering", "Deletes a service offering.", "the ID of the service offering"
)
def delete_service_offering(call: Call) -> Reply:
    offering = offerings.service_offering_by_uuid(call.session, call.get("id"))
    offerings.delete_offering(call.session, call.ctx, offering)
    return Reply(success=True)


@command(
    "listServiceOfferings",
    kind=Kind.LIST,
    description="Lists all available service offerings.",
    response_name="serviceoffering",
    params=(
        Param("id", "uuid", description="ID of the service offering"),
        Param("name", description="name of the service offering"),
        Param(
            "domainid",
            "uuid",
            description="the ID of the domain associated with the service offering",
        ),
        IS_RECURSIVE,
        Param("issystem", "boolean", description="is this a system vm offering"),
        Param(
            "systemvmtype",
            description="the system VM type. Possible types are "
            '"consoleproxy", "secondarystoragevm" or "domainrouter".',
        ),
        Param(
            "virtualmachineid",
            "uuid",
            description="the ID of the virtual machine. Pass this "
            "in if you want to see the available service offering that a virtual machine can "
            "be changed to.",
        ),
        _LIST_ZONE,
        Param(
            "cpunumber",
            "integer",
            description="the CPU number that listed offerings must support",
            since="4.15",
        ),
        Param(
            "memory",
            "integer",
            description="the RAM memory that listed offering must support",
            since="4.15",
        ),
        Param(
            "cpuspeed",
            "integer",
            description="the CPU speed that listed offerings must support",
            since="4.15",
        ),
        _state_filter("service offering"),
        LIST_ALL,
        *PAGING,
    ),
    response_fields=SERVICE_FIELDS,
)
def list_service_offerings(call: Call) -> Reply:
    session = call.session
    rows = _rows(
        call,
        offerings.service_offering_by_uuid,
        offerings.list_service_offerings,
        is_system=call.get("issystem"),
    )
    if call.get("virtualmachineid"):
        from core.vms.service import get_vm

        vm = get_vm(session, call.ctx, uuid=call.get("virtualmachineid"))
        rows = offerings.offerings_for_vm(session, call.ctx, vm, rows)
    rows = [o for o in rows if _fits(o, call)]
    return call.paged([service_offering_view(session, o) for o in rows])


def _fits(offering: ServiceOffering, call: Call) -> bool:
    """cpunumber / memory / cpuspeed filters: fixed offerings equal or above, custom ranges
    containing the value (CloudStack's semantics since 4.15)."""
    for param, fixed, low, high in (
        ("cpunumber", offering.cpu_number, offering.min_cpu_number, offering.max_cpu_number),
        ("memory", offering.memory_mb, offering.min_memory_mb, offering.max_memory_mb),
        ("cpuspeed", offering.cpu_speed_mhz, None, None),
    ):
        wanted = call.get(param)
        if wanted is None:
            continue
        if fixed is not None and fixed < wanted:
            return False
        if fixed is None and ((low and wanted < low) or (high and wanted > high)):
            return False
    return True


# disk offerings -----------------------------------------------------------------------------


@command(
    "createDiskOffering",
    kind=Kind.SYNC,
    description="Creates a disk offering.",
    response_name="diskoffering",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="name of the disk offering"),
        Param(
            "displaytext",
            required=True,
            description="alternate display text of the disk offering",
            length=4096,
        ),
        Param(
            "disksize",
            "long",
            description="size of the disk offering in GB (1GB = 1,073,741,824 bytes)",
        ),
        Param("customized", "boolean", description="whether disk offering size is custom or not"),
        Param("tags", description="tags for the disk offering", length=4096),
        Param(
            "storagetype",
            description="the storage type of the disk offering. Values are local and shared.",
        ),
        OFFERING_DOMAINS,
        _ZONES,
        PROVISIONING_TYPE,
        Param(
            "displayoffering",
            "boolean",
            description="an optional field, whether to display "
            "the offering to the end user or not.",
        ),
        Param(
            "disksizestrictness",
            "boolean",
            description="To allow or disallow the resize "
            "operation on the disks created from this disk offering",
            since="4.16",
        ),
        Param(
            "details",
            "map",
            description="details to specify disk offering parameters (minsize, "
            "maxsize in GB bound a custom size)",
            since="4.16",
        ),
    ),
    response_fields=DISK_FIELDS,
    differences="A custom size's bounds are per offering (details minsize / maxsize in GB) "
    "rather than only the global custom.diskoffering.size.min/max settings.",
)
def create_disk_offering(call: Call) -> Reply:
    details = _details(call)
    offering = offerings.add_disk_offering(
        call.session,
        call.ctx,
        disk_size_gb=call.get("disksize"),
        min_size_gb=_int(details, "minsize"),
        max_size_gb=_int(details, "maxsize"),
        tags=call.get("tags"),
        **_new_offering(call),
    )
    return Reply(obj=disk_offering_view(call.session, offering))


@command(
    "updateDiskOffering",
    kind=Kind.SYNC,
    description="Updates a disk offering.",
    response_name="diskoffering",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "ID of the disk offering"),
        Param("name", description="updates name of the disk offering with this value"),
        Param(
            "displaytext",
            description="updates alternate display text of the disk offering with this value",
            length=4096,
        ),
        Param(
            "tags",
            description="comma-separated list of tags for the disk offering, tags "
            "should match with existing storage pool tags",
            since="4.15",
            length=4096,
        ),
        Param("state", description="state of the disk offering", since="4.19"),
    ),
    response_fields=DISK_FIELDS,
)
def update_disk_offering(call: Call) -> Reply:
    offering = offerings.disk_offering_by_uuid(call.session, call.get("id"))
    offerings.update_offering(
        call.session,
        call.ctx,
        offering,
        tags=call.get("tags"),
        **_offering_change(call),
    )
    return Reply(obj=disk_offering_view(call.session, offering))


@delete_command("deleteDiskOffering", "Updates a disk offering.", "ID of the disk offering")
def delete_disk_offering(call: Call) -> Reply:
    offering = offerings.disk_offering_by_uuid(call.session, call.get("id"))
    offerings.delete_offering(call.session, call.ctx, offering)
    return Reply(success=True)


@command(
    "listDiskOfferings",
    kind=Kind.LIST,
    description="Lists all available disk offerings.",
    response_name="diskoffering",
    params=(
        Param("id", "uuid", description="ID of the disk offering"),
        Param("name", description="name of the disk offering"),
        Param("domainid", "uuid", description="the ID of the domain of the disk offering."),
        IS_RECURSIVE,
        _LIST_ZONE,
        _state_filter("disk offering"),
        LIST_ALL,
        *PAGING,
    ),
    response_fields=DISK_FIELDS,
)
def list_disk_offerings(call: Call) -> Reply:
    rows = _rows(call, offerings.disk_offering_by_uuid, offerings.list_disk_offerings)
    return call.paged([disk_offering_view(call.session, o) for o in rows])
