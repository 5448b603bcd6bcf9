"""Making images: CreateImage, RegisterImage and CopyImage.

Each answers at once with the new AMI id; the image is `pending` until the core's job has
written it to secondary storage, then `available` (`failed` if the job failed), so boto3's
`image_available` waiter works. The sources (core.template_sources):
- CreateImage: the instance's ROOT volume, of a stopped or a running instance (a running
  one's is copied as it is, crash-consistent; unless NoReboot, the instance is rebooted as
  on AWS — the core queues the reboot with the copy, which does not wait for it).
- RegisterImage: a snapshot (BlockDeviceMappings' Ebs.SnapshotId for the root device), or an
  object in cloudgate's S3 (`ImageLocation` = `bucket/key`, a bucket the caller may read).
- CopyImage: a new image of the caller's from one it may launch (the one region only), into
  `DestinationAvailabilityZone` or the zone that holds the source.
"""

from __future__ import annotations

import re
from typing import Any

from core import errors
from core.infra import list_zones
from core.template_sources import (
    copy_as_new_template,
    template_from_object,
    template_from_snapshot,
    template_from_vm,
)
from core.templates import Template, list_template_rows
from ec2_api import tagging
from ec2_api.action import Action
from ec2_api.actions.images import IMAGE, template_of
from ec2_api.actions.instance_views import RUNNING, STOPPED, InstanceRenderer
from ec2_api.actions.instances import vms_by_instance_ids
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from translators import images, zones
from translators.ids import SNAPSHOT

_NAME = re.compile(r"[a-zA-Z0-9()\[\] ./'@_-]{3,128}")


def _check_name(call: Call, name: str | None) -> str:
    """AWS's image name rules, and unique among the account's images."""
    if not name:
        raise missing_parameter("Name")
    if not _NAME.fullmatch(name):
        raise invalid_value(
            f"AMI names must be between 3 and 128 characters long, and may contain letters, "
            f"numbers, '(', ')', '.', '-', '/' and '_' ('{name}')"
        )
    own = list_template_rows(call.session, call.ctx, template_filter="self", name=name)
    if own:
        raise Ec2Error("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI "
                       f"{images.image_id(call.ids, own[0].template)}")  # fmt: skip
    return name


def _new_image_tags(call: Call) -> dict[str, str]:
    """TagSpecifications for the image; `snapshot` ones are accepted (no snapshot is made)."""
    tags: dict[str, str] = {}
    for spec in call.get("TagSpecifications") or ():
        resource_type = spec.get("ResourceType")
        if resource_type == IMAGE:
            tags.update(tagging.requested_tags(spec.get("Tags")))
        elif resource_type != "snapshot":
            raise invalid_value(
                f"'{resource_type}' is not a valid taggable resource type for this operation."
            )
    return tags


def _answer(call: Call, template: Template, tags: dict[str, str]) -> dict[str, Any]:
    tagging.tag_new(call, IMAGE, [template.uuid], tags)
    return {"ImageId": images.image_id(call.ids, template)}


# CreateImage -------------------------------------------------------------------------------


def _not_imageable(instance_id: str) -> Ec2Error:
    return Ec2Error(
        "IncorrectInstanceState",
        f"The instance '{instance_id}' is not in a state from which an image can be created "
        "(running or stopped).",
    )


def create_image(call: Call) -> dict[str, Any]:
    instance_id = call.get("InstanceId")
    [(_, vm)] = vms_by_instance_ids(call, [instance_id])
    name = _check_name(call, call.get("Name"))
    tags = _new_image_tags(call)
    if InstanceRenderer(call).prepare([vm]).state(vm) not in (RUNNING, STOPPED):
        raise _not_imageable(instance_id)  # e.g. shutting-down: its VM still runs
    try:
        template, _job = template_from_vm(
            call.session,
            call.ctx,
            vm,
            name=name,
            display_text=call.get("Description") or "",
            allow_running=True,
            reboot=not call.get("NoReboot"),
        )
    except errors.InvalidState:
        raise _not_imageable(instance_id) from None
    return _answer(call, template, tags)


