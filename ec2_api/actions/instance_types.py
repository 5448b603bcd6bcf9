"""DescribeInstanceTypes and DescribeInstanceTypeOfferings: the operator's instance type
names (translators.instance_types), each with the size of the service offering behind it, and
where each can be launched (an offering restricted to a zone is offered in that zone only)."""

from __future__ import annotations

from typing import Any

from core.infra import list_zones
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value
from ec2_api.paging import page
from translators import zones
from translators.filters import FilterSet, parse_filters
from translators.instance_types import instance_type_info, load_catalogue

TYPE_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "instance-type": lambda t: t["InstanceType"],
        "current-generation": lambda t: t["CurrentGeneration"],
        "free-tier-eligible": lambda t: t["FreeTierEligible"],
        "bare-metal": lambda t: t["BareMetal"],
        "hypervisor": lambda t: t["Hypervisor"],
        "supported-usage-class": lambda t: t["SupportedUsageClasses"],
        "supported-root-device-type": lambda t: t["SupportedRootDeviceTypes"],
        "supported-virtualization-type": lambda t: t["SupportedVirtualizationTypes"],
        "processor-info.supported-architecture": lambda t: t["ProcessorInfo"][
            "SupportedArchitectures"
        ],
        "processor-info.sustained-clock-speed-in-ghz": lambda t: str(
            t["ProcessorInfo"]["SustainedClockSpeedInGhz"]
        ),
        "vcpu-info.default-vcpus": lambda t: t["VCpuInfo"]["DefaultVCpus"],
        "vcpu-info.default-cores": lambda t: t["VCpuInfo"]["DefaultCores"],
        "vcpu-info.default-threads-per-core": lambda t: t["VCpuInfo"]["DefaultThreadsPerCore"],
        "memory-info.size-in-mib": lambda t: t["MemoryInfo"]["SizeInMiB"],
        "instance-storage-supported": lambda t: t["InstanceStorageSupported"],
        "hibernation-supported": lambda t: t["HibernationSupported"],
        "burstable-performance-supported": lambda t: t["BurstablePerformanceSupported"],
        "dedicated-hosts-supported": lambda t: t["DedicatedHostsSupported"],
        "auto-recovery-supported": lambda t: t["AutoRecoverySupported"],
        "network-info.ipv6-supported": lambda t: t["NetworkInfo"]["Ipv6Supported"],
    }
)


def describe_instance_types(call: Call) -> dict[str, Any]:
    catalogue = load_catalogue(call.session)
    names = catalogue.names()
    wanted = call.get("InstanceTypes")
    if wanted:
        unknown = [name for name in wanted if name not in catalogue.offerings]
        if unknown:
            raise Ec2Error(
                "InvalidInstanceType",
                f"The following supplied instance types do not exist: [{', '.join(unknown)}]",
            )
        names = list(dict.fromkeys(wanted))
    views = [instance_type_info(name, catalogue.offering_for(name)) for name in names]
    views = TYPE_FILTERS.select(views, parse_filters(call.get("Filters")))
    # AWS pages instance types 5..100 at a time.
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"), maximum=100)
    result: dict[str, Any] = {"InstanceTypes": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


OFFERING_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "instance-type": lambda o: o["InstanceType"],
        "location": lambda o: o["Location"],
    }
)
LOCATION_TYPES = ("region", "availability-zone", "availability-zone-id")


def describe_instance_type_offerings(call: Call) -> dict[str, Any]:
    location_type = call.get("LocationType") or "region"
    if location_type not in LOCATION_TYPES:
        raise invalid_value(f"Invalid value '{location_type}' for LocationType")
    catalogue = load_catalogue(call.session)
    all_zones = list_zones(call.session)
    views = []
    for name in catalogue.names():
        offering = catalogue.offerings[name]
        if location_type == "region":
            views.append({"InstanceType": name, "LocationType": "region", "Location": call.region})
            continue
        for zone in all_zones:
            if offering.zone_id not in (None, zone.id):
                continue
            location = (
                zone.name if location_type == "availability-zone"
                else zones.zone_id(call.region, zone)
            )  # fmt: skip
            views.append(
                {"InstanceType": name, "LocationType": location_type, "Location": location}
            )
    views = OFFERING_FILTERS.select(views, parse_filters(call.get("Filters")))
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {"InstanceTypeOfferings": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


ACTIONS = (
    Action(
        "DescribeInstanceTypes",
        describe_instance_types,
        notes="the operator's mapping of type names to service offerings (`cloudgate "
        "instance-types`; t2.micro → Small Instance …), plus `cg.<offering name>` for every "
        "fixed-size offering; vCPUs and memory are the offering's",
    ),
    Action(
        "DescribeInstanceTypeOfferings",
        describe_instance_type_offerings,
        notes="every type in the region; per zone unless its offering is restricted to another "
        "zone",
    ),
)
