"""EBS volumes: Create/Attach/Detach/Delete/Describe/ModifyVolume, DescribeVolumeStatus,
DescribeVolumesModifications and DescribeVolumeAttribute, over the core's volumes.

An EBS volume *is* a core data volume (root disks are listed too, attached at /dev/sda1);
every rule — limits, pool capacity, which state allows what — is the core's. This module
turns requests into core calls and tells the core's refusals in EC2's words and codes. What
EC2 needs given back exactly (the volume type asked for, Iops, the device name, the
ClientToken) is kept as resource details.
"""

from __future__ import annotations

from typing import Any

from core import errors, resource_details
from core import volumes as core_volumes
from core.infra import Zone
from core.snapshots import Snapshot
from core.snapshots import create_volume_from_snapshot as core_from_snapshot
from core.vms.models import VirtualMachine
from core.volumes import Volume
from ec2_api import tagging
from ec2_api.action import Action
from ec2_api.actions.instances import vms_by_instance_ids
from ec2_api.actions.snapshot_views import snapshots_by_ids
from ec2_api.actions.volume_views import (
    DETAIL_TYPE,
    VOLUME_FILTERS,
    VolumeRenderer,
    own_volumes,
    paged,
    volume_errors,
    volume_param,
    volumes_by_ids,
)
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from translators import volumes as tv
from translators import zones
from translators.filters import FilterSet, parse_filters
from translators.ids import VOLUME

MAX_CLIENT_TOKEN = 64
MAX_VOLUME_RESULTS = 500


def _instance(call: Call) -> VirtualMachine:
    instance_id = call.get("InstanceId")
    if not instance_id:
        raise missing_parameter("InstanceId")
    return vms_by_instance_ids(call, [instance_id])[0][1]


# CreateVolume --------------------------------------------------------------------------------


def _zone(call: Call) -> Zone:
    name, zone_id = call.get("AvailabilityZone"), call.get("AvailabilityZoneId")
    if name:
        return zones.zone_by_name(call.session, name)
    if zone_id:
        return zones.zone_by_zone_id(call.session, call.region, zone_id)
    raise missing_parameter("AvailabilityZone")


def _replay(call: Call, token: str) -> dict[str, Any] | None:
    """The volume an earlier CreateVolume with this ClientToken made, if any."""
    if len(token) > MAX_CLIENT_TOKEN:
        raise invalid_value(f"Invalid value for ClientToken: longer than {MAX_CLIENT_TOKEN}")
    earlier = set(
        resource_details.resources_with(call.session, DETAIL_TYPE, tv.TOKEN_DETAIL, token)
    )
    found = [volume for volume in own_volumes(call) if volume.id in earlier]
    if not found:
        return None
    volume = found[0]
    size = call.get("Size")
    if size is not None and size != volume.size_gb:
        raise Ec2Error(
            "IdempotentParameterMismatch",
            f"Arguments on this idempotent request are inconsistent with arguments used in "
            f"previous request(s) with the client token '{token}'.",
        )
    return VolumeRenderer(call).prepare([volume]).volume(volume)


def _from_snapshot(call: Call, zone: Zone, size: int | None) -> Volume:
    snapshot: Snapshot = snapshots_by_ids(call, [call.get("SnapshotId")])[0]
    if tv.snapshot_state(snapshot.state) != "completed":
        raise Ec2Error(
            "IncorrectState", f"Snapshot '{call.get('SnapshotId')}' is not 'completed' yet."
        )
    if size is not None and size < snapshot.size_gb:
        raise invalid_value(f"Volume of {size}GiB is too small; minimum is {snapshot.size_gb}GiB.")
    if size is not None and size > snapshot.size_gb:
        raise invalid_value(
            f"A volume created from a snapshot has the snapshot's size ({snapshot.size_gb}GiB); "
            "grow it afterwards with ModifyVolume."
        )
    if snapshot.zone_id != zone.id:
        raise invalid_value(
            f"Snapshot '{call.get('SnapshotId')}' is held in another availability zone; "
            "volumes can be created from it only in that zone."
        )
    volume, _ = core_from_snapshot(call.session, call.ctx, snapshot)
    return volume


