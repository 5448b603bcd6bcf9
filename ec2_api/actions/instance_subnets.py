"""Where RunInstances puts an instance: its zone, its subnet and its private address.

A subnet is a core network of a VPC; RunInstances names it by `SubnetId` or on the primary
network interface (`NetworkInterfaces=[{DeviceIndex: 0, SubnetId, Groups, PrivateIpAddress,
AssociatePublicIpAddress}]`, as Terraform, Ansible and boto3 scripts send it). Without one,
the instance goes to the account's default subnet of the zone (`core.networks
.default_network`, made on the way if missing). The core deploy gives the VM its NIC there in
the same transaction; the NIC's address is the instance's private address in every API.
Ansible's ec2_instance finds its instance again by `subnet-id`, which instance_interfaces
renders and filters.

Differs from AWS: one interface (device index 0) only, no existing ENIs, no secondary
addresses; AssociatePublicIpAddress is accepted and not acted on (an instance gets a public
address from an Elastic IP only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import networks as nets
from core.infra import Zone, get_zone
from core.networks import Network
from core.visibility import ListScope
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value
from translators import zones
from translators.ids import SUBNET


@dataclass(frozen=True, slots=True)
class LaunchInterface:
    """What a request says about the instance's primary network interface."""

    subnet_id: str | None = None
    group_ids: tuple[str, ...] = ()
    private_ip: str | None = None


def _combination(what: str) -> Ec2Error:
    return Ec2Error(
        "InvalidParameterCombination",
        f"Network interfaces and an instance-level {what} may not be specified on the same request",
    )


def _subnet_not_found(subnet_id: str) -> Ec2Error:
    return Ec2Error("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist")


def _primary_interface(call: Call) -> dict[str, Any] | None:
    """The one interface NetworkInterfaces may describe here (device index 0), or None."""
    interfaces = call.get("NetworkInterfaces") or []
    if not interfaces:
        return None
    if len(interfaces) > 1:
        raise Ec2Error(
            "UnsupportedOperation", "Only one network interface can be given per instance."
        )
    interface = dict(interfaces[0])
    if interface.get("DeviceIndex", 0) != 0:
        raise invalid_value("Each network interface requires a device index of 0.")
    if interface.get("NetworkInterfaceId"):
        raise Ec2Error(
            "UnsupportedOperation", "Launching with an existing network interface is not supported."
        )
    if (call.get("SecurityGroupIds") or call.get("SecurityGroups")) and interface.get("Groups"):
        raise _combination("security groups")
    if call.get("SubnetId"):
        raise _combination("subnet ID")
    if call.get("PrivateIpAddress"):
        raise _combination("private IP address")
    return interface


def _interface_address(interface: dict[str, Any]) -> str | None:
    """The primary private address of an interface: PrivateIpAddress or the primary entry of
    PrivateIpAddresses (any other entry would be a secondary address, which is not kept)."""
    address = interface.get("PrivateIpAddress")
    listed = interface.get("PrivateIpAddresses") or []
    if len(listed) > 1 or interface.get("SecondaryPrivateIpAddressCount"):
        raise Ec2Error("UnsupportedOperation", "Secondary private IP addresses are not supported.")
    if listed:
        if address and listed[0].get("PrivateIpAddress") != address:
            raise invalid_value("The primary private IP address is given twice, differently.")
        address = listed[0].get("PrivateIpAddress")
    return address or None


def requested_interface(call: Call) -> LaunchInterface:
    """SubnetId, the interface's security groups and the private address a launch asks for."""
    interface = _primary_interface(call)
    if interface is None:
        launch = LaunchInterface(
            call.get("SubnetId") or None, (), call.get("PrivateIpAddress") or None
        )
    else:
        launch = LaunchInterface(
            interface.get("SubnetId") or None,
            tuple(interface.get("Groups") or ()),
            _interface_address(interface),
        )
    if launch.private_ip and (call.get("MaxCount") or 1) > 1:
        raise invalid_value("A private IP address can be given only when launching 1 instance.")
    return launch


def _own_subnet(call: Call, subnet_id: str) -> Network:
    """One of the caller's subnets (a network in a VPC), or InvalidSubnetID.NotFound."""
    core_id = call.ids.decode(SUBNET, subnet_id)
    if core_id is None:
        raise _subnet_not_found(subnet_id)
    found, _ = nets.list_networks(call.session, call.ctx, ListScope(), ids=(core_id,), in_vpc=True)
    if not found:
        raise _subnet_not_found(subnet_id)
    return found[0]


def launch_placement(call: Call, interface: LaunchInterface) -> tuple[Zone, Network]:
    """The zone and the subnet of a launch: the subnet named (its zone, which must be the one
    Placement names, if any), else the default subnet of Placement's zone or the default
    zone."""
    zone_name = (call.get("Placement") or {}).get("AvailabilityZone")
    zone = zones.zone_by_name(call.session, zone_name) if zone_name else None
    if interface.subnet_id is None:
        zone = zone or zones.default_zone(call.session)
        return zone, nets.default_network(call.session, call.ctx, zone)
    subnet = _own_subnet(call, interface.subnet_id)
    if zone is not None and subnet.zone_id != zone.id:
        raise invalid_value(
            f"The subnet '{interface.subnet_id}' is not in the requested availability zone "
            f"'{zone.name}'."
        )
    return zone or get_zone(call.session, subnet.zone_id), subnet
