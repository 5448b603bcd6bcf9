"""createTemplate: a private template from a stopped VM's ROOT volume or a backed-up
snapshot; a job writes the image.

CloudStack refuses the ROOT volume of a VM that is not stopped. EC2's CreateImage images
running instances too: with `allow_running`, a running VM's ROOT volume is copied as it is
at that moment — crash-consistent, as a disk after a power cut (the job records it)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.errors import InvalidParameter, InvalidState, NotFound
from core.jobs import AsyncJob
from core.os_types import OsType
from core.templates.models import Template
from core.templates.registration import add_zone_copy, new_owned_template, record_template_event
from core.visibility import can_access


def _private_source(
    session: Session,
    ctx: CallContext,
    volume_uuid: str | None,
    snapshot_uuid: str | None,
    allow_running: bool = False,
) -> tuple[int, int, str, dict[str, object], int | None]:
    """(zone id, size, hypervisor, job params, volume id) of a createTemplate source."""
    from core.vms.models import VirtualMachine
    from core.vms.states import VmState
    from core.volumes import Volume

    if snapshot_uuid:
        from core.snapshots import SnapshotState, get_snapshot

        snapshot = get_snapshot(session, ctx, snapshot_uuid)
        if snapshot.state != SnapshotState.BACKED_UP:
            raise InvalidParameter(
                f"Snapshot id={snapshot.uuid} is not in BackedUp state yet and can't be used "
                "for template creation",
                parameter="snapshotid",
            )
        volume = session.get(Volume, snapshot.volume_id)
        vm = session.get(VirtualMachine, volume.vm_id) if volume and volume.vm_id else None
        params: dict[str, object] = {
            "volume_size": snapshot.size_bytes,
            "source_uuid": snapshot.uuid,
            "source_kind": "snapshot",
            "snapshot_path": snapshot.path,  # its backup object becomes the image
        }
        hypervisor = vm.hypervisor if vm is not None else "Simulator"
        return snapshot.zone_id, snapshot.size_bytes, hypervisor, params, snapshot.volume_id
    volume = session.scalar(
        sa.select(Volume).where(Volume.uuid == volume_uuid, Volume.removed.is_(None))
    )
    if volume is None or not can_access(session, ctx, volume):
        raise NotFound("volume", volume_uuid)
    if volume.volume_type != "ROOT":
        raise InvalidParameter(
            "Creating a template is supported from ROOT volumes only", parameter="volumeid"
        )
    vm = session.get(VirtualMachine, volume.vm_id) if volume.vm_id is not None else None
    imageable = (VmState.STOPPED, VmState.RUNNING) if allow_running else (VmState.STOPPED,)
    if vm is not None and vm.state not in imageable:
        raise InvalidState("virtual machine", vm.uuid, vm.state, "create a template from it")
    params = {"volume_size": volume.size_bytes, "source_uuid": volume.uuid, "source_kind": "volume"}
    if vm is not None and vm.state == VmState.RUNNING:
        params["crash_consistent"] = True
    hypervisor = vm.hypervisor if vm is not None else "Simulator"
    return volume.zone_id, volume.size_bytes, hypervisor, params, volume.id


def create_private_template(
    session: Session,
    ctx: CallContext,
    *,
    name: str,
    display_text: str,
    os_type: OsType,
    volume_uuid: str | None = None,
    snapshot_uuid: str | None = None,
    is_public: bool = False,
    is_featured: bool = False,
    password_enabled: bool = False,
    requires_hvm: bool = True,
    is_dynamically_scalable: bool = False,
    allow_running: bool = False,
) -> tuple[Template, AsyncJob]:
    """createTemplate from a stopped VM's ROOT volume or a backed-up snapshot (a job writes
    the image); with `allow_running`, from a running VM's too (a crash-consistent copy)."""
    if not volume_uuid and not snapshot_uuid:
        raise InvalidParameter(
            "Failed to create private template record, need to specify snapshot ID or volume ID"
        )
    zone_id, size, hypervisor, params, volume_id = _private_source(
        session, ctx, volume_uuid, snapshot_uuid, allow_running
    )
    if is_featured and ctx.role is not Role.ADMIN:
        is_featured = False
    template = new_owned_template(
        session,
        ctx,
        name=name,
        display_text=display_text,
        zone_id=zone_id,
        format="QCOW2",
        hypervisor=hypervisor,
        os_type=os_type.display_name,
        os_type_id=os_type.id,
        size_bytes=size,
        is_public=is_public,
        is_featured=is_featured,
        password_enabled=password_enabled,
        requires_hvm=requires_hvm,
        dynamically_scalable=is_dynamically_scalable,
        source_volume_id=volume_id,
    )
    job = add_zone_copy(session, ctx, template, zone_id, "template.create", params)
    source = f"{params['source_kind']} {params['source_uuid']}"
    record_template_event(
        session, ctx, template, "CREATE", f"Creating template {name} from {source}"
    )
    return template, job
