"""Templates made from other sources: a VM's root volume, an object in a bucket, another
template; and launch permissions read and changed by account.

What the EC2 image actions need beyond CloudStack's own template commands (which live in
`core.templates`):
- `template_from_vm`: createTemplate from the VM's ROOT volume; a stopped VM's, or (EC2's
  CreateImage) a running VM's as a crash-consistent copy, optionally with a reboot of the VM
  queued with it (AWS reboots unless NoReboot).
- `template_from_object`: a template whose image is an object of a bucket the caller may
  read; the `template.import` job copies it into secondary storage as a download would.
- `copy_as_new_template`: a new template of the caller's with the image of one it may launch,
  copied in the zones asked for (secondary storage object copies, as copyTemplate does).
- `launch_permission_map` and `share_template`: launch permissions by account id (EC2 names
  accounts by number, CloudStack by name within the template's domain).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import downloads
from core.buckets import handle_for, head_object
from core.context import CallContext
from core.errors import InvalidParameter, InvalidState, NotFound
from core.identity import Account
from core.infra import Cluster, Zone
from core.jobs import AsyncJob, job_handler
from core.os_types import OsType, os_type_named
from core.templates import (
    TEMPLATE_FORMATS,
    LaunchPermission,
    Template,
    add_zone_copy,
    create_private_template,
    new_owned_template,
    os_type_of,
    record_template_event,
    template_for_launch,
    update_permissions,
    zone_refs,
)
from core.visibility import can_access

DEFAULT_OS_TYPE = "Other Linux (64-bit)"
IMPORT_JOB = "template.import"


def _os_type(session: Session, source: Template | None = None) -> OsType:
    """The new template's OS type: the source template's, else the default one."""
    os_type = (os_type_of(session, source) if source else None) or os_type_named(
        session, DEFAULT_OS_TYPE
    )
    if os_type is None:
        raise InvalidParameter("No OS type is known for the new template", parameter="ostypeid")
    return os_type


# from a VM -----------------------------------------------------------------------------------


def template_from_vm(
    session: Session,
    ctx: CallContext,
    vm: Any,
    *,
    name: str,
    display_text: str,
    allow_running: bool = False,
    reboot: bool = False,
) -> tuple[Template, AsyncJob]:
    """A template of the VM's ROOT volume, with the OS type of the template it runs.

    `allow_running` lets a running VM's volume be copied as it is (crash-consistent);
    `reboot` then queues a reboot of the VM in the same transaction. The copy does not wait
    for the reboot (jobs of different resources run independently), so the image is
    crash-consistent either way; the reboot is what AWS's CreateImage does to the instance.
    """
    from core.vms.service import reboot_vm
    from core.vms.states import VmState
    from core.volumes import volumes_of_vm

    root = next((v for v in volumes_of_vm(session, vm.id) if v.volume_type == "ROOT"), None)
    if root is None:  # an expunged VM's went with it
        if vm.state not in (VmState.STOPPED, VmState.RUNNING):
            raise InvalidState("virtual machine", vm.uuid, vm.state, "create a template from it")
        raise InvalidParameter(f"The VM {vm.uuid} has no ROOT volume", parameter="vmid")
    source = session.get(Template, vm.template_id) if vm.template_id else None
    made = create_private_template(
        session,
        ctx,
        name=name,
        display_text=display_text,
        os_type=_os_type(session, source),
        volume_uuid=root.uuid,
        allow_running=allow_running,
    )
    if reboot and vm.state == VmState.RUNNING:
        reboot_vm(session, ctx, vm)
    return made


def template_from_snapshot(
    session: Session, ctx: CallContext, snapshot_id: int, *, name: str, display_text: str
) -> tuple[Template, AsyncJob]:
    """A template of a backed-up snapshot the caller may see (createTemplate snapshotid)."""
    from core.snapshots import Snapshot

    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.removed is not None or not can_access(session, ctx, snapshot):
        raise NotFound("snapshot", snapshot_id)
    return create_private_template(
        session,
        ctx,
        name=name,
        display_text=display_text,
        os_type=_os_type(session),
        snapshot_uuid=snapshot.uuid,
    )


# from an object in a bucket ------------------------------------------------------------------


def _zone_hypervisor(session: Session, zone: Zone) -> str:
    hypervisor = session.scalar(
        sa.select(Cluster.hypervisor)
        .where(Cluster.zone_id == zone.id, Cluster.removed.is_(None))
        .order_by(Cluster.id)
        .limit(1)
    )
    return hypervisor or "Simulator"


def _format_of(key: str) -> str:
    suffix = key.rsplit(".", 1)[-1].upper() if "." in key else ""
    return suffix if suffix in TEMPLATE_FORMATS else "QCOW2"


def template_from_object(
    session: Session,
    ctx: CallContext,
    store: Any,
    *,
    bucket: str,
    key: str,
    name: str,
    display_text: str,
    zone: Zone,
) -> tuple[Template, AsyncJob]:
    """Register the object `bucket/key` as a template in `zone`; a job copies its bytes.

    The caller must be allowed to read the bucket (core.buckets decides); the object must
    exist now. The image's format is the key's extension when it names one, else QCOW2.
    """
    if not bucket or not key:
        raise InvalidParameter(
            "The image location must be of the form bucket/key", parameter="ImageLocation"
        )
    handle = handle_for(session, ctx, bucket, action="read")
    info = head_object(store, handle, key)
    os_type = _os_type(session)
    template = new_owned_template(
        session,
        ctx,
        name=name,
        display_text=display_text,
        zone_id=zone.id,
        format=_format_of(key),
        hypervisor=_zone_hypervisor(session, zone),
        os_type=os_type.display_name,
        os_type_id=os_type.id,
        size_bytes=info.size,
        url=f"s3://{bucket}/{key}",
    )
    job = add_zone_copy(
        session,
        ctx,
        template,
        zone.id,
        IMPORT_JOB,
        {"namespace": handle.namespace, "bucket": bucket, "key": key},
    )
    record_template_event(
        session, ctx, template, "CREATE", f"Registering template {name} from {bucket}/{key}"
    )
    return template, job


@job_handler(IMPORT_JOB, fail=downloads.mark_copy_failed)
def import_object(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    """Copy the bucket's object into this zone's secondary storage (idempotent, like a download)."""
    with runtime.db.read() as session:
        template, ref, zone = downloads.load_zone_copy(session, job)
        if ref.removed is not None or ref.is_ready:
            return {}
    arguments = job.arguments
    downloads.copy_object_in(
        runtime,
        job,
        template,
        zone,
        (arguments["namespace"], arguments["bucket"], arguments["key"]),
        failure=f"Failed to import template from {arguments['bucket']}/{arguments['key']}",
    )
    return {}


# a copy as a new template --------------------------------------------------------------------


def copy_as_new_template(
    session: Session,
    ctx: CallContext,
    source: Template,
    *,
    name: str,
    display_text: str,
    zone_ids: list[int] | None = None,
) -> tuple[Template, list[AsyncJob]]:
    """A new template of the caller's holding the image of `source` (one it may launch).

    Copied into `zone_ids`, or into the first zone that holds the source. A template made
    as is (bootstrap) has no stored image; its copy gets a descriptor image, as a template
    created from a volume does.
    """
    source = template_for_launch(session, ctx, ident=source.id)
    if not source.is_ready:
        raise InvalidParameter(
            f"The template {source.uuid} is not ready to be copied", parameter="SourceImageId"
        )
    stored = [ref for ref in zone_refs(session, source.id) if ref.is_ready and ref.install_path]
    default_zone = stored[0].zone_id if stored else source.zone_id
    if default_zone is None:
        default_zone = session.scalar(
            sa.select(Zone.id).where(Zone.removed.is_(None)).order_by(Zone.id).limit(1)
        )
    targets = list(dict.fromkeys(zone_ids or ([default_zone] if default_zone else [])))
    if not targets:
        raise InvalidParameter("No zone to copy the template into", parameter="zoneid")
    copy = new_owned_template(
        session,
        ctx,
        name=name,
        display_text=display_text,
        zone_id=targets[0] if len(targets) == 1 else None,
        format=source.format,
        hypervisor=source.hypervisor,
        os_type=source.os_type,
        os_type_id=source.os_type_id,
        size_bytes=source.size_bytes,
        url=source.url,
        checksum=source.checksum,
        password_enabled=source.password_enabled,
        requires_hvm=source.requires_hvm,
        sshkey_enabled=source.sshkey_enabled,
        dynamically_scalable=source.dynamically_scalable,
        bootable=source.bootable,
        details=source.details,
    )
    jobs = [_copy_job(session, ctx, copy, source, zone_id, stored) for zone_id in targets]
    record_template_event(
        session, ctx, copy, "COPY", f"Copying template {source.name} as {copy.name}"
    )
    return copy, jobs


def _copy_job(
    session: Session,
    ctx: CallContext,
    copy: Template,
    source: Template,
    zone_id: int,
    stored: list[Any],
) -> AsyncJob:
    if stored:
        ref = next((r for r in stored if r.zone_id == zone_id), stored[0])
        return add_zone_copy(
            session, ctx, copy, zone_id, "template.copy", {"source_ref_id": ref.id}
        )
    params = {
        "volume_size": source.size_bytes,
        "source_uuid": source.uuid,
        "source_kind": "template",
    }
    return add_zone_copy(session, ctx, copy, zone_id, "template.create", params)


# launch permissions by account id ------------------------------------------------------------


def launch_permission_map(session: Session, template_ids: Iterable[int]) -> dict[int, list[int]]:
    """The accounts each template is shared with, for many templates in one query."""
    wanted = list(template_ids)
    shared: dict[int, list[int]] = {template_id: [] for template_id in wanted}
    if not wanted:
        return shared
    query = (
        sa.select(LaunchPermission.template_id, LaunchPermission.account_id)
        .where(LaunchPermission.template_id.in_(wanted))
        .order_by(LaunchPermission.account_id)
    )
    for template_id, account_id in session.execute(query):
        shared[template_id].append(account_id)
    return shared


def _accounts(session: Session, template: Template, account_ids: list[int]) -> list[str]:
    """The names of the accounts (of the template's domain, where CloudStack shares)."""
    names = []
    for account_id in account_ids:
        account = session.get(Account, account_id)
        if account is None or account.removed is not None:
            raise NotFound("account", account_id)
        if account.domain_id != template.domain_id:
            raise InvalidParameter(
                f"Templates can be shared only with accounts of their own domain "
                f"(account {account.uuid})",
                parameter="accounts",
            )
        names.append(account.name)
    return names


def share_template(
    session: Session,
    ctx: CallContext,
    template: Template,
    *,
    add: Sequence[int] = (),
    remove: Sequence[int] = (),
    is_public: bool | None = None,
) -> None:
    """Add and remove launch permissions by account id, and set or clear the public flag."""
    added, removed = (
        _accounts(session, template, list(add)),
        _accounts(session, template, list(remove)),
    )
    update_permissions(session, ctx, template, is_public=is_public)
    if added:
        update_permissions(session, ctx, template, accounts=added, operation="add")
    if removed:
        update_permissions(session, ctx, template, accounts=removed, operation="remove")
