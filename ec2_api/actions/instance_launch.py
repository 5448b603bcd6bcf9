"""RunInstances: one EC2 launch request → one core deploy per instance, in one transaction.

What the request names maps onto the core's DeploySpec: the image is a template, the instance
type a service offering, the zone a zone, KeyName a core key pair, security groups (by id or
name) core security groups — the account's "default" group when none is named —, UserData
the VM's user data, and the block-device mappings the root disk's size (on the root device)
and data disks created and attached with each VM (of the disk offering the volume type stands
for, translators/volumes). Tags from TagSpecifications go on the instances and on all their
volumes. The subnet (SubnetId, the primary NetworkInterfaces entry, or the zone's default
subnet) and the private address are instance_subnets'; the core deploy puts the VM's NIC
there. MinCount is all-or-nothing: each instance is deployed in a savepoint, and fewer than
MinCount fitting fails the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from core import errors, keypairs, resource_details
from core import networks as nets
from core.db import new_uuid
from core.infra import Zone
from core.security_groups import SecurityGroup, get_security_group
from core.templates import Template, template_for_launch
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.volumes import INSTANCE_TYPE as VOLUME_DETAILS
from core.volumes import ROOT, volumes_of_vm
from ec2_api import tagging
from ec2_api.action import Action
from ec2_api.actions import instance_subnets as subnets
from ec2_api.actions.instance_views import InstanceRenderer
from ec2_api.call import Call
from ec2_api.errors import SERVER_ERROR, Ec2Error, invalid_value, missing_parameter
from translators import images
from translators import volumes as tv
from translators.ids import SECURITY_GROUP
from translators.instance_types import DEFAULT_INSTANCE_TYPE, load_catalogue

MAX_CLIENT_TOKEN = 64
GIB = 1024**3
# TagSpecifications a launch applies; network interfaces have no core resource to carry them.
TAGGED_AT_LAUNCH = ("instance", "volume")
IGNORED_TAG_TYPES = ("network-interface",)


def _counts(call: Call) -> tuple[int, int]:
    min_count, max_count = call.get("MinCount"), call.get("MaxCount")
    if min_count < 1:
        raise invalid_value(f"Invalid value '{min_count}' for minCount. Must be at least 1")
    if max_count < min_count:
        raise invalid_value(
            f"Invalid value '{max_count}' for maxCount. Must be at least minCount ({min_count})"
        )
    return min_count, max_count


def _too_few(error: errors.CloudgateError, launched: int, wanted: int, zone: Zone) -> Ec2Error:
    if isinstance(error, errors.LimitExceeded):
        return Ec2Error(
            "InstanceLimitExceeded",
            f"You have requested more instances ({wanted}) than your current instance limit "
            f"allows ({error.resource} limit {error.limit}; {launched} more would fit).",
        )
    return Ec2Error(
        "InsufficientInstanceCapacity",
        f"We currently do not have sufficient capacity in the Availability Zone you requested "
        f"({zone.name}): {launched} of the minimum {wanted} instances could be placed.",
        SERVER_ERROR,
    )


def _replay(call: Call, token: str, image_core_id: int | None) -> dict[str, Any] | None:
    """The reservation an earlier request with this ClientToken launched, if any."""
    earlier = vms.vms_by_launch_token(call.session, call.ctx, token)
    if not earlier:
        return None
    if image_core_id is not None and earlier[0].template_id != image_core_id:
        raise Ec2Error(
            "IdempotentParameterMismatch",
            f"Arguments on this idempotent request are inconsistent with arguments used in "
            f"previous request(s) with the client token '{token}'.",
        )
    return InstanceRenderer(call).prepare(earlier).reservation(earlier)


# the request's parts ----------------------------------------------------------------------


def _key_name(call: Call) -> str:
    """KeyName, checked to be one of the caller's key pairs (InvalidKeyPair.NotFound)."""
    name = call.get("KeyName") or ""
    if name:
        keypairs.get_keypair(call.session, call.ctx, name)
    return name


def group_not_found(name: str) -> Ec2Error:
    return Ec2Error("InvalidGroup.NotFound", f"The security group '{name}' does not exist")


