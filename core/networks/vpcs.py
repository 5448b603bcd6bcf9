"""VPC use cases: create, find, list, update and delete an account's VPCs.

A VPC counts against the account's `vpc` limit from creation to deletion. It can only be
deleted once it has no tiers left (CloudStack refuses too; EC2 says DependencyViolation).
CloudStack's createVPC, updateVPC and deleteVPC are asynchronous: the rows change in the
request (so that errors are immediate and nothing is half-written) and the job has nothing
left to do, as no network element builds VPC routers yet.
"""

from __future__ import annotations

import uuid as uuid_module
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import limits
from core.context import CallContext
from core.errors import InvalidParameter, NotFound, ResourceInUse
from core.events import record_for_caller
from core.infra import Zone
from core.jobs import AsyncJob, job_handler, submit_job
from core.limits import ResourceType
from core.listing import Page, paginate
from core.networks.addressing import parse_cidr
from core.networks.common import apply_update, get_owned, mark_removed, owned_query
from core.networks.models import DEFAULT_VPC_OFFERING, VPC_ENABLED, Network, Vpc
from core.visibility import ListScope, ensure_access

RESOURCE_TYPE = "Vpc"
# The one VPC offering there is; its id is derived from its name so that it never changes.
VPC_OFFERING_UUID = str(uuid_module.uuid5(uuid_module.NAMESPACE_URL, "cloudgate:vpc-offering"))


def vpc_offering_by_uuid(uuid: str) -> str:
    """The name of the VPC offering with this id (there is one), or NotFound."""
    if uuid != VPC_OFFERING_UUID:
        raise NotFound("vpc offering", uuid)
    return DEFAULT_VPC_OFFERING


def network_domain_for(account_id: int) -> str:
    """CloudStack's default guest network domain of an account."""
    return f"cs{account_id:x}cloud.internal"


def _check_name(name: str | None) -> str:
    if not name or len(name) > 255:
        raise InvalidParameter("VPC name must be 1 to 255 characters", parameter="name")
    return name


def new_vpc(
    session: Session,
    ctx: CallContext,
    *,
    zone: Zone,
    name: str,
    cidr: str,
    display_text: str | None = None,
    network_domain: str | None = None,
    tenancy: str = "default",
    default_key: str | None = None,
) -> Vpc:
    """The VPC row, counted and recorded; no job (the default VPC is made this way)."""
    network = parse_cidr(cidr)
    limits.reserve(session, ctx.account_id, {ResourceType.VPC: 1})
    vpc = Vpc(
        name=_check_name(name),
        display_text=display_text or name,
        cidr=str(network),
        zone_id=zone.id,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        state=VPC_ENABLED,
        network_domain=network_domain or network_domain_for(ctx.account_id),
        vpc_offering=DEFAULT_VPC_OFFERING,
        is_default=default_key is not None,
        default_key=default_key,
        dns_support=True,
        dns_hostnames=default_key is not None,  # AWS: on for the default VPC only
        tenancy=tenancy,
    )
    session.add(vpc)
    session.flush()
    if default_key is None:  # defaults are implicit, like the default security group
        record_for_caller(
            session,
            ctx,
            "VPC.CREATE",
            f"Created VPC {vpc.name} ({vpc.cidr})",
            resource_type=RESOURCE_TYPE,
            resource_uuid=vpc.uuid,
        )
    return vpc


def create_vpc(session: Session, ctx: CallContext, **fields: Any) -> tuple[Vpc, AsyncJob]:
    """createVPC / CreateVpc for the account in `ctx` (fields: those of `new_vpc` but
    `default_key`)."""
    if fields.get("tenancy", "default") not in ("default", "dedicated", "host"):
        raise InvalidParameter(f"Invalid tenancy {fields['tenancy']}", parameter="tenancy")
    vpc = new_vpc(session, ctx, **{k: v for k, v in fields.items() if k != "default_key"})
    job = submit_job(session, ctx, "vpc.create", instance_type=RESOURCE_TYPE, instance_id=vpc.id)
    return vpc, job


def get_vpc(
    session: Session, ctx: CallContext, *, uuid: str | None = None, ident: int | None = None
) -> Vpc:
    """A live VPC the caller may act on, by uuid or internal id, or NotFound."""
    vpc: Vpc = get_owned(session, ctx, Vpc, "vpc", uuid=uuid, ident=ident)
    return vpc


def list_vpcs(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    uuid: str | None = None,
    ids: tuple[int, ...] | None = None,
    name: str | None = None,
    zone_id: int | None = None,
    cidr: str | None = None,
    is_default: bool | None = None,
    state: str | None = None,
    keyword: str | None = None,
    tags: list[tuple[str, str | None]] | None = None,
    page: Page = Page(),
) -> tuple[list[Vpc], int]:
    query = owned_query(
        session, ctx, scope, Vpc, RESOURCE_TYPE, uuid=uuid, ids=ids, keyword=keyword, tags=tags
    )
    if name:
        query = query.where(Vpc.name == name)
    if zone_id is not None:
        query = query.where(Vpc.zone_id == zone_id)
    if cidr:
        query = query.where(Vpc.cidr == cidr)
    if is_default is not None:
        query = query.where(Vpc.is_default.is_(is_default))
    if state:
        query = query.where(Vpc.state == state.capitalize())
    return paginate(session, query.order_by(Vpc.id), page)


def update_vpc(
    session: Session, ctx: CallContext, vpc: Vpc, **changes: Any
) -> tuple[Vpc, AsyncJob]:
    """updateVPC (name, display text) and EC2's DNS attributes."""
    job = apply_update(
        session,
        ctx,
        vpc,
        changes,
        allowed={"name", "display_text", "dns_support", "dns_hostnames"},
        resource_type=RESOURCE_TYPE,
        event="VPC.UPDATE",
        job_kind="vpc.update",
    )
    return vpc, job


def tier_count(session: Session, vpc_id: int) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.count()).where(Network.vpc_id == vpc_id, Network.removed.is_(None))
        )
        or 0
    )


def remove_vpc(session: Session, ctx: CallContext, vpc: Vpc) -> None:
    """Mark the VPC removed and uncount it; refused while it has tiers."""
    if tier_count(session, vpc.id):
        raise ResourceInUse(
            f"VPC {vpc.name} has networks (tiers); delete them before deleting the VPC"
        )
    mark_removed(session, ctx, vpc, resource_type=RESOURCE_TYPE, counted=ResourceType.VPC)


def delete_vpc(session: Session, ctx: CallContext, vpc: Vpc) -> AsyncJob:
    """deleteVPC / DeleteVpc."""
    ensure_access(session, ctx, vpc, "vpc", vpc.uuid)
    if vpc.removed is not None:
        raise NotFound("vpc", vpc.uuid)
    remove_vpc(session, ctx, vpc)
    return submit_job(session, ctx, "vpc.delete", instance_type=RESOURCE_TYPE, instance_id=vpc.id)


def _nothing_to_do(_runtime: object, _job: AsyncJob) -> dict[str, object]:
    # The rows changed with the request; no network element implements VPC routers yet.
    return {}


def _nothing_to_undo(_runtime: object, _job: AsyncJob, _error: Exception) -> None:
    return None


for _kind in ("vpc.create", "vpc.update", "vpc.delete"):
    job_handler(_kind, fail=_nothing_to_undo)(_nothing_to_do)
