"""The CloudStack API endpoint: `/client/api`, signed with API keys or a login session.

One request: read the parameters (query string and form body), authenticate (a signature, or
the JSESSIONID cookie with its session key), check the caller may run the command (the
command table's role types and the account's dynamic role rules), parse the parameters, run
the handler in one database transaction, render. `login` and `logout` are answered here:
they are authentication, not resources. This module is the one error boundary: core errors
become CloudStack error codes, anything unexpected is logged with a request id and answered
530 without a stack trace.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import identity, roles, sessions
from core.context import CallContext
from core.errors import AuthenticationFailed, CloudgateError, NotFound
from core.runtime import Runtime
from native_api import commands as _commands  # noqa: F401  (fills the command table)
from native_api import signing
from native_api.call import Call
from native_api.errors import (
    INTERNAL_ERROR,
    UNAUTHORIZED,
    UNSUPPORTED_ACTION,
    ApiError,
    to_api_error,
)
from native_api.params import parse
from native_api.registry import COMMANDS, Command, Kind, Reply
from native_api.render import list_body, render, render_error

log = logging.getLogger(__name__)
BAD_CREDENTIALS = "unable to verify user credentials and/or request signature"
ACCOUNT_ERROR = 531
METHOD_NOT_ALLOWED = 405
SESSION_COOKIE = "JSESSIONID"
KEY_COOKIE = "sessionkey"
COOKIE_PATH = "/client"


class NativeApi:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def endpoint(self, request: Request) -> Response:
        pairs = list(request.query_params.multi_items())
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            if content_type.startswith("application/x-www-form-urlencoded"):
                body = (await request.body()).decode("utf-8", errors="replace")
                pairs += parse_qsl(body, keep_blank_values=True)
        cookies = dict(request.cookies)
        return await run_in_threadpool(self.handle, pairs, cookies, request.method)

    def handle(
        self,
        pairs: list[tuple[str, str]],
        cookies: dict[str, str] | None = None,
        method: str = "POST",
    ) -> Response:
        lowered = {k.lower(): v for k, v in pairs}
        fmt = "json" if lowered.get("response", "").lower() == "json" else "xml"
        name = lowered.get("command", "")
        response_key = f"{name.lower()}response" if name else "errorresponse"
        cookies = cookies or {}
        try:
            if name.lower() == "login":
                if method != "POST":  # as CloudStack: the password never goes in a URL
                    raise ApiError(
                        METHOD_NOT_ALLOWED, "Please use HTTP POST to authenticate using this API"
                    )
                return self._login(lowered, fmt)
            ctx = self._authenticate(pairs, lowered, cookies)
            cmd = COMMANDS.get(name.lower())
            if cmd is None or not self._may_run(ctx, cmd):
                raise ApiError(
                    UNSUPPORTED_ACTION,
                    "The given command does not exist or it is not available for user",
                    9999,
                )
            if cmd.name == "logout":
                return self._logout(cookies, fmt)
            params = parse(cmd, pairs)
            return self._run(cmd, ctx, params, fmt)
        except ApiError as error:
            return render_error(response_key, error.errorcode, error.cserrorcode, error.text, fmt)
        except CloudgateError as error:
            api_error = to_api_error(error)
            return render_error(
                response_key, api_error.errorcode, api_error.cserrorcode, api_error.text, fmt
            )
        except Exception:
            request_id = uuid.uuid4().hex
            log.exception("request %s (%s) failed", request_id, name)
            return render_error(
                response_key,
                INTERNAL_ERROR,
                4250,
                f"Internal error executing command, please contact your system administrator "
                f"(request id {request_id})",
                fmt,
            )

    def _may_run(self, ctx: CallContext, cmd: Command) -> bool:
        """The command table admits the role type and the account's role rules allow it."""
        if ctx.role not in cmd.roles:
            return False
        with self.runtime.db.read() as session:
            return roles.is_allowed(session, ctx.role_id, cmd.name)

    def _authenticate(
        self, pairs: list[tuple[str, str]], lowered: dict[str, str], cookies: dict[str, str]
    ) -> CallContext:
        api_key = lowered.get("apikey")
        signature = lowered.get("signature")
        if not api_key and not signature and cookies.get(SESSION_COOKIE):
            return self._resume(cookies[SESSION_COOKIE], lowered, cookies)
        if not api_key or not signature:
            raise ApiError(UNAUTHORIZED, BAD_CREDENTIALS, 9999)
        if lowered.get("signatureversion") == "3":
            expires = signing.parse_expires(lowered.get("expires", ""))
            if expires is None or expires < dt.datetime.now(dt.UTC):
                raise ApiError(
                    UNAUTHORIZED, "the request has expired or its expires is invalid", 9999
                )
        with self.runtime.db.read() as session:
            try:
                user = identity.user_by_api_key(session, api_key)
            except AuthenticationFailed:
                raise ApiError(UNAUTHORIZED, BAD_CREDENTIALS, 9999) from None
            assert user.secret_key is not None
            if not signing.verify(pairs, signature, user.secret_key):
                raise ApiError(UNAUTHORIZED, BAD_CREDENTIALS, 9999)
            return identity.context_for(session, user)

    def _resume(
        self, session_id: str, lowered: dict[str, str], cookies: dict[str, str]
    ) -> CallContext:
        """A login session: the JSESSIONID cookie plus its key, as parameter or cookie."""
        session_key = lowered.get("sessionkey") or cookies.get(KEY_COOKIE, "")
        try:
            with self.runtime.db.write() as session:
                user = sessions.resume_session(session, session_id, session_key)
                return identity.context_for(session, user)
        except AuthenticationFailed:
            raise ApiError(UNAUTHORIZED, BAD_CREDENTIALS, 9999) from None

    def _login(self, lowered: dict[str, str], fmt: str) -> Response:
        username = lowered.get("username", "")
        domain_ref = lowered.get("domainid") or lowered.get("domain") or "/"
        try:
            with self.runtime.db.write() as session:
                user = identity.authenticate_password(
                    session,
                    username=username,
                    password=lowered.get("password", ""),
                    domain_path=self._domain_path(session, domain_ref),
                )
                login = sessions.start_session(session, user)
                body = _login_body(session, user, login)
        except (AuthenticationFailed, NotFound):
            raise ApiError(
                ACCOUNT_ERROR,
                f"Failed to authenticate user {username} in domain {domain_ref}; "
                "please provide valid credentials",
                4330,
            ) from None
        response = render("loginresponse", body, fmt)
        for name, value in (
            (SESSION_COOKIE, login.session_id),
            (KEY_COOKIE, login.session_key),
            ("userid", body["userid"]),
            ("domainid", body["domainid"]),
            ("account", body["account"]),
            ("username", body["username"]),
            ("role", body["type"]),
        ):
            response.set_cookie(
                name, value, path=COOKIE_PATH, httponly=name in (SESSION_COOKIE, KEY_COOKIE)
            )
        return response

    @staticmethod
    def _domain_path(session: Any, ref: str) -> str:
        """`domainid` (uuid or number) or a domain path: "/", "ROOT/sub", "/sub"."""
        import sqlalchemy as sa

        ref = ref.strip()
        by_id = session.scalar(
            sa.select(identity.Domain.path).where(
                sa.or_(
                    identity.Domain.uuid == ref,
                    identity.Domain.id == (int(ref) if ref.isdigit() else -1),
                )
            )
        )
        if by_id is not None:
            return str(by_id)
        parts = [part for part in ref.split("/") if part]
        if parts and parts[0].upper() == "ROOT":
            parts = parts[1:]
        return "/" + "".join(f"{part}/" for part in parts)

    def _logout(self, cookies: dict[str, str], fmt: str) -> Response:
        with self.runtime.db.write() as session:
            sessions.end_session(session, cookies.get(SESSION_COOKIE, ""))
        response = render("logoutresponse", {"description": "success"}, fmt)
        for name in (SESSION_COOKIE, KEY_COOKIE):
            response.delete_cookie(name, path=COOKIE_PATH)
        return response

    def _run(self, cmd: Command, ctx: CallContext, params: dict[str, Any], fmt: str) -> Response:
        scope = self.runtime.db.write if cmd.writes else self.runtime.db.read
        with scope() as session:
            reply = cmd.handler(Call(ctx=ctx, session=session, params=params, runtime=self.runtime))
            if cmd.name == "listApis" and ctx.role_id is not None:
                # listApis names only what the caller's role rules allow
                allowed = roles.allowed_commands(
                    session, ctx.role_id, [item["name"] for item in reply.items]
                )
                reply.items = [item for item in reply.items if item["name"] in allowed]
                reply.total = len(reply.items)
        return render(cmd.response_key, _body(cmd, reply), fmt)