def security_groups_named(call: Call, group_ids: list[str], names: list[str]) -> dict[str, str]:
    """Core uuid → the EC2 id or name the request used, for every group it names.

    Whose group it is is the core's check (resolve_for_deploy), reported by `groups_found`.
    """
    named: dict[str, str] = {}
    for group_id in group_ids:
        core_id = call.ids.decode(SECURITY_GROUP, group_id)
        group = call.session.get(SecurityGroup, core_id) if core_id is not None else None
        if group is None:
            raise group_not_found(group_id)
        named[group.uuid] = group_id
    for name in names:
        try:
            named[get_security_group(call.session, call.ctx, name=name).uuid] = name
        except errors.NotFound:
            raise group_not_found(name) from None
    return named


def _bad_mapping(message: str) -> Ec2Error:
    return Ec2Error("InvalidBlockDeviceMapping", message)


@dataclass(frozen=True, slots=True)
class Disks:
    """What BlockDeviceMappings ask for: the root disk's size and data disks, and per data
    disk's device id the EC2 details its volume keeps (device name, volume type)."""

    root_size_gb: int | None = None
    data: tuple[vms.DataDisk, ...] = ()
    details: dict[int, dict[str, str]] = field(default_factory=dict)


def _block_devices(call: Call, zone: Zone) -> Disks:
    disks = Disks()
    for mapping in call.get("BlockDeviceMappings") or ():
        name = mapping.get("DeviceName")
        if not name:
            raise missing_parameter("BlockDeviceMapping.DeviceName")
        ebs = mapping.get("Ebs")
        if ebs is None or "NoDevice" in mapping or mapping.get("VirtualName"):
            continue  # instance-store and suppressed devices: there is no instance store
        device = tv.parse_device(name, strict=False)
        if device is None:
            raise _bad_mapping(f"Invalid device name {name}")
        if device == 0:
            disks = replace(disks, root_size_gb=ebs.get("VolumeSize"))
            continue
        if device in disks.details:
            raise _bad_mapping(f"The device name '{name}' is used more than once")
        if ebs.get("SnapshotId"):
            raise _bad_mapping("Volumes from snapshots cannot be created at launch")
        if ebs.get("VolumeSize") is None:
            raise missing_parameter("size or snapshotId")
        volume_type = ebs.get("VolumeType") or tv.DEFAULT_VOLUME_TYPE
        disk = vms.DataDisk(
            offering=tv.disk_offering_for(call.session, call.ctx, volume_type, zone.id),
            size_gb=ebs["VolumeSize"],
            device_id=device,
            delete_on_termination=ebs.get("DeleteOnTermination", True),
        )
        disks.details[device] = {tv.DEVICE_DETAIL: name, tv.TYPE_DETAIL: volume_type}
        disks = replace(disks, data=(*disks.data, disk))
    return disks


def _launch_tags(call: Call) -> dict[str, dict[str, str]]:
    """TagSpecifications by resource type (instance, volume)."""
    found: dict[str, dict[str, str]] = {kind: {} for kind in TAGGED_AT_LAUNCH}
    for spec in call.get("TagSpecifications") or ():
        kind = spec.get("ResourceType")
        if kind in IGNORED_TAG_TYPES:
            continue
        if kind not in found:
            raise invalid_value(
                f"'{kind}' is not a valid taggable resource type for this operation."
            )
        found[kind].update(tagging.requested_tags(spec.get("Tags")))
    return found


def _finish_launched(
    call: Call, launched: list[VirtualMachine], tags: dict[str, dict[str, str]], disks: Disks
) -> None:
    """Tags on the instances and all their volumes; the data disks' EC2 details."""
    tagging.tag_new(call, "instance", [vm.uuid for vm in launched], tags["instance"])
    volumes = [v for vm in launched for v in volumes_of_vm(call.session, vm.id)]
    tagging.tag_new(call, "volume", [v.uuid for v in volumes], tags["volume"])
    for volume in volumes:
        details = disks.details.get(volume.device_id or 0) if volume.volume_type != ROOT else None
        if details:
            resource_details.set_details(call.session, VOLUME_DETAILS, volume.id, details)


@contextmanager
def groups_found(groups: dict[str, str]) -> Iterator[None]:
    """A group the core did not find for the caller, by the name the request gave it."""
    try:
        yield
    except errors.NotFound as error:
        if error.kind != "security group":
            raise
        raise group_not_found(groups.get(str(error.ident), str(error.ident))) from None


