"""Volume use cases: placement on pools, create, attach, detach, resize, migrate, delete, list.

Capacity on pools and the account's VOLUME / PRIMARY_STORAGE (GiB) counts move in the
request's transaction; the driver half runs as a job (core/volumes/work.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import limits
from core.configuration import get_float
from core.context import CallContext
from core.db import get_live, utcnow
from core.errors import (
    InsufficientCapacity,
    InvalidParameter,
    InvalidState,
    NotFound,
)
from core.events import record_for_caller
from core.infra import HOST_UP, Host, StoragePool
from core.jobs import AsyncJob, submit_job
from core.listing import Page, among, given, keyword_in, paginate
from core.offerings import DiskOffering
from core.planner import release_pool, reserve_pool
from core.tags import forget_resource, tag_filter
from core.visibility import ListScope, ensure_access, owned_rows
from core.volumes.models import (
    DATADISK,
    GIB,
    INSTANCE_TYPE,
    MAX_CUSTOM_SIZE_GB,
    MAX_DATA_VOLUMES,
    RESERVED_DEVICE_ID,
    ROOT,
    TAG_TYPE,
    Volume,
)
from core.volumes.states import ALLOCATED, EXPUNGED, GONE, MACHINE, READY, VolumeEvent

if TYPE_CHECKING:
    from core.vms.models import VirtualMachine


# placement ---------------------------------------------------------------------------------


def _reserve_pool(
    session: Session, *, zone_id: int, cluster_id: int | None, size_bytes: int, tags: str
) -> StoragePool:
    return reserve_pool(
        session, zone_id=zone_id, cluster_id=cluster_id, size_bytes=size_bytes, tags=tags
    )


def reserve_on_pool(session: Session, pool_id: int, size_bytes: int) -> bool:
    """Add `size_bytes` to one pool only if it still has room (one conditional UPDATE)."""
    factor = get_float(session, "storage.overprovisioning.factor") * get_float(
        session, "pool.storage.allocated.capacity.disablethreshold"
    )
    result = session.execute(
        sa.update(StoragePool)
        .where(
            StoragePool.id == pool_id,
            StoragePool.state == HOST_UP,
            StoragePool.removed.is_(None),
            StoragePool.allocated_bytes + size_bytes
            <= StoragePool.capacity_bytes * sa.literal(factor),
        )
        .values(allocated_bytes=StoragePool.allocated_bytes + size_bytes)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def create_root_volume(
    session: Session,
    *,
    vm_id: int,
    vm_name_id: int,
    account_id: int,
    domain_id: int,
    zone_id: int,
    cluster_id: int | None,
    size_bytes: int,
    template_id: int,
    storage_tags: str = "",
) -> Volume:
    """The root disk of a new VM, with its space reserved on a pool near the VM's host."""
    pool = _reserve_pool(
        session, zone_id=zone_id, cluster_id=cluster_id, size_bytes=size_bytes, tags=storage_tags
    )
    volume = Volume(
        name=f"ROOT-{vm_name_id}",
        account_id=account_id,
        domain_id=domain_id,
        zone_id=zone_id,
        pool_id=pool.id,
        vm_id=vm_id,
        volume_type=ROOT,
        device_id=0,
        size_bytes=size_bytes,
        template_id=template_id,
        state=READY,
        attached=utcnow(),
    )
    session.add(volume)
    session.flush()
    volume.path = volume.uuid
    return volume


def volumes_of_vm(session: Session, vm_id: int) -> list[Volume]:
    return list(
        session.scalars(
            sa.select(Volume)
            .where(Volume.vm_id == vm_id, Volume.removed.is_(None))
            .order_by(Volume.id)
        )
    )


def root_sizes_of(session: Session, vm_ids: list[int]) -> dict[int, int]:
    """The size in bytes of each VM's first volume (its root disk), in one query of two
    columns (for rendering lists; VMs without a volume are left out)."""
    found: dict[int, int] = {}
    if not vm_ids:
        return found
    for vm_id, size_bytes in session.execute(
        sa.select(Volume.vm_id, Volume.size_bytes)
        .where(Volume.vm_id.in_(vm_ids), Volume.removed.is_(None))
        .order_by(Volume.id.desc())
    ):
        if vm_id is not None:  # (always, by the IN filter)
            found[vm_id] = size_bytes  # the lowest id, written last, wins
    return found


