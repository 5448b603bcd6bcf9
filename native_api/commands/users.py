"""Users and their API keys: CloudStack's user commands (domains and accounts are in
native_api/commands/identity.py, whose views and scope parameters they share)."""

from __future__ import annotations

from typing import Any

from core import identity_admin
from core.listing import paginate
from native_api.call import Call
from native_api.commands.common import started
from native_api.commands.identity import (
    ADMIN_ONLY,
    KEY_FIELDS,
    MANAGERS,
    SCOPE,
    USER_COMMANDS,
    USER_FIELDS,
    accounts_query,
    user_view,
)
from native_api.registry import PAGING, Kind, Param, Reply, command


@command(
    "createUser",
    kind=Kind.SYNC,
    description="Creates a user for an account that already exists",
    response_name="user",
    roles=MANAGERS,
    params=(
        Param(
            "account",
            required=True,
            description="Creates the user under the specified account. If no account is "
            "specified, the username will be used as the account name.",
        ),
        Param(
            "domainid",
            "uuid",
            description="Creates the user under the specified domain. Has to be accompanied "
            "with the account parameter",
        ),
        Param("email", required=True, description="email"),
        Param("firstname", required=True, description="firstname"),
        Param("lastname", required=True, description="lastname"),
        Param("password", required=True, description="Clear text password"),
        Param("username", required=True, description="Unique username."),
        Param("timezone", description="Specifies a timezone for this command."),
    ),
    response_fields=USER_FIELDS,
)
def create_user(call: Call) -> Reply:
    domain = identity_admin.managed_domain(call.session, call.ctx, call.get("domainid"))
    account = identity_admin.account_by_name(call.session, call.ctx, call.get("account"), domain)
    user = identity_admin.create_user_for(
        call.session,
        call.ctx,
        account,
        username=call.get("username"),
        password=call.get("password"),
        email=call.get("email"),
        firstname=call.get("firstname"),
        lastname=call.get("lastname"),
    )
    return Reply(obj=user_view(call.session, user))


USER_ID = Param("id", "uuid", True, "User id")


@command(
    "updateUser",
    kind=Kind.SYNC,
    description="Updates a user account",
    response_name="user",
    params=(
        USER_ID,
        Param("email", description="email"),
        Param("firstname", description="first name"),
        Param("lastname", description="last name"),
        Param("password", description="Clear text password (default hashed to SHA256SALT)."),
        Param(
            "currentpassword",
            description="Current password that was being used by the user. You must inform "
            "the current password when updating the password.",
        ),
        Param("username", description="Unique username"),
        Param(
            "userapikey",
            description="The API key for the user. Must be specified with userSecretKey",
        ),
        Param(
            "usersecretkey",
            description="The secret key for the user. Must be specified with userApiKey",
        ),
        Param("timezone", description="Specifies a timezone for this command."),
    ),
    response_fields=USER_FIELDS,
)
def update_user(call: Call) -> Reply:
    user = identity_admin.visible_user(call.session, call.ctx, call.get("id"))
    identity_admin.update_user(
        call.session,
        call.ctx,
        user,
        username=call.get("username"),
        password=call.get("password"),
        current_password=call.get("currentpassword"),
        firstname=call.get("firstname"),
        lastname=call.get("lastname"),
        email=call.get("email"),
        api_key=call.get("userapikey"),
        secret_key=call.get("usersecretkey"),
    )
    return Reply(obj=user_view(call.session, user))


@command(
    "deleteUser",
    kind=Kind.SYNC,
    description="Deletes a user for an account",
    response_name="success",
    roles=MANAGERS,
    params=(Param("id", "uuid", True, "id of the user to be deleted"),),
)
def delete_user(call: Call) -> Reply:
    user = identity_admin.visible_user(call.session, call.ctx, call.get("id"))
    identity_admin.delete_user(call.session, call.ctx, user)
    return Reply(success=True)


