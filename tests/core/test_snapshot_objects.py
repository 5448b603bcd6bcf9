"""Snapshot backups are objects in secondary storage: written, read back, copied and deleted
through the core, on the local object store and on the Swift all-in-one (and each database).

The store is inspected directly (namespace = the system account's uuid, container
"secondary-storage", key = the snapshot's path), as the template tests inspect images.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from core import downloads, snapshots, volumes
from core.infra import Zone, add_storage_pool, create_cluster, create_pod, create_zone
from core.jobs import FAILED, SUCCEEDED, AsyncJob
from core.limits import ResourceType
from core.os_types import os_type_named, seed_os_types
from core.snapshot_copies import copy_snapshot
from core.snapshots import Snapshot, SnapshotState
from core.templates import Template, create_private_template, zone_refs
from core.volumes import GIB, VolumeState
from drivers.hypervisor.simulator import SNAPSHOT_IMAGE_FORMAT
from drivers.objectstore.base import NoSuchContainer, NoSuchObject, ObjectStore
from drivers.objectstore.local import LocalObjectStore
from tests.core.conftest import CoreHarness
from tests.core.test_snapshots import placed_volume, snapshot_job, snapshot_of, snapshot_row
from tests.core.test_volumes import used, volume_row
from tests.drivers.objectstore.conftest import _purge, swift_settings  # noqa: F401 (fixture)

CONTAINER = downloads.CONTAINER


@pytest.fixture(params=["local", pytest.param("swift", marks=pytest.mark.swift)])
def store(core: CoreHarness, request: pytest.FixtureRequest, tmp_path) -> Iterator[ObjectStore]:
    """The harness's secondary storage on each backend (Swift: the real all-in-one)."""
    if request.param == "local":
        core.runtime.object_store = LocalObjectStore(tmp_path / "objects")
        yield core.runtime.object_store
        return
    from drivers.objectstore.swift import SwiftObjectStore

    swift = SwiftObjectStore(**request.getfixturevalue("swift_settings"))
    core.runtime.object_store = swift
    try:
        yield swift
    finally:
        _purge(swift, space(core))  # a fresh system account per test: keep Swift small
        swift.close()


def space(core: CoreHarness) -> str:
    with core.db.read() as session:
        return downloads.namespace(session)


def stored(core: CoreHarness, store: ObjectStore, key: str) -> tuple[dict[str, str], bytes]:
    """(user metadata, content) of the object under `key` in secondary storage."""
    info, chunks = store.get_object(space(core), CONTAINER, key)
    return dict(info.metadata), b"".join(chunks)


def is_stored(core: CoreHarness, store: ObjectStore, key: str) -> bool:
    try:
        store.head_object(space(core), CONTAINER, key)
    except NoSuchObject:
        return False
    return True


def snapshot_keys(core: CoreHarness, store: ObjectStore) -> list[str]:
    try:
        listing = store.list_objects(space(core), CONTAINER, prefix="snapshots/")
    except NoSuchContainer:  # nothing was ever written
        return []
    return [entry.key for entry in listing.objects]


def test_backup_is_an_object_with_its_size_and_checksum(
    core: CoreHarness, store: ObjectStore
) -> None:
    ctx = core.new_tenant("obj-owner")
    _, volume_uuid = placed_volume(core, ctx, start=True)
    core.simulator.write_volume(volume_row(core, volume_uuid).path, "guest data")
    uuid = snapshot_of(core, ctx, volume_uuid)
    row = snapshot_row(core, uuid)
    assert row.path == f"snapshots/{ctx.account_id}/{row.volume_id}/{uuid}"
    metadata, body = stored(core, store, row.path)
    image = json.loads(body)
    assert image["format"] == SNAPSHOT_IMAGE_FORMAT and image["content"] == "guest data"
    assert image["size_bytes"] == 5 * GIB and metadata["snapshot-uuid"] == uuid
    # physicalsize is the object's size, the checksum its SHA-256; virtualsize the volume's
    assert row.physical_size_bytes == len(body) and row.size_bytes == 5 * GIB
    assert row.checksum == "{SHA-256}" + hashlib.sha256(body).hexdigest()
    assert not core.simulator.snapshot_exists(row.path)  # primary storage keeps no copy

    assert snapshot_job(core, ctx, snapshots.delete_snapshot, uuid) == SUCCEEDED
    assert not is_stored(core, store, row.path) and snapshot_keys(core, store) == []
    assert used(core, ctx, ResourceType.SECONDARY_STORAGE) == 0


