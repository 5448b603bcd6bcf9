"""Templates: the disk images VMs boot from (AMIs on the EC2 side)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext, Role
from core.db import Base, IdMixin, get_live
from core.errors import NotFound
from core.visibility import can_access

READY = "Download Complete"


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


def create_template(
    session: Session, *, name: str, account_id: int, domain_id: int, **fields: object
) -> Template:
    template = Template(name=name, account_id=account_id, domain_id=domain_id, **fields)
    session.add(template)
    session.flush()
    return template


def _visible(ctx: CallContext) -> sa.ColumnElement[bool]:
    if ctx.role is Role.ADMIN:
        return sa.true()
    return sa.or_(Template.is_public.is_(True), Template.account_id == ctx.account_id)


def list_templates(
    session: Session,
    ctx: CallContext,
    *,
    template_filter: str = "executable",
    template_id: int | None = None,
    name: str | None = None,
    zone_id: int | None = None,
) -> list[Template]:
    """CloudStack's templatefilter: featured, self, selfexecutable, community, executable, all."""
    query = sa.select(Template).where(Template.removed.is_(None)).order_by(Template.id)
    if template_filter == "featured":
        query = query.where(Template.is_featured.is_(True), Template.is_public.is_(True))
    elif template_filter in ("self", "selfexecutable"):
        query = query.where(Template.account_id == ctx.account_id)
    elif template_filter == "community":
        query = query.where(Template.is_public.is_(True), Template.is_featured.is_(False))
    elif template_filter == "all" and ctx.role is Role.ADMIN:
        pass
    else:
        query = query.where(_visible(ctx))
    if template_filter in ("executable", "selfexecutable"):
        query = query.where(Template.is_ready.is_(True))
    if template_id is not None:
        query = query.where(Template.id == template_id)
    if name is not None:
        query = query.where(Template.name == name)
    if zone_id is not None:
        query = query.where(sa.or_(Template.zone_id.is_(None), Template.zone_id == zone_id))
    return list(session.scalars(query))


def template_for_launch(
    session: Session, ctx: CallContext, *, uuid: str | None = None, ident: int | None = None
) -> Template:
    """A ready template the caller may launch: public, or its own (or anything, for an admin)."""
    template = get_live(session, Template, "template", ident=ident, uuid=uuid)
    if not (template.is_public or can_access(session, ctx, template)):
        raise NotFound("template", uuid or ident)
    return template
