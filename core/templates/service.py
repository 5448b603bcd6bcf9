"""Changing templates and ISOs: descriptive fields, deleting zone copies, copying to zones."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.db import utcnow
from core.errors import InvalidParameter, NotFound, PermissionDenied
from core.jobs import AsyncJob, submit_job
from core.limits import ResourceType, release
from core.os_types import OsType
from core.tags import forget_resource
from core.templates.models import TEMPLATE_FORMATS, Template
from core.templates.queries import zone_refs
from core.templates.registration import add_zone_copy, record_template_event
from core.visibility import can_access


@dataclass
class TemplateUpdate:
    name: str | None = None
    display_text: str | None = None
    os_type: OsType | None = None
    password_enabled: bool | None = None
    bootable: bool | None = None
    format: str | None = None
    sort_key: int | None = None
    requires_hvm: bool | None = None
    sshkey_enabled: bool | None = None
    dynamically_scalable: bool | None = None


def update_template(
    session: Session, ctx: CallContext, template: Template, change: TemplateUpdate
) -> Template:
    """updateTemplate / updateIso: the owner (or an admin) changes descriptive fields."""
    if not can_access(session, ctx, template):
        raise NotFound(template.kind, template.uuid)
    if change.format is not None:
        wanted = change.format.upper()
        if template.is_iso or wanted not in TEMPLATE_FORMATS:
            raise InvalidParameter(
                f"Image format: {change.format} is incorrect", parameter="format"
            )
        template.format = wanted
    if change.name is not None:
        template.name = change.name
    if change.display_text is not None:
        template.display_text = change.display_text
    if change.os_type is not None:
        template.os_type_id = change.os_type.id
        template.os_type = change.os_type.display_name
    for attribute in (
        "password_enabled",
        "bootable",
        "sort_key",
        "requires_hvm",
        "sshkey_enabled",
        "dynamically_scalable",
    ):
        value = getattr(change, attribute)
        if value is not None:
            setattr(template, attribute, value)
    session.flush()
    record_template_event(
        session, ctx, template, "UPDATE", f"Updated {template.kind} {template.name}"
    )
    return template


def _users_of(session: Session, template: Template, zone_id: int | None) -> list[str]:
    from core.vms.models import VirtualMachine

    if template.is_iso:
        from core.isos import VmIso

        query = (
            sa.select(VirtualMachine.name)
            .join(VmIso, VmIso.vm_id == VirtualMachine.id)
            .where(VmIso.iso_id == template.id, VirtualMachine.removed.is_(None))
        )
    else:
        query = sa.select(VirtualMachine.name).where(
            VirtualMachine.template_id == template.id, VirtualMachine.removed.is_(None)
        )
    if zone_id is not None:
        query = query.where(VirtualMachine.zone_id == zone_id)
    return list(session.scalars(query))


def delete_template(
    session: Session,
    ctx: CallContext,
    template: Template,
    *,
    zone_id: int | None = None,
    forced: bool = False,
) -> AsyncJob:
    """deleteTemplate / deleteIso: drop one zone's copy, or all; the job frees the storage."""
    if not can_access(session, ctx, template):
        raise NotFound(template.kind, template.uuid)
    if template.template_type in ("SYSTEM", "BUILTIN") and ctx.role is not Role.ADMIN:
        raise PermissionDenied(f"Only an administrator may delete {template.kind} {template.uuid}")
    users = _users_of(session, template, zone_id)
    if users and template.is_iso:
        raise InvalidParameter("Unable to delete iso, as it's used by other vms")
    if users and not forced:
        raise InvalidParameter(
            f"Unable to delete template with id: {template.uuid} because VM instances: "
            f"[{', '.join(users)}] are using it."
        )
    refs = zone_refs(session, template.id)
    if zone_id is not None and refs and zone_id not in {ref.zone_id for ref in refs}:
        raise InvalidParameter(
            f"The {template.kind} {template.uuid} is not available in the given zone"
        )
    now = utcnow()
    doomed = [ref for ref in refs if zone_id is None or ref.zone_id == zone_id]
    freed = sum(ref.size_bytes for ref in doomed if ref.is_ready)
    for ref in doomed:
        ref.removed = now
    remaining = [ref for ref in refs if ref not in doomed]
    if not remaining or zone_id is None:
        template.removed = now
        kind = "ISO" if template.is_iso else "Template"
        forget_resource(session, kind, template.id)
        release(session, template.account_id, {ResourceType.TEMPLATE: 1})
    else:
        template.zone_id = remaining[0].zone_id if len(remaining) == 1 else None
        template.is_ready = any(ref.is_ready for ref in remaining)
    if freed:
        release(session, template.account_id, {ResourceType.SECONDARY_STORAGE: freed})
    record_template_event(
        session, ctx, template, "DELETE", f"Deleted {template.kind} {template.name}"
    )
    session.flush()
    return submit_job(
        session,
        ctx,
        "template.delete",
        instance_type=template.resource_type,
        instance_id=template.id,
        params={"ref_ids": [ref.id for ref in doomed]},
    )


def copy_template(
    session: Session,
    ctx: CallContext,
    template: Template,
    *,
    source_zone_id: int | None,
    dest_zone_ids: list[int],
) -> list[AsyncJob]:
    """copyTemplate / copyIso: queue a copy from a zone that holds it to each destination."""
    if not can_access(session, ctx, template) and not template.is_public:
        raise NotFound(template.kind, template.uuid)
    if not dest_zone_ids:
        raise InvalidParameter("Please specify valid destination zones", parameter="destzoneids")
    refs = [ref for ref in zone_refs(session, template.id) if ref.is_ready]
    source = next(
        (ref for ref in refs if source_zone_id is None or ref.zone_id == source_zone_id), None
    )
    if source is None:
        raise InvalidParameter(
            f"The {template.kind} {template.uuid} is not ready in the source zone",
            parameter="sourcezoneid",
        )
    if source.zone_id in dest_zone_ids:
        raise InvalidParameter(
            "Please specify different source and destination zones.", parameter="destzoneids"
        )
    jobs = [
        add_zone_copy(
            session, ctx, template, zone_id, "template.copy", {"source_ref_id": source.id}
        )
        for zone_id in dest_zone_ids
    ]
    template.zone_id = None
    record_template_event(
        session, ctx, template, "COPY", f"Copying {template.kind} {template.name}"
    )
    return jobs
