"""Launch permissions: making a template public or featured, and sharing it with accounts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext
from core.errors import InvalidParameter, NotFound
from core.identity import Account, live_account_named
from core.templates.models import LaunchPermission, Template
from core.visibility import can_access, ensure_root_admin


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
        account = live_account_named(session, template.domain_id, name)
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
