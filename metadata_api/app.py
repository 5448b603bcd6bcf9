"""The instance metadata endpoint: EC2's IMDS (v1 and v2) and CloudStack's virtual router paths.

One request: work out which VM asks (by the request's source address, the VM's guest IP;
in "header" mode also by `X-Cloudgate-Vm-Ip` from 127.0.0.1, for simulated VMs that have no
address of their own), check the IMDSv2 token if one is sent or required, load the VM's facts
in one read transaction, and answer the path from its tree (metadata_api.tree). Dated
versions (`/2009-04-04/…`) are aliases of `latest`; `/` lists them. CloudStack's short forms
(`/latest/instance-id` …) are aliases of `/latest/meta-data/<name>`. Any unexpected failure
is logged and answered 500 with the error page, never a stack trace.

Which source is trusted: the TCP peer only. The listener is served without uvicorn's proxy
header handling (cloudgate.server), so `X-Forwarded-For` cannot name another VM; and as on
AWS, a token PUT carrying `X-Forwarded-For` is refused (403), so that a proxy or an SSRF bug
in the guest cannot obtain a token.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.runtime import Runtime
from core.vms.metadata import running_vm_by_guest_ip, vm_facts
from core.vms.models import VirtualMachine
from metadata_api import responses
from metadata_api.responses import TTL_HEADER, MetadataError
from metadata_api.tokens import TokenSigner, parse_ttl
from metadata_api.tree import Directory, Installation, VmView, lookup, version_tree
from metadata_api.versions import CLOUDSTACK_SHORT_FORMS, LATEST, VERSIONS, cloud_identifier
from translators.ids import IdCodec, installation_key
from translators.instance_types import load_catalogue

log = logging.getLogger(__name__)

SOURCE_IP = "source-ip"
HEADER = "header"
IDENTIFY_BY = (SOURCE_IP, HEADER)
HTTP_TOKENS = ("optional", "required")
VM_IP_HEADER = "X-Cloudgate-Vm-Ip"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
LOOPBACK = "127.0.0.1"
READ_METHODS = ("GET", "HEAD")


@dataclass(frozen=True, slots=True)
class Asked:
    """What arrived, reduced to what the service looks at."""

    method: str
    path: str
    peer: str | None
    headers: dict[str, str]  # lower-case names

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def segments(self) -> list[str]:
        return [segment for segment in self.path.split("/") if segment]

    @property
    def trailing_slash(self) -> bool:
        return self.path.endswith("/")


class MetadataService:
    def __init__(
        self,
        runtime: Runtime,
        *,
        region: str,
        token_secret: bytes,
        identify_by: str = SOURCE_IP,
        http_tokens: str = "optional",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if identify_by not in IDENTIFY_BY:
            raise ValueError(f"metadata_identify_by must be one of {IDENTIFY_BY}")
        if http_tokens not in HTTP_TOKENS:
            raise ValueError(f"metadata_http_tokens must be one of {HTTP_TOKENS}")
        self.runtime = runtime
        self.region = region
        self.identify_by = identify_by
        self.tokens_required = http_tokens == "required"
        self.clock = clock
        self.signer = TokenSigner(token_secret)
        self._installation: Installation | None = None

    async def endpoint(self, request: Request) -> Response:
        asked = Asked(
            method=request.method,
            path=request.url.path,
            peer=request.client.host if request.client else None,
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        return await run_in_threadpool(self.handle, asked)

    def handle(self, asked: Asked) -> Response:
        try:
            return self._answer(asked)
        except MetadataError as error:
            return responses.error_page(error.status, error.headers)
        except Exception:
            log.exception("metadata request %s %s failed", asked.method, asked.path)
            return responses.error_page(500)

    # which installation, which VM -------------------------------------------------------------

    def installation(self) -> Installation:
        """The id codec and cloud identifier, derived from the installation key (read once)."""
        if self._installation is None:
            with self.runtime.db.read() as session:
                key = installation_key(session)
            self._installation = Installation(IdCodec(key), self.region, cloud_identifier(key))
        return self._installation

    def asker_address(self, asked: Asked) -> str | None:
        """The guest address of the asking VM (normalized), or None if there is none."""
        address = asked.peer
        named = asked.header(VM_IP_HEADER)
        if self.identify_by == HEADER and asked.peer == LOOPBACK and named:
            address = named.strip()
        try:
            return str(ipaddress.ip_address(address or ""))
        except ValueError:
            return None

    def _asker(self, session: Session, asked: Asked) -> VirtualMachine:
        address = self.asker_address(asked)
        vm = running_vm_by_guest_ip(session, address) if address else None
        if vm is None:
            raise MetadataError(404)
        return vm

    # the request ------------------------------------------------------------------------------

    def _answer(self, asked: Asked) -> Response:
        segments = asked.segments
        if segments and segments[0] in VERSIONS and segments[1:] == ["api", "token"]:
            return self._issue_token(asked)
        if asked.method not in READ_METHODS:
            raise MetadataError(405, {"Allow": ", ".join(READ_METHODS)})
        installation = self.installation()
        with self.runtime.db.read() as session:
            vm = self._asker(session, asked)
            self._check_token(asked, vm)
            if not segments:
                return responses.text("\n".join(VERSIONS))
            if segments[0] not in VERSIONS:
                raise MetadataError(404)
            facts = vm_facts(session, vm)
            instance_type = load_catalogue(session).name_for(facts.offering)
            view = VmView(facts=facts, instance_type=instance_type, installation=installation)
            return self._render(version_tree(view), segments, asked)

    def _render(self, root: Directory, segments: list[str], asked: Asked) -> Response:
        version, rest = segments[0], segments[1:]
        trailing = asked.trailing_slash
        if version == LATEST and len(rest) == 1 and rest[0] in CLOUDSTACK_SHORT_FORMS:
            rest, trailing = ["meta-data", rest[0]], False
        node = lookup(root, rest, trailing_slash=trailing)
        if node is None:
            raise MetadataError(404)
        if isinstance(node, Directory):
            return responses.text("\n".join(node.lines()))
        if isinstance(node, bytes):
            return responses.octets(node)
        return responses.text(node)

    # IMDSv2 -----------------------------------------------------------------------------------

    def _issue_token(self, asked: Asked) -> Response:
        if asked.method != "PUT":
            raise MetadataError(405, {"Allow": "PUT"})
        if asked.header("X-Forwarded-For") is not None:
            raise MetadataError(403)
        ttl = parse_ttl(asked.header(TTL_HEADER))
        if ttl is None:
            raise MetadataError(400)
        with self.runtime.db.read() as session:
            vm = self._asker(session, asked)
            token = self.signer.issue(vm.id, ttl, self.clock())
        return responses.text(token, {TTL_HEADER: str(ttl)})

    def _check_token(self, asked: Asked, vm: VirtualMachine) -> None:
        """A token sent must be valid for this VM; with http-tokens required, one must be sent."""
        token = asked.header(TOKEN_HEADER)
        if token is None:
            if self.tokens_required:
                raise MetadataError(401)
            return
        if self.signer.remaining(token, vm.id, self.clock()) is None:
            raise MetadataError(401)


def create_app(
    runtime: Runtime,
    *,
    token_secret: bytes,
    region: str = "cloudgate",
    identify_by: str = SOURCE_IP,
    http_tokens: str = "optional",
) -> Starlette:
    """The metadata service as a Starlette app (served on its own port by `cloudgate serve`)."""
    service = MetadataService(
        runtime,
        region=region,
        token_secret=token_secret,
        identify_by=identify_by,
        http_tokens=http_tokens,
    )
    methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", service.endpoint, methods=methods)])