def test_revert_and_new_volumes_read_the_object_back(core: CoreHarness, store: ObjectStore) -> None:
    ctx = core.new_tenant("obj-reader")
    _, volume_uuid = placed_volume(core, ctx)  # its VM is stopped
    path = volume_row(core, volume_uuid).path
    core.simulator.write_volume(path, "before")
    uuid = snapshot_of(core, ctx, volume_uuid)
    core.simulator.write_volume(path, "after")
    assert snapshot_job(core, ctx, snapshots.revert_snapshot, uuid) == SUCCEEDED
    assert core.simulator.volume_info(path)["content"] == "before"

    with core.db.write() as session:
        snapshot = snapshots.get_snapshot(session, ctx, uuid)
        volume, job = snapshots.create_volume_from_snapshot(session, ctx, snapshot)
        new_uuid, job_uuid = volume.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert core.simulator.volume_info(volume_row(core, new_uuid).path)["content"] == "before"

    # without its object the snapshot cannot be read back: the revert fails, nothing changes
    core.simulator.write_volume(path, "after")
    store.delete_object(space(core), CONTAINER, snapshot_row(core, uuid).path)
    with core.db.write() as session:
        job_uuid = snapshots.revert_snapshot(
            session, ctx, snapshots.get_snapshot(session, ctx, uuid)
        ).uuid
    job = core.wait(job_uuid)
    assert job.status == FAILED and "missing from secondary storage" in job.error_text
    assert core.simulator.volume_info(path)["content"] == "after"
    assert volume_row(core, volume_uuid).state == VolumeState.READY


def test_a_corrupted_backup_is_refused_on_read_back(core: CoreHarness, store: ObjectStore) -> None:
    ctx = core.new_tenant("obj-corrupt")
    _, volume_uuid = placed_volume(core, ctx)
    path = volume_row(core, volume_uuid).path
    core.simulator.write_volume(path, "good")
    uuid = snapshot_of(core, ctx, volume_uuid)
    row = snapshot_row(core, uuid)
    _metadata, body = stored(core, store, row.path)
    forged = body.replace(b'"good"', b'"evil"')
    assert forged != body
    store.put_object(space(core), CONTAINER, row.path, [forged], content_type=None, metadata={})
    core.simulator.write_volume(path, "now")
    with core.db.write() as session:
        snapshot = snapshots.get_snapshot(session, ctx, uuid)
        job_uuid = snapshots.revert_snapshot(session, ctx, snapshot).uuid
    job = core.wait(job_uuid)
    assert job.status == FAILED and "does not match its checksum" in job.error_text
    assert core.simulator.volume_info(path)["content"] == "now"


@pytest.mark.parametrize("failing", ["read_snapshot", "delete_snapshot"])
def test_a_failed_backup_leaves_no_object_behind(
    core: CoreHarness, store: ObjectStore, failing: str
) -> None:
    """read_snapshot fails before the object is written, delete_snapshot (of the pool's
    copy) after: either way the snapshot ends in Error with nothing left on either storage."""
    ctx = core.new_tenant(f"obj-fail-{failing}")
    _, volume_uuid = placed_volume(core, ctx)
    core.simulator.configure(failing, fail_next=1)
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        snapshot, job = snapshots.create_snapshot(session, ctx, volume)
        uuid, job_uuid = snapshot.uuid, job.uuid
    assert core.wait(job_uuid).status == FAILED
    row = snapshot_row(core, uuid)
    assert row.state == SnapshotState.ERROR
    assert snapshot_keys(core, store) == [] and not core.simulator.snapshot_exists(row.path)
    assert used(core, ctx, ResourceType.SECONDARY_STORAGE) == 0
    # a failed delete leaves it in Error (it has no backup to be BackedUp with) ...
    core.simulator.configure("delete_snapshot", fail_next=1)
    assert snapshot_job(core, ctx, snapshots.delete_snapshot, uuid) == FAILED
    assert snapshot_row(core, uuid).state == SnapshotState.ERROR
    # ... and deleting it again is clean (nothing to delete is not an error)
    assert snapshot_job(core, ctx, snapshots.delete_snapshot, uuid) == SUCCEEDED
    assert snapshot_row(core, uuid).state == SnapshotState.DESTROYED
    assert used(core, ctx, ResourceType.SNAPSHOT) == 0


