"""What the VPC and network use cases share: finding an owned live row, the common list
filters, and applying an update (with its event and job)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import limits
from core.context import CallContext
from core.db import utcnow
from core.errors import InvalidParameter
from core.events import record_for_caller
from core.jobs import AsyncJob, submit_job
from core.limits import ResourceType
from core.tags import forget_resource, tag_filter
from core.visibility import ListScope, ensure_access, scope_filter


def get_owned(
    session: Session,
    ctx: CallContext,
    model: Any,
    kind: str,
    *,
    uuid: str | None = None,
    ident: int | None = None,
) -> Any:
    """A live row the caller may act on, by uuid or internal id, or NotFound(kind)."""
    query = sa.select(model).where(model.removed.is_(None))
    query = query.where(model.uuid == uuid) if uuid is not None else query.where(model.id == ident)
    row = session.scalar(query)
    ensure_access(session, ctx, row, kind, uuid if uuid is not None else ident)
    return row


def owned_query(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    model: Any,
    resource_type: str,
    *,
    uuid: str | None,
    ids: tuple[int, ...] | None,
    keyword: str | None,
    tags: list[tuple[str, str | None]] | None,
) -> sa.Select[Any]:
    """Live rows of `model` in the caller's scope, with the filters every list call takes."""
    query = sa.select(model).where(
        model.removed.is_(None),
        scope_filter(session, ctx, scope, model.account_id, model.domain_id),
    )
    if uuid:
        query = query.where(model.uuid == uuid)
    if ids is not None:
        query = query.where(model.id.in_(ids))
    if keyword:
        query = query.where(
            sa.or_(
                model.name.contains(keyword, autoescape=True),
                model.display_text.contains(keyword, autoescape=True),
            )
        )
    if tags:
        query = query.where(tag_filter(resource_type, model.__table__.c.id, tags))
    return query


def apply_update(
    session: Session,
    ctx: CallContext,
    row: Any,
    changes: dict[str, Any],
    *,
    allowed: set[str],
    resource_type: str,
    event: str,
    job_kind: str,
) -> AsyncJob:
    """Set the given (non-None) fields; record `event`; queue the (trivial) update job."""
    ensure_access(session, ctx, row, resource_type.lower(), row.uuid)
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidParameter(f"Cannot update {', '.join(sorted(unknown))} of a {resource_type}")
    if changes.get("name") is not None and not 0 < len(changes["name"]) <= 255:
        raise InvalidParameter("The name must be 1 to 255 characters", parameter="name")
    for field, value in changes.items():
        if value is not None:
            setattr(row, field, value)
    session.flush()
    record_for_caller(
        session,
        ctx,
        event,
        f"Updated {resource_type} {row.name}",
        resource_type=resource_type,
        resource_uuid=row.uuid,
    )
    return submit_job(session, ctx, job_kind, instance_type=resource_type, instance_id=row.id)


def mark_removed(
    session: Session, ctx: CallContext, row: Any, *, resource_type: str, counted: ResourceType
) -> None:
    """Soft-delete `row`: removed, no longer a default, uncounted, untagged, recorded."""
    row.removed = utcnow()
    row.default_key = None  # is_default stays: an account's deleted default is remembered
    session.flush()
    limits.release(session, row.account_id, {counted: 1})
    forget_resource(session, resource_type, row.id)
    event = "VPC.DELETE" if counted is ResourceType.VPC else "NETWORK.DELETE"
    record_for_caller(
        session,
        ctx,
        event,
        f"Deleted {resource_type} {row.name}",
        resource_type=resource_type,
        resource_uuid=row.uuid,
    )
