"""Administering identity: the createDomain … getUserKeys use cases and their jobs.

Visibility: a root admin manages everything, a domain admin its subtree, a user its own
account (and only its own user for keys and password); anything else is reported as not
found. The records themselves and authentication live in core/identity.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import CallContext, Role
from core.errors import (
    Conflict,
    InvalidParameter,
    InvalidState,
    NotFound,
    PermissionDenied,
)
from core.identity import (
    ACCOUNT_DELETING_HOOKS,
    DISABLED,
    ENABLED,
    LOCKED,
    Account,
    Domain,
    User,
    check_password,
    context_for,
    create_account,
    create_domain,
    create_user,
    hash_password,
    live_account_named,
    register_keys,
)
from core.jobs import AsyncJob, job_handler
from core.visibility import can_access

# ---------------------------------------------------------------------------------------------
# Administration use cases (createDomain … getUserKeys). Visibility: a root admin manages
# everything, a domain admin its subtree, a user its own account (and only its own user for
# keys and password); anything else is reported as not found.


def _event(session: Session, ctx: CallContext, event_type: str, text: str, uuid: str) -> None:
    from core.events import record_for_caller

    record_for_caller(session, ctx, event_type, text, resource_uuid=uuid)


def _in_subtree(ctx: CallContext, domain: Domain) -> bool:
    return ctx.role is Role.ADMIN or (
        ctx.role is Role.DOMAIN_ADMIN and domain.path.startswith(ctx.domain_path)
    )


def visible_domain(session: Session, ctx: CallContext, uuid: str) -> Domain:
    """A live domain the caller may see: a user sees its own domain only."""
    domain = session.scalar(sa.select(Domain).where(Domain.uuid == uuid, Domain.removed.is_(None)))
    if domain is None or not (_in_subtree(ctx, domain) or domain.id == ctx.domain_id):
        raise NotFound("domain", uuid)
    return domain


def managed_domain(session: Session, ctx: CallContext, uuid: str | None) -> Domain:
    """A domain the caller administers (its own when `uuid` is None)."""
    if uuid is None:
        return session.get_one(Domain, ctx.domain_id)
    domain = visible_domain(session, ctx, uuid)
    if not _in_subtree(ctx, domain):
        raise NotFound("domain", uuid)
    return domain


def visible_account(session: Session, ctx: CallContext, uuid: str) -> Account:
    account = session.scalar(
        sa.select(Account).where(Account.uuid == uuid, Account.removed.is_(None))
    )
    if account is None or not can_access(session, ctx, _Owned(account)):
        raise NotFound("account", uuid)
    return account


def account_by_name(session: Session, ctx: CallContext, name: str, domain: Domain) -> Account:
    account = live_account_named(session, domain.id, name)
    if account is None or not can_access(session, ctx, _Owned(account)):
        raise NotFound("account", name)
    return account


def visible_user(session: Session, ctx: CallContext, uuid: str) -> User:
    user = session.scalar(sa.select(User).where(User.uuid == uuid, User.removed.is_(None)))
    if user is None:
        raise NotFound("user", uuid)
    account = session.get_one(Account, user.account_id)
    if not can_access(session, ctx, _Owned(account)):
        raise NotFound("user", uuid)
    return user


class _Owned:
    """An account seen as an owned resource (visibility works on account_id/domain_id)."""

    def __init__(self, account: Account) -> None:
        self.account_id = account.id
        self.domain_id = account.domain_id


def _ensure_manager(ctx: CallContext) -> None:
    if ctx.role not in (Role.ADMIN, Role.DOMAIN_ADMIN):
        raise PermissionDenied("The caller is not an administrator")


def _ensure_not_builtin(account: Account, action: str) -> None:
    if account.id in (1, 2):  # the system and first admin accounts, as CloudStack protects them
        raise PermissionDenied(f"The system and default admin accounts cannot be {action}")


# Domains -------------------------------------------------------------------------------------


def create_domain_for(
    session: Session, ctx: CallContext, *, name: str, parent_uuid: str | None
) -> Domain:
    _ensure_manager(ctx)
    if not name or "/" in name:
        raise InvalidParameter("Invalid domain name", parameter="name")
    parent = managed_domain(session, ctx, parent_uuid)
    domain = create_domain(session, name=name, parent=parent)
    _event(session, ctx, "DOMAIN.CREATE", f"Domain {domain.path} created", domain.uuid)
    return domain


def children_of(session: Session, domain: Domain, *, recursive: bool) -> list[Domain]:
    query = sa.select(Domain).where(Domain.removed.is_(None)).order_by(Domain.path)
    if recursive:
        query = query.where(Domain.path.startswith(domain.path), Domain.id != domain.id)
    else:
        query = query.where(Domain.parent_id == domain.id)
    return list(session.scalars(query))


def update_domain(session: Session, ctx: CallContext, domain: Domain, *, name: str) -> Domain:
    """Rename a domain; every descendant's path follows."""
    _ensure_manager(ctx)
    if domain.parent_id is None or (domain.id == ctx.domain_id and ctx.role is not Role.ADMIN):
        raise PermissionDenied("The ROOT domain (or the caller's own) cannot be renamed")
    if not name or "/" in name:
        raise InvalidParameter("Invalid domain name", parameter="name")
    parent = session.get_one(Domain, domain.parent_id)
    new_path = f"{parent.path}{name}/"
    if new_path != domain.path:
        if session.scalar(
            sa.select(Domain.id).where(Domain.path == new_path, Domain.removed.is_(None))
        ):
            raise Conflict(f"Domain with name {name} already exists for the parent")
        old_path = domain.path
        for child in children_of(session, domain, recursive=True):
            child.path = new_path + child.path[len(old_path) :]
        domain.path = new_path
    domain.name = name
    session.flush()
    _event(session, ctx, "DOMAIN.UPDATE", f"Domain {domain.path} updated", domain.uuid)
    return domain