def test_a_resumed_backup_finds_the_object_whole(core: CoreHarness, store: ObjectStore) -> None:
    """A job interrupted after the pool's copy was dropped (only the object holds the data)
    runs again: it records the stored object instead of failing, and writes nothing twice."""
    ctx = core.new_tenant("obj-resume")
    _, volume_uuid = placed_volume(core, ctx)
    uuid = snapshot_of(core, ctx, volume_uuid)
    done = snapshot_row(core, uuid)
    with core.db.write() as session:
        row = session.get_one(Snapshot, done.id)
        row.state, row.physical_size_bytes, row.checksum = SnapshotState.BACKING_UP, 0, ""
        job = session.scalar(
            sa.select(AsyncJob).where(
                AsyncJob.kind == "snapshot.create", AsyncJob.instance_id == row.id
            )
        )
        assert job is not None
        session.expunge(job)
    snapshots.run_create(core.runtime, job)  # what the engine does when it runs the job again
    again = snapshot_row(core, uuid)
    assert again.state == SnapshotState.BACKED_UP
    assert (again.physical_size_bytes, again.checksum) == (done.physical_size_bytes, done.checksum)
    assert snapshot_keys(core, store) == [done.path]


def test_template_from_a_snapshot_is_a_copy_of_its_object(
    core: CoreHarness, store: ObjectStore
) -> None:
    ctx = core.new_tenant("obj-template")
    _, volume_uuid = placed_volume(core, ctx)
    core.simulator.write_volume(volume_row(core, volume_uuid).path, "imaged")
    uuid = snapshot_of(core, ctx, volume_uuid)
    with core.db.write() as session:
        seed_os_types(session)
        os_type = os_type_named(session, "Other Linux (64-bit)")
        assert os_type is not None
        template, job = create_private_template(
            session, ctx, name="from-snap", display_text="t", os_type=os_type, snapshot_uuid=uuid
        )
        template_id, job_uuid = template.id, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    with core.db.read() as session:
        template = session.get_one(Template, template_id)
        (ref,) = zone_refs(session, template_id)
        assert template.is_ready and template.size_bytes == 5 * GIB
        image = downloads.read_image(core.runtime, session, ref)
    assert image == stored(core, store, snapshot_row(core, uuid).path)[1]
    assert json.loads(image)["content"] == "imaged"


def second_zone(core: CoreHarness) -> int:
    """A zone of its own (pod, cluster and primary storage) to copy snapshots into."""
    with core.db.write() as session:
        zone = create_zone(session, name="zone-2", network_type="Advanced")
        pod = create_pod(
            session,
            zone=zone,
            name="pod-2",
            gateway="172.16.16.1",
            netmask="255.255.255.0",
            start_ip="172.16.16.2",
            end_ip="172.16.16.200",
        )
        cluster = create_cluster(session, pod=pod, name="c-2", hypervisor="Simulator")
        add_storage_pool(
            session, cluster=cluster, name="ps-2", url="nfs://ps2/x", capacity_bytes=100 * GIB
        )
        return zone.id


def test_a_copy_into_another_zone_copies_the_object(core: CoreHarness, store: ObjectStore) -> None:
    ctx = core.new_tenant("obj-copier")
    _, volume_uuid = placed_volume(core, ctx)
    core.simulator.write_volume(volume_row(core, volume_uuid).path, "copied")
    source_uuid = snapshot_of(core, ctx, volume_uuid)
    zone_id = second_zone(core)
    with core.db.write() as session:
        source = snapshots.get_snapshot(session, ctx, source_uuid)
        copy, job = copy_snapshot(session, ctx, source, zone=session.get_one(Zone, zone_id))
        copy_uuid, job_uuid = copy.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    source_row, copy_row = snapshot_row(core, source_uuid), snapshot_row(core, copy_uuid)
    assert copy_row.state == SnapshotState.BACKED_UP and copy_row.zone_id == zone_id
    assert copy_row.path != source_row.path
    copy_metadata, copy_body = stored(core, store, copy_row.path)
    assert copy_body == stored(core, store, source_row.path)[1]
    assert copy_metadata["snapshot-uuid"] == copy_uuid
    assert (copy_row.physical_size_bytes, copy_row.checksum) == (
        source_row.physical_size_bytes,
        source_row.checksum,
    )

    # the copy outlives its source, and a volume made from it lands in its zone
    assert snapshot_job(core, ctx, snapshots.delete_snapshot, source_uuid) == SUCCEEDED
    assert snapshot_keys(core, store) == [copy_row.path]
    with core.db.write() as session:
        copy = snapshots.get_snapshot(session, ctx, copy_uuid)
        volume, job = snapshots.create_volume_from_snapshot(session, ctx, copy)
        new_uuid, job_uuid = volume.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    made = volume_row(core, new_uuid)
    assert made.zone_id == zone_id and made.state == VolumeState.READY
    assert core.simulator.volume_info(made.path)["content"] == "copied"

    assert snapshot_job(core, ctx, snapshots.delete_snapshot, copy_uuid) == SUCCEEDED
    assert snapshot_keys(core, store) == []
