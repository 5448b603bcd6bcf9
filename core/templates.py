"""Templates and ISOs: the disk images VMs boot from (AMIs on the EC2 side).

As in CloudStack, an ISO is a `vm_template` row whose format is ISO. A template is
registered once and held per zone on secondary storage: `TemplateZone` (CloudStack's
template_zone_ref and template_store_ref) tracks each zone's copy through its download
states. A template is ready once one zone holds it; `Template.zone_id` is its zone when it
lives in exactly one zone, None for a cross-zone template.

Who may launch a template: its owner (and the owner's domain admins and root admins), every
account when it is public, and the accounts it is shared with (`LaunchPermission`).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext, Role
from core.db import Base, IdMixin, get_live, utcnow
from core.errors import InvalidParameter, InvalidState, NotFound, PermissionDenied
from core.events import record_for_caller
from core.identity import Account
from core.infra import Zone
from core.jobs import AsyncJob, submit_job
from core.limits import ResourceType, release, reserve
from core.os_types import OsType, os_type_named
from core.visibility import ListScope, can_access, ensure_root_admin, scope_filter

READY = "Download Complete"
ISO = "ISO"
TEMPLATE_FORMATS = ("QCOW2", "RAW", "VHD", "VHDX", "OVA", "VMDK", "BAREMETAL", "TAR", "DIR")
HYPERVISORS = ("KVM", "XenServer", "VMware", "Hyperv", "LXC", "Ovm3", "BareMetal", "Simulator")
FILTERS = (
    "featured",
    "self",
    "selfexecutable",
    "sharedexecutable",
    "executable",
    "community",
    "all",
)
CHECKSUM_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-224": "sha224", "SHA-256": "sha256",
                       "SHA-384": "sha384", "SHA-512": "sha512"}  # fmt: skip


class DownloadState(enum.StrEnum):
    """CloudStack's VMTemplateStorageResourceAssoc.Status values."""

    NOT_DOWNLOADED = "NOT_DOWNLOADED"
    DOWNLOAD_IN_PROGRESS = "DOWNLOAD_IN_PROGRESS"
    DOWNLOADED = "DOWNLOADED"
    DOWNLOAD_ERROR = "DOWNLOAD_ERROR"


# The download state machine, as data: state → states it may move to.
DOWNLOAD_TRANSITIONS: dict[DownloadState, frozenset[DownloadState]] = {
    DownloadState.NOT_DOWNLOADED: frozenset(
        {DownloadState.DOWNLOAD_IN_PROGRESS, DownloadState.DOWNLOAD_ERROR}
    ),
    DownloadState.DOWNLOAD_IN_PROGRESS: frozenset(
        {DownloadState.DOWNLOAD_IN_PROGRESS, DownloadState.DOWNLOADED, DownloadState.DOWNLOAD_ERROR}
    ),
    DownloadState.DOWNLOADED: frozenset(),
    DownloadState.DOWNLOAD_ERROR: frozenset({DownloadState.DOWNLOAD_IN_PROGRESS}),
}


class Template(IdMixin, Base):
    __tablename__ = "vm_template"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_text: Mapped[str] = mapped_column(sa.String(4096), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id"))
    format: Mapped[str] = mapped_column(sa.String(16), default="QCOW2")
    hypervisor: Mapped[str] = mapped_column(sa.String(32), default="Simulator")
    os_type: Mapped[str] = mapped_column(sa.String(255), default="Other Linux (64-bit)")
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    url: Mapped[str] = mapped_column(sa.String(2048), default="")
    checksum: Mapped[str] = mapped_column(sa.String(255), default="")
    template_type: Mapped[str] = mapped_column(sa.String(16), default="USER")
    is_public: Mapped[bool] = mapped_column(default=False)
    is_featured: Mapped[bool] = mapped_column(default=False)
    is_ready: Mapped[bool] = mapped_column(default=False)
    password_enabled: Mapped[bool] = mapped_column(default=False)
    bootable: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(255), default="")
    removed: Mapped[dt.datetime | None]
    # plain columns (no foreign keys): SQLite cannot add a constrained column in place
    os_type_id: Mapped[int | None]
    is_extractable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    requires_hvm: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    sshkey_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    dynamically_scalable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    sort_key: Mapped[int] = mapped_column(default=0, server_default="0")
    details: Mapped[str] = mapped_column(sa.Text, default="{}", server_default="{}")
    source_volume_id: Mapped[int | None]

    @property
    def is_iso(self) -> bool:
        return self.format == ISO

    @property
    def kind(self) -> str:
        return "iso" if self.is_iso else "template"

    @property
    def detail_map(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.details or "{}")
        return loaded


