"""Volume use cases through the core, with the job engine and the simulator, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import volumes
from core.errors import (
    InsufficientCapacity,
    InvalidParameter,
    InvalidState,
    LimitExceeded,
    NotFound,
)
from core.events import Event
from core.infra import StoragePool, list_zones
from core.jobs import FAILED, SUCCEEDED
from core.limits import ResourceCount, ResourceType
from core.offerings import list_disk_offerings, list_service_offerings
from core.templates import list_templates
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.volumes import GIB, Volume, VolumeEvent, VolumeState
from tests.core.conftest import CoreHarness


def deploy(core: CoreHarness, ctx, *, start: bool = True) -> str:
    with core.db.write() as session:
        vm, job = vms.deploy_vm(
            session,
            ctx,
            vms.DeploySpec(
                zone=list_zones(session)[0],
                service_offering=list_service_offerings(session, name="Small Instance")[0],
                template=list_templates(session, ctx, template_filter="featured")[0],
                start=start,
            ),
        )
        vm_uuid, job_uuid = vm.uuid, job.uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    return vm_uuid


def new_volume(core: CoreHarness, ctx, offering: str = "Small", size: int | None = None) -> str:
    with core.db.write() as session:
        volume = volumes.create_data_volume(
            session,
            ctx,
            zone_id=list_zones(session)[0].id,
            disk_offering=list_disk_offerings(session, name=offering)[0],
            size_gb=size,
            name="data",
        )
        return volume.uuid


def volume_row(core: CoreHarness, uuid: str) -> Volume:
    with core.db.read() as session:
        row = session.scalar(sa.select(Volume).where(Volume.uuid == uuid))
        assert row is not None
        return row


def used(core: CoreHarness, ctx, resource: ResourceType) -> int:
    """The account's count, less what its VMs' root disks hold (these tests follow data
    volumes; test_root_disks_count_towards_the_volume_limits covers the root disks)."""
    with core.db.read() as session:
        count = session.get_one(ResourceCount, (ctx.account_id, resource.value)).used
        roots = session.scalars(
            sa.select(Volume).where(
                Volume.account_id == ctx.account_id,
                Volume.volume_type == "ROOT",
                Volume.removed.is_(None),
            )
        ).all()
    if resource is ResourceType.VOLUME:
        return count - len(roots)
    if resource is ResourceType.PRIMARY_STORAGE:
        return count - sum(root.size_gb for root in roots)
    return count


def pool_allocated(core: CoreHarness) -> int:
    with core.db.read() as session:
        return sum(p.allocated_bytes for p in session.scalars(sa.select(StoragePool)))


def run(core: CoreHarness, ctx, operation, uuid: str, *args, **kwargs) -> int:
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, uuid)
        job = operation(session, ctx, volume, *args, **kwargs)
        job_uuid = job.uuid
    return core.wait(job_uuid).status


def attach(core: CoreHarness, ctx, volume_uuid: str, vm_uuid: str, **kw) -> int:
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, volume_uuid)
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        job_uuid = volumes.attach_volume(session, ctx, volume, vm, **kw).uuid
    return core.wait(job_uuid).status


def test_create_attach_detach_delete_moves_counts_and_capacity(core: CoreHarness) -> None:
    ctx = core.new_tenant("vol-owner")
    vm_uuid = deploy(core, ctx)
    before = pool_allocated(core)
    uuid = new_volume(core, ctx)
    row = volume_row(core, uuid)
    assert (row.state, row.pool_id, row.size_bytes) == (VolumeState.ALLOCATED, None, 5 * GIB)
    assert used(core, ctx, ResourceType.VOLUME) == 1
    assert used(core, ctx, ResourceType.PRIMARY_STORAGE) == 5
    assert pool_allocated(core) == before  # not placed until attached

    assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
    row = volume_row(core, uuid)
    assert row.state == VolumeState.READY and row.pool_id is not None and row.device_id == 1
    assert pool_allocated(core) == before + 5 * GIB
    instance = vm_row(core, vm_uuid).instance_name
    assert core.simulator.volume_info(row.path)["instance_name"] == instance

    assert run(core, ctx, volumes.detach_volume, uuid) == SUCCEEDED
    row = volume_row(core, uuid)
    assert row.vm_id is None and row.device_id is None
    assert core.simulator.volume_info(row.path)["instance_name"] is None

    with core.db.write() as session:
        volumes.delete_volume(session, ctx, volumes.get_volume(session, ctx, uuid))
    assert used(core, ctx, ResourceType.VOLUME) == 0
    assert used(core, ctx, ResourceType.PRIMARY_STORAGE) == 0
    _wait_until(lambda: volume_row(core, uuid).state == VolumeState.EXPUNGED)
    assert pool_allocated(core) == before
    assert core.simulator.volume_info(row.path) is None
    with core.db.read() as session, pytest.raises(NotFound):
        volumes.get_volume(session, ctx, uuid)
    with core.db.read() as session:
        recorded = session.scalars(
            sa.select(Event.event_type).where(Event.resource_uuid == uuid).order_by(Event.id)
        ).all()
    assert recorded == ["VOLUME.CREATE", "VOLUME.ATTACH", "VOLUME.DETACH", "VOLUME.DELETE"]


def _wait_until(predicate, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def vm_row(core: CoreHarness, uuid: str) -> VirtualMachine:
    with core.db.read() as session:
        return session.scalar(sa.select(VirtualMachine).where(VirtualMachine.uuid == uuid))


def test_sizes_follow_the_offering(core: CoreHarness) -> None:
    ctx = core.admin_context()
    with pytest.raises(InvalidParameter):
        new_volume(core, ctx, "Custom")
    with pytest.raises(InvalidParameter):
        new_volume(core, ctx, "Custom", 5000)
    with pytest.raises(InvalidParameter):
        new_volume(core, ctx, "Small", 7)
    assert volume_row(core, new_volume(core, ctx, "Custom", 7)).size_bytes == 7 * GIB


def test_volume_limit_is_enforced(core: CoreHarness) -> None:
    ctx = core.new_tenant("vol-limited")
    with core.db.write() as session:
        session.get_one(ResourceCount, (ctx.account_id, ResourceType.VOLUME.value)).max = 1
    new_volume(core, ctx)
    with pytest.raises(LimitExceeded):
        new_volume(core, ctx)
    assert used(core, ctx, ResourceType.VOLUME) == 1


def test_device_ids_skip_three_and_stop_at_the_maximum(core: CoreHarness) -> None:
    ctx = core.admin_context()
    vm_uuid = deploy(core, ctx, start=False)
    devices = []
    for _ in range(volumes.MAX_DATA_VOLUMES):
        uuid = new_volume(core, ctx)
        assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
        devices.append(volume_row(core, uuid).device_id)
    assert devices == [1, 2, 4, 5, 6, 7]
    extra = new_volume(core, ctx)
    with pytest.raises(InvalidParameter, match="Maximum number of volumes"):
        attach(core, ctx, extra, vm_uuid)


def test_only_data_volumes_attach_and_root_cannot_be_deleted(core: CoreHarness) -> None:
    ctx = core.admin_context()
    vm_uuid = deploy(core, ctx)
    with core.db.write() as session:
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        root = volumes.volumes_of_vm(session, vm.id)[0]
        with pytest.raises(InvalidParameter):
            volumes.delete_volume(session, ctx, root)
        with pytest.raises(InvalidParameter):
            volumes.detach_volume(session, ctx, root)
    uuid = new_volume(core, ctx)
    assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
    with core.db.write() as session, pytest.raises(InvalidParameter, match="not attached"):
        volumes.delete_volume(session, ctx, volumes.get_volume(session, ctx, uuid))


def test_resize_grows_pool_and_count_and_needs_shrinkok_to_shrink(core: CoreHarness) -> None:
    ctx = core.new_tenant("resizer")
    vm_uuid = deploy(core, ctx)
    uuid = new_volume(core, ctx, "Custom", 10)
    assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
    before = pool_allocated(core)
    assert run(core, ctx, volumes.resize_volume, uuid, size_gb=15) == SUCCEEDED
    row = volume_row(core, uuid)
    assert row.state == VolumeState.READY and row.size_bytes == 15 * GIB
    assert pool_allocated(core) == before + 5 * GIB
    assert used(core, ctx, ResourceType.PRIMARY_STORAGE) == 15
    assert core.simulator.volume_info(row.path)["size_bytes"] == 15 * GIB
    with pytest.raises(InvalidParameter, match="shrinkok"):
        run(core, ctx, volumes.resize_volume, uuid, size_gb=12)
    assert run(core, ctx, volumes.resize_volume, uuid, size_gb=12, shrink_ok=True) == SUCCEEDED
    assert pool_allocated(core) == before + 2 * GIB
    assert used(core, ctx, ResourceType.PRIMARY_STORAGE) == 12


def test_failed_resize_gives_everything_back(core: CoreHarness) -> None:
    ctx = core.new_tenant("resize-fail")
    vm_uuid = deploy(core, ctx)
    uuid = new_volume(core, ctx, "Custom", 10)
    assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
    before = pool_allocated(core)
    core.simulator.configure("resize_volume", fail_next=1)
    assert run(core, ctx, volumes.resize_volume, uuid, size_gb=20) == FAILED
    row = volume_row(core, uuid)
    assert (row.state, row.size_bytes) == (VolumeState.READY, 10 * GIB)
    assert pool_allocated(core) == before
    assert used(core, ctx, ResourceType.PRIMARY_STORAGE) == 10


def test_resize_beyond_pool_capacity_is_refused_at_once(core: CoreHarness) -> None:
    ctx = core.admin_context()
    vm_uuid = deploy(core, ctx)
    uuid = new_volume(core, ctx, "Custom", 10)
    assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
    with core.db.write() as session:
        pool = session.get_one(StoragePool, volume_row(core, uuid).pool_id)
        pool.capacity_bytes = pool.allocated_bytes  # full
    with pytest.raises(InsufficientCapacity):
        run(core, ctx, volumes.resize_volume, uuid, size_gb=20)
    assert volume_row(core, uuid).state == VolumeState.READY


def test_migrate_moves_the_space_between_pools(core: CoreHarness) -> None:
    ctx = core.admin_context()
    vm_uuid = deploy(core, ctx, start=False)
    uuid = new_volume(core, ctx, "Medium")
    assert attach(core, ctx, uuid, vm_uuid) == SUCCEEDED
    with core.db.write() as session:
        source = session.get_one(StoragePool, volume_row(core, uuid).pool_id)
        target = StoragePool(
            zone_id=source.zone_id,
            pod_id=source.pod_id,
            cluster_id=source.cluster_id,
            name="PS1",
            capacity_bytes=100 * GIB,
        )
        session.add(target)
        session.flush()
        source_id, source_before, target_id = source.id, source.allocated_bytes, target.id
    with core.db.write() as session:
        volume = volumes.get_volume(session, ctx, uuid)
        job_uuid = volumes.migrate_volume(
            session, ctx, volume, session.get_one(StoragePool, target_id)
        ).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    assert volume_row(core, uuid).pool_id == target_id
    with core.db.read() as session:
        assert session.get_one(StoragePool, source_id).allocated_bytes == source_before - 20 * GIB
        assert session.get_one(StoragePool, target_id).allocated_bytes == 20 * GIB
    assert core.simulator.volume_info(volume_row(core, uuid).path)["pool"] != ""


def test_other_tenants_volumes_are_not_found(core: CoreHarness) -> None:
    owner = core.new_tenant("vol-a")
    other = core.new_tenant("vol-b")
    uuid = new_volume(core, owner)
    with core.db.read() as session:
        with pytest.raises(NotFound):
            volumes.get_volume(session, other, uuid)
        assert volumes.list_volumes(session, other)[1] == 0
        assert volumes.list_volumes(session, owner)[1] == 1


def test_state_table_refuses_illegal_moves() -> None:
    assert volumes.next_state("Ready", VolumeEvent.RESIZE_REQUESTED) == VolumeState.RESIZING
    with pytest.raises(InvalidState):
        volumes.next_state("Resizing", VolumeEvent.MIGRATE_REQUESTED)
    with pytest.raises(InvalidState):
        volumes.next_state("Expunged", VolumeEvent.DESTROY_REQUESTED)


def test_storage_tags_choose_the_pool(core: CoreHarness) -> None:
    from core.offerings import create_disk_offering

    ctx = core.admin_context()
    vm_uuid = deploy(core, ctx, start=False)
    with core.db.write() as session:
        first = session.scalars(sa.select(StoragePool).order_by(StoragePool.id)).first()
        tagged = StoragePool(
            zone_id=first.zone_id,
            pod_id=first.pod_id,
            cluster_id=first.cluster_id,
            name="PS-SSD",
            capacity_bytes=100 * GIB,
            tags="ssd",
        )
        session.add(tagged)
        create_disk_offering(session, name="Fast", disk_size_gb=5, tags="ssd")
        create_disk_offering(session, name="Exotic", disk_size_gb=5, tags="nvme")
        session.flush()
        tagged_id = tagged.id
    fast = new_volume(core, ctx, "Fast")
    assert attach(core, ctx, fast, vm_uuid) == SUCCEEDED
    assert volume_row(core, fast).pool_id == tagged_id
    exotic = new_volume(core, ctx, "Exotic")
    with pytest.raises(InsufficientCapacity):
        attach(core, ctx, exotic, vm_uuid)
    assert volume_row(core, exotic).state == VolumeState.ALLOCATED


def test_root_disks_count_towards_the_volume_limits(core: CoreHarness) -> None:
    ctx = core.new_tenant("root-counter")

    def counted(resource: ResourceType) -> int:
        with core.db.read() as session:
            return session.get_one(ResourceCount, (ctx.account_id, resource.value)).used

    vm_uuid = deploy(core, ctx)
    assert counted(ResourceType.VOLUME) == 1
    assert counted(ResourceType.PRIMARY_STORAGE) == 2  # the demo template's 2 GiB root disk
    admin = core.admin_context()
    with core.db.write() as session:
        job = vms.destroy_vm(session, admin, vms.get_vm(session, admin, uuid=vm_uuid), expunge=True)
    assert core.wait(job.uuid).status == SUCCEEDED
    assert counted(ResourceType.VOLUME) == 0
    assert counted(ResourceType.PRIMARY_STORAGE) == 0
