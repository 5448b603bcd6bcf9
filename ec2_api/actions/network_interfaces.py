"""DescribeNetworkInterfaces: the caller's instances' network interfaces, read-only.

An ENI is a VM's default NIC in a VPC tier (core.networks), the same interface
DescribeInstances shows in an instance's NetworkInterfaces: this module renders the caller's
instances with `InstanceRenderer` and takes each instance's interface from there, adding only
what the stand-alone view has and the instance's copy lacks (the attachment's instance, the
zone, the Elastic IP's allocation and association ids). So both calls show one interface,
field for field. Interfaces of terminated instances are gone, as on AWS.

Differs from AWS: no Create/Delete/Attach/ModifyNetworkInterface (an instance has exactly its
one interface, made and deleted with it), and interfaces carry no tags of their own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from core import public_ips
from core.public_ips import PublicIpAddress
from ec2_api.action import Action
from ec2_api.actions.instance_views import InstanceRenderer
from ec2_api.actions.instances import visible_vms
from ec2_api.actions.vpc_views import describe_views
from ec2_api.call import Call
from ec2_api.tagging import filter_set
from translators.ids import ALLOCATION, ASSOCIATION, NETWORK_INTERFACE

Interface = dict[str, Any]


def interfaces(call: Call) -> list[Interface]:
    """Every network interface of the caller's live instances, in instance order."""
    rows = visible_vms(call, None)
    renderer = InstanceRenderer(call).prepare(rows)
    nats = public_ips.static_nats_of_vms(call.session, [vm.id for vm in rows])
    found = []
    for vm in rows:
        instance = renderer.instance(vm)
        for eni in instance["NetworkInterfaces"]:
            found.append(_standalone(call, instance, eni, nats.get(vm.id)))
    return found


def _standalone(
    call: Call, instance: dict[str, Any], eni: Interface, nat: PublicIpAddress | None
) -> Interface:
    """The instance's interface with what only DescribeNetworkInterfaces shows added."""
    view = copy.deepcopy(eni)
    view["Attachment"]["InstanceId"] = instance["InstanceId"]
    view["Attachment"]["InstanceOwnerId"] = eni["OwnerId"]
    view["AvailabilityZone"] = instance["Placement"]["AvailabilityZone"]
    view["RequesterManaged"] = False
    view["TagSet"] = []
    if nat is not None and "Association" in view:
        view["Association"]["AllocationId"] = call.ids.encode(ALLOCATION, nat.id)
        view["Association"]["AssociationId"] = call.ids.encode(ASSOCIATION, nat.id)
        view["PrivateIpAddresses"][0]["Association"] = view["Association"]
    return view


def _association(key: str) -> Callable[[Interface], Any]:
    return lambda eni: eni.get("Association", {}).get(key)


def _attachment(key: str) -> Callable[[Interface], Any]:
    return lambda eni: eni["Attachment"][key]


def _addresses(read: Callable[[dict[str, Any]], Any]) -> Callable[[Interface], list[Any]]:
    return lambda eni: [read(address) for address in eni["PrivateIpAddresses"]]


def _attach_time(eni: Interface) -> str:
    return str(eni["Attachment"]["AttachTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z"))


FILTERS = filter_set(
    {
        "network-interface-id": lambda e: e["NetworkInterfaceId"],
        "addresses.private-ip-address": _addresses(lambda a: a["PrivateIpAddress"]),
        "addresses.primary": _addresses(lambda a: a["Primary"]),
        "addresses.association.public-ip": _addresses(
            lambda a: a.get("Association", {}).get("PublicIp")
        ),
        "addresses.association.owner-id": _addresses(
            lambda a: a.get("Association", {}).get("IpOwnerId")
        ),
        "association.allocation-id": _association("AllocationId"),
        "association.association-id": _association("AssociationId"),
        "association.ip-owner-id": _association("IpOwnerId"),
        "association.public-ip": _association("PublicIp"),
        "association.public-dns-name": _association("PublicDnsName"),
        "attachment.attachment-id": _attachment("AttachmentId"),
        "attachment.attach-time": _attach_time,
        "attachment.delete-on-termination": _attachment("DeleteOnTermination"),
        "attachment.device-index": _attachment("DeviceIndex"),
        "attachment.instance-id": _attachment("InstanceId"),
        "attachment.instance-owner-id": _attachment("InstanceOwnerId"),
        "attachment.status": _attachment("Status"),
        "availability-zone": lambda e: e["AvailabilityZone"],
        "description": lambda e: e["Description"],
        "group-id": lambda e: [g["GroupId"] for g in e["Groups"]],
        "group-name": lambda e: [g["GroupName"] for g in e["Groups"]],
        "interface-type": lambda e: e["InterfaceType"],
        "mac-address": lambda e: e["MacAddress"],
        "owner-id": lambda e: e["OwnerId"],
        "private-dns-name": lambda e: e["PrivateDnsName"],
        "private-ip-address": lambda e: e["PrivateIpAddress"],
        "requester-managed": lambda e: e["RequesterManaged"],
        "source-dest-check": lambda e: e["SourceDestCheck"],
        "status": lambda e: e["Status"],
        "subnet-id": lambda e: e["SubnetId"],
        "vpc-id": lambda e: e["VpcId"],
    },
    lambda e: e["TagSet"],
)


def describe_network_interfaces(call: Call) -> dict[str, Any]:
    return describe_views(
        call,
        interfaces(call),
        asked=call.get("NetworkInterfaceIds"),
        id_key="NetworkInterfaceId",
        prefix=NETWORK_INTERFACE,
        not_found=("InvalidNetworkInterfaceID.NotFound", "networkInterface"),
        filters=FILTERS,
        result_key="NetworkInterfaces",
        maximum=1000,
    )


ACTIONS = (
    Action(
        "DescribeNetworkInterfaces",
        describe_network_interfaces,
        notes="read-only: each instance's one interface (its VM's NIC in the subnet), the same "
        "one DescribeInstances shows; no Create/Delete/Attach, no tags on interfaces",
    ),
)
