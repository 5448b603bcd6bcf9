"""The S3 endpoint: path-style (`/bucket/key`) and virtual-hosted (`bucket.<domain>/key`).

One request: find the bucket and key, pick the operation from the table (only allow-listed
method/sub-resource pairs are routable; other sub-resources answer 501 NotImplemented),
authenticate, run the handler in a worker thread (it uses the database and the blocking
object-store driver), render. Upload bodies are not read here: the handler pulls them from
the event loop piece by piece (`_pieces`), so memory stays flat whatever the object size.

This module is the one error boundary: S3, auth and core errors become S3 XML errors;
anything unexpected is logged with the request id and answered InternalError, never a trace.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass

import anyio.from_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.errors import CloudgateError
from core.runtime import Runtime
from s3_api import auth
from s3_api.call import S3Call
from s3_api.errors import (
    EntityTooLarge,
    IncompleteBody,
    InternalError,
    MethodNotAllowed,
    NotImplementedFeature,
    S3Error,
    from_auth_error,
    from_core_error,
)
from s3_api.operation import Level, Operation
from s3_api.operations import candidates, cors
from s3_api.wire import render_error
from translators.aws_auth import AuthError

log = logging.getLogger(__name__)
MAX_SMALL_BODY = 1024 * 1024  # bucket configuration documents; object bodies are streamed
PIECE_BYTES = 1024 * 1024  # of a streamed body, fetched from the event loop at a time


# Query keys that name a sub-resource; any other query key is a plain parameter.
SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
        "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging",
        "metadataConfiguration", "metrics", "notification", "object-lock", "ownershipControls",
        "partNumber", "policy", "policyStatus", "publicAccessBlock", "renameObject",
        "replication", "requestPayment", "restore", "retention", "select", "session",
        "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions",
        "website",
    }
)  # fmt: skip
# Query keys that say which version of the target an operation acts on, not which operation.
QUALIFIERS = frozenset({"versionId"})
# Headers that turn a request into another operation; without a table entry for that
# header, the request answers NotImplemented rather than running the plain operation.
OPERATION_HEADERS = ("x-amz-copy-source",)


@dataclass(frozen=True)
class Target:
    bucket: str
    key: str
    virtual_hosted: bool

    @property
    def level(self) -> Level:
        if not self.bucket:
            return Level.SERVICE
        return Level.OBJECT if self.key else Level.BUCKET


def locate(scope: Scope, domain: str) -> Target:
    """Bucket and key from the Host header (virtual-hosted) or the path (path-style)."""
    path: str = scope["path"]
    host = _host(scope)
    if domain and host.endswith("." + domain):
        return Target(host[: -len(domain) - 1], path[1:], virtual_hosted=True)
    bucket, _, key = path[1:].partition("/")
    return Target(bucket, key, virtual_hosted=False)


def _host(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1").lower()
            return host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return ""


def route(
    target: Target, method: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> Operation:
    """The operation for this request, or NotImplemented / MethodNotAllowed."""
    subresources = sorted(key for key in query if key in SUBRESOURCES - QUALIFIERS)
    if "uploadId" in subresources and "partNumber" in subresources:
        subresources.remove("partNumber")  # UploadPart(Copy): which part, a plain parameter
    if len(subresources) > 1:
        raise NotImplementedFeature(f"Sub-resources {', '.join(subresources)} are not implemented")
    subresource = subresources[0] if subresources else None
    routed = candidates(target.level, method, subresource)
    for operation in routed:
        if operation.header is not None and operation.header in headers:
            return operation
    selecting = [name for name in OPERATION_HEADERS if name in headers]
    for operation in routed:
        if operation.header is None and not selecting:
            return operation
    if subresource is not None or routed:
        what = f"?{subresource}" if subresource else f"header {', '.join(selecting)}"
        raise NotImplementedFeature(f"{method} with {what} is not implemented")
    raise MethodNotAllowed(Method=method, ResourceType=target.level.value.upper())


class S3Api:
    def __init__(self, runtime: Runtime, *, region: str, domain: str) -> None:
        self.runtime = runtime
        self.region = region
        self.domain = domain.lower().strip(".")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan or websocket handling: the server runs with lifespan off
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        request_id = secrets.token_hex(8).upper()
        target = locate(request.scope, self.domain)
        resource = _resource(request.scope, target)
        try:
            response = await self._dispatch(request, target, request_id)
        except S3Error as error:
            response = self._error(error, resource, request_id, request)
        except AuthError as error:
            response = self._error(from_auth_error(error), resource, request_id, request)
        except CloudgateError as error:
            response = self._error(from_core_error(error), resource, request_id, request)
        except ClientDisconnect:
            log.info("request %s: client disconnected", request_id)
            response = self._error(IncompleteBody(), resource, request_id, request)
        except Exception:
            log.exception("request %s (%s %s) failed", request_id, request.method, resource)
            response = self._error(InternalError(), resource, request_id, request)
        if "origin" in request.headers and request.method != "OPTIONS":
            response.headers.update(await self._cors_headers(request, target, request_id))
        response.headers["x-amz-request-id"] = request_id
        return response

    async def _dispatch(self, request: Request, target: Target, request_id: str) -> Response:
        if request.method == "OPTIONS":
            # A CORS preflight: browsers send it without credentials, so it is not signed.
            return await run_in_threadpool(
                cors.preflight, self.runtime, target.bucket, target.key, request.headers
            )
        query = dict(request.query_params)
        operation = route(target, request.method, query, request.headers)
        body = b"" if operation.streams_body else await _small_body(request)
        signed = auth.auth_request(
            request.scope,
            body=None if operation.streams_body else body,
            bucket=target.bucket if target.virtual_hosted else None,
        )

        def run() -> Response:
            result, ctx = auth.authenticate(
                self.runtime.db, signed, scope=request.scope, operation=operation.name
            )
            call = S3Call(
                runtime=self.runtime,
                region=self.region,
                request_id=request_id,
                ctx=ctx,
                auth=result,
                method=request.method,
                bucket=target.bucket,
                key=target.key,
                query=query,
                headers=request.headers,
                body=body,
                pieces=_pieces(request.stream()) if operation.streams_body else iter(()),
            )
            return operation.handler(call)

        return await run_in_threadpool(run)

    async def _cors_headers(
        self, request: Request, target: Target, request_id: str
    ) -> dict[str, str]:
        """The bucket's Access-Control-* headers for a browser's actual request; a failure
        here costs the headers, never the answer."""
        try:
            return await run_in_threadpool(
                cors.actual_request_headers,
                self.runtime,
                target.bucket,
                request.method,
                request.headers,
            )
        except Exception:
            log.exception("request %s: CORS headers failed", request_id)
            return {}

    @staticmethod
    def _error(error: S3Error, resource: str, request_id: str, request: Request) -> Response:
        if error.status >= 500 and not isinstance(error, NotImplementedFeature):
            log.warning("request %s: %s %s", request_id, error.code, error.message)
        response = render_error(
            error, resource=resource, request_id=request_id, head=request.method == "HEAD"
        )
        if _announces_body(request):
            # The body may be unread (or, after `Expect: 100-continue`, never sent): keeping
            # the connection would read its remains as the next request.
            response.headers["connection"] = "close"
        return response


def _resource(scope: Scope, target: Target) -> str:
    """What errors name as `Resource`: the path as the client sent it (still
    percent-encoded), with the bucket in front for virtual-hosted requests."""
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("utf-8", "replace")
    return f"/{target.bucket}{raw_path}" if target.virtual_hosted else raw_path


def _announces_body(request: Request) -> bool:
    headers = request.headers
    return "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")


async def _small_body(request: Request) -> bytes:
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_SMALL_BODY:
            raise EntityTooLarge("The request body of this operation is limited to 1 MiB")
    return bytes(body)


def _pieces(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body for a worker thread: pieces are fetched from the event loop when the
    consumer asks for them, up to PIECE_BYTES a hop, so at most about that much is held at
    a time. The server hands the body over in reads of at most 64 KiB, and a thread hop for
    each was about a third of the server's CPU in a large upload (py-spy, bench/s3.py)."""

    async def next_piece() -> bytes | None:
        gathered: list[bytes] = []
        size = 0
        while size < PIECE_BYTES and (piece := await anext(stream, None)) is not None:
            gathered.append(piece)
            size += len(piece)
        return b"".join(gathered) if gathered else None

    while (piece := anyio.from_thread.run(next_piece)) is not None:
        if piece:
            yield piece


def create_app(runtime: Runtime, *, region: str = "cloudgate", domain: str = "") -> S3Api:
    """The S3 ASGI app; `domain` enables virtual-hosted-style addressing below it."""
    return S3Api(runtime, region=region, domain=domain)