def delete_domain(session: Session, ctx: CallContext, domain: Domain, *, cleanup: bool) -> Any:
    """Queue the removal (job domain.delete); cleanup removes sub-domains and accounts."""
    from core.jobs import submit_job

    _ensure_manager(ctx)
    if domain.parent_id is None or domain.id == ctx.domain_id:
        raise PermissionDenied("The ROOT domain (or the caller's own) cannot be deleted")
    return submit_job(
        session,
        ctx,
        "domain.delete",
        instance_type="Domain",
        instance_id=domain.id,
        params={"cleanup": cleanup},
    )


def list_domains(
    session: Session,
    ctx: CallContext,
    *,
    uuid: str | None = None,
    name: str | None = None,
    level: int | None = None,
    list_all: bool = False,
    keyword: str | None = None,
) -> sa.Select[Any]:
    """CloudStack's listDomains: the caller's domain, or its subtree with listall."""
    own = session.get_one(Domain, ctx.domain_id)
    query = sa.select(Domain).where(Domain.removed.is_(None)).order_by(Domain.path)
    if uuid:
        query = query.where(Domain.id == visible_domain(session, ctx, uuid).id)
    elif list_all and ctx.role is not Role.USER:
        query = query.where(Domain.path.startswith(own.path))
    else:
        query = query.where(Domain.id == own.id)
    if name:
        query = query.where(Domain.name == name)
    if level is not None:
        query = query.where(Domain.level == level)
    if keyword:
        query = query.where(Domain.name.contains(keyword))
    return query


# Accounts ------------------------------------------------------------------------------------


def create_account_for(
    session: Session,
    ctx: CallContext,
    *,
    name: str | None,
    domain_uuid: str | None,
    role: Role | None,
    role_uuid: str | None,
    username: str,
    password: str,
    email: str = "",
    firstname: str = "",
    lastname: str = "",
) -> tuple[Account, User]:
    """createAccount: the account type comes from `role` or from the role `role_uuid`."""
    from core.roles import get_role

    _ensure_manager(ctx)
    domain = managed_domain(session, ctx, domain_uuid)
    role_row = get_role(session, role_uuid) if role_uuid else None
    if role_row is not None:
        if role is not None and role is not role_row.role:
            raise InvalidParameter("accounttype does not match the type of roleid")
        role = role_row.role
    if role is None:
        raise InvalidParameter("Either accounttype or roleid is required", parameter="roleid")
    if ctx.role is Role.DOMAIN_ADMIN and role is Role.ADMIN:
        raise PermissionDenied("A domain admin cannot create root admin accounts")
    if not password:
        raise InvalidParameter("password is required", parameter="password")
    account, user = create_account(
        session,
        name=name or username,
        domain=domain,
        role=role,
        username=username,
        password=password,
        email=email,
        firstname=firstname,
        lastname=lastname,
        role_id=role_row.id if role_row else None,
    )
    _event(session, ctx, "ACCOUNT.CREATE", f"Account {account.name} created", account.uuid)
    _event(session, ctx, "USER.CREATE", f"User {username} created", user.uuid)
    return account, user


