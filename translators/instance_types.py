"""EC2 instance types ⇄ service offerings.

A small default table names AWS types after CloudStack's out-of-the-box offerings, so that
scripts written for AWS (`t2.micro`, boto3's examples) run unchanged. Besides, every offering
is addressable by a name derived from its own (`Large Instance` → `cg.large-instance`), so
an operator's offerings are usable without editing any table. An offering's canonical name —
the one DescribeInstances shows — is the first default-table name mapped to it, else its
derived name. (Issue 4 makes the table operator-editable.)

Offerings with customizable sizing are left out: EC2 has no way to pass the size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core.errors import InvalidParameter
from core.offerings import ServiceOffering, list_service_offerings

DEFAULT_INSTANCE_TYPE = "t2.micro"  # what RunInstances uses without InstanceType
DERIVED_PREFIX = "cg."

# EC2 name → offering name; the first name listed for an offering is its canonical name.
DEFAULT_NAMES: tuple[tuple[str, str], ...] = (
    ("t2.micro", "Small Instance"),
    ("t2.nano", "Small Instance"),
    ("m1.small", "Small Instance"),
    ("t2.small", "Medium Instance"),
    ("t2.medium", "Medium Instance"),
    ("m1.medium", "Medium Instance"),
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "offering"


@dataclass
class InstanceTypeCatalogue:
    """The instance type names offered now, each bound to one service offering."""

    offerings: dict[str, ServiceOffering] = field(default_factory=dict)
    canonical: dict[int, str] = field(default_factory=dict)

    def offering_for(self, name: str) -> ServiceOffering:
        """The offering behind an instance type name, or InvalidParameterValue."""
        offering = self.offerings.get(name)
        if offering is None:
            raise InvalidParameter(
                f"Invalid value '{name}' for InstanceType", parameter="InstanceType"
            )
        return offering

    def name_for(self, offering: ServiceOffering) -> str:
        """The canonical instance type name of an offering (also a removed or custom one)."""
        return self.canonical.get(offering.id) or DERIVED_PREFIX + _slug(offering.name)

    def names(self) -> list[str]:
        return list(self.offerings)


def load_catalogue(session: Session) -> InstanceTypeCatalogue:
    """The catalogue for the offerings that exist now (a handful of rows)."""
    offerings = [o for o in list_service_offerings(session) if not o.is_customized]
    catalogue = InstanceTypeCatalogue()
    by_name: dict[str, ServiceOffering] = {}
    for offering in offerings:  # ordered by id: on duplicate names the oldest wins
        by_name.setdefault(offering.name, offering)
    for ec2_name, offering_name in DEFAULT_NAMES:
        offering = by_name.get(offering_name)
        if offering is not None:
            catalogue.offerings[ec2_name] = offering
            catalogue.canonical.setdefault(offering.id, ec2_name)
    slugs: dict[str, list[ServiceOffering]] = {}
    for offering in offerings:
        slugs.setdefault(_slug(offering.name), []).append(offering)
    for slug, sharing in slugs.items():
        for offering in sharing:
            # Offerings may share a name; then each is told apart by its uuid.
            name = DERIVED_PREFIX + slug
            if len(sharing) > 1:
                name += "-" + offering.uuid[:8]
            catalogue.offerings.setdefault(name, offering)
            catalogue.canonical.setdefault(offering.id, name)
    return catalogue


def instance_type_info(name: str, offering: ServiceOffering) -> dict[str, Any]:
    """DescribeInstanceTypes' InstanceTypeInfo for one name."""
    vcpus = offering.cpu_number or 1
    speed_ghz = round((offering.cpu_speed_mhz or 0) / 1000, 2)
    return {
        "InstanceType": name,
        "CurrentGeneration": True,
        "FreeTierEligible": False,
        "SupportedUsageClasses": ["on-demand"],
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": False,
        "Hypervisor": "xen",
        "ProcessorInfo": {
            "SupportedArchitectures": ["x86_64"],
            "SustainedClockSpeedInGhz": speed_ghz,
        },
        "VCpuInfo": {
            "DefaultVCpus": vcpus,
            "DefaultCores": vcpus,
            "DefaultThreadsPerCore": 1,
            "ValidCores": [vcpus],
            "ValidThreadsPerCore": [1],
        },
        "MemoryInfo": {"SizeInMiB": offering.memory_mb or 0},
        "InstanceStorageSupported": False,
        "EbsInfo": {
            "EbsOptimizedSupport": "unsupported",
            "EncryptionSupport": "unsupported",
            "NvmeSupport": "unsupported",
        },
        "NetworkInfo": {
            "NetworkPerformance": "Moderate",
            "MaximumNetworkInterfaces": 1,
            "MaximumNetworkCards": 1,
            "DefaultNetworkCardIndex": 0,
            "Ipv4AddressesPerInterface": 1,
            "Ipv6AddressesPerInterface": 0,
            "Ipv6Supported": False,
            "EnaSupport": "unsupported",
            "EfaSupported": False,
            "EncryptionInTransitSupported": False,
        },
        "PlacementGroupInfo": {"SupportedStrategies": []},
        "HibernationSupported": False,
        "BurstablePerformanceSupported": False,
        "DedicatedHostsSupported": False,
        "AutoRecoverySupported": False,
        "SupportedBootModes": ["legacy-bios"],
    }
