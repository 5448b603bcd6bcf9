"""EC2 instance types ⇄ service offerings.

The operator's table (`core.instance_types`, edited with `cloudgate instance-types`) names
offerings after AWS types; `DEFAULT_SIZES` is what the first start puts in it, so that scripts
written for AWS (`t2.micro`, boto3's examples, Terraform modules) run unchanged: the two
CloudStack out-of-the-box offerings keep their sizes under the smallest names, and the larger
names get offerings of AWS's sizes, created if missing. Besides, every offering is
addressable by a name derived from its own (`Large Instance` → `cg.large-instance`), so an
operator's new offerings are usable before anyone names them. An offering's canonical name —
the one DescribeInstances shows — is the oldest table name mapped to it, else its derived name.

Offerings with customizable sizing are left out: EC2 has no way to pass the size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core.errors import InvalidParameter
from core.instance_types import SizeDefault, list_sizes, seed_sizes
from core.offerings import ServiceOffering, list_service_offerings
from core.volumes import MAX_DATA_VOLUMES

DEFAULT_INSTANCE_TYPE = "t2.micro"  # what RunInstances uses without InstanceType
DERIVED_PREFIX = "cg."
UNSUPPORTED = "unsupported"
SMALL, MEDIUM = "Small Instance", "Medium Instance"  # CloudStack's default offerings


def _aws(name: str, cpus: int, memory_mib: int, mhz: int = 2000) -> SizeDefault:
    return SizeDefault(name, name, cpus, mhz, memory_mib)


# What the first start maps; the first name listed for an offering is its canonical name.
DEFAULT_SIZES: tuple[SizeDefault, ...] = (
    SizeDefault("t2.micro", SMALL, 1, 500, 512),
    SizeDefault("t2.nano", SMALL, 1, 500, 512),
    SizeDefault("m1.small", SMALL, 1, 500, 512),
    SizeDefault("t2.small", MEDIUM, 1, 1000, 1024),
    SizeDefault("m1.medium", MEDIUM, 1, 1000, 1024),
    _aws("t2.medium", 2, 4096),
    _aws("t2.large", 2, 8192),
    _aws("t2.xlarge", 4, 16384),
    _aws("t3.micro", 2, 1024),
    _aws("t3.small", 2, 2048),
    _aws("t3.medium", 2, 4096),
    _aws("t3.large", 2, 8192),
    _aws("m5.large", 2, 8192),
    _aws("m5.xlarge", 4, 16384),
)


def seed_default_sizes(session: Session) -> None:
    """First start: the default names, and offerings of their sizes where none exist."""
    seed_sizes(session, DEFAULT_SIZES)


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
    for row, offering in list_sizes(session):
        catalogue.offerings[row.name] = offering
        catalogue.canonical.setdefault(offering.id, row.name)
    slugs: dict[str, list[ServiceOffering]] = {}
    for offering in offerings:  # ordered by id
        named = catalogue.offerings.get(offering.name)
        if named is not None and named.id == offering.id:
            continue  # named after its own type (m5.large): no `cg.` alias needed
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
            # The root disk and the core's data-disk limit, which no NIC shares.
            "MaximumEbsAttachments": MAX_DATA_VOLUMES + 1,
            "AttachmentLimitType": "dedicated",
        },
        "NetworkInfo": {
            "NetworkPerformance": "Moderate",
            "MaximumNetworkInterfaces": 1,
            "MaximumNetworkCards": 1,
            "DefaultNetworkCardIndex": 0,
            "NetworkCards": [
                {
                    "NetworkCardIndex": 0,
                    "NetworkPerformance": "Moderate",
                    "MaximumNetworkInterfaces": 1,
                }
            ],
            "Ipv4AddressesPerInterface": 1,
            "Ipv6AddressesPerInterface": 0,
            "Ipv6Supported": False,
            "EnaSupport": "unsupported",
            "EfaSupported": False,
            "EncryptionInTransitSupported": False,
            "EnaSrdSupported": False,
            "FlexibleEnaQueuesSupport": UNSUPPORTED,
            "SecondaryNetworkSupported": False,
        },
        "PlacementGroupInfo": {"SupportedStrategies": []},
        "HibernationSupported": False,
        "BurstablePerformanceSupported": False,
        "DedicatedHostsSupported": False,
        "AutoRecoverySupported": False,
        "SupportedBootModes": ["legacy-bios"],
        # AWS (Nitro) features, answered explicitly so that tools reading them find a "no".
        "NitroEnclavesSupport": UNSUPPORTED,
        "NitroTpmSupport": UNSUPPORTED,
        "PhcSupport": UNSUPPORTED,
        "RebootMigrationSupport": UNSUPPORTED,
    }
