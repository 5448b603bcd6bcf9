"""Resource tags: key/value pairs on any taggable resource, and the `tags[]` list filter.

One table serves every resource type (CloudStack's `resource_tags`): a tag names its resource
by type ("UserVm", "Volume", "Snapshot", "Template", "SecurityGroup", …) and internal id, and
carries the owner so that tenants only see their own tags.
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base, IdMixin
from core.errors import Conflict, InvalidParameter, NotFound
from core.events import record_for_caller
from core.listing import Page, paginate
from core.visibility import ListScope, ensure_access, scope_filter

MAX_KEY = 255
MAX_VALUE = 255


class ResourceTag(IdMixin, Base):
    __tablename__ = "resource_tag"
    __table_args__ = (
        sa.UniqueConstraint("resource_type", "resource_id", "key"),
        sa.Index("ix_resource_tag_lookup", "resource_type", "key", "value"),
    )

    resource_type: Mapped[str] = mapped_column(sa.String(64))
    resource_id: Mapped[int]
    resource_uuid: Mapped[str] = mapped_column(sa.String(36))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY))
    value: Mapped[str] = mapped_column(sa.String(MAX_VALUE), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    customer: Mapped[str] = mapped_column(sa.String(255), default="")


def _check(key: str, value: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise InvalidParameter("Tag key must be 1 to 255 characters", parameter="tags")
    if len(value) > MAX_VALUE:
        raise InvalidParameter("Tag value must be at most 255 characters", parameter="tags")


def set_tags(
    session: Session,
    *,
    resource_type: str,
    resource_id: int,
    resource_uuid: str,
    account_id: int,
    domain_id: int,
    tags: dict[str, str],
) -> list[ResourceTag]:
    """Create or overwrite tags on one resource the caller has already been checked against."""
    written = []
    for key, value in tags.items():
        _check(key, value)
        tag = session.scalar(
            sa.select(ResourceTag).where(
                ResourceTag.resource_type == resource_type,
                ResourceTag.resource_id == resource_id,
                ResourceTag.key == key,
            )
        )
        if tag is None:
            tag = ResourceTag(
                resource_type=resource_type,
                resource_id=resource_id,
                resource_uuid=resource_uuid,
                key=key,
                account_id=account_id,
                domain_id=domain_id,
            )
            session.add(tag)
        tag.value = value
        written.append(tag)
    session.flush()
    return written


def delete_tags(
    session: Session, *, resource_type: str, resource_id: int, tags: dict[str, str | None]
) -> int:
    """Remove tags by key (and value, when given); no tags given removes all of them."""
    query = sa.delete(ResourceTag).where(
        ResourceTag.resource_type == resource_type, ResourceTag.resource_id == resource_id
    )
    if tags:
        query = query.where(
            sa.or_(
                *(
                    sa.and_(ResourceTag.key == key, ResourceTag.value == value)
                    if value is not None
                    else ResourceTag.key == key
                    for key, value in tags.items()
                )
            )
        )
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def forget_resource(session: Session, resource_type: str, resource_id: int) -> int:
    """Remove every tag of a resource that is going away, so that none outlives it (a tag
    names its resource by internal id only, and a later row must not inherit it)."""
    return delete_tags(session, resource_type=resource_type, resource_id=resource_id, tags={})


def tags_of(
    session: Session, resource_type: str, resource_ids: list[int]
) -> dict[int, list[ResourceTag]]:
    """Tags of many resources in one query (for rendering lists)."""
    found: dict[int, list[ResourceTag]] = {rid: [] for rid in resource_ids}
    if not resource_ids:
        return found
    for tag in session.scalars(
        sa.select(ResourceTag)
        .where(
            ResourceTag.resource_type == resource_type, ResourceTag.resource_id.in_(resource_ids)
        )
        .order_by(ResourceTag.key)
    ):
        found[tag.resource_id].append(tag)
    return found


def tag_filter(
    resource_type: str, id_column: sa.ColumnElement[int], tags: list[tuple[str, str | None]]
) -> sa.ColumnElement[bool]:
    """A WHERE clause keeping rows that carry every (key, value) pair (value None: any value)."""
    clauses = []
    for key, value in tags:
        match = sa.select(ResourceTag.resource_id).where(
            ResourceTag.resource_type == resource_type, ResourceTag.key == key
        )
        if value is not None:
            match = match.where(ResourceTag.value == value)
        clauses.append(id_column.in_(match))
    return sa.and_(sa.true(), *clauses)


def list_tags(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    resource_type: str | None = None,
    resource_uuid: str | None = None,
    key: str | None = None,
    value: str | None = None,
    customer: str | None = None,
    keyword: str | None = None,
    page: Page = Page(),
) -> tuple[list[ResourceTag], int]:
    """listTags: the tags the caller may see in `scope`."""
    query = sa.select(ResourceTag).where(
        scope_filter(session, ctx, scope, ResourceTag.account_id, ResourceTag.domain_id)
    )
    if resource_type:
        query = query.where(ResourceTag.resource_type == resource_type)
    if resource_uuid:
        query = query.where(ResourceTag.resource_uuid == resource_uuid)
    if key is not None:
        query = query.where(ResourceTag.key == key)
    if value is not None:
        query = query.where(ResourceTag.value == value)
    if customer is not None:
        query = query.where(ResourceTag.customer == customer)
    if keyword:
        pattern = f"%{keyword}%"
        query = query.where(sa.or_(ResourceTag.key.like(pattern), ResourceTag.value.like(pattern)))
    return paginate(session, query.order_by(ResourceTag.id), page)


# CloudStack resource type name → where its model lives ("module:Class"), resolved at call time
# because several families are written concurrently: a type whose model is not importable yet
# is answered as unsupported. Several candidates may be named; the first importable one wins.
TAGGABLE: dict[str, tuple[str, ...]] = {
    "UserVm": ("core.vms.models:VirtualMachine",),
    "Template": ("core.templates:Template",),
    "ISO": ("core.templates:Template",),
    "Volume": ("core.volumes:Volume",),
    "Snapshot": ("core.snapshots:Snapshot", "core.snapshots.models:Snapshot"),
    "VMSnapshot": ("core.vm_snapshots:VMSnapshot", "core.vm_snapshots:VmSnapshot"),
    "SecurityGroup": ("core.security_groups:SecurityGroup",),
    "PublicIpAddress": ("core.public_ips:PublicIpAddress",),
    "SSHKeyPair": ("core.keypairs:SSHKeyPair",),
    "Project": ("core.projects:Project",),
    "Network": ("core.networks:Network", "core.networks.models:Network"),
    "Vpc": ("core.vpcs:Vpc", "core.networks:Vpc"),
    "AffinityGroup": ("core.affinity:AffinityGroup", "core.affinity_groups:AffinityGroup"),
    "Zone": ("core.infra:Zone",),
    "ServiceOffering": ("core.offerings:ServiceOffering",),
    "DiskOffering": ("core.offerings:DiskOffering",),
}
# Types without an owning account: only a root administrator tags them (CloudStack: Zone …).
ADMIN_TYPES = frozenset({"Zone", "ServiceOffering", "DiskOffering"})


def canonical_type(resource_type: str) -> str:
    for name in TAGGABLE:
        if name.lower() == resource_type.lower():
            return name
    raise InvalidParameter(f"Unsupported resource type {resource_type}", parameter="resourcetype")


def resolve_model(resource_type: str) -> tuple[str, type[Any]]:
    """CloudStack's type name (canonical spelling) and its model, or InvalidParameter."""
    name = canonical_type(resource_type)
    for path in TAGGABLE[name]:
        module_name, _, attribute = path.partition(":")
        try:
            model = getattr(importlib.import_module(module_name), attribute, None)
        except ImportError:
            continue
        if model is not None:
            return name, model
    raise InvalidParameter(f"Unsupported resource type {resource_type}", parameter="resourcetype")


