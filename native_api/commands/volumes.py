"""Volumes: createVolume, attach/detach, resize, migrate, delete, list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import infra, offerings
from core import volumes as core_volumes
from core.context import CallContext, Role
from core.errors import InvalidParameter, PermissionDenied
from core.infra import StoragePool, Zone
from core.offerings import DiskOffering
from core.tags import tags_of
from core.vms import service as vms
from core.volumes import DESTROYED, Volume
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, id_list, owner_params, started, zone_id_of
from native_api.registry import ADMIN_ONLY, OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult, _owner

VOLUME = "volume"
_USER = "org.apache.cloudstack.api.command.user.volume."
VOLUME_FIELDS = (
    Field("id", description="ID of the disk volume"),
    Field("name", description="name of the disk volume"),
    Field("zoneid", description="ID of the availability zone"),
    Field("zonename", description="name of the availability zone"),
    Field("type", description="type of the disk volume (ROOT or DATADISK)"),
    Field("deviceid", "long", "the ID of the device on user vm the volume is attahed to."),
    Field("virtualmachineid", description="id of the virtual machine"),
    Field("vmname", description="name of the virtual machine"),
    Field("vmstate", description="state of the virtual machine"),
    Field("size", "long", "size of the disk volume"),
    Field("created", "date", "the date the disk volume was created"),
    Field("state", description="the state of the disk volume"),
    Field("account", description="the account associated with the disk volume"),
    Field("domainid", description="the ID of the domain associated with the disk volume"),
    Field("domain", description="the domain associated with the disk volume"),
    Field("storagetype", description="shared or local storage"),
    Field("diskofferingid", description="ID of the disk offering"),
    Field("diskofferingname", description="name of the disk offering"),
    Field("storage", description="name of the primary storage hosting the disk volume"),
    Field("attached", "date", "the date the volume was attached to a VM instance"),
    Field("destroyed", "boolean", "the boolean state of whether the volume is destroyed or not"),
    Field("isextractable", "boolean", "true if the volume is extractable, false otherwise"),
    Field("tags", "list", "the list of resource tags associated"),
)


def volume_view(
    session: Session, volume: Volume, ctx: CallContext, tags: list[Any] | None = None
) -> dict[str, Any]:
    """A volume as CloudStack's VolumeResponse."""
    from core.vms.models import VirtualMachine

    zone = session.get_one(Zone, volume.zone_id)
    offering = (
        session.get(DiskOffering, volume.disk_offering_id) if volume.disk_offering_id else None
    )
    vm = session.get(VirtualMachine, volume.vm_id) if volume.vm_id else None
    pool = session.get(StoragePool, volume.pool_id) if volume.pool_id else None
    if tags is None:
        tags = tags_of(session, core_volumes.TAG_TYPE, [volume.id])[volume.id]
    view: dict[str, Any] = {
        "id": volume.uuid,
        "name": volume.name,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "type": volume.volume_type,
        "provisioningtype": "thin",
        "size": volume.size_bytes,
        "created": volume.created,
        "state": volume.state,
        **_owner(session, volume.account_id),
        "storagetype": offering.storage_type if offering else "shared",
        "destroyed": volume.state == DESTROYED,
        "isextractable": volume.volume_type == core_volumes.DATADISK,
        "displayvolume": True,
        "quiescevm": False,
        "supportsstoragesnapshot": False,
        "hypervisor": vm.hypervisor if vm else None,
        "tags": [_tag_view(session, tag, volume) for tag in tags],
        "hasannotations": False,
    }
    if offering is not None:
        view.update(
            diskofferingid=offering.uuid,
            diskofferingname=offering.name,
            diskofferingdisplaytext=offering.display_text,
        )
    if vm is not None:
        view.update(
            virtualmachineid=vm.uuid,
            vmname=vm.name,
            vmdisplayname=vm.display_name,
            vmstate=vm.state,
            deviceid=volume.device_id,
            attached=volume.attached,
        )
    if volume.template_id is not None:
        from core.templates import Template

        template = session.get(Template, volume.template_id)
        if template is not None:
            view.update(templateid=template.uuid, templatename=template.name)
    if pool is not None and ctx.role is Role.ADMIN:
        view.update(storage=pool.name, storageid=pool.uuid, path=volume.path)
    return {key: value for key, value in view.items() if value is not None}


