"""Guest networking: VPCs, guest networks (a VPC's tiers = EC2 subnets) and VM NICs.

models      the rows (Vpc, Network, Nic)
addressing  IPv4 arithmetic (pure)
vpcs        VPC use cases
guest       network use cases and NICs
defaults    each account's default VPC and per-zone default network (`default_network`)
"""

from __future__ import annotations

from core.networks.defaults import default_network, default_vpc
from core.networks.guest import (
    AddressInUse,
    add_vm_to_network,
    create_network,
    default_networks_of,
    default_nics_of,
    delete_network,
    get_network,
    list_networks,
    nics_of_vm,
    nics_of_vms,
    place_vm,
    tiers_of,
    update_network,
    used_addresses,
    vm_ids_in,
)
from core.networks.models import Network, Nic, Vpc
from core.networks.vpcs import (
    VPC_OFFERING_UUID,
    create_vpc,
    delete_vpc,
    get_vpc,
    list_vpcs,
    update_vpc,
    vpc_offering_by_uuid,
)

__all__ = [
    "VPC_OFFERING_UUID",
    "AddressInUse",
    "Network",
    "Nic",
    "Vpc",
    "add_vm_to_network",
    "create_network",
    "create_vpc",
    "default_network",
    "default_networks_of",
    "default_nics_of",
    "default_vpc",
    "delete_network",
    "delete_vpc",
    "get_network",
    "get_vpc",
    "list_networks",
    "list_vpcs",
    "nics_of_vm",
    "nics_of_vms",
    "place_vm",
    "tiers_of",
    "update_network",
    "update_vpc",
    "used_addresses",
    "vm_ids_in",
    "vpc_offering_by_uuid",
]
