"""What the S3 scenarios share: a real server per (object store, scheme), and its clients.

Each scenario module asks for `endpoint` parametrized over the backends it runs on — the
local store and the Swift all-in-one (`scripts/swift-aio`, skipped with the reason shown when
absent, except under CI=true) — and over `http`/`https`. Over HTTPS the server has a
certificate from a throw-away CA (`tests/support/tls.py`) and every client is given that CA
as its trust bundle: certificate checks stay on.

The servers are shared by the whole session (`EndpointPool`, the `s3_endpoints` fixture of
conformance/conftest.py): a scenario works in buckets of its own names and asks for its own
tenants, so it needs no fresh server, and four servers start instead of one per module and
variant.
"""

from __future__ import annotations

import os
import shutil
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from tests.s3_api.conftest import Credentials, S3Server, aws_env, swift_environment
from tests.support.server import ServerProcess
from tests.support.tls import TlsFiles, make_certificates

# (backend, scheme) pairs as pytest params; the Swift ones carry the `swift` mark.
LOCAL_HTTP = pytest.param(("local", "http"), id="local-http")
LOCAL_HTTPS = pytest.param(("local", "https"), id="local-https")
SWIFT_HTTP = pytest.param(("swift", "http"), id="swift-http", marks=pytest.mark.swift)
SWIFT_HTTPS = pytest.param(("swift", "https"), id="swift-https", marks=pytest.mark.swift)
EVERY_ENDPOINT = (LOCAL_HTTP, LOCAL_HTTPS, SWIFT_HTTP, SWIFT_HTTPS)


@dataclass
class Endpoint:
    """A running server's S3 listener as a client sees it: URL, CA bundle, credentials."""

    server: S3Server
    tls: TlsFiles | None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def backend(self) -> str:
        return self.server.backend

    @property
    def name(self) -> str:
        """`local-http`, `swift-https`, …: as in the test ids."""
        return f"{self.backend}-{'https' if self.secure else 'http'}"

    @property
    def secure(self) -> bool:
        return self.tls is not None

    @property
    def host_port(self) -> str:
        return self.url.split("://", 1)[1]

    @property
    def port(self) -> int:
        return self.server.process.s3_port

    @property
    def admin(self) -> Credentials:
        return self.server.admin

    @property
    def ca_bundle(self) -> str | None:
        return str(self.tls.ca_bundle) if self.tls else None

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify`: a context trusting the test CA over HTTPS."""
        return ssl.create_default_context(cafile=self.ca_bundle) if self.tls else True

    def client(self, credentials: Credentials | None = None, **config: Any) -> BaseClient:
        """boto3 as a user configures it: defaults (checksums `when_supported`), path style,
        the CA bundle over HTTPS."""
        return self.server.client(credentials, verify=self.ca_bundle, **config)

    def aws_env(self, credentials: Credentials | None = None) -> dict[str, str]:
        env = aws_env(self.server, credentials)
        if self.tls:
            env["AWS_CA_BUNDLE"] = str(self.tls.ca_bundle)
        return env

    def create_tenant(self, name: str) -> Credentials:
        return self.server.create_tenant(f"{name}-{uuid.uuid4().hex[:8]}")


def endpoint_fixture(*params: Any) -> Any:
    """A module's `endpoint` fixture over (backend, scheme) pairs such as LOCAL_HTTP, each the
    session's server (`EndpointPool`). Use: `endpoint = endpoint_fixture(LOCAL_HTTP, …)`."""

    @pytest.fixture(scope="module", params=params)
    def endpoint(request: pytest.FixtureRequest, s3_endpoints: EndpointPool) -> Iterator[Endpoint]:
        endpoint = s3_endpoints.get(request.param)
        logged = len(endpoint.server.process.output)
        yield endpoint
        # A server that logged a traceback failed some request badly, even if a test passed;
        # checked after each module, so that the failure names the module that caused it.
        output = "".join(endpoint.server.process.output[logged:])
        assert "Traceback" not in output, output[-5000:]

    return endpoint


class EndpointPool:
    """One server per (backend, scheme), started when first asked for, stopped by `stop`."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.endpoints: dict[tuple[str, str], Endpoint] = {}

    def get(self, variant: tuple[str, str]) -> Endpoint:
        if variant not in self.endpoints:
            self.endpoints[variant] = self._start(*variant)
        return self.endpoints[variant]

    def _start(self, backend: str, scheme: str) -> Endpoint:
        swift_env = swift_environment() if backend == "swift" else {}
        base = self.tmp_path_factory.mktemp(f"s3-{backend}-{scheme}")
        tls = make_certificates(base / "tls") if scheme == "https" else None
        process = ServerProcess(
            base / "data",
            object_store=backend,
            extra_env=swift_env,
            s3_tls=(tls.certfile, tls.keyfile) if tls else None,
        )
        process.start()
        server = S3Server(process, backend, Credentials(process.api_key, process.secret_key), {})
        return Endpoint(server, tls)

    def stop(self) -> None:
        """Stop every server; then, as after each module, no traceback may have been logged
        (by then also in the shutdown)."""
        processes = [endpoint.server.process for endpoint in self.endpoints.values()]
        self.endpoints.clear()
        for process in processes:
            process.stop()
        for process in processes:
            output = "".join(process.output)
            assert "Traceback" not in output, output[-5000:]


def require_tool(name: str) -> str:
    """The tool's path; the test command installs every one (scripts/s3-tools, the test extras),
    so a missing tool is a failure, never a skip."""
    path = shutil.which(name)
    assert path is not None, f"{name} is not installed: run ./scripts/test (scripts/s3-tools)"
    return path


def write_tree(root: Path, count: int) -> dict[str, bytes]:
    """`count` small files in a nested tree (up to three folders deep, names with spaces and
    non-ASCII letters); returns their relative paths and contents."""
    files: dict[str, bytes] = {}
    for index in range(count):
        folders = [f"level-{index % 3}", f"group {index % 7}", f"part-{index % 2}"]
        name = f"ünïcode-{index:03d}.txt" if index % 10 == 0 else f"file-{index:03d}.txt"
        relative = "/".join([*folders[: 1 + index % 3], name])
        content = f"file {index}\n".encode() * (1 + index % 50)
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        # Written an hour ago: S3 times have whole seconds, so a file written in the second
        # of its upload would look newer than its copy to `aws s3 sync` (as on AWS).
        os.utime(path, (time.time() - 3600, time.time() - 3600))
        files[relative] = content
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def bucket_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
