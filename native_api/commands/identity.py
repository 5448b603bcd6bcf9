"""Domains and accounts: CloudStack's identity commands (users are in users.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import identity_admin, limits
from core.context import CallContext, Role
from core.identity import Account, Domain, User
from core.listing import paginate
from core.roles import CsRole
from native_api.call import Call
from native_api.commands.common import started
from native_api.registry import PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult

MANAGERS = frozenset({Role.ADMIN, Role.DOMAIN_ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})
USER_COMMANDS = "org.apache.cloudstack.api.command.admin.user."
ACCOUNT_COMMANDS = "org.apache.cloudstack.api.command.admin.account."
DOMAIN_COMMANDS = "org.apache.cloudstack.api.command.admin.domain."


# Views ---------------------------------------------------------------------------------------


def domain_path(domain: Domain) -> str:
    """CloudStack shows paths as "ROOT/sales/eu"."""
    return "ROOT" + domain.path.rstrip("/")


def domain_view(session: Session, domain: Domain) -> dict[str, Any]:
    parent = session.get(Domain, domain.parent_id) if domain.parent_id else None
    has_child = session.scalar(
        sa.select(Domain.id).where(Domain.parent_id == domain.id, Domain.removed.is_(None))
    )
    return {
        "id": domain.uuid,
        "name": domain.name,
        "level": domain.level,
        "parentdomainid": parent.uuid if parent else None,
        "parentdomainname": parent.name if parent else None,
        "haschild": has_child is not None,
        "path": domain_path(domain),
        "state": domain.state,
        "created": domain.created,
    }


def _role_fields(session: Session, account: Account) -> dict[str, Any]:
    role = session.get(CsRole, account.role_id) if account.role_id else None
    return {
        "roleid": role.uuid if role else None,
        "rolename": role.name if role else None,
        "roletype": role.role_type if role else Role(account.role).label,
    }


# CloudStack's <resource>total/limit/available fields, for the types cloudgate counts.
_COUNT_FIELDS = {
    limits.ResourceType.USER_VM: "vm",
    limits.ResourceType.PUBLIC_IP: "ip",
    limits.ResourceType.VOLUME: "volume",
    limits.ResourceType.SNAPSHOT: "snapshot",
    limits.ResourceType.TEMPLATE: "template",
    limits.ResourceType.PROJECT: "project",
    limits.ResourceType.NETWORK: "network",
    limits.ResourceType.VPC: "vpc",
    limits.ResourceType.CPU: "cpu",
    limits.ResourceType.MEMORY: "memory",
    limits.ResourceType.PRIMARY_STORAGE: "primarystorage",
    limits.ResourceType.SECONDARY_STORAGE: "secondarystorage",
}


def resource_fields(session: Session, account: Account) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    rows = session.scalars(
        sa.select(limits.ResourceCount).where(limits.ResourceCount.account_id == account.id)
    )
    for row in rows:
        prefix = _COUNT_FIELDS.get(limits.ResourceType(row.resource_type))
        if prefix is None:
            continue
        limit = limits.effective_limit(session, row)
        fields[f"{prefix}total"] = row.used
        fields[f"{prefix}limit"] = "Unlimited" if limit < 0 else str(limit)
        fields[f"{prefix}available"] = "Unlimited" if limit < 0 else str(max(limit - row.used, 0))
    return fields


def user_view(session: Session, user: User, *, with_secret: bool = False) -> dict[str, Any]:
    account = session.get_one(Account, user.account_id)
    domain = session.get_one(Domain, account.domain_id)
    view = {
        "id": user.uuid,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "email": user.email,
        "created": user.created,
        "state": user.state,
        "account": account.name,
        "accounttype": account.role,
        "accountid": account.uuid,
        "domainid": domain.uuid,
        "domain": domain.name,
        "apikey": user.api_key,
        "timezone": "UTC",
        "usersource": "native",
        "isdefault": user.id in (1, 2),
        **_role_fields(session, account),
    }
    if with_secret:
        view["secretkey"] = user.secret_key
    return view


def account_view(session: Session, account: Account) -> dict[str, Any]:
    domain = session.get_one(Domain, account.domain_id)
    users = session.scalars(
        sa.select(User)
        .where(User.account_id == account.id, User.removed.is_(None))
        .order_by(User.id)
    )
    return {
        "id": account.uuid,
        "name": account.name,
        "accounttype": account.role,
        **_role_fields(session, account),
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": domain_path(domain),
        "state": account.state,
        "created": account.created,
        "isdefault": account.id in (1, 2),
        **resource_fields(session, account),
        "user": [user_view(session, user) for user in users],
    }


def _account_job_view(session: Session, account: Account, ctx: CallContext) -> dict[str, Any]:
    return account_view(session, account)


def _user_job_view(session: Session, user: User, ctx: CallContext) -> dict[str, Any]:
    return user_view(session, user)


JOB_RESULTS.update(
    {
        # success-only results still name their instance (jobinstanceid), as CloudStack does
        "domain.delete": JobResult("domain", DOMAIN_COMMANDS + "DeleteDomainCmd", Domain),
        "account.delete": JobResult("account", ACCOUNT_COMMANDS + "DeleteAccountCmd", Account),
        "account.disable": JobResult(
            "account", ACCOUNT_COMMANDS + "DisableAccountCmd", Account, _account_job_view
        ),
        "user.disable": JobResult("user", USER_COMMANDS + "DisableUserCmd", User, _user_job_view),
    }
)

DOMAIN_FIELDS = (
    Field("id", description="the ID of the domain"),
    Field("name", description="the name of the domain"),
    Field("level", "integer", "the level of the domain"),
    Field("parentdomainid", description="the domain ID of the parent domain"),
    Field("parentdomainname", description="the domain name of the parent domain"),
    Field("haschild", "boolean", "whether the domain has one or more sub-domains"),
    Field("path", description="the path of the domain"),
    Field("state", description="the state of the domain"),
    Field("created", "date", "the date when this domain was created"),
)
ACCOUNT_FIELDS = (
    Field("id", description="the id of the account"),
    Field("name", description="the name of the account"),
    Field("accounttype", "integer", "account type (admin, domain-admin, user)"),
    Field("roleid", description="the ID of the role"),
    Field("rolename", description="the name of the role"),
    Field("roletype", description="the type of the role (Admin, ResourceAdmin, DomainAdmin, User)"),
    Field("domainid", description="id of the Domain the account belongs to"),
    Field("domain", description="name of the Domain the account belongs to"),
    Field("domainpath", description="path of the Domain the account belongs to"),
    Field("state", description="the state of the account"),
    Field("created", "date", "the date when this account was created"),
    Field("vmtotal", "long", "the total number of virtual machines deployed by this account"),
    Field("vmlimit", description="the total number of virtual machines that can be deployed"),
    Field("cputotal", "long", "the total number of cpu cores owned by account"),
    Field("memorytotal", "long", "the total memory (in MB) owned by account"),
    Field("user", "list", "the list of users associated with account"),
)
USER_FIELDS = (
    Field("id", description="the user ID"),
    Field("username", description="the user name"),
    Field("firstname", description="the user firstname"),
    Field("lastname", description="the user lastname"),
    Field("email", description="the user email address"),
    Field("state", description="the user state"),
    Field("account", description="the account name of the user"),
    Field("accounttype", "integer", "the account type of the user"),
    Field("accountid", description="the account ID of the user"),
    Field("domainid", description="the domain ID of the user"),
    Field("domain", description="the domain name of the user"),
    Field("apikey", description="the api key of the user"),
    Field("roleid", description="the ID of the role"),
    Field("created", "date", "the date and time the user account was created"),
)
KEY_FIELDS = (
    Field("apikey", description="the api key of the registered user"),
    Field("secretkey", description="the secret key of the registered user"),
)


# Domains -------------------------------------------------------------------------------------


@command(
    "createDomain",
    kind=Kind.SYNC,
    description="Creates a domain",
    response_name="domain",
    roles=MANAGERS,
    params=(
        Param("name", required=True, description="creates domain with this name"),
        Param(
            "parentdomainid",
            "uuid",
            description="assigns new domain a parent domain by domain ID of the parent. "
            "If no parent domain is specified, the ROOT domain is assumed.",
        ),
        Param("networkdomain", description="Network domain for networks in the domain"),
    ),
    response_fields=DOMAIN_FIELDS,
    differences="networkdomain is accepted and ignored",
)
def create_domain(call: Call) -> Reply:
    domain = identity_admin.create_domain_for(
        call.session, call.ctx, name=call.get("name"), parent_uuid=call.get("parentdomainid")
    )
    return Reply(obj=domain_view(call.session, domain))


@command(
    "updateDomain",
    kind=Kind.SYNC,
    description="Updates a domain with a new name",
    response_name="domain",
    roles=MANAGERS,
    params=(
        Param("id", "uuid", True, "ID of domain to update"),
        Param("name", description="updates domain with this name"),
        Param("networkdomain", description="Network domain for the domain's networks"),
    ),
    response_fields=DOMAIN_FIELDS,
)
def update_domain(call: Call) -> Reply:
    domain = identity_admin.managed_domain(call.session, call.ctx, call.get("id"))
    if call.get("name"):
        identity_admin.update_domain(call.session, call.ctx, domain, name=call.get("name"))
    return Reply(obj=domain_view(call.session, domain))


@command(
    "deleteDomain",
    kind=Kind.ASYNC,
    description="Deletes a specified domain",
    response_name="success",
    roles=MANAGERS,
    params=(
        Param("id", "uuid", True, "ID of domain to delete"),
        Param(
            "cleanup",
            "boolean",
            description="true if all domain resources (child domains, accounts) have to be "
            "cleaned up, false otherwise",
        ),
    ),
    job_command_class=DOMAIN_COMMANDS + "DeleteDomainCmd",
)
def delete_domain(call: Call) -> Reply:
    domain = identity_admin.managed_domain(call.session, call.ctx, call.get("id"))
    job = identity_admin.delete_domain(
        call.session, call.ctx, domain, cleanup=bool(call.get("cleanup", False))
    )
    return Reply(job_uuid=job.uuid)


@command(
    "listDomains",
    kind=Kind.LIST,
    description="Lists domains and provides detailed information for listed domains",
    response_name="domain",
    roles=MANAGERS,
    params=(
        Param("id", "uuid", description="List domain by domain ID."),
        Param("name", description="List domain by domain name."),
        Param("level", "integer", description="List domains by domain level."),
        Param(
            "listall",
            "boolean",
            description="If set to false, list only resources belonging to the command's "
            "caller; if set to true - list resources that the caller is authorized to see.",
        ),
        *PAGING,
    ),
    response_fields=DOMAIN_FIELDS,
)
def list_domains(call: Call) -> Reply:
    query = identity_admin.list_domains(
        call.session,
        call.ctx,
        uuid=call.get("id"),
        name=call.get("name"),
        level=call.get("level"),
        list_all=bool(call.get("listall", False)),
        keyword=call.get("keyword"),
    )
    rows, total = paginate(call.session, query, call.page())
    return Reply(items=[domain_view(call.session, d) for d in rows], total=total)


@command(
    "listDomainChildren",
    kind=Kind.LIST,
    description="Lists all children domains belonging to a specified domain",
    response_name="domain",
    roles=MANAGERS,
    params=(
        Param("id", "uuid", description="list children of the domain by ID"),
        Param("name", description="list children domains by name"),
        Param(
            "isrecursive",
            "boolean",
            description='to return the entire tree, use the value "true". To return the '
            'first level children, use the value "false".',
        ),
        Param("listall", "boolean", description="If set to true, list all resources"),
        *PAGING,
    ),
    response_fields=DOMAIN_FIELDS,
)
def list_domain_children(call: Call) -> Reply:
    domain = identity_admin.managed_domain(call.session, call.ctx, call.get("id"))
    recursive = bool(call.get("isrecursive", False) or call.get("listall", False))
    children = identity_admin.children_of(call.session, domain, recursive=recursive)
    views = [
        domain_view(call.session, child)
        for child in children
        if (not call.get("name") or child.name == call.get("name"))
        and call.keyword_match(child.name)
    ]
    return call.paged(views)


# Accounts ------------------------------------------------------------------------------------


def _account_ref(call: Call) -> Account:
    """An account by `id`, or by `account` + `domainid` (CloudStack's two ways)."""
    if call.get("id"):
        return identity_admin.visible_account(call.session, call.ctx, call.get("id"))
    name = call.get("account")
    if not name:
        from core.errors import InvalidParameter

        raise InvalidParameter("Either id or account and domainid are required", parameter="id")
    domain = identity_admin.managed_domain(call.session, call.ctx, call.get("domainid"))
    return identity_admin.account_by_name(call.session, call.ctx, name, domain)


ACCOUNT_REF = (
    Param("id", "uuid", description="Account id"),
    Param("account", description="Account name"),
    Param("domainid", "uuid", description="Domain ID of the account"),
)


@command(
    "createAccount",
    kind=Kind.SYNC,
    description="Creates an account",
    response_name="account",
    roles=MANAGERS,
    params=(
        Param(
            "accounttype",
            "integer",
            description="Type of the account. Specify 0 for user, 1 for root admin, and 2 for "
            "domain admin",
        ),
        Param("roleid", "uuid", description="Creates the account under the specified role."),
        Param("email", required=True, description="email"),
        Param("firstname", required=True, description="firstname"),
        Param("lastname", required=True, description="lastname"),
        Param(
            "password",
            required=True,
            description="Clear text password (Default hashed to SHA256SALT).",
        ),
        Param("username", required=True, description="Unique username."),
        Param(
            "account",
            description="Name of the account to be created. The user will be added to this "
            "newly created account. If no account is specified, the username will be used as "
            "the account name.",
        ),
        Param("domainid", "uuid", description="Creates the user under the specified domain."),
        Param("networkdomain", description="Network domain for the account's networks"),
        Param("timezone", description="Specifies a timezone for this command."),
        Param(
            "accountdetails",
            "map",
            description="details for account used to store specific parameters",
        ),
    ),
    response_fields=ACCOUNT_FIELDS,
    differences="timezone, networkdomain and accountdetails are accepted and ignored",
)
def create_account(call: Call) -> Reply:
    account_type = call.get("accounttype")
    if account_type is not None and account_type not in (0, 1, 2):
        from core.errors import InvalidParameter

        raise InvalidParameter("Invalid account type", parameter="accounttype")
    account, _ = identity_admin.create_account_for(
        call.session,
        call.ctx,
        name=call.get("account"),
        domain_uuid=call.get("domainid"),
        role=Role(account_type) if account_type is not None else None,
        role_uuid=call.get("roleid"),
        username=call.get("username"),
        password=call.get("password"),
        email=call.get("email"),
        firstname=call.get("firstname"),
        lastname=call.get("lastname"),
    )
    return Reply(obj=account_view(call.session, account))


@command(
    "updateAccount",
    kind=Kind.SYNC,
    description="Updates account information for the authenticated user",
    response_name="account",
    roles=MANAGERS,
    params=(
        *ACCOUNT_REF,
        Param("newname", description="new name for the account"),
        Param("roleid", "uuid", description="The UUID of the dynamic role to set for the account"),
        Param("networkdomain", description="Network domain for the account's networks"),
        Param("accountdetails", "map", description="Details for the account"),
    ),
    response_fields=ACCOUNT_FIELDS,
)
def update_account(call: Call) -> Reply:
    account = _account_ref(call)
    identity_admin.update_account(
        call.session, call.ctx, account, new_name=call.get("newname"), role_uuid=call.get("roleid")
    )
    return Reply(obj=account_view(call.session, account))


@command(
    "deleteAccount",
    kind=Kind.ASYNC,
    description="Deletes a account, and all users associated with this account",
    response_name="success",
    roles=MANAGERS,
    params=(Param("id", "uuid", True, "Account id"),),
    job_command_class=ACCOUNT_COMMANDS + "DeleteAccountCmd",
)
def delete_account(call: Call) -> Reply:
    account = identity_admin.visible_account(call.session, call.ctx, call.get("id"))
    return Reply(job_uuid=identity_admin.delete_account(call.session, call.ctx, account).uuid)


@command(
    "disableAccount",
    kind=Kind.ASYNC,
    description="Disables an account",
    response_name="account",
    roles=MANAGERS,
    params=(
        *ACCOUNT_REF,
        Param(
            "lock",
            "boolean",
            True,
            "If true, only lock the account; else disable the account (and stop its VMs)",
        ),
    ),
    response_fields=ACCOUNT_FIELDS,
    job_command_class=ACCOUNT_COMMANDS + "DisableAccountCmd",
)
def disable_account(call: Call) -> Reply:
    account = _account_ref(call)
    job = identity_admin.disable_account(
        call.session, call.ctx, account, lock=bool(call.get("lock"))
    )
    return started(job, account)


@command(
    "enableAccount",
    kind=Kind.SYNC,
    description="Enables an account",
    response_name="account",
    roles=MANAGERS,
    params=ACCOUNT_REF,
    response_fields=ACCOUNT_FIELDS,
)
def enable_account(call: Call) -> Reply:
    account = identity_admin.enable_account(call.session, call.ctx, _account_ref(call))
    return Reply(obj=account_view(call.session, account))


@command(
    "lockAccount",
    kind=Kind.SYNC,
    description="This deprecated function used to locks an account. Look for the API "
    "DisableAccount instead",
    response_name="account",
    roles=MANAGERS,
    params=(
        Param("account", required=True, description="Locks the specified account."),
        Param(
            "domainid",
            "uuid",
            True,
            "Locks the specified account on this domain.",
        ),
    ),
    response_fields=ACCOUNT_FIELDS,
)
def lock_account(call: Call) -> Reply:
    account = identity_admin.lock_account(call.session, call.ctx, _account_ref(call))
    return Reply(obj=account_view(call.session, account))


def accounts_query(call: Call, *, for_users: bool = False) -> sa.Select[Any]:
    domain = (
        identity_admin.managed_domain(call.session, call.ctx, call.get("domainid"))
        if call.get("domainid") and call.ctx.role is not Role.USER
        else None
    )
    account_type = call.get("accounttype")
    return identity_admin.list_accounts(
        call.session,
        call.ctx,
        domain=domain,
        recursive=bool(call.get("isrecursive", False)),
        list_all=bool(call.get("listall", False)),
        uuid=None if for_users else call.get("id"),
        name=call.get("account") if for_users else call.get("name"),
        role=Role(account_type) if account_type in (0, 1, 2) else None,
        state=None if for_users else call.get("state"),
        keyword=None if for_users else call.get("keyword"),
    )


SCOPE = (
    Param("domainid", "uuid", description="list only resources belonging to the domain specified"),
    Param(
        "isrecursive",
        "boolean",
        description="defaults to false, but if true, lists all resources from the parent "
        "specified by the domainId till leaves.",
    ),
    Param(
        "listall",
        "boolean",
        description="If set to false, list only resources belonging to the command's caller; "
        "if set to true - list resources that the caller is authorized to see.",
    ),
)


@command(
    "listAccounts",
    kind=Kind.LIST,
    description="Lists accounts and provides detailed account information for listed accounts",
    response_name="account",
    params=(
        Param("accounttype", "integer", description="list accounts by account type"),
        Param("id", "uuid", description="list account by account ID"),
        Param("name", description="list account by account name"),
        Param("state", description="list accounts by state"),
        *SCOPE,
        *PAGING,
    ),
    response_fields=ACCOUNT_FIELDS,
)
def list_accounts(call: Call) -> Reply:
    rows, total = paginate(call.session, accounts_query(call), call.page())
    return Reply(items=[account_view(call.session, a) for a in rows], total=total)
