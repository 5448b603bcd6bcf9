"""Availability zones: named as core zones, ids from the zone row, state from its allocation."""

from __future__ import annotations

from core.infra import Zone
from translators.zones import availability_zone


def test_zone_state_follows_its_allocation_state() -> None:
    enabled = availability_zone("cloudgate", Zone(id=3, name="east", allocation_state="Enabled"))
    assert (enabled["ZoneName"], enabled["ZoneId"], enabled["State"]) == (
        "east", "cloudgate-az3", "available",
    )  # fmt: skip
    disabled = availability_zone("cloudgate", Zone(id=4, name="west", allocation_state="Disabled"))
    assert disabled["State"] == "unavailable"
    assert disabled["RegionName"] == disabled["GroupName"] == "cloudgate"
