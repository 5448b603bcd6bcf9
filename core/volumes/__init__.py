"""Volumes: root and data disks on primary storage pools — the row (models), its state table
(states), the use cases (service) and the driver work run as jobs (work).

As in CloudStack, a data volume created on its own is only a row (Allocated, no pool): it is
placed on a pool of the VM's cluster when first attached.
"""

from core.volumes import work as _work  # registers the job handlers  # noqa: F401
from core.volumes.models import (
    DATADISK,
    GIB,
    INSTANCE_TYPE,
    MAX_DATA_VOLUMES,
    ROOT,
    TAG_TYPE,
    Volume,
)
from core.volumes.service import (
    VolumeFilter,
    attach_to_vm,
    attach_volume,
    create_data_volume,
    create_root_volume,
    data_volume_size_gb,
    delete_volume,
    detach_volume,
    expunge_volumes_of_vm,
    get_volume,
    list_volumes,
    migrate_volume,
    place_volume,
    pool_by_uuid,
    request_create,
    reserve_on_pool,
    resize_volume,
    root_sizes_of,
    transition,
    volume_by_id,
    volumes_of_vm,
)
from core.volumes.states import (
    ALLOCATED,
    DESTROYED,
    EXPUNGED,
    GONE,
    READY,
    VolumeEvent,
    VolumeState,
    next_state,
)
from core.volumes.work import hypervisor_of, pool_uuid

__all__ = [
    "ALLOCATED",
    "DATADISK",
    "DESTROYED",
    "EXPUNGED",
    "GIB",
    "GONE",
    "INSTANCE_TYPE",
    "MAX_DATA_VOLUMES",
    "READY",
    "ROOT",
    "TAG_TYPE",
    "Volume",
    "VolumeEvent",
    "VolumeFilter",
    "VolumeState",
    "attach_to_vm",
    "attach_volume",
    "create_data_volume",
    "create_root_volume",
    "data_volume_size_gb",
    "delete_volume",
    "detach_volume",
    "expunge_volumes_of_vm",
    "get_volume",
    "hypervisor_of",
    "list_volumes",
    "migrate_volume",
    "next_state",
    "place_volume",
    "pool_by_uuid",
    "pool_uuid",
    "request_create",
    "reserve_on_pool",
    "resize_volume",
    "root_sizes_of",
    "transition",
    "volume_by_id",
    "volumes_of_vm",
]