def create_volume(call: Call) -> dict[str, Any]:
    token = call.get("ClientToken") or None
    if token is not None and (replayed := _replay(call, token)) is not None:
        return replayed
    zone = _zone(call)
    volume_type = tv.check_volume_type(call.get("VolumeType") or tv.DEFAULT_VOLUME_TYPE)
    if volume_type in ("io1", "io2") and call.get("Iops") is None:
        raise missing_parameter("iops")
    performance = tv.requested_performance(volume_type, call.get("Iops"), call.get("Throughput"))
    if call.get("Encrypted") or call.get("MultiAttachEnabled"):
        raise Ec2Error(
            "UnsupportedOperation", "Encrypted and multi-attach volumes are not supported."
        )
    tags = tagging.specified_tags(call, "volume")
    size = call.get("Size")
    with volume_errors(""):
        if call.get("SnapshotId"):
            volume = _from_snapshot(call, zone, size)
        elif size is None:
            raise missing_parameter("size or snapshotId")
        else:
            tv.check_size(volume_type, size)
            offering = tv.disk_offering_for(call.session, call.ctx, volume_type, zone.id)
            volume = core_volumes.create_data_volume(
                call.session, call.ctx, zone_id=zone.id, disk_offering=offering, size_gb=size
            )
            core_volumes.request_create(call.session, call.ctx, volume)
    details = {
        tv.TYPE_DETAIL: volume_type,
        tv.IOPS_DETAIL: str(performance.iops) if performance.iops is not None else None,
        tv.THROUGHPUT_DETAIL: (
            str(performance.throughput) if performance.throughput is not None else None
        ),
        tv.TOKEN_DETAIL: token,
    }
    resource_details.set_details(call.session, DETAIL_TYPE, volume.id, details)
    tagging.tag_new(call, "volume", [volume.uuid], tags)
    return VolumeRenderer(call).prepare([volume]).volume(volume)


# Attach / Detach / Delete --------------------------------------------------------------------


def _check_attach(call: Call, volume: Volume, vm: VirtualMachine, device_id: int) -> None:
    """AWS's reasons to refuse, told before the core (which checks the same) says it less so."""
    volume_id, instance_id = call.get("VolumeId"), call.get("InstanceId")
    if volume.vm_id is not None:
        raise Ec2Error("VolumeInUse", f"{volume_id} is already attached to an instance")
    if volume.zone_id != vm.zone_id:
        raise Ec2Error(
            "InvalidVolume.ZoneMismatch",
            f"The volume '{volume_id}' is not in the same availability zone as instance "
            f"'{instance_id}'",
        )
    if vm.state not in ("Running", "Stopped"):
        raise Ec2Error("IncorrectState", f"Instance '{instance_id}' is not 'running' or 'stopped'.")
    used = {v.device_id for v in core_volumes.volumes_of_vm(call.session, vm.id)}
    if device_id in used:
        device = call.get("Device")
        raise invalid_value(
            f"Invalid value '{device}' for unixDevice. Attachment point {device} is already in use"
        )


def attach_volume(call: Call) -> dict[str, Any]:
    volume, vm = volume_param(call), _instance(call)
    device = call.get("Device")
    device_id = tv.parse_device(device)
    assert device_id is not None
    _check_attach(call, volume, vm, device_id)
    renderer = VolumeRenderer(call).prepare([volume])
    if renderer.state(volume) != "available":
        raise Ec2Error(
            "IncorrectState",
            f"Volume '{call.get('VolumeId')}' is in the '{renderer.state(volume)}' state.",
        )
    with volume_errors(call.get("VolumeId")):
        try:
            core_volumes.attach_volume(call.session, call.ctx, volume, vm, device_id=device_id)
        except errors.InvalidParameter as error:
            code = "AttachmentLimitExceeded" if error.parameter == "virtualmachineid" else None
            raise Ec2Error(code or "InvalidParameterValue", error.message) from None
    resource_details.set_details(call.session, DETAIL_TYPE, volume.id, {tv.DEVICE_DETAIL: device})
    return {
        "VolumeId": call.get("VolumeId"),
        "InstanceId": call.get("InstanceId"),
        "Device": device,
        "State": "attaching",
        "AttachTime": volume.attached,
        "DeleteOnTermination": False,
    }


def _not_attached(call: Call, volume_id: str, state: str) -> Ec2Error:
    instance_id = call.get("InstanceId")
    if instance_id:
        return Ec2Error(
            "InvalidAttachment.NotFound",
            f"Volume '{volume_id}' is not attached to instance '{instance_id}'.",
        )
    return Ec2Error("IncorrectState", f"Volume '{volume_id}' is in the '{state}' state.")


def detach_volume(call: Call) -> dict[str, Any]:
    volume, volume_id = volume_param(call), call.get("VolumeId")
    renderer = VolumeRenderer(call).prepare([volume])
    attachment = next(iter(renderer.attachments(volume)), None)
    if call.get("InstanceId"):
        _instance(call)  # InvalidInstanceID.NotFound first, as AWS checks
    if attachment is None or attachment["State"] == "detaching":
        raise _not_attached(call, volume_id, renderer.state(volume))
    if call.get("InstanceId") not in (None, attachment["InstanceId"]) or (
        call.get("Device") not in (None, attachment["Device"])
    ):
        raise _not_attached(call, volume_id, "in-use")
    if volume.volume_type == core_volumes.ROOT:
        raise Ec2Error(
            "OperationNotPermitted",
            f"The volume '{volume_id}' is the root device of instance "
            f"'{attachment['InstanceId']}' and cannot be detached.",
        )
    with volume_errors(volume_id):
        core_volumes.detach_volume(call.session, call.ctx, volume)
    return {**attachment, "State": "detaching"}


