"""Resource limits: updateResourceLimit, listResourceLimits, updateResourceCount."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import limits
from core.context import CallContext, Role
from core.db import get_live
from core.errors import InvalidParameter, PermissionDenied
from core.events import record_for_caller
from core.identity import Account, Domain
from core.limits import ResourceCount, ResourceType
from core.visibility import domain_in_subtree, scope_filter
from native_api.call import Call
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command

LIMIT_FIELDS = (
    Field("account", description="the account of the resource limit"),
    Field("domainid", description="the domain ID of the resource limit"),
    Field("domain", description="the domain name of the resource limit"),
    Field("resourcetype", description="resource type (0 user_vm … 11 secondary_storage)"),
    Field("resourcetypename", description="resource type name"),
    Field(
        "max",
        "long",
        "the maximum number of the resource. A -1 means the resource currently has no limit.",
    ),
)
COUNT_FIELDS = (
    Field("account", description="the account for which resource count's are updated"),
    Field("domainid", description="the domain ID for which resource count's are updated"),
    Field("domain", description="the domain name for which resource count's are updated"),
    Field("resourcetype", description="resource type"),
    Field("resourcetypename", description="resource type name"),
    Field("resourcecount", "long", "resource count"),
)
RESOURCE_TYPE_HELP = (
    "Type of resource to update. 0 - Instance, 1 - IP, 2 - Volume, 3 - Snapshot, 4 - Template, "
    "5 - Project, 6 - Network, 7 - VPC, 8 - CPU, 9 - Memory, 10 - PrimaryStorage, "
    "11 - SecondaryStorage"
)


def _domain_fields(domain: Domain) -> dict[str, Any]:
    return {
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT",
    }


def account_limit_view(session: Session, account: Account, row: ResourceCount) -> dict[str, Any]:
    resource = ResourceType(row.resource_type)
    return {
        "account": account.name,
        **_domain_fields(session.get_one(Domain, account.domain_id)),
        "resourcetype": str(resource.code),
        "resourcetypename": resource.value,
        "max": limits.effective_limit(session, row),
    }


def domain_limit_view(session: Session, domain: Domain, resource: ResourceType) -> dict[str, Any]:
    return {
        **_domain_fields(domain),
        "resourcetype": str(resource.code),
        "resourcetypename": resource.value,
        "max": limits.domain_limit(session, domain.id, resource),
    }


def _resource(call: Call, required: bool = False) -> ResourceType | None:
    code = call.get("resourcetype")
    if code is not None:
        return limits.resource_type_by_code(code)
    name = call.get("resourcetypename")
    if name:
        return limits.resource_type_by_name(name)
    if required:
        raise InvalidParameter("resourcetype is required", parameter="resourcetype")
    return None


def _target_account(call: Call) -> Account | None:
    """The account named by account(+domainid), checked against the caller, or None."""
    if not call.get("account"):
        return None
    owner = call.owner()
    return call.session.get_one(Account, owner.account_id)


def _target_domain(call: Call) -> Domain:
    domain = get_live(call.session, Domain, "domain", uuid=call.get("domainid"))
    ctx = call.ctx
    if ctx.role is Role.ADMIN:
        return domain
    if ctx.role is Role.DOMAIN_ADMIN and domain_in_subtree(
        call.session, domain.id, ctx.domain_path
    ):
        return domain
    raise PermissionDenied("The caller does not have access to this domain")


def _may_change(ctx: CallContext, *, account_id: int | None, domain: Domain | None) -> None:
    """CloudStack: nobody changes the limits of its own account or its own domain, except the
    root admin; domain admins change those below them."""
    if ctx.role is Role.ADMIN:
        return
    if account_id is not None and account_id == ctx.account_id:
        raise PermissionDenied("Unable to update the resource limit of the caller's own account")
    if domain is not None and domain.id == ctx.domain_id:
        raise PermissionDenied("Unable to update the resource limit of the caller's own domain")


@command(
    "updateResourceLimit",
    kind=Kind.SYNC,
    description="Updates resource limits for an account or domain.",
    response_name="resourcelimit",
    params=(
        Param("resourcetype", "integer", True, RESOURCE_TYPE_HELP),
        Param("max", "long", description="Maximum resource limit."),
        Param(
            "account",
            description="Update resource for a specified account. Must be used "
            "with the domainId parameter.",
        ),
        Param(
            "domainid",
            "uuid",
            description="Update resource limits for all accounts in "
            "specified domain. If used with the account parameter, updates resource limits "
            "for a specified account in specified domain.",
        ),
        Param("projectid", "uuid", description="Update resource limits for project"),
    ),
    response_fields=LIMIT_FIELDS,
    roles=frozenset({Role.ADMIN, Role.DOMAIN_ADMIN}),
)
def update_resource_limit(call: Call) -> Reply:
    session = call.session
    resource = limits.resource_type_by_code(call.get("resourcetype"))
    value = call.get("max")
    if value is not None and value < -1:
        raise InvalidParameter(
            "Please specify either '-1' for an infinite limit, or a limit that is at least '0'.",
            parameter="max",
        )
    account = _target_account(call)
    if account is not None:
        _may_change(call.ctx, account_id=account.id, domain=None)
        if Role(account.role) is Role.ADMIN:
            raise InvalidParameter(
                "Unable to update the limit of a root admin account (it is unlimited)",
                parameter="account",
            )
        limits.ensure_row(session, account.id, resource)
        limits.set_limit(session, account.id, resource, value)
        row = session.get_one(ResourceCount, (account.id, resource.value))
        view = account_limit_view(session, account, row)
    elif call.get("domainid"):
        domain = _target_domain(call)
        _may_change(call.ctx, account_id=None, domain=domain)
        if domain.parent_id is None:
            raise InvalidParameter(
                "Cannot update resource limit for ROOT domain", parameter="domainid"
            )
        limits.set_domain_limit(session, domain.id, resource, value)
        view = domain_limit_view(session, domain, resource)
    else:
        raise InvalidParameter(
            "Please specify either an account (with domainid) or a domainid", parameter="domainid"
        )
    record_for_caller(
        session,
        call.ctx,
        "RESOURCE.LIMIT.UPDATE",
        f"Updated {resource.value} limit to {view['max']}",
    )
    return Reply(obj=view)


@command(
    "listResourceLimits",
    kind=Kind.LIST,
    description="Lists resource limits.",
    response_name="resourcelimit",
    params=(
        Param("id", "long", description="Lists resource limits by ID."),
        Param("resourcetype", "integer", description=RESOURCE_TYPE_HELP),
        Param(
            "resourcetypename",
            description="Type of resource (user_vm, public_ip, volume, "
            "snapshot, template, project, network, vpc, cpu, memory, primary_storage, "
            "secondary_storage)",
        ),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=LIMIT_FIELDS,
)
def list_resource_limits(call: Call) -> Reply:
    session = call.session
    resource = _resource(call)
    wanted = [resource] if resource else list(ResourceType)
    if call.get("domainid") and not call.get("account") and not call.get("listall"):
        domain = _target_domain(call) if call.ctx.role is not Role.USER else None
        if domain is None:
            domain = session.get_one(Domain, call.ctx.domain_id)
            if domain.uuid != call.get("domainid"):
                raise PermissionDenied("The caller does not have access to this domain")
        return call.paged([domain_limit_view(session, domain, r) for r in wanted])
    accounts = session.scalars(
        sa.select(Account)
        .where(
            scope_filter(session, call.ctx, call.scope(), Account.id, Account.domain_id),
            Account.removed.is_(None),
        )
        .order_by(Account.id)
    ).all()
    views = []
    for account in accounts:
        for r in wanted:
            row = session.get(ResourceCount, (account.id, r.value))
            if row is None:
                row = ResourceCount(
                    account_id=account.id,
                    resource_type=r.value,
                    used=0,
                    max=-1 if Role(account.role) is Role.ADMIN else None,
                )
            views.append(account_limit_view(session, account, row))
    return call.paged(views)


@command(
    "updateResourceCount",
    kind=Kind.LIST,
    description="Recalculate and update resource count for an account or domain.",
    response_name="resourcecount",
    params=(
        Param(
            "domainid",
            "uuid",
            True,
            "If account parameter specified then updates resource "
            "counts for a specified account in this domain else update resource counts for all "
            "accounts & child domains in specified domain.",
        ),
        Param(
            "account",
            description="Update resource count for a specified account. Must be "
            "used with the domainId parameter.",
        ),
        Param("resourcetype", "integer", description=RESOURCE_TYPE_HELP),
        Param("projectid", "uuid", description="Update resource limits for project"),
    ),
    response_fields=COUNT_FIELDS,
    roles=frozenset({Role.ADMIN, Role.DOMAIN_ADMIN}),
    writes=True,
)
def update_resource_count(call: Call) -> Reply:
    session = call.session
    resource = _resource(call)
    wanted = [resource] if resource else list(ResourceType)
    domain = _target_domain(call)
    account = _target_account(call)
    accounts = (
        [account]
        if account is not None
        else list(
            session.scalars(
                sa.select(Account)
                .join(Domain, Domain.id == Account.domain_id)
                .where(Domain.path.startswith(domain.path), Account.removed.is_(None))
                .order_by(Account.id)
            )
        )
    )
    views = []
    for each in accounts:
        counted = limits.recount(session, each.id, wanted)
        for r in wanted:
            views.append(
                {
                    "account": each.name,
                    **_domain_fields(session.get_one(Domain, each.domain_id)),
                    "resourcetype": str(r.code),
                    "resourcetypename": r.value,
                    "resourcecount": counted[r],
                }
            )
    return Reply(items=views, total=len(views))