# RegisterImage -----------------------------------------------------------------------------


def _root_snapshot(call: Call) -> str | None:
    """The snapshot id of the root device's mapping (or of the only mapping with one)."""
    mappings = [m for m in call.get("BlockDeviceMappings") or () if (m.get("Ebs") or {})]
    root = call.get("RootDeviceName")
    for mapping in mappings:
        if root is None or mapping.get("DeviceName") == root:
            snapshot_id = mapping["Ebs"].get("SnapshotId")
            if snapshot_id:
                return str(snapshot_id)
    if mappings:
        raise invalid_value("The root device mapping must name an EBS snapshot (SnapshotId)")
    return None


def register_image(call: Call) -> dict[str, Any]:
    name = _check_name(call, call.get("Name"))
    tags = _new_image_tags(call)
    description = call.get("Description") or ""
    snapshot_id = _root_snapshot(call)
    location = call.get("ImageLocation")
    if snapshot_id:
        core_id = call.ids.decode(SNAPSHOT, snapshot_id)
        if core_id is None:
            raise Ec2Error(
                "InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist."
            )
        template, _job = template_from_snapshot(
            call.session, call.ctx, core_id, name=name, display_text=description
        )
    elif location:
        bucket, _, key = location.lstrip("/").partition("/")
        template, _job = template_from_object(
            call.session,
            call.ctx,
            call.runtime.object_store,
            bucket=bucket,
            key=key,
            name=name,
            display_text=description,
            zone=zones.default_zone(call.session),
        )
    else:
        raise missing_parameter("ImageLocation")
    return _answer(call, template, tags)


# CopyImage ---------------------------------------------------------------------------------


def _destination_zones(call: Call) -> list[int] | None:
    name, zone_id = (
        call.get("DestinationAvailabilityZone"),
        call.get("DestinationAvailabilityZoneId"),
    )
    if name:
        return [zones.zone_by_name(call.session, name).id]
    if zone_id:
        for zone in list_zones(call.session):
            if zones.zone_id(call.region, zone) == zone_id:
                return [zone.id]
        raise invalid_value(f"Invalid availability zone: [{zone_id}]")
    return None


def copy_image(call: Call) -> dict[str, Any]:
    region = call.get("SourceRegion")
    if region != call.region:
        raise invalid_value(f"Invalid region: {region}")
    source = template_of(call, call.get("SourceImageId"))
    name = _check_name(call, call.get("Name"))
    tags = _new_image_tags(call)
    if call.get("CopyImageTags"):
        inherited = tagging.tags_by_id(call, IMAGE, [source.id]).get(source.id, [])
        tags = {**{tag["Key"]: tag["Value"] for tag in inherited}, **tags}
    template, _jobs = copy_as_new_template(
        call.session,
        call.ctx,
        source,
        name=name,
        display_text=call.get("Description") or source.display_text,
        zone_ids=_destination_zones(call),
    )
    return _answer(call, template, tags)


ACTIONS = (
    Action(
        "CreateImage",
        create_image,
        writes=True,
        notes="a template of the instance's ROOT volume, running or stopped; a running "
        "instance's is a crash-consistent copy, and without NoReboot a reboot is queued with "
        "the copy (the copy does not wait for it); extra volumes are not imaged; `snapshot` "
        "TagSpecifications are ignored",
    ),
    Action(
        "RegisterImage",
        register_image,
        writes=True,
        notes="from a snapshot (root BlockDeviceMapping Ebs.SnapshotId) or from an object "
        "of cloudgate's S3 (`ImageLocation` `bucket/key`), registered in the default zone",
    ),
    Action(
        "CopyImage",
        copy_image,
        writes=True,
        notes="within the one region: a new template of the caller's, in "
        "DestinationAvailabilityZone or the source's zone; ClientToken is not remembered",
    ),
)
