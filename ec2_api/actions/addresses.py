"""Elastic IPs: Allocate/Associate/Disassociate/Release/DescribeAddresses over core public IPs.

An Elastic IP is a core public IP address of the caller's account, allocated from the zone's
public ranges (the first enabled zone: a region-wide EIP has to come from somewhere); its
association is the address's static NAT to a VM. AllocationId and AssociationId both encode the
address row's id, so they are stable for as long as the account holds the address.
"""

from __future__ import annotations

from typing import Any

from core import errors, networks
from core import public_ips as ips
from core.public_ips import PublicIpAddress
from core.visibility import ListScope
from core.vms import service as vms
from core.vms.models import VirtualMachine
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import SERVER_ERROR, Ec2Error, instances_not_found, invalid_value
from ec2_api.paging import page
from ec2_api.tagging import filter_set, specified_tags, tag_new, tags_by_id
from translators import zones
from translators.filters import parse_filters
from translators.ids import ALLOCATION, ASSOCIATION, INSTANCE, NETWORK_INTERFACE

TAG_TYPE = "elastic-ip"
DOMAINS = ("vpc", "standard")
POOL = "amazon"
VISIBLE_STATES = (ips.ALLOCATING, ips.ALLOCATED)  # a released address is gone at once


def allocation_not_found(allocation_id: str) -> Ec2Error:
    return Ec2Error(
        "InvalidAllocationID.NotFound", f"The allocation ID '{allocation_id}' does not exist"
    )


def address_not_found(public_ip: str) -> Ec2Error:
    return Ec2Error("InvalidAddress.NotFound", f"Address '{public_ip}' not found.")


def association_not_found(association_id: str) -> Ec2Error:
    return Ec2Error(
        "InvalidAssociationID.NotFound", f"The association ID '{association_id}' does not exist"
    )


def own_addresses(call: Call, core_ids: list[int] | None = None) -> list[PublicIpAddress]:
    """The caller's own addresses (admins too: an EC2 caller acts for its account)."""
    rows, _ = ips.list_public_ips(call.session, call.ctx, ListScope(), ids=core_ids)
    return [row for row in rows if row.state in VISIBLE_STATES]


def _by_allocation_id(call: Call, allocation_id: str) -> PublicIpAddress:
    core_id = call.ids.decode(ALLOCATION, allocation_id)
    found = own_addresses(call, [core_id]) if core_id is not None else []
    if not found:
        raise allocation_not_found(allocation_id)
    return found[0]


def _by_public_ip(call: Call, public_ip: str) -> PublicIpAddress:
    for address in own_addresses(call):
        if address.address == public_ip:
            return address
    raise address_not_found(public_ip)


def _address(call: Call) -> PublicIpAddress:
    """The address a request names by AllocationId or PublicIp."""
    if call.get("AllocationId"):
        return _by_allocation_id(call, call.get("AllocationId"))
    if call.get("PublicIp"):
        return _by_public_ip(call, call.get("PublicIp"))
    raise Ec2Error("MissingParameter", "Either public IP or allocation id must be specified")


def _instance(call: Call, instance_id: str) -> VirtualMachine:
    core_id = call.ids.decode(INSTANCE, instance_id)
    rows: list[VirtualMachine] = []
    if core_id is not None:
        rows, _ = vms.list_vms(call.session, call.ctx, ListScope(), vms.VmFilter(ids=(core_id,)))
    if not rows:
        raise instances_not_found([instance_id])
    return rows[0]