def expunge_volumes_of_vm(session: Session, vm_id: int) -> None:
    """Remove a VM's root disk and give its space back; data disks are detached and kept."""
    for volume in volumes_of_vm(session, vm_id):
        if volume.volume_type == DATADISK:
            volume.vm_id = None
            volume.device_id = None
            volume.attached = None
            continue
        if volume.pool_id is not None:
            release_pool(session, volume.pool_id, volume.size_bytes)
        limits.release(
            session,
            volume.account_id,
            {limits.ResourceType.VOLUME: 1, limits.ResourceType.PRIMARY_STORAGE: volume.size_gb},
        )
        volume.state = EXPUNGED
        volume.removed = utcnow()
        forget_resource(session, TAG_TYPE, volume.id)


# use cases ---------------------------------------------------------------------------------


def _event(session: Session, ctx: CallContext, event_type: str, text: str, volume: Volume) -> None:
    record_for_caller(
        session, ctx, event_type, text, resource_type=INSTANCE_TYPE, resource_uuid=volume.uuid
    )


def transition(session: Session, volume: Volume, event: VolumeEvent) -> None:
    """Move the volume along its state table, failing if another request moved it first."""
    MACHINE.move(session, volume, event)


def data_volume_size_gb(disk_offering: DiskOffering, size_gb: int | None) -> int:
    """The size a data volume gets from its offering (or, for a custom one, from `size`)."""
    if disk_offering.is_customized:
        if size_gb is None:
            raise InvalidParameter(
                "This disk offering requires a custom size specified", parameter="size"
            )
        if not 1 <= size_gb <= MAX_CUSTOM_SIZE_GB:
            raise InvalidParameter(
                f"Invalid disk size: {size_gb}. Disk size must be between 1 and "
                f"{MAX_CUSTOM_SIZE_GB} GB",
                parameter="size",
            )
        return size_gb
    if size_gb is not None and size_gb != disk_offering.disk_size_gb:
        raise InvalidParameter(
            "Cannot specify a size for a disk offering that is not custom", parameter="size"
        )
    return disk_offering.disk_size_gb


def create_data_volume(
    session: Session,
    ctx: CallContext,
    *,
    zone_id: int,
    disk_offering: DiskOffering,
    size_gb: int | None,
    name: str | None = None,
) -> Volume:
    """A new, unplaced data volume (Allocated) counted against the owner's limits."""
    size_gb = data_volume_size_gb(disk_offering, size_gb)
    limits.reserve(
        session,
        ctx.account_id,
        {limits.ResourceType.VOLUME: 1, limits.ResourceType.PRIMARY_STORAGE: size_gb},
    )
    volume = Volume(
        name=name or "",
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        zone_id=zone_id,
        volume_type=DATADISK,
        size_bytes=size_gb * GIB,
        disk_offering_id=disk_offering.id,
        state=ALLOCATED,
    )
    session.add(volume)
    session.flush()
    volume.name = volume.name or volume.uuid
    volume.path = volume.uuid
    _event(session, ctx, "VOLUME.CREATE", f"Successfully created volume {volume.name}", volume)
    return volume


def storage_tags_of(session: Session, volume: Volume) -> str:
    if volume.disk_offering_id is None:
        return ""
    return session.get_one(DiskOffering, volume.disk_offering_id).tags or ""


def place_volume(session: Session, volume: Volume, cluster_id: int | None) -> StoragePool:
    """Reserve the volume's space on a pool of `cluster_id` (or the zone) and record it."""
    pool = _reserve_pool(
        session,
        zone_id=volume.zone_id,
        cluster_id=cluster_id,
        size_bytes=volume.size_bytes,
        tags=storage_tags_of(session, volume),
    )
    volume.pool_id = pool.id
    return pool


