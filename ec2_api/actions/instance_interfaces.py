"""An instance's network fields: VpcId, SubnetId, NetworkInterfaces and PublicIpAddress, and
the DescribeInstances filters that read them.

The instance's one network interface is its VM's default NIC in a VPC tier (a subnet): the
ENI id and the attachment id both encode the NIC row's id. Its addresses are the NIC's
(which is also the instance's PrivateIpAddress, core.vms.service) and the Elastic IP with
static NAT to the VM (`core.public_ips`), shown as the interface's Association and as the
instance's PublicIpAddress. A terminated instance shows none of them, as on AWS.

DescribeNetworkInterfaces (network_interfaces) shows these same interfaces, taken from the
instances this module renders. Differs from AWS: an interface cannot be created, attached or
deleted on its own; it is always attached at device index 0 and deleted on termination.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import networks as nets
from core import public_ips
from core.networks import Network, Nic
from core.vms.models import VirtualMachine
from ec2_api.call import Call
from translators.hostnames import private_dns_name, public_dns_name
from translators.ids import NETWORK_INTERFACE, NETWORK_INTERFACE_ATTACHMENT, SUBNET, VPC

Instance = dict[str, Any]


class InterfaceViews:
    """The network fields of the instances of one request, loaded in two queries."""

    def __init__(self, call: Call, rows: list[VirtualMachine]) -> None:
        self.call = call
        ids = [vm.id for vm in rows]
        self._nics = nets.default_nics_of(call.session, ids)
        self._nat = public_ips.static_nats_of_vms(call.session, ids)

    def add(self, vm: VirtualMachine, view: Instance) -> None:
        """Add the fields to `view` (an instance as InstanceRenderer builds it)."""
        if view["State"]["Name"] == "terminated":
            return
        nat = self._nat.get(vm.id)
        if nat is not None:
            view["PublicIpAddress"] = nat.address
            view["PublicDnsName"] = public_dns_name(self.call.region, nat.address)
        placed = self._nics.get(vm.id)
        if placed is None or placed[1].vpc_id is None:
            return
        nic, network = placed
        view["SubnetId"] = self.call.ids.encode(SUBNET, network.id)
        view["VpcId"] = self.call.ids.encode(VPC, network.vpc_id)
        view["NetworkInterfaces"] = [self._interface(vm, nic, network, view)]

    def _association(self, vm: VirtualMachine) -> dict[str, str] | None:
        nat = self._nat.get(vm.id)
        if nat is None:
            return None
        return {
            "IpOwnerId": self.call.ids.account_number(nat.account_id or vm.account_id),
            "PublicDnsName": public_dns_name(self.call.region, nat.address),
            "PublicIp": nat.address,
        }

    def _interface(
        self, vm: VirtualMachine, nic: Nic, network: Network, view: Instance
    ) -> dict[str, Any]:
        ids = self.call.ids
        dns_name = private_dns_name(self.call.region, nic.ip_address)
        address: dict[str, Any] = {
            "Primary": True,
            "PrivateDnsName": dns_name,
            "PrivateIpAddress": nic.ip_address,
        }
        interface: dict[str, Any] = {
            "Attachment": {
                "AttachTime": vm.created,
                "AttachmentId": ids.encode(NETWORK_INTERFACE_ATTACHMENT, nic.id),
                "DeleteOnTermination": True,
                "DeviceIndex": 0,
                "NetworkCardIndex": 0,
                "Status": "attached",
            },
            "Description": "",
            "Groups": view["SecurityGroups"],
            "Ipv6Addresses": [],
            "MacAddress": vm.mac_address,
            "NetworkInterfaceId": ids.encode(NETWORK_INTERFACE, nic.id),
            "OwnerId": ids.account_number(vm.account_id),
            "PrivateDnsName": dns_name,
            "PrivateIpAddress": nic.ip_address,
            "PrivateIpAddresses": [address],
            "SourceDestCheck": True,
            "Status": "in-use",
            "SubnetId": ids.encode(SUBNET, network.id),
            "VpcId": ids.encode(VPC, network.vpc_id),
            "InterfaceType": "interface",
        }
        association = self._association(vm)
        if association is not None:
            interface["Association"] = association
            address["Association"] = association
        return interface


# filters ----------------------------------------------------------------------------------


def _eni(read: Callable[[dict[str, Any]], Any]) -> Callable[[Instance], list[Any]]:
    return lambda i: [read(eni) for eni in i["NetworkInterfaces"]]


def _eni_addresses(read: Callable[[dict[str, Any]], Any]) -> Callable[[Instance], list[Any]]:
    return lambda i: [read(a) for eni in i["NetworkInterfaces"] for a in eni["PrivateIpAddresses"]]


def _association(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda entry: entry.get("Association", {}).get(key)


def _attachment(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda eni: eni["Attachment"][key]


def _groups(key: str) -> Callable[[Instance], list[Any]]:
    return lambda i: [g[key] for eni in i["NetworkInterfaces"] for g in eni["Groups"]]


def _attach_time(eni: dict[str, Any]) -> str:
    return str(eni["Attachment"]["AttachTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z"))


# Filter name → the instance's value(s) (instances.py reads them off each instance).
FILTERS: dict[str, Callable[[Instance], Any]] = {
    "vpc-id": lambda i: i.get("VpcId"),
    "subnet-id": lambda i: i.get("SubnetId"),
    "ip-address": lambda i: i.get("PublicIpAddress"),
    "network-interface.network-interface-id": _eni(lambda e: e["NetworkInterfaceId"]),
    "network-interface.subnet-id": _eni(lambda e: e["SubnetId"]),
    "network-interface.vpc-id": _eni(lambda e: e["VpcId"]),
    "network-interface.mac-address": _eni(lambda e: e["MacAddress"]),
    "network-interface.owner-id": _eni(lambda e: e["OwnerId"]),
    "network-interface.status": _eni(lambda e: e["Status"]),
    "network-interface.description": _eni(lambda e: e["Description"]),
    "network-interface.private-dns-name": _eni(lambda e: e["PrivateDnsName"]),
    "network-interface.source-dest-check": _eni(lambda e: e["SourceDestCheck"]),
    "network-interface.requester-managed": _eni(lambda e: False),
    "network-interface.group-id": _groups("GroupId"),
    "network-interface.group-name": _groups("GroupName"),
    "network-interface.attachment.attachment-id": _eni(_attachment("AttachmentId")),
    "network-interface.attachment.device-index": _eni(_attachment("DeviceIndex")),
    "network-interface.attachment.status": _eni(_attachment("Status")),
    "network-interface.attachment.delete-on-termination": _eni(_attachment("DeleteOnTermination")),
    "network-interface.attachment.attach-time": _eni(_attach_time),
    "network-interface.attachment.instance-id": lambda i: [
        i["InstanceId"] for _ in i["NetworkInterfaces"]
    ],
    "network-interface.addresses.private-ip-address": _eni_addresses(
        lambda a: a["PrivateIpAddress"]
    ),
    "network-interface.addresses.primary": _eni_addresses(lambda a: a["Primary"]),
    "network-interface.addresses.association.public-ip": _eni_addresses(_association("PublicIp")),
    "network-interface.addresses.association.ip-owner-id": _eni_addresses(
        _association("IpOwnerId")
    ),
    "network-interface.association.public-ip": _eni(_association("PublicIp")),
    "network-interface.association.ip-owner-id": _eni(_association("IpOwnerId")),
}
