"""Who sees and touches what: CloudStack's visibility rules for the three role types.

- a User sees and acts on its own account's resources only;
- a DomainAdmin on every account in its domain subtree;
- a root Admin on everything;
- any member of a project on the resources of the project's account (`projectid`).
List calls narrow further the way CloudStack does: without `listall` an admin sees its own
account's resources, with `listall` (or an explicit domain/account) the whole scope.
Resources the caller may not see are reported as not found, never as forbidden, so that a
tenant cannot probe another tenant's ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.errors import NotFound, PermissionDenied
from core.identity import Account, Domain, live_account_named
from core.listing import select_where


class Owned(Protocol):
    account_id: int
    domain_id: int


@dataclass(frozen=True, slots=True)
class ListScope:
    """The scope a list call asked for: CloudStack's listall/isrecursive/domainid/account."""

    list_all: bool = False
    recursive: bool = True
    domain_id: int | None = None
    account_name: str | None = None
    # `projectid` given: exactly these (project) accounts, already checked by the front end
    account_ids: tuple[int, ...] | None = None


def domain_in_subtree(session: Session, domain_id: int, ancestor_path: str) -> bool:
    path = session.scalar(sa.select(Domain.path).where(Domain.id == domain_id))
    return path is not None and path.startswith(ancestor_path)


def can_access(session: Session, ctx: CallContext, resource: Owned) -> bool:
    """Admin: all; domain admin: its subtree; user: its own; anyone: its projects' resources."""
    if ctx.role is Role.ADMIN:
        return True
    if ctx.role is Role.DOMAIN_ADMIN and domain_in_subtree(
        session, resource.domain_id, ctx.domain_path
    ):
        return True
    if resource.account_id == ctx.account_id:
        return True
    from core.projects import is_member

    return is_member(session, ctx, resource.account_id)


def ensure_access(
    session: Session, ctx: CallContext, resource: Any, kind: str, ident: object
) -> None:
    """NotFound unless the caller may act on `resource` (not found hides others' ids)."""
    if resource is None or not can_access(session, ctx, resource):
        raise NotFound(kind, ident)


def ensure_root_admin(ctx: CallContext) -> None:
    if ctx.role is not Role.ADMIN:
        raise PermissionDenied("The caller is not a root administrator")


def scope_filter(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    account_column: Any,
    domain_column: Any,
) -> sa.ColumnElement[bool]:
    """A WHERE clause restricting owned rows to what the caller may list in `scope`."""
    if scope.account_ids is not None:
        return account_column.in_(scope.account_ids)
    if scope.account_name is not None:
        domain_id = scope.domain_id if scope.domain_id is not None else ctx.domain_id
        _check_domain_access(session, ctx, domain_id)
        account_ids = sa.select(Account.id).where(
            Account.domain_id == domain_id, Account.name == scope.account_name
        )
        if ctx.role is Role.USER:
            return sa.and_(account_column == ctx.account_id, account_column.in_(account_ids))
        return account_column.in_(account_ids)
    if ctx.role is Role.USER:
        return account_column == ctx.account_id
    if scope.domain_id is not None:
        path = _check_domain_access(session, ctx, scope.domain_id)
        if scope.recursive or scope.list_all:
            return domain_column.in_(sa.select(Domain.id).where(Domain.path.startswith(path)))
        return domain_column == scope.domain_id
    if not scope.list_all:
        return account_column == ctx.account_id
    if ctx.role is Role.ADMIN:
        return sa.true()
    return domain_column.in_(sa.select(Domain.id).where(Domain.path.startswith(ctx.domain_path)))


def owned_rows(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    model: Any,
    *conditions: sa.ColumnElement[bool] | None,
) -> sa.Select[Any]:
    """The live (not removed) rows of an owned `model` the caller may list in `scope`,
    narrowed by every condition that was given (see `core.listing.given`)."""
    return select_where(
        model,
        scope_filter(session, ctx, scope, model.account_id, model.domain_id),
        model.removed.is_(None),
        *conditions,
    )


def _check_domain_access(session: Session, ctx: CallContext, domain_id: int) -> str:
    path = session.scalar(sa.select(Domain.path).where(Domain.id == domain_id))
    if path is None:
        raise NotFound("domain", domain_id)
    if ctx.role is Role.ADMIN:
        return path
    if ctx.role is Role.DOMAIN_ADMIN and path.startswith(ctx.domain_path):
        return path
    if ctx.role is Role.USER and domain_id == ctx.domain_id:
        return path
    raise PermissionDenied("The caller does not have access to this domain")


def acting_for_account(
    session: Session, ctx: CallContext, account_name: str, domain_id: int | None
) -> CallContext:
    """The context of account `account_name` (in `domain_id`, else the caller's domain) for
    a caller acting on its behalf: itself, a root admin, or an admin of the account's domain
    (CloudStack's account+domainid on create commands)."""
    domain = session.get(Domain, domain_id if domain_id is not None else ctx.domain_id)
    if domain is None or domain.removed is not None:
        raise NotFound("domain", domain_id)
    account = live_account_named(session, domain.id, account_name)
    if account is None:
        raise NotFound("account", account_name)
    if account.id != ctx.account_id and not (
        ctx.role is Role.ADMIN
        or (ctx.role is Role.DOMAIN_ADMIN and domain.path.startswith(ctx.domain_path))
    ):
        raise PermissionDenied(f"The caller may not act for account {account_name}")
    return CallContext(
        user_id=ctx.user_id,
        account_id=account.id,
        domain_id=domain.id,
        role=Role(account.role),
        domain_path=domain.path,
        user_uuid=ctx.user_uuid,
        account_uuid=account.uuid,
        account_name=account.name,
        username=ctx.username,
    )
