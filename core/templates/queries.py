"""Reading templates: CloudStack's template filters, launch rights, per-zone rows.

Who may launch a template: its owner (and the owner's domain admins and root admins), every
account when it is public, and the accounts it is shared with (`LaunchPermission`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.db import get_live
from core.errors import InvalidParameter, NotFound, PermissionDenied
from core.infra import Zone
from core.os_types import OsType, os_type_named
from core.templates.models import FILTERS, ISO, LaunchPermission, Template, TemplateZone
from core.visibility import ListScope, can_access, scope_filter


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One line of listTemplates: a template as held in one zone (zone None: cross-zone)."""

    template: Template
    zone_id: int | None
    is_ready: bool
    status: str
    size_bytes: int


def zone_refs(session: Session, template_id: int) -> list[TemplateZone]:
    return list(
        session.scalars(
            sa.select(TemplateZone)
            .where(TemplateZone.template_id == template_id, TemplateZone.removed.is_(None))
            .order_by(TemplateZone.zone_id)
        )
    )


def _shared_with(account_id: int) -> sa.ColumnElement[bool]:
    return Template.id.in_(
        sa.select(LaunchPermission.template_id).where(LaunchPermission.account_id == account_id)
    )


def _filter_clause(
    session: Session, ctx: CallContext, template_filter: str, scope: ListScope
) -> sa.ColumnElement[bool]:
    """CloudStack's templatefilter / isofilter as a WHERE clause."""
    owned = scope_filter(session, ctx, scope, Template.account_id, Template.domain_id)
    if template_filter == "featured":
        return sa.and_(Template.is_featured.is_(True), Template.is_public.is_(True))
    if template_filter in ("self", "selfexecutable"):
        return owned
    if template_filter == "sharedexecutable":
        return sa.and_(_shared_with(ctx.account_id), Template.account_id != ctx.account_id)
    if template_filter == "community":
        return sa.and_(Template.is_public.is_(True), Template.is_featured.is_(False))
    if template_filter == "all":
        if ctx.role is not Role.ADMIN:
            raise InvalidParameter(
                "Filter all can be specified by admin only", parameter="templatefilter"
            )
        return sa.true()
    # executable: own (or within the requested scope), public, or shared with the caller
    return sa.or_(owned, Template.is_public.is_(True), _shared_with(ctx.account_id))


def list_template_rows(
    session: Session,
    ctx: CallContext,
    *,
    template_filter: str = "executable",
    is_iso: bool = False,
    scope: ListScope = ListScope(),
    template_ids: list[int] | None = None,
    name: str | None = None,
    keyword: str | None = None,
    zone_id: int | None = None,
    hypervisor: str | None = None,
    bootable: bool | None = None,
    is_public: bool | None = None,
    is_ready: bool | None = None,
    show_removed: bool = False,
    extra: sa.ColumnElement[bool] | None = None,
) -> list[TemplateRow]:
    """listTemplates/listIsos: one row per template per zone, in CloudStack's order."""
    if template_filter not in FILTERS:
        raise InvalidParameter(f"Invalid filter {template_filter}", parameter="templatefilter")
    query = sa.select(Template).where(
        _filter_clause(session, ctx, template_filter, scope),
        Template.format == ISO if is_iso else Template.format != ISO,
    )
    if not (show_removed and ctx.role is Role.ADMIN):
        query = query.where(Template.removed.is_(None))
    if template_ids is not None:
        query = query.where(Template.id.in_(template_ids))
    if name:
        query = query.where(Template.name == name)
    if keyword:
        query = query.where(Template.name.contains(keyword, autoescape=True))
    if hypervisor:
        query = query.where(sa.func.lower(Template.hypervisor) == hypervisor.lower())
    if bootable is not None:
        query = query.where(Template.bootable.is_(bootable))
    if is_public is not None:
        query = query.where(Template.is_public.is_(is_public))
    if extra is not None:
        query = query.where(extra)
    query = query.order_by(Template.sort_key, Template.id)
    executable = template_filter in ("executable", "selfexecutable", "sharedexecutable")
    want_ready = True if executable else is_ready
    rows: list[TemplateRow] = []
    zones: list[int] | None = None
    for template in session.scalars(query):
        refs = zone_refs(session, template.id)
        if refs:
            candidates = [
                TemplateRow(template, ref.zone_id, ref.is_ready, ref.status, ref.size_bytes)
                for ref in refs
            ]
        else:  # made as is (bootstrap): held wherever its zone says
            if template.zone_id is not None:
                zone_ids = [template.zone_id]
            else:
                if zones is None:
                    zones = list(session.scalars(sa.select(Zone.id).where(Zone.removed.is_(None))))
                zone_ids = zones
            candidates = [
                TemplateRow(template, zid, template.is_ready, template.status, template.size_bytes)
                for zid in zone_ids
            ]
        rows.extend(
            row
            for row in candidates
            if (zone_id is None or row.zone_id == zone_id)
            and (want_ready is None or row.is_ready == want_ready)
        )
    return rows


def list_templates(
    session: Session,
    ctx: CallContext,
    *,
    template_filter: str = "executable",
    template_id: int | None = None,
    name: str | None = None,
    zone_id: int | None = None,
) -> list[Template]:
    """Templates (not ISOs) matching CloudStack's templatefilter, each once."""
    rows = list_template_rows(
        session,
        ctx,
        template_filter=template_filter,
        template_ids=[template_id] if template_id is not None else None,
        name=name,
        zone_id=zone_id,
    )
    seen: dict[int, Template] = {}
    for row in rows:
        seen.setdefault(row.template.id, row.template)
    return list(seen.values())


def _reachable(session: Session, ctx: CallContext, template: Template) -> bool:
    return (
        template.is_public
        or can_access(session, ctx, template)
        or session.get(LaunchPermission, (template.id, ctx.account_id)) is not None
    )


def get_template(
    session: Session, ctx: CallContext, uuid: str, *, is_iso: bool | None = None
) -> Template:
    """A template or ISO the caller may see (public, shared, or its own)."""
    kind = "iso" if is_iso else "template"
    template = get_live(session, Template, kind, uuid=uuid)
    if (is_iso is not None and template.is_iso != is_iso) or not _reachable(session, ctx, template):
        raise NotFound(kind, uuid)
    return template


def owned_template(
    session: Session, ctx: CallContext, uuid: str, *, is_iso: bool | None = None
) -> Template:
    """A template or ISO the caller may change: its own, or within its admin reach."""
    template = get_template(session, ctx, uuid, is_iso=is_iso)
    if not can_access(session, ctx, template):
        raise PermissionDenied(
            f"Account {ctx.account_name or ctx.account_id} does not own {template.kind} {uuid}"
        )
    return template


def template_for_launch(
    session: Session, ctx: CallContext, *, uuid: str | None = None, ident: int | None = None
) -> Template:
    """A template the caller may launch: public, shared with it, or its own (admin: any)."""
    template = get_live(session, Template, "template", ident=ident, uuid=uuid)
    if not _reachable(session, ctx, template):
        raise NotFound("template", uuid or ident)
    return template


def ready_in_zone(session: Session, template: Template, zone_id: int) -> bool:
    refs = zone_refs(session, template.id)
    if not refs:
        return template.is_ready and template.zone_id in (None, zone_id)
    return any(ref.zone_id == zone_id and ref.is_ready for ref in refs)


def os_type_of(session: Session, template: Template) -> OsType | None:
    if template.os_type_id is not None:
        return session.get(OsType, template.os_type_id)
    return os_type_named(session, template.os_type) if template.os_type else None
