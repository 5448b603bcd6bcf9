"""Detached data volumes on primary storage.

CloudStack places a data volume on a storage pool only when it is first attached; until then
it is a row (Allocated) that cannot be snapshotted. An EC2 volume exists in its zone from
creation on, and a snapshot of a never-attached volume is ordinary there, so
`ensure_on_primary` places such a volume on a pool of its zone first. Its bits are written by
the snapshot job itself (the driver's create is idempotent, as for an untouched root disk).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.volumes import ALLOCATED, DATADISK, Volume, VolumeEvent, place_volume, transition


def ensure_on_primary(session: Session, volume: Volume) -> None:
    """Place a detached, never-placed data volume on a pool of its zone (Allocated → Ready)."""
    if volume.pool_id is not None or volume.vm_id is not None:
        return
    if volume.volume_type != DATADISK or volume.state != ALLOCATED:
        return
    place_volume(session, volume, None)
    transition(session, volume, VolumeEvent.CREATE_REQUESTED)
    transition(session, volume, VolumeEvent.OPERATION_SUCCEEDED)