def update_account(
    session: Session,
    ctx: CallContext,
    account: Account,
    *,
    new_name: str | None = None,
    role_uuid: str | None = None,
) -> Account:
    from core.roles import get_role

    _ensure_manager(ctx)
    if new_name and new_name != account.name:
        _ensure_not_builtin(account, "renamed")
        if live_account_named(session, account.domain_id, new_name) is not None:
            raise Conflict(f"The account {new_name} already exists in this domain")
        account.name = new_name
    if role_uuid:
        role_row = get_role(session, role_uuid)
        if role_row.role is not Role(account.role):
            raise InvalidParameter("The new role must have the account's role type")
        account.role_id = role_row.id
    session.flush()
    _event(session, ctx, "ACCOUNT.UPDATE", f"Account {account.name} updated", account.uuid)
    return account


def _set_account_state(
    session: Session, ctx: CallContext, account: Account, state: str, event: str
) -> None:
    from core.sessions import end_user_sessions

    _ensure_manager(ctx)
    if account.id == ctx.account_id and state != ENABLED:
        raise PermissionDenied("The caller cannot disable or lock its own account")
    if state != ENABLED:
        _ensure_not_builtin(account, "disabled")
    account.state = state
    if state != ENABLED:
        end_user_sessions(session, _user_ids(session, account))
    session.flush()
    _event(session, ctx, event, f"Account {account.name} {state}", account.uuid)


def _user_ids(session: Session, account: Account) -> list[int]:
    return list(session.scalars(sa.select(User.id).where(User.account_id == account.id)))


def enable_account(session: Session, ctx: CallContext, account: Account) -> Account:
    _set_account_state(session, ctx, account, ENABLED, "ACCOUNT.ENABLE")
    return account


def lock_account(session: Session, ctx: CallContext, account: Account) -> Account:
    _set_account_state(session, ctx, account, LOCKED, "ACCOUNT.DISABLE")
    return account


def disable_account(session: Session, ctx: CallContext, account: Account, *, lock: bool) -> Any:
    """lock=true only locks the users out; lock=false also stops the account's VMs (job)."""
    from core.jobs import submit_job

    _set_account_state(session, ctx, account, LOCKED if lock else DISABLED, "ACCOUNT.DISABLE")
    return submit_job(
        session,
        ctx,
        "account.disable",
        instance_type="Account",
        instance_id=account.id,
        params={"lock": lock},
    )


def delete_account(session: Session, ctx: CallContext, account: Account) -> Any:
    """Queue the removal: its VMs are destroyed and expunged, its users removed (job)."""
    from core.jobs import submit_job

    _ensure_manager(ctx)
    _ensure_not_builtin(account, "deleted")
    if account.id == ctx.account_id:
        raise PermissionDenied("The caller cannot delete its own account")
    return submit_job(
        session, ctx, "account.delete", instance_type="Account", instance_id=account.id
    )


def remove_account(session: Session, ctx: CallContext, account: Account) -> None:
    """Idempotent: destroy+expunge the VMs, run the families' hooks, remove users and account."""
    from core.sessions import end_user_sessions
    from core.vms import service as vms
    from core.vms.models import VirtualMachine

    vm_rows = session.scalars(
        sa.select(VirtualMachine).where(
            VirtualMachine.account_id == account.id, VirtualMachine.removed.is_(None)
        )
    )
    for vm in list(vm_rows):
        if vm.state not in ("Expunging",):
            vms.destroy_vm(session, ctx, vm, expunge=True)
    for hook in ACCOUNT_DELETING_HOOKS:
        hook(session, account)
    end_user_sessions(session, _user_ids(session, account))
    now = dt.datetime.now(dt.UTC)
    session.execute(
        sa.update(User)
        .where(User.account_id == account.id, User.removed.is_(None))
        .values(removed=now, api_key=None, secret_key=None, state=DISABLED)
    )
    if account.removed is None:
        account.removed = now
        account.state = DISABLED
        # frees the name (unique per domain) for a new account, as CloudStack allows
        account.name = f"{account.name}-removed-{account.uuid}"[:255]
        _event(session, ctx, "ACCOUNT.DELETE", f"Account {account.name} deleted", account.uuid)
    session.flush()


