"""EBS snapshots: Create/Delete/Describe/CopySnapshot and DescribeSnapshotAttribute, over the
core's volume snapshots.

A snapshot of a volume that was never attached first puts the volume on primary storage
(core.detached_volumes): EC2 volumes exist from creation on, CloudStack's only once attached.
The core has no snapshot sharing, so every snapshot is private to its account:
DescribeSnapshotAttribute shows no createVolumePermission and ModifySnapshotAttribute is not
offered.
"""

from __future__ import annotations

from typing import Any

from core import resource_details
from core import snapshots as core_snapshots
from core.detached_volumes import ensure_on_primary
from core.snapshot_copies import copy_snapshot as core_copy
from ec2_api import tagging
from ec2_api.action import Action
from ec2_api.actions.snapshot_views import (
    DETAIL_TYPE,
    SNAPSHOT_FILTERS,
    SnapshotRenderer,
    own_snapshots,
    snapshots_by_ids,
)
from ec2_api.actions.volume_views import paged, volume_errors, volume_param
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from translators import volumes as tv
from translators.filters import parse_filters

MAX_DESCRIPTION = 255
SNAPSHOT_LIMIT = "SnapshotLimitExceeded"


def _description(call: Call) -> str | None:
    description = call.get("Description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise invalid_value(f"Description is longer than {MAX_DESCRIPTION} characters.")
    return description or None


def _snapshot_param(call: Call, name: str = "SnapshotId") -> core_snapshots.Snapshot:
    snapshot_id = call.get(name)
    if not snapshot_id:
        raise missing_parameter(name)
    return snapshots_by_ids(call, [snapshot_id])[0]


def create_snapshot(call: Call) -> dict[str, Any]:
    volume = volume_param(call)
    description = _description(call)
    tags = tagging.specified_tags(call, "snapshot")
    with volume_errors(call.get("VolumeId"), SNAPSHOT_LIMIT):
        ensure_on_primary(call.session, volume)
        snapshot, _ = core_snapshots.create_snapshot(call.session, call.ctx, volume)
    details = {tv.DESCRIPTION_DETAIL: description}
    resource_details.set_details(call.session, DETAIL_TYPE, snapshot.id, details)
    tagging.tag_new(call, "snapshot", [snapshot.uuid], tags)
    return SnapshotRenderer(call).prepare([snapshot]).snapshot(snapshot)


def delete_snapshot(call: Call) -> None:
    snapshot = _snapshot_param(call)
    if tv.snapshot_state(snapshot.state) == "pending":
        raise Ec2Error(
            "IncorrectState",
            f"Snapshot '{call.get('SnapshotId')}' is in the 'pending' state; wait until it is "
            "completed.",
        )
    core_snapshots.delete_snapshot(call.session, call.ctx, snapshot)


def _owned_by(call: Call, owners: list[str]) -> bool:
    """Whether the caller's own snapshots are among `owners` (self, or its account number)."""
    own_number = call.ids.account_number(call.ctx.account_id)
    return any(owner in ("self", own_number) for owner in owners)


def describe_snapshots(call: Call) -> dict[str, Any]:
    snapshot_ids = call.get("SnapshotIds")
    snapshots = snapshots_by_ids(call, snapshot_ids) if snapshot_ids else own_snapshots(call)
    owners, restorable = call.get("OwnerIds"), call.get("RestorableByUserIds")
    if owners and not _owned_by(call, owners):
        snapshots = []  # only one's own snapshots exist for a caller: no sharing in the core
    if restorable and not _owned_by(call, restorable):
        snapshots = []
    renderer = SnapshotRenderer(call).prepare(snapshots)
    views = SNAPSHOT_FILTERS.select(
        [renderer.snapshot(s) for s in snapshots], parse_filters(call.get("Filters"))
    )
    return paged(call, views, "Snapshots")


def copy_snapshot(call: Call) -> dict[str, Any]:
    source_region = call.get("SourceRegion")
    if source_region != call.region:
        raise invalid_value(
            f"Invalid value '{source_region}' for SourceRegion: snapshots can be copied within "
            f"region {call.region} only."
        )
    if call.get("Encrypted"):
        raise Ec2Error("UnsupportedOperation", "Encrypted snapshots are not supported.")
    source = _snapshot_param(call, "SourceSnapshotId")
    description = _description(call)
    tags = tagging.specified_tags(call, "snapshot")
    with volume_errors(call.get("SourceSnapshotId"), SNAPSHOT_LIMIT):
        copy, _ = core_copy(call.session, call.ctx, source)
    resource_details.set_details(
        call.session, DETAIL_TYPE, copy.id, {tv.DESCRIPTION_DETAIL: description}
    )
    tagging.tag_new(call, "snapshot", [copy.uuid], tags)
    rendered = SnapshotRenderer(call).prepare([copy]).snapshot(copy)
    return {"SnapshotId": rendered["SnapshotId"], "Tags": rendered["Tags"]}


def describe_snapshot_attribute(call: Call) -> dict[str, Any]:
    snapshot_id, attribute = call.get("SnapshotId"), call.get("Attribute")
    _snapshot_param(call)
    if attribute == "createVolumePermission":
        return {"SnapshotId": snapshot_id, "CreateVolumePermissions": []}
    if attribute == "productCodes":
        return {"SnapshotId": snapshot_id, "ProductCodes": []}
    raise invalid_value(f"Value ({attribute}) for parameter attribute is invalid.")


ACTIONS = (
    Action(
        "CreateSnapshot",
        create_snapshot,
        writes=True,
        notes="a never-attached volume is first placed on primary storage",
    ),
    Action(
        "DeleteSnapshot",
        delete_snapshot,
        writes=True,
        notes="a pending snapshot cannot be deleted yet; InvalidSnapshot.InUse is never "
        "raised (the core does not record which images came from a snapshot)",
    ),
    Action(
        "DescribeSnapshots",
        describe_snapshots,
        notes="only the caller's own snapshots exist (no public or shared snapshots)",
    ),
    Action(
        "CopySnapshot",
        copy_snapshot,
        writes=True,
        notes="within the one region only; the copy is in the source's zone",
    ),
    Action(
        "DescribeSnapshotAttribute",
        describe_snapshot_attribute,
        notes="no sharing: createVolumePermission is always empty",
    ),
)