def delete_volume(call: Call) -> None:
    volume, volume_id = volume_param(call), call.get("VolumeId")
    renderer = VolumeRenderer(call).prepare([volume])
    attachment = next(iter(renderer.attachments(volume)), None)
    if attachment is not None:
        raise Ec2Error(
            "VolumeInUse",
            f"Volume {volume_id} is currently attached to {attachment['InstanceId']}",
        )
    with volume_errors(volume_id):
        core_volumes.delete_volume(call.session, call.ctx, volume)


# DescribeVolumes, DescribeVolumeStatus, DescribeVolumeAttribute ----------------------------


def _selected(call: Call) -> list[Volume]:
    """The volumes asked for: by id (then not paged, as AWS refuses that), or all own."""
    volume_ids = call.get("VolumeIds")
    if volume_ids and call.get("MaxResults") is not None:
        raise Ec2Error(
            "InvalidParameterCombination",
            "The parameter volumeSet cannot be used with the parameter maxResults",
        )
    return volumes_by_ids(call, volume_ids) if volume_ids else own_volumes(call)


def describe_volumes(call: Call) -> dict[str, Any]:
    volumes = _selected(call)
    renderer = VolumeRenderer(call).prepare(volumes)
    views = VOLUME_FILTERS.select(
        [renderer.volume(v) for v in volumes], parse_filters(call.get("Filters"))
    )
    return paged(call, views, "Volumes", MAX_VOLUME_RESULTS)


def _status(renderer: VolumeRenderer, volume: Volume) -> dict[str, Any]:
    zone = renderer.volume(volume)["AvailabilityZone"]
    impaired = renderer.state(volume) == "error"
    return {
        "VolumeId": renderer.call.ids.encode(VOLUME, volume.id),
        "AvailabilityZone": zone,
        "VolumeStatus": {
            "Status": "impaired" if impaired else "ok",
            "Details": [
                {"Name": "io-enabled", "Status": "failed" if impaired else "passed"},
                {"Name": "io-performance", "Status": "not-applicable"},
            ],
        },
        "Actions": [],
        "Events": [],
        "AttachmentStatuses": [
            {"InstanceId": a["InstanceId"], "IoPerformance": "not-applicable"}
            for a in renderer.attachments(volume)
        ],
    }


STATUS_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "volume-id": lambda s: s["VolumeId"],
        "availability-zone": lambda s: s["AvailabilityZone"],
        "volume-status.status": lambda s: s["VolumeStatus"]["Status"],
        "volume-status.details-name": lambda s: [d["Name"] for d in s["VolumeStatus"]["Details"]],
        "volume-status.details-status": lambda s: [
            d["Status"] for d in s["VolumeStatus"]["Details"]
        ],
        **{
            name: lambda s: []
            for name in (
                "action.code",
                "action.description",
                "action.event-id",
                "event.description",
                "event.event-id",
                "event.event-type",
                "event.not-after",
                "event.not-before",
            )
        },
    }
)


def describe_volume_status(call: Call) -> dict[str, Any]:
    volumes = _selected(call)
    renderer = VolumeRenderer(call).prepare(volumes)
    statuses = STATUS_FILTERS.select(
        [_status(renderer, v) for v in volumes], parse_filters(call.get("Filters"))
    )
    return paged(call, statuses, "VolumeStatuses")


def describe_volume_attribute(call: Call) -> dict[str, Any]:
    volume_id, attribute = call.get("VolumeId"), call.get("Attribute")
    volume_param(call)
    if attribute == "autoEnableIO":
        return {"VolumeId": volume_id, "AutoEnableIO": {"Value": False}}
    if attribute == "productCodes":
        return {"VolumeId": volume_id, "ProductCodes": []}
    raise invalid_value(f"Value ({attribute}) for parameter attribute is invalid.")


ACTIONS = (
    Action(
        "CreateVolume",
        create_volume,
        writes=True,
        notes="every VolumeType is a size-customizable disk offering (one named like the type, "
        "else `Custom`); Iops/Throughput echoed, not enforced; from a snapshot: same zone and "
        "size only; no encryption or multi-attach",
    ),
    Action(
        "AttachVolume",
        attach_volume,
        writes=True,
        notes="device /dev/sdX (xvdX, vdX) is core device id X-'a'; /dev/sdd is the CD-ROM slot",
    ),
    Action(
        "DetachVolume",
        detach_volume,
        writes=True,
        notes="Force is accepted and changes nothing; root volumes cannot be detached",
    ),
    Action("DeleteVolume", delete_volume, writes=True),
    Action("DescribeVolumes", describe_volumes, notes="root disks are listed as volumes"),
    Action("DescribeVolumeStatus", describe_volume_status, notes="no scheduled events"),
    Action("DescribeVolumeAttribute", describe_volume_attribute),
)