def list_accounts(
    session: Session,
    ctx: CallContext,
    *,
    domain: Domain | None,
    recursive: bool,
    list_all: bool,
    uuid: str | None = None,
    name: str | None = None,
    role: Role | None = None,
    state: str | None = None,
    keyword: str | None = None,
) -> sa.Select[Any]:
    """CloudStack's listAccounts: an `id`; with listall an admin's domain subtree; with a
    `domainid` that domain (its subtree with isrecursive); otherwise the caller's own account."""
    query = sa.select(Account).where(Account.removed.is_(None)).order_by(Account.id)
    if uuid:
        query = query.where(Account.id == visible_account(session, ctx, uuid).id)
    elif ctx.role is not Role.USER and (list_all or domain is not None):
        base = domain or session.get_one(Domain, ctx.domain_id)
        if recursive or list_all:
            subtree = sa.select(Domain.id).where(Domain.path.startswith(base.path))
            query = query.where(Account.domain_id.in_(subtree))
        else:
            query = query.where(Account.domain_id == base.id)
    else:
        query = query.where(Account.id == ctx.account_id)
    if name:
        query = query.where(Account.name == name)
    if role is not None:
        query = query.where(Account.role == int(role))
    if state:
        query = query.where(Account.state == state.lower())
    if keyword:
        query = query.where(Account.name.contains(keyword))
    # the system account and project accounts stay hidden, as in CloudStack
    return query.where(Account.id != 1, Account.id.not_in(_project_account_ids()))


def _project_account_ids() -> sa.Select[Any]:
    from core.projects import Project

    return sa.select(Project.account_id)


# Users ---------------------------------------------------------------------------------------


def create_user_for(
    session: Session,
    ctx: CallContext,
    account: Account,
    *,
    username: str,
    password: str,
    email: str = "",
    firstname: str = "",
    lastname: str = "",
) -> User:
    _ensure_manager(ctx)
    if not username or not password:
        raise InvalidParameter("username and password are required")
    user = create_user(
        session,
        account=account,
        username=username,
        password=password,
        email=email,
        firstname=firstname,
        lastname=lastname,
    )
    _event(session, ctx, "USER.CREATE", f"User {username} created", user.uuid)
    return user


def _ensure_self_or_manager(ctx: CallContext, user: User) -> None:
    if user.id != ctx.user_id and ctx.role is Role.USER:
        raise NotFound("user", user.uuid)


def update_user(
    session: Session,
    ctx: CallContext,
    user: User,
    *,
    username: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
    firstname: str | None = None,
    lastname: str | None = None,
    email: str | None = None,
    api_key: str | None = None,
    secret_key: str | None = None,
) -> User:
    _ensure_self_or_manager(ctx, user)
    if password:
        if ctx.role is Role.USER and not (
            current_password and check_password(current_password, user.password_hash)
        ):
            raise InvalidParameter(
                "Current password is incorrect or was not provided", parameter="currentpassword"
            )
        user.password_hash = hash_password(password)
    if username and username != user.username:
        account = session.get_one(Account, user.account_id)
        if session.scalar(
            sa.select(User.id)
            .join(Account, Account.id == User.account_id)
            .where(
                User.username == username,
                Account.domain_id == account.domain_id,
                User.removed.is_(None),
            )
        ):
            raise Conflict(f"The user {username} already exists in this domain")
        user.username = username
    for attribute, value in (("firstname", firstname), ("lastname", lastname), ("email", email)):
        if value is not None:
            setattr(user, attribute, value)
    if bool(api_key) != bool(secret_key):
        raise InvalidParameter("userapikey and usersecretkey go together")
    if api_key and secret_key:
        if session.scalar(sa.select(User.id).where(User.api_key == api_key, User.id != user.id)):
            raise Conflict("The api key is in use by another user")
        user.api_key, user.secret_key = api_key, secret_key
    session.flush()
    _event(session, ctx, "USER.UPDATE", f"User {user.username} updated", user.uuid)
    return user


def _set_user_state(session: Session, ctx: CallContext, user: User, state: str, event: str) -> None:
    from core.sessions import end_user_sessions

    _ensure_manager(ctx)
    if user.id == ctx.user_id and state != ENABLED:
        raise PermissionDenied("The caller cannot disable, lock or delete itself")
    user.state = state
    if state != ENABLED:
        end_user_sessions(session, [user.id])
    session.flush()
    _event(session, ctx, event, f"User {user.username} {state}", user.uuid)


def enable_user(session: Session, ctx: CallContext, user: User) -> User:
    _set_user_state(session, ctx, user, ENABLED, "USER.ENABLE")
    return user


def lock_user(session: Session, ctx: CallContext, user: User) -> User:
    _set_user_state(session, ctx, user, LOCKED, "USER.LOCK")
    return user


def disable_user(session: Session, ctx: CallContext, user: User) -> Any:
    from core.jobs import submit_job

    _set_user_state(session, ctx, user, DISABLED, "USER.DISABLE")
    return submit_job(session, ctx, "user.disable", instance_type="User", instance_id=user.id)


