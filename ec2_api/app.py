"""The EC2 Query endpoint: `POST /` (or GET) form-encoded, signed with SigV4.

One request: read the parameters, authenticate (translators.aws_auth, against the users'
API keys), find the action in the table, parse its parameters from botocore's model, run the
handler in one database transaction, render XML. This module is the one error boundary:
EC2 errors render as they are, core and auth errors are mapped once (ec2_api.errors), and
anything unexpected is logged with the request id and answered `InternalError` 500, without
a stack trace.

DryRun runs the action for real inside its transaction and then rolls it back, so a dry run
answers DryRunOperation only when every check of the core (permissions, limits, capacity,
state) would have let the request through — and the error it would have met otherwise.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
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
from ec2_api import wire
from ec2_api.actions import ACTIONS, Action
from ec2_api.call import Call
from ec2_api.errors import (
    DryRunOperation,
    Ec2Error,
    from_auth_error,
    internal_error,
    invalid_action,
    to_ec2_error,
)
from translators.aws_auth import AuthError, AuthRequest, authenticate
from translators.ids import IdCodec, installation_key

log = logging.getLogger(__name__)
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class WireRequest:
    """What arrived, as bytes, so that the signature is checked over exactly that."""

    method: str
    raw_path: bytes
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    host: str

    def params(self) -> dict[str, str]:
        """Query and form parameters (a form body counts only with the form content type)."""
        pairs = parse_qsl(self.query.decode("latin-1"), keep_blank_values=True)
        content_type = dict(self.headers).get(b"content-type", b"").decode("latin-1")
        if content_type.lower().startswith(FORM):
            pairs += parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        params: dict[str, str] = {}
        for name, value in pairs:
            params.setdefault(name, value)
        return params


class _DryRunSucceeded(Exception):
    """Raised inside the transaction to roll back a dry run that would have succeeded."""


class Ec2Api:
    def __init__(self, runtime: Runtime, region: str) -> None:
        self.runtime = runtime
        self.region = region
        self._ids: IdCodec | None = None

    async def endpoint(self, request: Request) -> Response:
        scope = request.scope
        arrived = WireRequest(
            method=scope["method"],
            raw_path=scope.get("raw_path") or scope["path"].encode(),
            query=scope.get("query_string", b""),
            headers=list(scope["headers"]),
            body=await request.body(),
            host=request.headers.get("host", ""),
        )
        return await run_in_threadpool(self.handle, arrived)

    def ids(self) -> IdCodec:
        """The installation's id codec; its key is read from the database once."""
        if self._ids is None:
            with self.runtime.db.read() as session:
                self._ids = IdCodec(installation_key(session))
        return self._ids

    def handle(self, arrived: WireRequest) -> Response:
        request_id = str(uuid.uuid4())
        action: Action | None = None
        service = "ec2"
        try:
            params = arrived.params()
            name = params.get("Action", "")
            known = ACTIONS.get(name)
            # An STS action (GetCallerIdentity) is signed for "sts" and answered in STS's format.
            service = known.service if known else "ec2"
            ctx = self._authenticate(arrived, service)
            if not name:
                raise Ec2Error("MissingAction", "The request must contain the parameter Action")
            if known is None:
                raise invalid_action(name)
            action = known
            parsed = wire.parse(action.name, params, service)
            result = self._run(action, ctx, parsed, arrived.host)
            return wire.render(action.name, result, request_id, service)
        except Ec2Error as error:
            return wire.render_error(error, request_id, action and action.name, service)
        except AuthError as error:
            return wire.render_error(from_auth_error(error, service), request_id, service=service)
        except CloudgateError as error:
            ec2_error = to_ec2_error(error, self._ids)
            return wire.render_error(ec2_error, request_id, action and action.name, service)
        except Exception:
            log.exception("EC2 request %s (%s) failed", request_id, action and action.name)
            return wire.render_error(internal_error(request_id), request_id, service=service)

    def _authenticate(self, arrived: WireRequest, service: str = "ec2") -> CallContext:
        request = AuthRequest.from_wire(
            arrived.method, arrived.raw_path, arrived.query, arrived.headers, body=arrived.body
        )
        with self.runtime.db.read() as session:
            users: dict[str, identity.User] = {}

            def lookup_secret(access_key: str) -> str | None:
                try:
                    user = identity.user_by_api_key(session, access_key)
                except AuthenticationFailed:
                    return None  # unknown or disabled: AuthFailure either way
                users[access_key] = user
                return user.secret_key

            result = authenticate(request, service=service, lookup_secret=lookup_secret)
            return identity.context_for(session, users[result.access_key])

    def _run(
        self, action: Action, ctx: CallContext, params: dict[str, Any], host: str
    ) -> dict[str, Any] | None:
        dry_run = bool(params.pop("DryRun", False))
        scope = self.runtime.db.write if action.writes else self.runtime.db.read
        ids = self.ids()
        try:
            with scope() as session:
                call = Call(
                    ctx=ctx,
                    session=session,
                    params=params,
                    runtime=self.runtime,
                    region=self.region,
                    ids=ids,
                    endpoint=host,
                )
                result = action.handler(call)
                if dry_run:
                    raise _DryRunSucceeded
        except _DryRunSucceeded:
            raise DryRunOperation() from None
        return result


def create_app(runtime: Runtime, *, region: str = "cloudgate") -> Starlette:
    """The EC2 endpoint as a Starlette app (served on its own port by `cloudgate serve`)."""
    api = Ec2Api(runtime, region)
    return Starlette(routes=[Route("/", api.endpoint, methods=["GET", "POST"])])