class TemplateZone(IdMixin, Base):
    """One zone's copy of a template on secondary storage."""

    __tablename__ = "template_zone_ref"
    __table_args__ = (sa.UniqueConstraint("template_id", "zone_id"),)

    template_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_template.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    download_state: Mapped[str] = mapped_column(sa.String(32), default=DownloadState.NOT_DOWNLOADED)
    download_pct: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(1024), default="")
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    install_path: Mapped[str] = mapped_column(sa.String(1024), default="")
    removed: Mapped[dt.datetime | None]

    @property
    def is_ready(self) -> bool:
        return self.download_state == DownloadState.DOWNLOADED


class LaunchPermission(Base):
    """A template shared with one account (CloudStack's launch_permission)."""

    __tablename__ = "launch_permission"

    template_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_template.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True)


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One line of listTemplates: a template as held in one zone (zone None: cross-zone)."""

    template: Template
    zone_id: int | None
    is_ready: bool
    status: str
    size_bytes: int


@dataclass
class TemplateSpec:
    """What registerTemplate / registerIso ask for."""

    name: str
    display_text: str
    url: str
    format: str
    zones: list[Zone]
    hypervisor: str = "Simulator"
    os_type: OsType | None = None
    checksum: str = ""
    is_public: bool = False
    is_featured: bool = False
    is_extractable: bool = False
    password_enabled: bool = False
    requires_hvm: bool = True
    sshkey_enabled: bool = False
    dynamically_scalable: bool = False
    bootable: bool = True
    details: dict[str, str] = field(default_factory=dict)


# creation ----------------------------------------------------------------------------------


def create_template(
    session: Session, *, name: str, account_id: int, domain_id: int, **fields: object
) -> Template:
    """A template row as is (bootstrap, tests); its OS type is resolved from `os_type`."""
    template = Template(name=name, account_id=account_id, domain_id=domain_id, **fields)
    if template.os_type_id is None and template.os_type:
        known = os_type_named(session, template.os_type)
        template.os_type_id = known.id if known else None
    session.add(template)
    session.flush()
    return template


def parse_checksum(checksum: str) -> tuple[str, str]:
    """(hashlib algorithm, lowercase hex) of "{SHA-256}hex" or a plain MD5, as CloudStack."""
    text = checksum.strip()
    algorithm = "MD5"
    if text.startswith("{"):
        end = text.find("}")
        algorithm = text[1:end].upper() if end > 0 else ""
        text = text[end + 1 :] if end > 0 else ""
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidParameter(f"Unsupported checksum algorithm {algorithm}", parameter="checksum")
    name = CHECKSUM_ALGORITHMS[algorithm]
    digest = text.lower()
    if len(digest) != hashlib.new(name).digest_size * 2 or any(
        c not in "0123456789abcdef" for c in digest
    ):
        raise InvalidParameter(
            f"Checksum {checksum} is not a valid {algorithm} digest", parameter="checksum"
        )
    return name, digest


def register_template(
    session: Session, ctx: CallContext, spec: TemplateSpec
) -> tuple[Template, list[AsyncJob]]:
    """Record a template or ISO at once (not ready) and queue one download per zone."""
    is_iso = spec.format == ISO
    if not spec.url.lower().startswith(("http://", "https://")):
        raise InvalidParameter(
            "Unsupported scheme for url: only http and https are supported", parameter="url"
        )
    if not is_iso and spec.format.upper() not in TEMPLATE_FORMATS:
        raise InvalidParameter(f"Image format: {spec.format} is incorrect", parameter="format")
    if not spec.zones:
        raise InvalidParameter("Please specify a valid zone", parameter="zoneid")
    if spec.checksum:
        parse_checksum(spec.checksum)
    if spec.is_featured and ctx.role is not Role.ADMIN:
        spec.is_featured = False  # only root admins may feature, as in CloudStack
    reserve(session, ctx.account_id, {ResourceType.TEMPLATE: 1})
    template = create_template(
        session,
        name=spec.name,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        display_text=spec.display_text or spec.name,
        zone_id=spec.zones[0].id if len(spec.zones) == 1 else None,
        format=spec.format.upper(),
        hypervisor="" if is_iso else spec.hypervisor,
        os_type=spec.os_type.display_name if spec.os_type else "Other (64-bit)",
        os_type_id=spec.os_type.id if spec.os_type else None,
        url=spec.url,
        checksum=spec.checksum,
        is_public=spec.is_public,
        is_featured=spec.is_featured,
        is_extractable=spec.is_extractable,
        password_enabled=spec.password_enabled,
        requires_hvm=spec.requires_hvm,
        sshkey_enabled=spec.sshkey_enabled,
        dynamically_scalable=spec.dynamically_scalable,
        bootable=spec.bootable,
        details=json.dumps(spec.details),
    )
    jobs = [
        add_zone_copy(session, ctx, template, zone.id, "template.download") for zone in spec.zones
    ]
    record_for_caller(
        session,
        ctx,
        "ISO.CREATE" if is_iso else "TEMPLATE.CREATE",
        f"Successfully registered {template.kind} {template.name}",
        resource_type="Iso" if is_iso else "Template",
        resource_uuid=template.uuid,
    )
    return template, jobs


def add_zone_copy(
    session: Session,
    ctx: CallContext,
    template: Template,
    zone_id: int,
    job_kind: str,
    params: dict[str, object] | None = None,
) -> AsyncJob:
    """A zone row in progress for `template` and the job that fills it."""
    ref = session.scalar(
        sa.select(TemplateZone).where(
            TemplateZone.template_id == template.id, TemplateZone.zone_id == zone_id
        )
    )
    if ref is None:
        ref = TemplateZone(template_id=template.id, zone_id=zone_id)
        session.add(ref)
    elif ref.removed is None and ref.is_ready:
        raise InvalidParameter(f"The {template.kind} {template.uuid} is already in this zone")
    ref.removed = None
    ref.download_state = DownloadState.DOWNLOAD_IN_PROGRESS
    ref.download_pct = 0
    ref.status = ""
    session.flush()
    return submit_job(
        session,
        ctx,
        job_kind,
        instance_type="Iso" if template.is_iso else "Template",
        instance_id=template.id,
        params={"zone_id": zone_id, **(params or {})},
    )


# reading -----------------------------------------------------------------------------------


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


def _launchable(session: Session, ctx: CallContext) -> sa.ColumnElement[bool]:
    """Templates the caller may launch: public, shared with it, or within its reach."""
    if ctx.role is Role.ADMIN:
        return sa.true()
    reach = scope_filter(
        session, ctx, ListScope(list_all=True), Template.account_id, Template.domain_id
    )
    return sa.or_(Template.is_public.is_(True), _shared_with(ctx.account_id), reach)


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


# changes -----------------------------------------------------------------------------------


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
    record_for_caller(
        session,
        ctx,
        "ISO.UPDATE" if template.is_iso else "TEMPLATE.UPDATE",
        f"Updated {template.kind} {template.name}",
        resource_type="Iso" if template.is_iso else "Template",
        resource_uuid=template.uuid,
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
        release(session, template.account_id, {ResourceType.TEMPLATE: 1})
    else:
        template.zone_id = remaining[0].zone_id if len(remaining) == 1 else None
        template.is_ready = any(ref.is_ready for ref in remaining)
    if freed:
        release(session, template.account_id, {ResourceType.SECONDARY_STORAGE: freed})
    record_for_caller(
        session,
        ctx,
        "ISO.DELETE" if template.is_iso else "TEMPLATE.DELETE",
        f"Deleted {template.kind} {template.name}",
        resource_type="Iso" if template.is_iso else "Template",
        resource_uuid=template.uuid,
    )
    session.flush()
    return submit_job(
        session,
        ctx,
        "template.delete",
        instance_type="Iso" if template.is_iso else "Template",
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
    record_for_caller(
        session,
        ctx,
        "ISO.COPY" if template.is_iso else "TEMPLATE.COPY",
        f"Copying {template.kind} {template.name}",
        resource_type="Iso" if template.is_iso else "Template",
        resource_uuid=template.uuid,
    )
    return jobs


# permissions -------------------------------------------------------------------------------


def update_permissions(
    session: Session,
    ctx: CallContext,
    template: Template,
    *,
    is_public: bool | None = None,
    is_featured: bool | None = None,
    is_extractable: bool | None = None,
    accounts: list[str] | None = None,
    operation: str | None = None,
) -> None:
    """updateTemplatePermissions: visibility flags, and sharing with named accounts."""
    if not can_access(session, ctx, template):
        raise NotFound(template.kind, template.uuid)
    if is_featured is not None:
        ensure_root_admin(ctx)
        template.is_featured = is_featured
    if is_public is not None:
        template.is_public = is_public
    if is_extractable is not None:
        template.is_extractable = is_extractable
    op = (operation or "").lower()
    if accounts and op not in ("add", "remove"):
        raise InvalidParameter("Invalid operation on accounts, the operation must be either "
                               "'add' or 'remove' in order to modify launch permissions.",
                               parameter="op")  # fmt: skip
    if op == "reset":
        session.execute(
            sa.delete(LaunchPermission).where(LaunchPermission.template_id == template.id)
        )
    for account in _accounts_named(session, template, accounts or []):
        existing = session.get(LaunchPermission, (template.id, account.id))
        if op == "add" and existing is None and account.id != template.account_id:
            session.add(LaunchPermission(template_id=template.id, account_id=account.id))
        elif op == "remove" and existing is not None:
            session.delete(existing)
    session.flush()


def _accounts_named(session: Session, template: Template, names: list[str]) -> list[Account]:
    """Accounts are named in the template owner's domain, as CloudStack resolves them."""
    found = []
    for name in names:
        account = session.scalar(
            sa.select(Account).where(
                Account.name == name,
                Account.domain_id == template.domain_id,
                Account.removed.is_(None),
            )
        )
        if account is None:
            raise InvalidParameter(f"Unable to find account {name}", parameter="accounts")
        found.append(account)
    return found