def delete_user(session: Session, ctx: CallContext, user: User) -> None:
    if user.id in (1, 2):
        raise PermissionDenied("The system and default admin users cannot be deleted")
    _set_user_state(session, ctx, user, DISABLED, "USER.DELETE")
    user.removed = dt.datetime.now(dt.UTC)
    user.api_key = user.secret_key = None
    session.flush()


def list_users(
    session: Session,
    ctx: CallContext,
    accounts: sa.Select[Any],
    *,
    uuid: str | None = None,
    username: str | None = None,
    state: str | None = None,
    keyword: str | None = None,
) -> sa.Select[Any]:
    """Users of the accounts the caller could list (`accounts`, a listAccounts query)."""
    account_ids = accounts.with_only_columns(Account.id).order_by(None)
    query = (
        sa.select(User)
        .where(
            User.removed.is_(None),
            User.account_id.in_(account_ids),
            User.account_id.not_in(_project_account_ids()),
        )
        .order_by(User.id)
    )
    if uuid:
        query = query.where(User.uuid == uuid)
    if username:
        query = query.where(User.username == username)
    if state:
        query = query.where(User.state == state.lower())
    if keyword:
        query = query.where(User.username.contains(keyword))
    return query


def register_user_keys(session: Session, ctx: CallContext, user: User) -> User:
    _ensure_self_or_manager(ctx, user)
    register_keys(session, user)
    _event(session, ctx, "REGISTER.USER.KEY", f"Keys of user {user.username} registered", user.uuid)
    return user


def user_keys(session: Session, ctx: CallContext, user: User) -> tuple[str | None, str | None]:
    _ensure_self_or_manager(ctx, user)
    return user.api_key, user.secret_key


def user_by_key_for(session: Session, ctx: CallContext, api_key: str) -> User:
    """getUser: the user holding `api_key`, if the caller may see it."""
    user = session.scalar(sa.select(User).where(User.api_key == api_key, User.removed.is_(None)))
    if user is None:
        raise NotFound("user", "the given api key")
    return visible_user(session, ctx, user.uuid)


# Jobs ----------------------------------------------------------------------------------------


def _job_ctx(session: Session, job: AsyncJob) -> CallContext:
    return context_for(session, session.get_one(User, job.user_id))


def _nothing_to_undo(runtime: Any, job: AsyncJob, error: Exception) -> None:
    """Every identity job changes its rows in one transaction: a failure leaves them as were."""


@job_handler("account.delete", fail=_nothing_to_undo)
def _run_delete_account(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        account = session.get_one(Account, job.instance_id)
        remove_account(session, _job_ctx(session, job), account)
    return {}


@job_handler("account.disable", fail=_nothing_to_undo)
def _run_disable_account(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    """lock=false: stop the account's running VMs (each stop is a vm.stop job of its own)."""
    if job.arguments.get("lock"):
        return {}
    from core.vms.lifecycle import stop_running_vms

    with runtime.db.write() as session:
        stop_running_vms(session, _job_ctx(session, job), job.instance_id)
    return {}


@job_handler("user.disable", fail=_nothing_to_undo)
def _run_disable_user(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    return {}  # the state changed with the request; the job exists because CloudStack's is async


@job_handler("domain.delete", fail=_nothing_to_undo)
def _run_delete_domain(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    """Without cleanup a domain with sub-domains or accounts stays; with it they all go."""
    with runtime.db.write() as session:
        ctx = _job_ctx(session, job)
        domain = session.get_one(Domain, job.instance_id)
        if domain.removed is not None:
            return {}
        subtree = [domain, *children_of(session, domain, recursive=True)]
        ids = [d.id for d in subtree]
        accounts = list(
            session.scalars(
                sa.select(Account).where(Account.domain_id.in_(ids), Account.removed.is_(None))
            )
        )
        if not job.arguments.get("cleanup") and (len(subtree) > 1 or accounts):
            raise InvalidState(
                "domain",
                domain.uuid,
                "in use",
                f"delete: the domain has {len(accounts)} accounts and {len(subtree) - 1} "
                "sub-domains; use cleanup=true",
            )
        for account in accounts:
            remove_account(session, ctx, account)
        now = dt.datetime.now(dt.UTC)
        for member in subtree:
            member.removed = now
            member.state = "Inactive"
        _event(session, ctx, "DOMAIN.DELETE", f"Domain {domain.path} deleted", domain.uuid)
    return {}