def _view(call: Call, address: PublicIpAddress, tags: list[dict[str, str]]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "PublicIp": address.address,
        "AllocationId": call.ids.encode(ALLOCATION, address.id),
        "Domain": "vpc",
        "PublicIpv4Pool": POOL,
        "NetworkBorderGroup": call.region,
        "Tags": tags,
    }
    if address.vm_id is not None:
        view["InstanceId"] = call.ids.encode(INSTANCE, address.vm_id)
        view["AssociationId"] = call.ids.encode(ASSOCIATION, address.id)
        view["NetworkInterfaceOwnerId"] = call.ids.account_number(address.account_id or 0)
        placed = networks.default_nics_of(call.session, [address.vm_id]).get(address.vm_id)
        if placed is not None:  # the instance's interface (instance_interfaces)
            view["NetworkInterfaceId"] = call.ids.encode(NETWORK_INTERFACE, placed[0].id)
        if address.vm_ip:
            view["PrivateIpAddress"] = address.vm_ip
    return view


# AllocateAddress / ReleaseAddress ---------------------------------------------------------


def allocate_address(call: Call) -> dict[str, Any]:
    domain = call.get("Domain") or "vpc"
    if domain not in DOMAINS:
        raise invalid_value(f"Invalid value '{domain}' for domain.")
    if call.get("Address") or call.get("PublicIpv4Pool") or call.get("IpamPoolId"):
        raise invalid_value("Allocating a specific address or from a pool is not supported")
    border_group = call.get("NetworkBorderGroup")
    if border_group and border_group != call.region:
        raise invalid_value(f"Invalid value '{border_group}' for NetworkBorderGroup")
    tags = specified_tags(call, TAG_TYPE)
    zone = zones.default_zone(call.session)
    try:
        address = ips.allocate_ip(call.session, call.ctx, zone=zone)
    except errors.LimitExceeded:
        raise Ec2Error(
            "AddressLimitExceeded", "The maximum number of addresses has been reached."
        ) from None
    except errors.InsufficientCapacity:
        raise Ec2Error(
            "InsufficientAddressCapacity",
            "There are not enough free addresses to satisfy your request.",
            SERVER_ERROR,
        ) from None
    tag_new(call, TAG_TYPE, [address.uuid], tags)
    view = _view(call, address, [])
    return {key: view[key] for key in ("PublicIp", "AllocationId", "PublicIpv4Pool")} | {
        "Domain": domain,
        "NetworkBorderGroup": call.region,
    }


def release_address(call: Call) -> None:
    address = _address(call)
    try:
        ips.disassociate_ip(call.session, call.ctx, address, keep_nat=True)
    except errors.ResourceInUse:
        raise Ec2Error("InvalidIPAddress.InUse", "Address is in use.") from None


# AssociateAddress / DisassociateAddress ---------------------------------------------------


def associate_address(call: Call) -> dict[str, Any]:
    address = _address(call)
    if not call.get("InstanceId"):
        raise Ec2Error(
            "MissingParameter", "Either instance ID or network interface ID must be specified"
        )
    vm = _instance(call, call.get("InstanceId"))
    association_id = call.ids.encode(ASSOCIATION, address.id)
    if address.vm_id == vm.id:
        return {"AssociationId": association_id}  # already so: nothing to do
    if address.vm_id is not None:
        if not call.get("AllowReassociation"):
            raise Ec2Error(
                "Resource.AlreadyAssociated",
                f"resource {call.ids.encode(ALLOCATION, address.id)} is already associated "
                f"with associate-id {association_id}",
            )
        ips.disable_static_nat(call.session, call.ctx, address)
    previous = ips.static_nat_of_vm(call.session, vm.id)
    if previous is not None:  # an instance has one Elastic IP: the old one lets go
        ips.disable_static_nat(call.session, call.ctx, previous)
    ips.enable_static_nat(call.session, call.ctx, address, vm)
    return {"AssociationId": association_id}


def disassociate_address(call: Call) -> None:
    association_id = call.get("AssociationId")
    if association_id:
        core_id = call.ids.decode(ASSOCIATION, association_id)
        found = own_addresses(call, [core_id]) if core_id is not None else []
        if not found or found[0].vm_id is None:
            raise association_not_found(association_id)
        address = found[0]
    elif call.get("PublicIp"):
        address = _by_public_ip(call, call.get("PublicIp"))
        if address.vm_id is None:
            return  # AWS answers success for an address that is not associated
    else:
        raise Ec2Error("MissingParameter", "Either public IP or association id must be specified")
    ips.disable_static_nat(call.session, call.ctx, address)


