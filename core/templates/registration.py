"""Registering templates and ISOs: the row at once (not ready), one download job per zone."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.errors import InvalidParameter
from core.events import record_for_caller
from core.infra import Zone
from core.jobs import AsyncJob, submit_job
from core.limits import ResourceType, reserve
from core.os_types import OsType, os_type_named
from core.templates.models import (
    CHECKSUM_ALGORITHMS,
    ISO,
    TEMPLATE_FORMATS,
    DownloadState,
    Template,
    TemplateZone,
)


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


def new_owned_template(
    session: Session, ctx: CallContext, *, name: str, display_text: str, **fields: object
) -> Template:
    """A new template of the caller's account, counted against its template limit; every
    way of making one (registering, createTemplate, EC2's images) starts here."""
    reserve(session, ctx.account_id, {ResourceType.TEMPLATE: 1})
    return create_template(
        session,
        name=name,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        display_text=display_text or name,
        **fields,
    )


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
    template = new_owned_template(
        session,
        ctx,
        name=spec.name,
        display_text=spec.display_text,
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
    record_template_event(
        session, ctx, template, "CREATE", f"Successfully registered {template.kind} {template.name}"
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
        instance_type=template.resource_type,
        instance_id=template.id,
        params={"zone_id": zone_id, **(params or {})},
    )


def record_template_event(
    session: Session, ctx: CallContext, template: Template, action: str, text: str
) -> None:
    """An event about `template`: TEMPLATE.<action> or ISO.<action>, as CloudStack names them."""
    record_for_caller(
        session,
        ctx,
        f"{template.resource_type.upper()}.{action}",
        text,
        resource_type=template.resource_type,
        resource_uuid=template.uuid,
    )
