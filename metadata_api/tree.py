"""The metadata of one VM as a tree of paths: EC2's names and CloudStack's, merged.

A directory answers with its listing (one name a line, `name/` for a subdirectory), a leaf
with its text. EC2's paths (`meta-data/instance-id`, `placement/availability-zone`,
`public-keys/0/openssh-key` …) and the virtual router's (`service-offering`,
`availability-zone`, `vm-id`, `cloud-identifier`, `public-keys` …) share one `meta-data/`.
Where both define a name, EC2's value is given (`instance-id` is the `i-…` id, not the uuid
CloudStack puts there — `vm-id` has the uuid; `local-hostname` is the private DNS name,
not the VM's name), with one exception told apart by the trailing slash: `public-keys/` is
EC2's directory (`0=name`), `public-keys` without a slash CloudStack's flat file of keys.
Absent things are absent, as on both clouds: no public address, no `public-ipv4`; no key
pair, no `public-keys`; no user data, a 404 for `user-data`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from core.vms.metadata import VmFacts
from core.vms.models import VirtualMachine
from core.volumes import ROOT
from translators import zones
from translators.hostnames import private_dns_name, public_dns_name
from translators.ids import IMAGE, INSTANCE, RESERVATION, SUBNET, VPC, IdCodec

ROOT_DEVICE = "/dev/sda1"
IDENTITY_DOCUMENT_VERSION = "2017-09-30"


@dataclass(frozen=True)
class Directory:
    """A listing node; `listing` overrides the generated lines, `flat` answers the path
    asked without a trailing slash (CloudStack's flat `public-keys`)."""

    entries: dict[str, Node]
    listing: tuple[str, ...] | None = None
    flat: str | None = None

    def lines(self) -> list[str]:
        if self.listing is not None:
            return list(self.listing)
        return [
            f"{name}/" if isinstance(node, Directory) else name
            for name, node in sorted(self.entries.items())
        ]


Node = Directory | str | bytes


@dataclass(frozen=True)
class Installation:
    """What every VM's tree shares: the id codec, the region, the cloud's identifier."""

    ids: IdCodec
    region: str
    cloud_identifier: str


@dataclass(frozen=True)
class VmView:
    facts: VmFacts
    instance_type: str
    installation: Installation

    @property
    def vm(self) -> VirtualMachine:
        return self.facts.vm


def _device_name(device_id: int) -> str:
    """A data disk's device as the guest sees it: device 1 → sdb, 2 → sdc …"""
    return "sd" + chr(ord("a") + min(device_id, 25))


def _block_devices(facts: VmFacts) -> Directory:
    entries: dict[str, Node] = {"ami": ROOT_DEVICE, "root": ROOT_DEVICE}
    data = [v for v in facts.volumes if v.volume_type != ROOT and v.device_id is not None]
    for number, volume in enumerate(sorted(data, key=lambda v: v.device_id or 0), start=1):
        entries[f"ebs{number}"] = _device_name(volume.device_id or number)
    return Directory(entries)


def _public_keys(facts: VmFacts) -> Directory:
    keys = facts.public_keys
    return Directory(
        {str(index): Directory({"openssh-key": key.public_key}) for index, key in enumerate(keys)},
        listing=tuple(f"{index}={key.name}" for index, key in enumerate(keys)),
        flat="\n".join(key.public_key for key in keys),
    )


def _interface(view: VmView, ec2: dict[str, Node]) -> Directory:
    facts, vm = view.facts, view.vm
    entries: dict[str, Node] = {
        "device-number": "0",
        "local-hostname": ec2["local-hostname"],
        "local-ipv4s": vm.private_ip,
        "mac": vm.mac_address,
        "owner-id": view.installation.ids.account_number(vm.account_id),
        "security-groups": ec2["security-groups"],
        "subnet-ipv4-cidr-block": facts.network.cidr if facts.network else facts.zone.guest_cidr,
    }
    if facts.network is not None and facts.vpc is not None:  # a VPC subnet, as on AWS
        ids = view.installation.ids
        entries["subnet-id"] = ids.encode(SUBNET, facts.network.id)
        entries["vpc-id"] = ids.encode(VPC, facts.vpc.id)
        entries["vpc-ipv4-cidr-block"] = facts.vpc.cidr
        entries["vpc-ipv4-cidr-blocks"] = facts.vpc.cidr
    if facts.public_ip:
        entries["public-ipv4s"] = facts.public_ip
        entries["public-hostname"] = public_dns_name(view.installation.region, facts.public_ip)
    return Directory(entries)


def _ec2_meta_data(view: VmView) -> dict[str, Node]:
    facts, vm, installation = view.facts, view.vm, view.installation
    ids, region = installation.ids, installation.region
    hostname = private_dns_name(region, vm.private_ip)
    meta: dict[str, Node] = {
        "ami-id": ids.encode(IMAGE, vm.template_id),
        "ami-launch-index": str(vm.launch_index),
        "ami-manifest-path": "(unknown)",
        "block-device-mapping": _block_devices(facts),
        "hostname": hostname,
        "instance-action": "none",
        "instance-id": ids.encode(INSTANCE, vm.id),
        "instance-life-cycle": "on-demand",
        "instance-type": view.instance_type,
        "local-hostname": hostname,
        "local-ipv4": vm.private_ip,
        "mac": vm.mac_address,
        "placement": Directory(
            {
                "availability-zone": facts.zone.name,
                "availability-zone-id": zones.zone_id(region, facts.zone),
                "region": region,
            }
        ),
        "reservation-id": ids.encode(RESERVATION, facts.first_of_launch_group),
        "security-groups": "\n".join(facts.security_groups),
        "services": Directory({"domain": "amazonaws.com", "partition": "aws"}),
    }
    meta["network"] = Directory(
        {"interfaces": Directory({"macs": Directory({vm.mac_address: _interface(view, meta)})})}
    )
    if facts.public_ip:
        meta["public-ipv4"] = facts.public_ip
        meta["public-hostname"] = public_dns_name(region, facts.public_ip)
    if facts.public_keys:
        meta["public-keys"] = _public_keys(facts)
    return meta


def _cloudstack_meta_data(view: VmView) -> dict[str, Node]:
    """The virtual router's names EC2 does not have (the shared ones keep EC2's values)."""
    facts = view.facts
    return {
        "availability-zone": facts.zone.name,
        "cloud-identifier": f"CloudStack-{{{view.installation.cloud_identifier}}}",
        "service-offering": facts.offering.display_text or facts.offering.name,
        "vm-id": view.vm.uuid,
    }


def identity_document(view: VmView) -> str:
    """`dynamic/instance-identity/document`, laid out as AWS lays it out."""
    vm, ids = view.vm, view.installation.ids
    document = {
        "accountId": ids.account_number(vm.account_id),
        "architecture": "x86_64",
        "availabilityZone": view.facts.zone.name,
        "billingProducts": None,
        "devpayProductCodes": None,
        "marketplaceProductCodes": None,
        "imageId": ids.encode(IMAGE, vm.template_id),
        "instanceId": ids.encode(INSTANCE, vm.id),
        "instanceType": view.instance_type,
        "kernelId": None,
        "pendingTime": vm.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "privateIp": vm.private_ip,
        "ramdiskId": None,
        "region": view.installation.region,
        "version": IDENTITY_DOCUMENT_VERSION,
    }
    return json.dumps(document, indent=2, separators=(",", " : "))


def version_tree(view: VmView) -> Directory:
    """One version's root: `meta-data/`, `dynamic/` and, when there is any, `user-data`."""
    meta = {**_cloudstack_meta_data(view), **_ec2_meta_data(view)}
    entries: dict[str, Node] = {
        "meta-data": Directory(meta),
        "dynamic": Directory(
            {"instance-identity": Directory({"document": identity_document(view)})}
        ),
    }
    if view.vm.user_data:
        entries["user-data"] = view.vm.user_data.encode()
    return Directory(entries, listing=tuple(sorted(entries)))


def lookup(root: Directory, segments: Sequence[str], *, trailing_slash: bool) -> Node | None:
    """The node at `segments` below `root`, or None (a 404)."""
    node: Node = root
    for segment in segments:
        if not isinstance(node, Directory) or segment not in node.entries:
            return None
        node = node.entries[segment]
    if isinstance(node, Directory) and node.flat is not None and not trailing_slash:
        return node.flat
    return node