def _vm_cluster(session: Session, vm: VirtualMachine) -> int | None:
    host_id = vm.host_id or vm.last_host_id
    if host_id is None:
        root = next((v for v in volumes_of_vm(session, vm.id) if v.volume_type == ROOT), None)
        if root is not None and root.pool_id is not None:
            return session.get_one(StoragePool, root.pool_id).cluster_id
        return None
    return session.get_one(Host, host_id).cluster_id


def _free_device_id(session: Session, vm: VirtualMachine, wanted: int | None) -> int:
    used = {v.device_id for v in volumes_of_vm(session, vm.id) if v.device_id is not None}
    data_disks = sum(1 for v in volumes_of_vm(session, vm.id) if v.volume_type == DATADISK)
    if data_disks >= MAX_DATA_VOLUMES:
        raise InvalidParameter(
            f"Maximum number of volumes for this VM ({MAX_DATA_VOLUMES} data volumes) reached",
            parameter="virtualmachineid",
        )
    if wanted is not None:
        if wanted == 0:
            raise InvalidParameter("deviceId 0 is reserved for the root disk", parameter="deviceid")
        if wanted == RESERVED_DEVICE_ID:
            raise InvalidParameter("deviceId 3 is reserved for CD-ROM", parameter="deviceid")
        if wanted in used:
            raise InvalidParameter(
                f"deviceId {wanted} is used by VM {vm.uuid}", parameter="deviceid"
            )
        return wanted
    candidate = 1
    while candidate in used or candidate == RESERVED_DEVICE_ID:
        candidate += 1
    return candidate


def attach_to_vm(
    session: Session, volume: Volume, vm: VirtualMachine, *, device_id: int | None = None
) -> None:
    """Bookkeeping of an attach (no driver work): place the volume if it has no pool yet,
    pick a device id, link it to the VM. The VM family calls this from deploy."""
    if volume.volume_type != DATADISK:
        raise InvalidParameter("Only data volumes can be attached", parameter="id")
    if volume.vm_id is not None:
        raise InvalidParameter(f"Volume {volume.uuid} is already attached to a VM", parameter="id")
    if volume.zone_id != vm.zone_id:
        raise InvalidParameter(
            "Volume and the virtual machine are not in the same zone", parameter="id"
        )
    if volume.state not in (ALLOCATED, READY):
        raise InvalidState("Volume", volume.uuid, volume.state, "attach")
    volume.device_id = _free_device_id(session, vm, device_id)
    if volume.pool_id is None:
        place_volume(session, volume, _vm_cluster(session, vm))
        volume.state = READY
    volume.vm_id = vm.id
    volume.attached = utcnow()
    session.flush()


def get_volume(session: Session, ctx: CallContext, uuid: str) -> Volume:
    """A volume the caller may see (someone else's is reported as not found)."""
    volume = session.scalar(sa.select(Volume).where(Volume.uuid == uuid, Volume.state.not_in(GONE)))
    ensure_access(session, ctx, volume, "volume", uuid)
    assert volume is not None
    return volume


def _vm_of(session: Session, vm_id: int) -> VirtualMachine:
    from core.vms.models import VirtualMachine

    return session.get_one(VirtualMachine, vm_id)


def _check_vm_state(vm: VirtualMachine, operation: str) -> None:
    if vm.state not in ("Running", "Stopped"):
        raise InvalidState("VM", vm.uuid, vm.state, operation)


def _submit(
    session: Session, ctx: CallContext, kind: str, volume: Volume, **params: Any
) -> AsyncJob:
    return submit_job(
        session, ctx, kind, instance_type=INSTANCE_TYPE, instance_id=volume.id, params=params
    )


def request_create(
    session: Session, ctx: CallContext, volume: Volume, *, vm: VirtualMachine | None = None
) -> AsyncJob:
    """The job of createVolume: nothing to do on a hypervisor unless attached at once."""
    if vm is not None:
        _check_vm_state(vm, "attach a volume")
        attach_to_vm(session, volume, vm)
        _event(session, ctx, "VOLUME.ATTACH", f"Volume {volume.name} attached", volume)
    return _submit(session, ctx, "volume.create", volume, vm_id=vm.id if vm else None)