def shared_accounts(session: Session, template: Template) -> list[Account]:
    return list(
        session.scalars(
            sa.select(Account)
            .join(LaunchPermission, LaunchPermission.account_id == Account.id)
            .where(LaunchPermission.template_id == template.id)
            .order_by(Account.name)
        )
    )


def ensure_state(ref: TemplateZone, to: DownloadState) -> None:
    """Raise InvalidState unless the zone copy may move to `to`."""
    if to not in DOWNLOAD_TRANSITIONS[DownloadState(ref.download_state)]:
        raise InvalidState("template copy", ref.id, ref.download_state, f"move to {to}")


def _private_source(
    session: Session, ctx: CallContext, volume_uuid: str | None, snapshot_uuid: str | None
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
    if vm is not None and vm.state != VmState.STOPPED:
        raise InvalidState("virtual machine", vm.uuid, vm.state, "create a template from it")
    params = {"volume_size": volume.size_bytes, "source_uuid": volume.uuid, "source_kind": "volume"}
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
) -> tuple[Template, AsyncJob]:
    """createTemplate from a stopped VM's ROOT volume or a backed-up snapshot (a job writes
    the image)."""
    if not volume_uuid and not snapshot_uuid:
        raise InvalidParameter(
            "Failed to create private template record, need to specify snapshot ID or volume ID"
        )
    zone_id, size, hypervisor, params, volume_id = _private_source(
        session, ctx, volume_uuid, snapshot_uuid
    )
    if is_featured and ctx.role is not Role.ADMIN:
        is_featured = False
    reserve(session, ctx.account_id, {ResourceType.TEMPLATE: 1})
    template = create_template(
        session,
        name=name,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        display_text=display_text or name,
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
    record_for_caller(
        session,
        ctx,
        "TEMPLATE.CREATE",
        f"Creating template {name} from {params['source_kind']} {params['source_uuid']}",
        resource_type="Template",
        resource_uuid=template.uuid,
    )
    return template, job