def _tag_view(session: Session, tag: Any, volume: Volume) -> dict[str, Any]:
    return {
        "key": tag.key,
        "value": tag.value,
        "resourcetype": core_volumes.TAG_TYPE,
        "resourceid": volume.uuid,
        **{k: v for k, v in _owner(session, tag.account_id).items() if k != "accountid"},
    }


def _render(session: Session, volume: Volume, ctx: CallContext) -> dict[str, Any]:
    return volume_view(session, volume, ctx)


def _register(kind: str, command_class: str) -> None:
    JOB_RESULTS[kind] = JobResult(
        object_name=VOLUME,
        command_class=_USER + command_class,
        instance_model=Volume,
        render=_render,
    )


for _kind, _class in (
    ("volume.create", "CreateVolumeCmd"),
    ("volume.fromsnapshot", "CreateVolumeCmd"),
    ("volume.attach", "AttachVolumeCmd"),
    ("volume.detach", "DetachVolumeCmd"),
    ("volume.resize", "ResizeVolumeCmd"),
    ("volume.migrate", "MigrateVolumeCmd"),
):
    _register(_kind, _class)
JOB_RESULTS["volume.delete"] = JobResult(
    object_name=VOLUME, command_class=_USER + "DeleteVolumeCmd", instance_model=Volume
)


def tag_pairs(call: Call) -> tuple[tuple[str, str | None], ...]:
    """The `tags[N].key/value` map of a list command as (key, value) pairs."""
    return tuple((entry.get("key", ""), entry.get("value")) for entry in call.get("tags", []))


def _volume(call: Call, name: str = "id") -> Volume:
    return core_volumes.get_volume(call.session, call.ctx, call.get(name))


@command(
    "createVolume",
    kind=Kind.ASYNC_CREATE,
    description="Creates a disk volume from a disk offering. This disk volume must still be "
    "attached to a virtual machine to make use of it.",
    response_name=VOLUME,
    entity="Volume",
    params=(
        Param("name", description="the name of the disk volume"),
        Param("zoneid", "uuid", description="the ID of the availability zone"),
        Param(
            "diskofferingid",
            "uuid",
            description="the ID of the disk offering. Either diskOfferingId or snapshotId must "
            "be passed in.",
        ),
        Param("size", "long", description="Arbitrary volume size (GB)"),
        Param(
            "snapshotid",
            "uuid",
            description="the snapshot ID for the disk volume. Either diskOfferingId or "
            "snapshotId must be passed in.",
        ),
        Param(
            "virtualmachineid",
            "uuid",
            description="the ID of the virtual machine; to be used with snapshot Id, VM to "
            "which the volume gets attached after creation",
        ),
        Param("displayvolume", "boolean", description="an optional field, whether to display "),
        *owner_params(
            "the account associated with the disk volume. Must be used with the "
            "domainId parameter.",
            "the domain ID associated with the disk volume.",
            "the project associated with the volume.",
        ),
    ),
    response_fields=VOLUME_FIELDS,
    job_command_class=_USER + "CreateVolumeCmd",
    differences="A volume created from a snapshot is placed (Ready) in the call, like one "
    "created with virtualmachineid; projectid is accepted and ignored; miniops/maxiops are "
    "not supported.",
)
def create_volume(call: Call) -> Reply:
    session = call.session
    owner = call.owner()
    vm = None
    if call.get("virtualmachineid"):
        vm = vms.get_vm(session, call.ctx, uuid=call.get("virtualmachineid"))
        if vm.account_id != owner.account_id:
            raise InvalidParameter(
                "The volume and the VM must belong to the same account",
                parameter="virtualmachineid",
            )
    if call.get("snapshotid"):
        from core.snapshots import create_volume_from_snapshot, get_snapshot

        snapshot = get_snapshot(session, call.ctx, call.get("snapshotid"))
        volume, job = create_volume_from_snapshot(
            session, owner, snapshot, name=call.get("name"), vm=vm
        )
        return started(job, volume)
    if not call.get("diskofferingid"):
        raise InvalidParameter(
            "Either disk offering ID or snapshot ID must be passed whilst creating volume",
            parameter="diskofferingid",
        )
    if not call.get("zoneid") and vm is None:
        raise InvalidParameter(
            "Please specify zone ID in which the volume is to be created", parameter="zoneid"
        )
    zone = infra.zone_by_uuid(session, call.get("zoneid")) if call.get("zoneid") else None
    offering = offerings.disk_offering_by_uuid(session, call.get("diskofferingid"))
    volume = core_volumes.create_data_volume(
        session,
        owner,
        zone_id=zone.id if zone else vm.zone_id,  # type: ignore[union-attr]
        disk_offering=offering,
        size_gb=call.get("size"),
        name=call.get("name"),
    )
    job = core_volumes.request_create(session, owner, volume, vm=vm)
    return started(job, volume)