def attach_volume(
    session: Session,
    ctx: CallContext,
    volume: Volume,
    vm: VirtualMachine,
    *,
    device_id: int | None = None,
) -> AsyncJob:
    _check_vm_state(vm, "attach a volume")
    attach_to_vm(session, volume, vm, device_id=device_id)
    _event(session, ctx, "VOLUME.ATTACH", f"Volume {volume.name} attached to {vm.name}", volume)
    return _submit(session, ctx, "volume.attach", volume, vm_id=vm.id)


def detach_volume(session: Session, ctx: CallContext, volume: Volume) -> AsyncJob:
    if volume.vm_id is None:
        raise InvalidParameter(f"Volume {volume.uuid} is not attached to a VM", parameter="id")
    if volume.volume_type == ROOT:
        raise InvalidParameter("The root volume cannot be detached", parameter="id")
    vm = _vm_of(session, volume.vm_id)
    _check_vm_state(vm, "detach a volume")
    if volume.state != READY:
        raise InvalidState("Volume", volume.uuid, volume.state, "detach")
    device_id = volume.device_id
    volume.vm_id = None
    volume.device_id = None
    volume.attached = None
    _event(session, ctx, "VOLUME.DETACH", f"Volume {volume.name} detached from {vm.name}", volume)
    return _submit(session, ctx, "volume.detach", volume, vm_id=vm.id, device_id=device_id)


def resize_volume(
    session: Session,
    ctx: CallContext,
    volume: Volume,
    *,
    size_gb: int | None = None,
    disk_offering: DiskOffering | None = None,
    shrink_ok: bool = False,
) -> AsyncJob:
    """Grow or (with shrink_ok) shrink; the pool's and the account's counts move at once."""
    if disk_offering is not None:
        if volume.volume_type == ROOT:
            raise InvalidParameter(
                "Cannot change the disk offering of a root volume", parameter="id"
            )
        new_gb = data_volume_size_gb(disk_offering, size_gb)
    elif size_gb is not None:
        if volume.volume_type == DATADISK and volume.disk_offering_id is not None:
            offering = session.get_one(DiskOffering, volume.disk_offering_id)
            if not offering.is_customized:
                raise InvalidParameter(
                    "To change a volume's size without providing a new disk offering, its "
                    "current disk offering must be customizable",
                    parameter="size",
                )
        if size_gb < 1:
            raise InvalidParameter("The size must be a positive number of GB", parameter="size")
        new_gb = size_gb
    else:
        raise InvalidParameter("Either size or diskofferingid is required", parameter="size")
    new_bytes = new_gb * GIB
    delta = new_bytes - volume.size_bytes
    if delta < 0 and not shrink_ok:
        raise InvalidParameter(
            f"Going from existing size of {volume.size_bytes} to size of {new_bytes} would "
            "shrink the volume. Need to sign off by supplying the shrinkok parameter with value "
            "of true.",
            parameter="shrinkok",
        )
    old_bytes = volume.size_bytes
    transition(session, volume, VolumeEvent.RESIZE_REQUESTED)
    delta_gb = new_gb - volume.size_gb
    if delta_gb > 0:
        limits.reserve(session, volume.account_id, {limits.ResourceType.PRIMARY_STORAGE: delta_gb})
    elif delta_gb < 0:
        limits.release(session, volume.account_id, {limits.ResourceType.PRIMARY_STORAGE: -delta_gb})
    if volume.pool_id is not None:
        if delta > 0 and not reserve_on_pool(session, volume.pool_id, delta):
            raise InsufficientCapacity(
                f"Not enough space on the volume's storage pool for {new_gb} GiB",
                scope="pool",
                scope_id=volume.pool_id,
            )
        if delta < 0:
            release_pool(session, volume.pool_id, -delta)
    volume.size_bytes = new_bytes
    if disk_offering is not None:
        volume.disk_offering_id = disk_offering.id
    _event(session, ctx, "VOLUME.RESIZE", f"Volume {volume.name} resized to {new_gb} GB", volume)
    return _submit(session, ctx, "volume.resize", volume, old_bytes=old_bytes, new_bytes=new_bytes)