@command(
    "disableUser",
    kind=Kind.ASYNC,
    description="Disables a user account",
    response_name="user",
    roles=MANAGERS,
    params=(Param("id", "uuid", True, "Disables user by user ID."),),
    response_fields=USER_FIELDS,
    job_command_class=USER_COMMANDS + "DisableUserCmd",
)
def disable_user(call: Call) -> Reply:
    user = identity_admin.visible_user(call.session, call.ctx, call.get("id"))
    job = identity_admin.disable_user(call.session, call.ctx, user)
    return started(job, user)


def _state_command(verb: str) -> Any:
    """enableUser / lockUser: a manager's synchronous change that answers the user."""
    return command(
        f"{verb.lower()}User",
        kind=Kind.SYNC,
        description=f"{verb}s a user account",
        response_name="user",
        roles=MANAGERS,
        params=(Param("id", "uuid", True, f"{verb}s user by user ID."),),
        response_fields=USER_FIELDS,
    )


def _change(call: Call, change: Any) -> Reply:
    user = identity_admin.visible_user(call.session, call.ctx, call.get("id"))
    return Reply(obj=user_view(call.session, change(call.session, call.ctx, user)))


@_state_command("Enable")
def enable_user(call: Call) -> Reply:
    return _change(call, identity_admin.enable_user)


@_state_command("Lock")
def lock_user(call: Call) -> Reply:
    return _change(call, identity_admin.lock_user)


@command(
    "listUsers",
    kind=Kind.LIST,
    description="Lists user accounts",
    response_name="user",
    params=(
        Param("accounttype", "integer", description="List users by account type."),
        Param("id", "uuid", description="List user by ID."),
        Param("state", description="List users by state of the user account."),
        Param("username", description="List user by the username"),
        Param(
            "account",
            description="list resources by account. Must be used with the domainId parameter.",
        ),
        *SCOPE,
        *PAGING,
    ),
    response_fields=USER_FIELDS,
)
def list_users(call: Call) -> Reply:
    query = identity_admin.list_users(
        call.session,
        call.ctx,
        accounts_query(call, for_users=True),
        uuid=call.get("id"),
        username=call.get("username"),
        state=call.get("state"),
        keyword=call.get("keyword"),
    )
    rows, total = paginate(call.session, query, call.page())
    return Reply(items=[user_view(call.session, u) for u in rows], total=total)


@command(
    "getUser",
    kind=Kind.SYNC,
    description="Find user account by API key",
    response_name="user",
    roles=ADMIN_ONLY,
    params=(Param("userapikey", required=True, description="API key of the user"),),
    response_fields=USER_FIELDS,
)
def get_user(call: Call) -> Reply:
    user = identity_admin.user_by_key_for(call.session, call.ctx, call.get("userapikey"))
    return Reply(obj=user_view(call.session, user))


@command(
    "registerUserKeys",
    kind=Kind.SYNC,
    description="This command allows a user to register for the developer API, returning a "
    "secret key and an API key. This request is made through the integration API port, so it "
    "is a privileged command and must be made on behalf of a user. It is up to the "
    "implementer just how the username and password are entered, and then how that "
    "translates to an integration API request. Both secret key and API key should be "
    "returned to the user",
    response_name="userkeys",
    params=(Param("id", "uuid", True, "User id"),),
    response_fields=KEY_FIELDS,
)
def register_user_keys(call: Call) -> Reply:
    user = identity_admin.visible_user(call.session, call.ctx, call.get("id"))
    identity_admin.register_user_keys(call.session, call.ctx, user)
    return Reply(obj={"apikey": user.api_key, "secretkey": user.secret_key})


@command(
    "getUserKeys",
    kind=Kind.SYNC,
    description="This command allows the user to query the seceret and API keys for the account",
    response_name="userkeys",
    params=(Param("id", "uuid", True, "ID of the user whose keys are required"),),
    response_fields=KEY_FIELDS,
)
def get_user_keys(call: Call) -> Reply:
    user = identity_admin.visible_user(call.session, call.ctx, call.get("id"))
    api_key, secret_key = identity_admin.user_keys(call.session, call.ctx, user)
    return Reply(obj={"apikey": api_key, "secretkey": secret_key})