@command(
    "attachVolume",
    kind=Kind.ASYNC,
    description="Attaches a disk volume to a virtual machine.",
    response_name=VOLUME,
    entity="Volume",
    params=(
        Param("id", "uuid", True, "the ID of the disk volume"),
        Param("virtualmachineid", "uuid", True, "the ID of the virtual machine"),
        Param(
            "deviceid",
            "long",
            description="The ID of the device to map the volume to the guest OS. If no deviceID "
            "is informed, the next available deviceID will be chosen.",
        ),
    ),
    response_fields=VOLUME_FIELDS,
    job_command_class=_USER + "AttachVolumeCmd",
)
def attach_volume(call: Call) -> Reply:
    volume = _volume(call)
    vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    if vm.account_id != volume.account_id:
        raise InvalidParameter(
            "The volume and the VM must belong to the same account", parameter="virtualmachineid"
        )
    job = core_volumes.attach_volume(
        call.session, call.ctx, volume, vm, device_id=call.get("deviceid")
    )
    return started(job, volume)


@command(
    "detachVolume",
    kind=Kind.ASYNC,
    description="Detaches a disk volume from a virtual machine.",
    response_name=VOLUME,
    entity="Volume",
    params=(
        Param("id", "uuid", description="the ID of the disk volume"),
        Param(
            "deviceid",
            "long",
            description="the device ID on the virtual machine where volume is detached from",
        ),
        Param(
            "virtualmachineid",
            "uuid",
            description="the ID of the virtual machine where the volume is detached from",
        ),
    ),
    response_fields=VOLUME_FIELDS,
    job_command_class=_USER + "DetachVolumeCmd",
)
def detach_volume(call: Call) -> Reply:
    if call.get("id"):
        volume = _volume(call)
    elif call.get("virtualmachineid") and call.get("deviceid") is not None:
        vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
        found = [
            v
            for v in core_volumes.volumes_of_vm(call.session, vm.id)
            if v.device_id == call.get("deviceid")
        ]
        if not found:
            raise InvalidParameter(
                "Unable to find volume with the device ID on the VM", parameter="deviceid"
            )
        volume = found[0]
    else:
        raise InvalidParameter(
            "Please provide either a volume id, or a tuple(device id, instance id)", parameter="id"
        )
    job = core_volumes.detach_volume(call.session, call.ctx, volume)
    return started(job, volume)


@command(
    "resizeVolume",
    kind=Kind.ASYNC,
    description="Resizes a volume",
    response_name=VOLUME,
    entity="Volume",
    params=(
        Param("id", "uuid", True, "the ID of the disk volume"),
        Param("size", "long", description="New volume size in GB"),
        Param("diskofferingid", "uuid", description="new disk offering id"),
        Param(
            "shrinkok",
            "boolean",
            description="Verify OK to Shrink",
        ),
    ),
    response_fields=VOLUME_FIELDS,
    job_command_class=_USER + "ResizeVolumeCmd",
    differences="miniops/maxiops are not supported.",
)
def resize_volume(call: Call) -> Reply:
    volume = _volume(call)
    offering = (
        offerings.disk_offering_by_uuid(call.session, call.get("diskofferingid"))
        if call.get("diskofferingid")
        else None
    )
    job = core_volumes.resize_volume(
        call.session,
        call.ctx,
        volume,
        size_gb=call.get("size"),
        disk_offering=offering,
        shrink_ok=bool(call.get("shrinkok", False)),
    )
    return started(job, volume)