def migrate_volume(
    session: Session, ctx: CallContext, volume: Volume, pool: StoragePool
) -> AsyncJob:
    """Move a volume to another pool of its zone; the space moves with it (admin only)."""
    if volume.pool_id is None:
        raise InvalidState("Volume", volume.uuid, volume.state, "migrate")
    if pool.zone_id != volume.zone_id:
        raise InvalidParameter(
            "The storage pool is not in the volume's zone", parameter="storageid"
        )
    if pool.id == volume.pool_id:
        raise InvalidParameter("The volume is already on the storage pool", parameter="storageid")
    if volume.vm_id is not None and _vm_of(session, volume.vm_id).state != "Stopped":
        raise InvalidState("Volume", volume.uuid, "attached to a running VM", "migrate")
    transition(session, volume, VolumeEvent.MIGRATE_REQUESTED)
    if not reserve_on_pool(session, pool.id, volume.size_bytes):
        raise InsufficientCapacity(
            f"Storage pool {pool.uuid} has no room for the volume", scope="pool", scope_id=pool.id
        )
    _event(session, ctx, "VOLUME.MIGRATE", f"Migrating volume {volume.name}", volume)
    return _submit(
        session, ctx, "volume.migrate", volume, source_pool_id=volume.pool_id, target=pool.id
    )


def delete_volume(session: Session, ctx: CallContext, volume: Volume) -> None:
    """Destroy and expunge a detached data volume; its bits go in a background job."""
    if volume.volume_type == ROOT:
        raise InvalidParameter("Cannot delete a ROOT volume", parameter="id")
    if volume.vm_id is not None:
        raise InvalidParameter(
            "Please specify a volume that is not attached to any VM.", parameter="id"
        )
    transition(session, volume, VolumeEvent.DESTROY_REQUESTED)
    transition(session, volume, VolumeEvent.EXPUNGE_REQUESTED)
    limits.release(
        session,
        volume.account_id,
        {limits.ResourceType.VOLUME: 1, limits.ResourceType.PRIMARY_STORAGE: volume.size_gb},
    )
    _event(session, ctx, "VOLUME.DELETE", f"Volume {volume.name} deleted", volume)
    _submit(session, ctx, "volume.delete", volume)


@dataclass(frozen=True, slots=True)
class VolumeFilter:
    ids: tuple[str, ...] | None = None
    name: str | None = None
    keyword: str | None = None
    volume_type: str | None = None
    vm_id: int | None = None
    zone_id: int | None = None
    pool_id: int | None = None
    state: str | None = None
    disk_offering_id: int | None = None
    tags: tuple[tuple[str, str | None], ...] = ()


def list_volumes(
    session: Session,
    ctx: CallContext,
    scope: ListScope = ListScope(),
    volume_filter: VolumeFilter = VolumeFilter(),
    page: Page = Page(),
) -> tuple[list[Volume], int]:
    f = volume_filter
    query = owned_rows(
        session,
        ctx,
        scope,
        Volume,
        Volume.state.not_in(GONE),
        among(Volume.uuid, f.ids),
        given(Volume.name, f.name),
        keyword_in(f.keyword, Volume.name),
        given(Volume.volume_type, f.volume_type and f.volume_type.upper()),
        given(Volume.vm_id, f.vm_id),
        given(Volume.zone_id, f.zone_id),
        given(Volume.pool_id, f.pool_id),
        given(Volume.state, f.state),
        given(Volume.disk_offering_id, f.disk_offering_id),
        tag_filter(TAG_TYPE, Volume.id, list(f.tags)) if f.tags else None,
    )
    return paginate(session, query.order_by(Volume.id), page)


def pool_by_uuid(session: Session, uuid: str) -> StoragePool:
    return get_live(session, StoragePool, "storage pool", uuid=uuid)


def volume_by_id(session: Session, volume_id: int) -> Volume:
    volume = session.get(Volume, volume_id, populate_existing=True)
    if volume is None:
        raise NotFound("volume", volume_id)
    return volume