def _login_body(session: Any, user: identity.User, login: sessions.LoginSession) -> dict[str, Any]:
    """CloudStack's loginresponse: every value a string, as LoginCmdResponse serialises them."""
    account = session.get_one(identity.Account, user.account_id)
    domain = session.get_one(identity.Domain, account.domain_id)
    return {
        "username": user.username,
        "userid": user.uuid,
        "domainid": domain.uuid,
        "timeout": str(login.timeout),
        "account": account.name,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "type": str(account.role),
        "timezone": "UTC",
        "timezoneoffset": "0.0",
        "registered": "false",
        "sessionkey": login.session_key,
        "is2faenabled": "false",
        "issamlauthenticated": "false",
    }


def _body(cmd: Command, reply: Reply) -> dict[str, Any]:
    if reply.raw is not None:
        return reply.raw
    if cmd.kind is Kind.LIST:
        return list_body(cmd.response_name, reply.items, reply.total)
    if cmd.kind.is_async:
        body: dict[str, Any] = {"jobid": reply.job_uuid}
        if cmd.kind is Kind.ASYNC_CREATE:
            body = {"id": reply.instance_uuid, **body}
        return body
    if reply.obj is not None:
        return {cmd.response_name: reply.obj}
    # CloudStack's synchronous SuccessResponse carries the string "true" (libcloud compares
    # with it); inside async job results it is a boolean.
    return {"success": "false" if reply.success is False else "true"}


def create_app(runtime: Runtime) -> Starlette:
    api = NativeApi(runtime)
    routes = [
        Route("/client/api", api.endpoint, methods=["GET", "POST"]),
        Route("/client/api/", api.endpoint, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes)
