"""Resource details, detached volumes on primary storage and snapshot copies, through the
core on both databases."""

from __future__ import annotations

import pytest

from core import resource_details, snapshots, volumes
from core.detached_volumes import ensure_on_primary
from core.errors import InvalidState
from core.jobs import SUCCEEDED
from core.limits import ResourceType
from core.snapshot_copies import copy_snapshot
from core.snapshots import SnapshotState
from core.volumes import VolumeState
from tests.core.conftest import CoreHarness
from tests.core.test_snapshots import snapshot_of, snapshot_row
from tests.core.test_volumes import new_volume, used, volume_row


def test_details_are_set_overwritten_removed_and_found(core: CoreHarness) -> None:
    with core.db.write() as session:
        resource_details.set_details(session, "Volume", 7, {"a": "1", "b": "2"})
        resource_details.set_details(session, "Volume", 8, {"a": "1"})
        resource_details.set_details(session, "Snapshot", 7, {"a": "other type"})
    with core.db.write() as session:
        resource_details.set_details(session, "Volume", 7, {"a": "3", "b": None})
    with core.db.read() as session:
        found = resource_details.details_of(session, "Volume", [7, 8, 9])
        assert found == {7: {"a": "3"}, 8: {"a": "1"}, 9: {}}
        assert resource_details.resources_with(session, "Volume", "a", "1") == [8]
        assert resource_details.resources_with(session, "Snapshot", "a", "1") == []


def test_a_never_attached_volume_can_be_snapshotted_once_on_primary(core: CoreHarness) -> None:
    ctx = core.new_tenant("detached")
    uuid = new_volume(core, ctx)
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, uuid)
        with pytest.raises(InvalidState):
            snapshots.create_snapshot(session, ctx, volume)
    with core.db.write() as session:
        ensure_on_primary(session, volumes.get_volume(session, ctx, uuid))
    row = volume_row(core, uuid)
    assert row.state == VolumeState.READY and row.pool_id is not None and row.vm_id is None
    snapshot_uuid = snapshot_of(core, ctx, uuid)
    assert snapshot_row(core, snapshot_uuid).state == SnapshotState.BACKED_UP


def test_a_copy_is_a_snapshot_of_its_own(core: CoreHarness) -> None:
    ctx = core.new_tenant("copier")
    uuid = new_volume(core, ctx)
    with core.db.write() as session:
        ensure_on_primary(session, volumes.get_volume(session, ctx, uuid))
    source_uuid = snapshot_of(core, ctx, uuid)
    with core.db.write() as session:
        source = snapshots.get_snapshot(session, ctx, source_uuid)
        copy, job = copy_snapshot(session, ctx, source)
        copy_uuid, job_uuid = copy.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert used(core, ctx, ResourceType.SNAPSHOT) == 2
    with core.db.write() as session:
        job_uuid = snapshots.delete_snapshot(
            session, ctx, snapshots.get_snapshot(session, ctx, source_uuid)
        ).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    copy_row = snapshot_row(core, copy_uuid)
    assert copy_row.state == SnapshotState.BACKED_UP and copy_row.removed is None
    assert copy_row.size_bytes == snapshot_row(core, source_uuid).size_bytes
    assert used(core, ctx, ResourceType.SNAPSHOT) == 1
    # the copy's content survives its source: a volume can still be made from it
    with core.db.write() as session:
        copy = snapshots.get_snapshot(session, ctx, copy_uuid)
        _, job = snapshots.create_volume_from_snapshot(session, ctx, copy)
        job_uuid = job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
