"""A real `cloudgate serve` per object-store backend, and real S3 clients pointed at it.

The session server is parametrized over "local" and "swift", so every S3 test runs on both.
Swift is the all-in-one from `scripts/swift-aio`; without it the swift half is skipped with
the reason shown — except under CI=true, where it fails (`require_service`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from tests.conftest import require_service
from tests.support.server import ServerProcess

REPO = Path(__file__).resolve().parents[2]
SWIFT_AIO = REPO / "scripts" / "swift-aio"
REGION = "cloudgate"
S3_DOMAIN = "s3.cloudgate.test"
S3_NAMESPACE = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str


@dataclass
class S3Server:
    """A running server, its backend and the admin's credentials."""

    process: ServerProcess
    backend: str
    admin: Credentials
    swift_env: dict[str, str]

    @property
    def url(self) -> str:
        return self.process.s3_url

    def client(
        self, credentials: Credentials | None = None, *, verify: str | None = None, **config: object
    ) -> BaseClient:
        """A boto3 S3 client with path-style addressing (no wildcard DNS here); `verify`:
        the CA bundle of an HTTPS server (tests/support/tls.py)."""
        credentials = credentials or self.admin
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            verify=verify,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
        )

    def create_tenant(self, name: str) -> Credentials:
        """A new account and user through the operator CLI, as an operator would."""
        output = subprocess.run(
            [
                sys.executable, "-m", "cloudgate.cli", "user", "create",
                "--data-dir", str(self.process.data_dir),
                "--account", name, "--username", name, "--password", "pw",
            ],
            cwd=REPO, check=True, capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip
        keys = json.loads(output)
        return Credentials(keys["apikey"], keys["secretkey"])


def swift_environment() -> dict[str, str]:
    """Start the Swift all-in-one (idempotent) and return its CLOUDGATE_SWIFT_* settings."""
    try:
        started = subprocess.run(
            [str(SWIFT_AIO), "start"], capture_output=True, text=True, timeout=900
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        require_service("Swift", f"scripts/swift-aio start: {error}")
    if started.returncode != 0:
        require_service("Swift", f"scripts/swift-aio start failed:\n{started.stderr[-2000:]}")
    exports = subprocess.run(
        [str(SWIFT_AIO), "env"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return dict(re.findall(r"^export (CLOUDGATE_SWIFT_\w+)=(.*)$", exports, re.MULTILINE))


@pytest.fixture(scope="session", params=["local", pytest.param("swift", marks=pytest.mark.swift)])
def s3_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Server]:
    backend = request.param
    swift_env = swift_environment() if backend == "swift" else {}
    process = ServerProcess(
        tmp_path_factory.mktemp(f"s3-{backend}"),
        object_store=backend,
        extra_env={**swift_env, "CLOUDGATE_S3_DOMAIN": S3_DOMAIN},
    )
    process.start()
    try:
        yield S3Server(
            process, backend, Credentials(process.api_key, process.secret_key), swift_env
        )
    finally:
        process.stop()
        output = "".join(process.output)
        # A server that logged a traceback failed some request badly, even if a test passed.
        assert "Traceback" not in output, output[-5000:]


@pytest.fixture(scope="session")
def other_tenant(s3_server: S3Server) -> Credentials:
    return s3_server.create_tenant(f"other-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def third_tenant(s3_server: S3Server) -> Credentials:
    return s3_server.create_tenant(f"third-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def s3(s3_server: S3Server) -> BaseClient:
    return s3_server.client()


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    """(S3 error code, HTTP status) of a failed boto3 call."""
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def empty_and_delete(client: BaseClient, name: str) -> None:
    """Remove a test bucket and everything in it, every version and delete marker of a
    versioned one too (ignores a bucket already gone)."""
    try:
        if client.get_bucket_versioning(Bucket=name).get("Status"):
            for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
                for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    client.delete_object(
                        Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"]
                    )
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=item["Key"])
        client.delete_bucket(Bucket=name)
    except client.exceptions.NoSuchBucket:
        pass


@pytest.fixture
def make_bucket(s3: BaseClient) -> Iterator[Callable[[], str]]:
    """Creates uniquely named buckets owned by the admin; removes them afterwards."""
    created: list[str] = []

    def make() -> str:
        name = f"test-{uuid.uuid4().hex[:16]}"
        s3.create_bucket(Bucket=name)
        created.append(name)
        return name

    yield make
    for name in created:
        empty_and_delete(s3, name)


@pytest.fixture
def bucket(make_bucket: Callable[[], str]) -> str:
    return make_bucket()


def aws_env(server: S3Server, credentials: Credentials | None = None) -> dict[str, str]:
    """Environment for the aws CLI: these credentials, no config files, no pager."""
    credentials = credentials or server.admin
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {
        **env,
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PAGER": "",
        # boto3 in-process signs with awscrt (a dependency, for CRC64NVME); the CLI uses
        # botocore's own Python signers, so the suite exercises both.
        "BOTO_DISABLE_CRT": "true",
    }


def aws_s3api(server: S3Server, *args: str) -> str:
    """`aws s3api …` against the server as its admin; its standard output (fails the test
    when the command fails)."""
    return subprocess.run(
        ["aws", "--endpoint-url", server.url, "s3api", *args],
        env=aws_env(server), capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip


def assert_access_denied(*calls: Callable[[], object]) -> None:
    """Each call fails with S3's AccessDenied (another tenant's bucket)."""
    for call in calls:
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("AccessDenied", 403)


def signed_request(
    server: S3Server,
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    credentials: Credentials | None = None,
    signed_body: bytes | None = None,
) -> httpx.Response:
    """One request signed with botocore's own S3 SigV4 signer and sent as is with httpx.

    `signed_body`: sign this body but send `body` (to test payload hash checks); a `Host`
    in `headers` is signed and sent (virtual-hosted-style requests to 127.0.0.1)."""
    credentials = credentials or server.admin
    url = server.url + path + (f"?{query}" if query else "")
    request = AWSRequest(
        method=method,
        url=url,
        data=body if signed_body is None else signed_body,
        headers=headers or {},
    )
    boto_credentials = BotoCredentials(credentials.access_key, credentials.secret_key)
    S3SigV4Auth(boto_credentials, "s3", REGION).add_auth(request)
    sent_headers = {name: value for name, value in request.headers.items()}
    return httpx.request(method, url, headers=sent_headers, content=body, timeout=60)
