"""EC2 availability zones ⇄ core zones.

The installation is one region (its name is a setting); each core zone is an availability zone
of it, named as the zone is, with the zone id `<region>-az<N>` (N the zone's core id, so zone
ids are stable and never reused). A zone is "available" while enabled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import InvalidParameter
from core.infra import ENABLED, Zone, list_zones


def zone_id(region: str, zone: Zone) -> str:
    return f"{region}-az{zone.id}"


def zone_state(zone: Zone) -> str:
    return "available" if zone.allocation_state == ENABLED else "unavailable"


def availability_zone(region: str, zone: Zone) -> dict[str, Any]:
    """DescribeAvailabilityZones' AvailabilityZone for one zone."""
    return {
        "ZoneName": zone.name,
        "ZoneId": zone_id(region, zone),
        "State": zone_state(zone),
        "OptInStatus": "opt-in-not-required",
        "Messages": [],
        "RegionName": region,
        "GroupName": region,
        "NetworkBorderGroup": region,
        "ZoneType": "availability-zone",
    }


def zone_by_name(session: Session, name: str) -> Zone:
    """The zone an availability zone name stands for, or InvalidParameterValue."""
    zones = list_zones(session, name=name)
    if not zones:
        raise InvalidParameter(f"Invalid availability zone: [{name}]", parameter="AvailabilityZone")
    return zones[0]


def zone_by_zone_id(session: Session, region: str, ident: str) -> Zone:
    """The zone an availability zone id (`<region>-az<N>`) stands for, or InvalidParameterValue."""
    for zone in list_zones(session):
        if zone_id(region, zone) == ident:
            return zone
    raise InvalidParameter(
        f"Value ({ident}) for parameter availabilityZoneId is invalid.",
        parameter="AvailabilityZoneId",
    )


def default_zone(session: Session) -> Zone:
    """Where RunInstances launches without a Placement: the first enabled zone."""
    for zone in list_zones(session):
        if zone.allocation_state == ENABLED:
            return zone
    raise InvalidParameter(
        "No availability zone is available in this region", parameter="AvailabilityZone"
    )