def _taggable_resource(session: Session, ctx: CallContext, model: type[Any], name: str, uuid: str):
    query = sa.select(model).where(model.uuid == uuid)
    if hasattr(model, "removed"):
        query = query.where(model.removed.is_(None))
    resource = session.scalar(query)
    if resource is None:
        raise NotFound(name, uuid, f"Unable to find resource by id {uuid} and type {name}")
    if name in ADMIN_TYPES or not hasattr(resource, "account_id"):
        if not ctx.is_root_admin:
            raise NotFound(name, uuid, f"Unable to find resource by id {uuid} and type {name}")
    else:
        ensure_access(session, ctx, resource, name, uuid)
    return resource


def _owner_ids(resource: Any, ctx: CallContext) -> tuple[int, int]:
    account_id = getattr(resource, "account_id", None)
    domain_id = getattr(resource, "domain_id", None)
    if account_id is None or domain_id is None:
        return ctx.account_id, ctx.domain_id
    return account_id, domain_id


def create_tags(
    session: Session,
    ctx: CallContext,
    *,
    resource_type: str,
    resource_uuids: list[str],
    tags: dict[str, str],
    customer: str = "",
    overwrite: bool = False,
) -> list[ResourceTag]:
    """createTags: every resource must be visible to the caller and free of these keys.

    `overwrite` gives EC2's CreateTags semantics instead: an existing key takes the new value.
    """
    if not tags:
        raise InvalidParameter("At least one tag must be specified", parameter="tags")
    if not resource_uuids:
        raise InvalidParameter(
            "At least one resource id must be specified", parameter="resourceids"
        )
    name, model = resolve_model(resource_type)
    written: list[ResourceTag] = []
    for uuid in resource_uuids:
        resource = _taggable_resource(session, ctx, model, name, uuid)
        account_id, domain_id = _owner_ids(resource, ctx)
        for key, value in tags.items():
            _check(key, value)
            existing = session.scalar(
                sa.select(ResourceTag).where(
                    ResourceTag.resource_type == name,
                    ResourceTag.resource_id == resource.id,
                    ResourceTag.key == key,
                )
            )
            if existing is not None and overwrite:
                existing.value = value
                written.append(existing)
                continue
            if existing is not None:
                raise Conflict(f"tag with key {key} already exists for resource {uuid}")
            tag = ResourceTag(
                resource_type=name,
                resource_id=resource.id,
                resource_uuid=resource.uuid,
                key=key,
                value=value,
                account_id=account_id,
                domain_id=domain_id,
                customer=customer or "",
            )
            session.add(tag)
            written.append(tag)
        session.flush()
    record_for_caller(
        session,
        ctx,
        "CREATE_TAGS",
        f"Created tags {', '.join(sorted(tags))} on {name} {', '.join(resource_uuids)}",
        resource_type=name,
    )
    return written


def remove_tags(
    session: Session,
    ctx: CallContext,
    *,
    resource_type: str,
    resource_uuids: list[str],
    tags: dict[str, str | None],
) -> int:
    """deleteTags: remove the named tags (all of them when none are named)."""
    if not resource_uuids:
        raise InvalidParameter(
            "At least one resource id must be specified", parameter="resourceids"
        )
    name, model = resolve_model(resource_type)
    removed = 0
    for uuid in resource_uuids:
        resource = _taggable_resource(session, ctx, model, name, uuid)
        removed += delete_tags(session, resource_type=name, resource_id=resource.id, tags=tags)
    record_for_caller(
        session,
        ctx,
        "DELETE_TAGS",
        f"Deleted tags on {name} {', '.join(resource_uuids)}",
        resource_type=name,
    )
    return removed


def parse_tag_maps(entries: list[dict[str, str]]) -> list[tuple[str, str | None]]:
    """CloudStack's `tags[N].key=…&tags[N].value=…` map parameter as (key, value) pairs."""
    pairs: list[tuple[str, str | None]] = []
    for entry in entries:
        key = entry.get("key")
        if key:
            pairs.append((key, entry.get("value")))
    return pairs