# DescribeAddresses ------------------------------------------------------------------------

ADDRESS_FILTERS = filter_set(
    {
        "allocation-id": lambda a: a["AllocationId"],
        "association-id": lambda a: a.get("AssociationId"),
        "instance-id": lambda a: a.get("InstanceId"),
        "public-ip": lambda a: a["PublicIp"],
        "private-ip-address": lambda a: a.get("PrivateIpAddress"),
        "domain": lambda a: a["Domain"],
        "network-border-group": lambda a: a["NetworkBorderGroup"],
        "public-ipv4-pool": lambda a: a["PublicIpv4Pool"],
        "network-interface-owner-id": lambda a: a.get("NetworkInterfaceOwnerId"),
    },
    lambda a: a["Tags"],
)


def _requested(call: Call, rows: list[PublicIpAddress]) -> list[PublicIpAddress]:
    public_ips, allocation_ids = call.get("PublicIps") or [], call.get("AllocationIds") or []
    if public_ips:
        present = {address.address for address in rows}
        for public_ip in public_ips:
            if public_ip not in present:
                raise address_not_found(public_ip)
        rows = [address for address in rows if address.address in set(public_ips)]
    if allocation_ids:
        by_id = {call.ids.encode(ALLOCATION, address.id): address for address in rows}
        for allocation_id in allocation_ids:
            call.ids.decode(ALLOCATION, allocation_id)  # a malformed id is refused as such
            if allocation_id not in by_id:
                raise allocation_not_found(allocation_id)
        rows = [by_id[allocation_id] for allocation_id in dict.fromkeys(allocation_ids)]
    return rows


def describe_addresses(call: Call) -> dict[str, Any]:
    matches = ADDRESS_FILTERS.predicate(parse_filters(call.get("Filters")))
    rows = _requested(call, own_addresses(call))
    tags = tags_by_id(call, TAG_TYPE, [address.id for address in rows])
    views = [_view(call, address, tags.get(address.id, [])) for address in rows]
    return {"Addresses": [view for view in views if matches(view)]}


def describe_addresses_attribute(call: Call) -> dict[str, Any]:
    """No reverse DNS records here: the addresses, without PtrRecord."""
    rows = own_addresses(call)
    if call.get("AllocationIds"):
        rows = [
            _by_allocation_id(call, allocation_id) for allocation_id in call.get("AllocationIds")
        ]
    shown, next_token = page(rows, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {
        "Addresses": [
            {"PublicIp": address.address, "AllocationId": call.ids.encode(ALLOCATION, address.id)}
            for address in shown
        ]
    }
    if next_token:
        result["NextToken"] = next_token
    return result


ACTIONS = (
    Action(
        "AllocateAddress",
        allocate_address,
        writes=True,
        notes="from the first enabled zone's public ranges; Address, PublicIpv4Pool and "
        "IpamPoolId are refused",
    ),
    Action(
        "AssociateAddress",
        associate_address,
        writes=True,
        notes="InstanceId only (no NetworkInterfaceId); static NAT; the AssociationId is "
        "the same each time an address is associated; the instance's PublicIpAddress (and "
        "DescribeInstances' `ip-address` filter) is the associated address",
    ),
    Action("DisassociateAddress", disassociate_address, writes=True),
    Action(
        "ReleaseAddress",
        release_address,
        writes=True,
        notes="the address leaves DescribeAddresses at once; a job returns it to the pool",
    ),
    Action(
        "DescribeAddresses",
        describe_addresses,
        notes="an AllocationId may come back if the same address is allocated again",
    ),
    Action(
        "DescribeAddressesAttribute",
        describe_addresses_attribute,
        notes="no reverse DNS: PtrRecord is never set",
    ),
)
