"""DescribeRegions and DescribeAvailabilityZones: the one region and its zones."""

from __future__ import annotations

from typing import Any

from core.infra import list_zones
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import invalid_value
from translators import zones
from translators.filters import FilterSet, parse_filters

REGION_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "region-name": lambda r: r["RegionName"],
        "endpoint": lambda r: r["Endpoint"],
        "opt-in-status": lambda r: r["OptInStatus"],
    }
)

ZONE_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "zone-name": lambda z: z["ZoneName"],
        "zone-id": lambda z: z["ZoneId"],
        "state": lambda z: z["State"],
        "region-name": lambda z: z["RegionName"],
        "group-name": lambda z: z["GroupName"],
        "zone-type": lambda z: z["ZoneType"],
        "opt-in-status": lambda z: z["OptInStatus"],
        "network-border-group": lambda z: z["NetworkBorderGroup"],
        "message": lambda z: [m["Message"] for m in z["Messages"]],
    }
)


def describe_regions(call: Call) -> dict[str, Any]:
    region = {
        "RegionName": call.region,
        "Endpoint": call.endpoint,
        "OptInStatus": "opt-in-not-required",
    }
    for name in call.get("RegionNames", []):
        if name != call.region:
            raise invalid_value(f"Invalid region: {name}")
    return {"Regions": REGION_FILTERS.select([region], parse_filters(call.get("Filters")))}


def describe_availability_zones(call: Call) -> dict[str, Any]:
    # Every caller sees every zone, as listZones shows them; a disabled one is "unavailable".
    views = [zones.availability_zone(call.region, zone) for zone in list_zones(call.session)]
    for key, field_name in (("ZoneNames", "ZoneName"), ("ZoneIds", "ZoneId")):
        wanted = call.get(key)
        if wanted:
            known = {view[field_name] for view in views}
            unknown = [name for name in wanted if name not in known]
            if unknown:
                raise invalid_value(f"Invalid availability zone: [{', '.join(unknown)}]")
            views = [view for view in views if view[field_name] in wanted]
    filtered = ZONE_FILTERS.select(views, parse_filters(call.get("Filters")))
    return {"AvailabilityZones": filtered}


ACTIONS = (
    Action("DescribeRegions", describe_regions, notes="one region, the configured `--region`"),
    Action(
        "DescribeAvailabilityZones",
        describe_availability_zones,
        notes="zones are availability zones; `available` while the zone is enabled",
    ),
)
