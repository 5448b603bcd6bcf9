"""IPv4 arithmetic for guest networks: parsing CIDRs, the gateway and netmask of a network,
containment and overlap, the first free block of a size, and the next free address.

Kept apart from the use cases because every rule here is pure (no session, no caller).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from core.errors import InvalidParameter

IPv4Net = ipaddress.IPv4Network
MAX_PREFIX = 29  # a network needs room for its gateway and at least a few guests
RESERVED_FIRST = 4  # network address, gateway and two more, as AWS reserves (and .255)


def parse_cidr(value: str | None, *, parameter: str = "cidr") -> IPv4Net:
    """An IPv4 network from `value` (host bits are cleared), or InvalidParameter."""
    try:
        network = ipaddress.ip_network((value or "").strip(), strict=False)
    except ValueError:
        raise InvalidParameter(f"The CIDR '{value}' is invalid.", parameter=parameter) from None
    if not isinstance(network, IPv4Net) or network.prefixlen > MAX_PREFIX:
        raise InvalidParameter(f"The CIDR '{value}' is invalid.", parameter=parameter)
    return network


def from_gateway(gateway: str, netmask: str) -> IPv4Net:
    """CloudStack's `gateway` + `netmask` as a network; the gateway must be a host of it."""
    try:
        network = ipaddress.ip_network(f"{gateway.strip()}/{netmask.strip()}", strict=False)
        address = ipaddress.ip_address(gateway.strip())
    except ValueError:
        raise InvalidParameter(
            f"Invalid gateway {gateway} or netmask {netmask}", parameter="cidr"
        ) from None
    if not isinstance(network, IPv4Net) or network.prefixlen > MAX_PREFIX:
        raise InvalidParameter(f"Invalid netmask {netmask}", parameter="cidr")
    if address in (network.network_address, network.broadcast_address):
        raise InvalidParameter(
            f"The gateway {gateway} is not a usable address of {network}", parameter="cidr"
        )
    return network


def gateway_of(network: IPv4Net) -> str:
    """The first host address: the guest network's router, as in CloudStack and AWS."""
    return str(network.network_address + 1)


def overlapping(network: IPv4Net, others: Iterable[str]) -> str | None:
    """The first of `others` (CIDR strings) that overlaps `network`, if any."""
    for other in others:
        if network.overlaps(ipaddress.ip_network(other, strict=False)):
            return other
    return None


def first_free_block(space: IPv4Net, prefix: int, taken: Iterable[str]) -> IPv4Net | None:
    """The lowest `/prefix` block of `space` that overlaps none of `taken`."""
    used = [ipaddress.ip_network(cidr, strict=False) for cidr in taken]
    for block in space.subnets(new_prefix=prefix):
        if not any(block.overlaps(other) for other in used):
            return block
    return None


def usable_count(cidr: str) -> int:
    """Addresses guests can get: AWS reserves the first four and the last one of a subnet."""
    size = ipaddress.ip_network(cidr, strict=False).num_addresses
    return max(size - RESERVED_FIRST - 1, 0)


def check_guest_address(cidr: str, address: str) -> str:
    """`address` normalised, if it is one guests can get in `cidr` (InvalidParameter if not)."""
    network = ipaddress.ip_network(cidr, strict=False)
    try:
        value = ipaddress.IPv4Address(address.strip())
    except ValueError:
        raise InvalidParameter(f"Invalid IPv4 address {address}", parameter="ipaddress") from None
    first = int(network.network_address) + RESERVED_FIRST
    if not first <= int(value) < int(network.broadcast_address):
        raise InvalidParameter(
            f"Address {value} does not fall within the usable range of {network}",
            parameter="ipaddress",
        )
    return str(value)


def next_free_address(cidr: str, taken: Iterable[str]) -> str | None:
    """The lowest guest address of `cidr` that is not in `taken`."""
    network = ipaddress.ip_network(cidr, strict=False)
    used = set(taken)
    first = int(network.network_address) + RESERVED_FIRST
    last = int(network.broadcast_address) - 1
    for value in range(first, last + 1):
        address = str(ipaddress.IPv4Address(value))
        if address not in used:
            return address
    return None
