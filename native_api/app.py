"""The CloudStack API endpoint: `/client/api`, signed with API keys.

One request: read the parameters (query string and form body), authenticate, check the
caller's role may run the command, parse the parameters, run the handler in one database
transaction, render. This module is the one error boundary: core errors become CloudStack
error codes, anything unexpected is logged with a request id and answered 530 without a
stack trace.
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

from core import identity
from core.context import CallContext
from core.errors import AuthenticationFailed, CloudgateError
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
        return await run_in_threadpool(self.handle, pairs)

    def handle(self, pairs: list[tuple[str, str]]) -> Response:
        lowered = {k.lower(): v for k, v in pairs}
        fmt = "json" if lowered.get("response", "").lower() == "json" else "xml"
        name = lowered.get("command", "")
        response_key = f"{name.lower()}response" if name else "errorresponse"
        try:
            ctx = self._authenticate(pairs, lowered)
            cmd = COMMANDS.get(name.lower())
            if cmd is None or ctx.role not in cmd.roles:
                raise ApiError(
                    UNSUPPORTED_ACTION,
                    "The given command does not exist or it is not available for user",
                    9999,
                )
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

    def _authenticate(self, pairs: list[tuple[str, str]], lowered: dict[str, str]) -> CallContext:
        api_key = lowered.get("apikey")
        signature = lowered.get("signature")
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

    def _run(self, cmd: Command, ctx: CallContext, params: dict[str, Any], fmt: str) -> Response:
        scope = self.runtime.db.write if cmd.writes else self.runtime.db.read
        with scope() as session:
            reply = cmd.handler(Call(ctx=ctx, session=session, params=params, runtime=self.runtime))
        return render(cmd.response_key, _body(cmd, reply), fmt)


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
    return {"success": True if reply.success is None else reply.success}


def create_app(runtime: Runtime) -> Starlette:
    api = NativeApi(runtime)
    routes = [
        Route("/client/api", api.endpoint, methods=["GET", "POST"]),
        Route("/client/api/", api.endpoint, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes)