@contextmanager
def _launching(groups: dict[str, str], template: Template) -> Iterator[None]:
    """The core's refusals of a deploy, in RunInstances' words."""
    try:
        with groups_found(groups):
            yield
    except nets.AddressInUse as error:
        raise Ec2Error("InvalidIPAddress.InUse", f"Address {error.address} is in use.") from None
    except errors.InvalidParameter as error:
        if error.parameter != "rootdisksize":
            raise
        least = -(-template.size_bytes // GIB)
        raise _bad_mapping(
            f"Volume of size smaller than the image's root volume, expect size >= {least}GB"
        ) from None


# RunInstances -----------------------------------------------------------------------------


def _spec(
    call: Call, template: Template, zone: Zone, token: str | None, disks: Disks, groups: list[str]
) -> vms.DeploySpec:
    """Everything every instance of the request shares (but its network, `_launch`)."""
    offering = load_catalogue(call.session).offering_for(
        call.get("InstanceType") or DEFAULT_INSTANCE_TYPE
    )
    return vms.DeploySpec(
        zone=zone,
        service_offering=offering,
        template=template,
        user_data=vms.decode_user_data(call.get("UserData")),
        keypair=_key_name(call),
        root_disk_size_gb=disks.root_size_gb,
        data_disks=disks.data,
        security_group_ids=tuple(groups),
        launch_group=new_uuid(),
        launch_token=token,
        disable_api_termination=bool(call.get("DisableApiTermination")),
        disable_api_stop=bool(call.get("DisableApiStop")),
        shutdown_behavior=call.get("InstanceInitiatedShutdownBehavior") or "stop",
    )


def run_instances(call: Call) -> dict[str, Any]:
    session, ctx = call.session, call.ctx
    ami_id = call.get("ImageId")
    if not ami_id:
        raise missing_parameter("ImageId")
    image_core_id = images.template_id(call.ids, ami_id)
    token = call.get("ClientToken") or None
    if token is not None:
        if len(token) > MAX_CLIENT_TOKEN:
            raise invalid_value(f"Invalid value for ClientToken: longer than {MAX_CLIENT_TOKEN}")
        replayed = _replay(call, token, image_core_id)
        if replayed is not None:
            return replayed
    min_count, max_count = _counts(call)
    template = template_for_launch(session, ctx, ident=image_core_id)
    interface = subnets.requested_interface(call)
    zone, subnet = subnets.launch_placement(call, interface)
    groups = security_groups_named(
        call,
        list(interface.group_ids) or call.get("SecurityGroupIds") or [],
        call.get("SecurityGroups") or [],
    )
    tags = _launch_tags(call)
    disks = _block_devices(call, zone)
    spec = replace(
        _spec(call, template, zone, token, disks, list(groups)),
        network_id=subnet.id,
        ip_address=interface.private_ip,
    )
    launched: list[VirtualMachine] = []
    for index in range(max_count):
        try:
            # A savepoint per instance: one that does not fit leaves nothing behind, while
            # the ones before it stay in the request's transaction.
            with session.begin_nested(), _launching(groups, template):
                vm, _ = vms.deploy_vm(session, ctx, replace(spec, launch_index=index))
        except (errors.LimitExceeded, errors.InsufficientCapacity) as error:
            if len(launched) < min_count:
                raise _too_few(error, len(launched), min_count, zone) from None
            break
        launched.append(vm)
    _finish_launched(call, launched, tags, disks)
    return InstanceRenderer(call).prepare(launched).reservation(launched)


ACTIONS = (
    Action(
        "RunInstances",
        run_instances,
        writes=True,
        notes="ClientToken idempotent; MinCount all-or-nothing; extra EBS mappings become data "
        "disks of the disk offering their VolumeType stands for (Iops, Throughput, Encrypted "
        "ignored; no SnapshotId); instance-store mappings are ignored; the root disk is always "
        "deleted on termination; InstanceInitiatedShutdownBehavior is kept, not acted on (no "
        "guest-initiated shutdown is detected); into SubnetId or one NetworkInterfaces entry "
        "(device index 0: SubnetId, Groups, PrivateIpAddress), else the default subnet of the "
        "zone; no secondary addresses, no existing ENIs; AssociatePublicIpAddress is ignored "
        "(public addresses are Elastic IPs)",
    ),
)
