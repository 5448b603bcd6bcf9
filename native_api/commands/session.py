"""`login` and `logout`, declared for listApis and the coverage table.

Both are answered by native_api.app before any handler runs: login is the one command that
needs no credentials, and both set or clear the session cookies.
"""

from __future__ import annotations

from native_api.call import Call
from native_api.registry import Field, Kind, Param, Reply, command

AUTHENTICATED_IN_APP = "answered by the API endpoint itself (native_api/app.py)"


@command(
    "login",
    kind=Kind.SYNC,
    description="Logs a user into the CloudStack. A successful login attempt will generate a "
    "JSESSIONID cookie value that can be passed in subsequent Query command calls until the "
    '"logout" command has been issued or the session has expired.',
    response_name="loginresponse",
    params=(
        Param("username", required=True, description="Username"),
        Param(
            "password",
            required=True,
            description="Hashed password (Default is MD5). If you wish to use any other "
            "hashing algorithm, you would need to write a custom authentication adapter "
            "See Docs section.",
        ),
        Param(
            "domain",
            description="Path of the domain that the user belongs to. Example: "
            "domain=/com/cloud/internal. If no domain is passed in, the ROOT (/) domain is "
            "assumed.",
        ),
        Param(
            "domainId",
            description="The id of the domain that the user belongs to. If both domain and "
            'domainId are passed in, "domainId" parameter takes precedence.',
        ),
    ),
    response_fields=(
        Field("username", description="Username"),
        Field("userid", description="User ID"),
        Field("domainid", description="Domain ID that the user belongs to"),
        Field("timeout", "integer", "the time period before the session has expired"),
        Field("account", description="the account name the user belongs to"),
        Field("firstname", description="first name of the user"),
        Field("lastname", description="last name of the user"),
        Field("type", description="the account type (admin, domain-admin, read-only-admin, user)"),
        Field("timezone", description="user time zone"),
        Field("registered", description="Is user registered"),
        Field(
            "sessionkey",
            description="Session key that can be passed in subsequent Query command calls",
        ),
    ),
    writes=True,
    differences="the password is sent in clear (over TLS), as CloudStack's UI does",
)
def login(call: Call) -> Reply:
    raise AssertionError(AUTHENTICATED_IN_APP)


@command(
    "logout",
    kind=Kind.SYNC,
    description="Logs out the user",
    response_name="logoutresponse",
    response_fields=(Field("description", description="Response description"),),
    writes=True,
)
def logout(call: Call) -> Reply:
    raise AssertionError(AUTHENTICATED_IN_APP)
