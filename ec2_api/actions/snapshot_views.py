"""How core snapshots look as EBS snapshots, and finding the caller's snapshots by id.

A snapshot is pending until the core has backed it up (BackedUp → completed, Progress 100%);
one being deleted is gone at once, as on AWS. Its description is kept as a detail.
"""

from __future__ import annotations

from typing import Any

from core import resource_details
from core.snapshots import INSTANCE_TYPE, Snapshot, list_snapshots
from core.visibility import ListScope
from ec2_api import tagging
from ec2_api.actions.volume_views import pick_by_ids
from ec2_api.call import Call
from translators import volumes as tv
from translators.filters import FilterSet
from translators.ids import SNAPSHOT, VOLUME

DETAIL_TYPE = INSTANCE_TYPE


def own_snapshots(call: Call) -> list[Snapshot]:
    """The caller's own snapshots, oldest first, without those being deleted."""
    rows, _ = list_snapshots(call.session, call.ctx, ListScope())
    shown = [s for s in rows if s.state not in tv.HIDDEN_SNAPSHOT_STATES]
    return sorted(shown, key=lambda s: s.id)


def snapshots_by_ids(call: Call, snapshot_ids: list[str]) -> list[Snapshot]:
    """The caller's snapshots with these ids, in order; InvalidSnapshot* if any is not theirs."""
    return pick_by_ids(call, SNAPSHOT, "snapshot", snapshot_ids, own_snapshots(call))


class SnapshotRenderer:
    """Turns snapshots into EC2 Snapshot structures (details and tags in bulk)."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self._details: dict[int, dict[str, str]] = {}
        self._tags: dict[int, list[dict[str, str]]] = {}

    def prepare(self, rows: list[Snapshot]) -> SnapshotRenderer:
        ids = [s.id for s in rows]
        self._details = resource_details.details_of(self.call.session, DETAIL_TYPE, ids)
        self._tags = tagging.tags_by_id(self.call, "snapshot", ids)
        return self

    def snapshot(self, snapshot: Snapshot) -> dict[str, Any]:
        """DescribeSnapshots' Snapshot (also CreateSnapshot's answer) for one snapshot."""
        ids, state = self.call.ids, tv.snapshot_state(snapshot.state)
        details = self._details.get(snapshot.id, {})
        return {
            "SnapshotId": ids.encode(SNAPSHOT, snapshot.id),
            "VolumeId": ids.encode(VOLUME, snapshot.volume_id),
            "State": state,
            "StartTime": snapshot.created,
            "Progress": "100%" if state == "completed" else "0%",
            "OwnerId": ids.account_number(snapshot.account_id),
            "Description": details.get(tv.DESCRIPTION_DETAIL, ""),
            "VolumeSize": snapshot.size_gb,
            "Encrypted": False,
            "StorageTier": "standard",
            "Tags": self._tags.get(snapshot.id, []),
        }


def _timestamp(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


SNAPSHOT_FILTERS: FilterSet[dict[str, Any]] = tagging.filter_set(
    {
        "snapshot-id": lambda s: s["SnapshotId"],
        "volume-id": lambda s: s["VolumeId"],
        "status": lambda s: s["State"],
        "progress": lambda s: s["Progress"],
        "owner-id": lambda s: s["OwnerId"],
        "owner-alias": lambda s: s.get("OwnerAlias"),
        "description": lambda s: s["Description"],
        "volume-size": lambda s: s["VolumeSize"],
        "start-time": lambda s: _timestamp(s["StartTime"]),
        "encrypted": lambda s: s["Encrypted"],
        "storage-tier": lambda s: s["StorageTier"],
    },
    lambda s: s["Tags"],
)