@command(
    "migrateVolume",
    kind=Kind.ASYNC,
    description="Migrate volume",
    response_name=VOLUME,
    entity="Volume",
    roles=ADMIN_ONLY,
    params=(
        Param("volumeid", "uuid", True, "the ID of the volume"),
        Param("storageid", "uuid", True, "destination storage pool ID to migrate the volume to"),
        Param(
            "livemigrate",
            "boolean",
            description="if the volume should be live migrated when it is attached to a running vm",
        ),
        Param("newdiskofferingid", "uuid", description="The new disk offering ID"),
    ),
    response_fields=VOLUME_FIELDS,
    job_command_class=_USER + "MigrateVolumeCmd",
    differences="A volume attached to a running VM cannot be migrated (no live storage "
    "migration); newdiskofferingid is ignored.",
)
def migrate_volume(call: Call) -> Reply:
    volume = _volume(call, "volumeid")
    pool = core_volumes.pool_by_uuid(call.session, call.get("storageid"))
    job = core_volumes.migrate_volume(call.session, call.ctx, volume, pool)
    return started(job, volume)


@command(
    "deleteVolume",
    kind=Kind.SYNC,
    description="Deletes a detached disk volume.",
    response_name="success",
    params=(Param("id", "uuid", True, "The ID of the disk volume"),),
)
def delete_volume(call: Call) -> Reply:
    core_volumes.delete_volume(call.session, call.ctx, _volume(call))
    return Reply(success=True)


@command(
    "listVolumes",
    kind=Kind.LIST,
    description="Lists all volumes.",
    response_name=VOLUME,
    params=(
        Param("id", "uuid", description="the ID of the disk volume"),
        Param("ids", "list", description="the IDs of the volumes, mutually exclusive with id"),
        Param("name", description="the name of the disk volume"),
        Param("type", description="the type of disk volume"),
        Param("virtualmachineid", "uuid", description="the ID of the virtual machine"),
        Param("zoneid", "uuid", description="the ID of the availability zone"),
        Param("storageid", description="the ID of the storage pool, available to ROOT admin only"),
        Param(
            "state",
            description="state of the volume. Possible values are: Ready, Allocated, "
            "Destroy, Expunging, Expunged.",
        ),
        Param("diskofferingid", "uuid", description="list volumes by disk offering"),
        LIST_TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=VOLUME_FIELDS,
)
def list_volumes(call: Call) -> Reply:
    session = call.session
    uuids = id_list(call)
    vm_id = None
    if call.get("virtualmachineid"):
        vm = vms.get_vm(session, call.ctx, uuid=call.get("virtualmachineid"))
        vm_id = vm.id
    pool_id = None
    if call.get("storageid"):
        if call.ctx.role is not Role.ADMIN:
            raise PermissionDenied("Only a root administrator may list volumes by storage pool")
        pool_id = core_volumes.pool_by_uuid(session, call.get("storageid")).id
    state = call.get("state")
    volume_filter = core_volumes.VolumeFilter(
        ids=tuple(uuids) if uuids else None,
        name=call.get("name"),
        keyword=call.get("keyword"),
        volume_type=call.get("type"),
        vm_id=vm_id,
        zone_id=zone_id_of(call),
        pool_id=pool_id,
        state=state[:1].upper() + state[1:] if state else None,
        disk_offering_id=(
            offerings.disk_offering_by_uuid(session, call.get("diskofferingid")).id
            if call.get("diskofferingid")
            else None
        ),
        tags=tag_pairs(call),
    )
    scope = call.scope()
    if uuids and not scope.list_all and call.ctx.role is not Role.USER:
        # Asking for ids is asking for what the caller may see, as CloudStack does.
        scope = type(scope)(True, scope.recursive, scope.domain_id, scope.account_name)
    rows, total = core_volumes.list_volumes(session, call.ctx, scope, volume_filter, call.page())
    tags = tags_of(session, core_volumes.TAG_TYPE, [v.id for v in rows])
    return Reply(items=[volume_view(session, v, call.ctx, tags[v.id]) for v in rows], total=total)
