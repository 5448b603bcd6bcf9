"""One real `cloudgate serve` for the EC2 tests, and real clients for it (boto3, awscli, cs).

The server is shared by the whole session; tests that launch instances terminate them again
(`launch` does it at teardown), so that capacity and limits are what each test expects.

A module that wants an account of its own defines a `tenant_name` fixture; `keys`, `client`
(EC2) and `cs` (the CloudStack API) are then that account's, made once for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import ClientError
from cs import CloudStack, CloudStackApiException

from tests.support.server import ServerProcess

REGION = "cloudgate"
REPO = Path(__file__).resolve().parents[2]
FAST_WAITER = {"Delay": 1, "MaxAttempts": 60}


@dataclass(frozen=True)
class Keys:
    access_key: str
    secret_key: str


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("ec2-server")).start()
    yield process
    process.stop()


def ec2_client(server: ServerProcess, keys: Keys) -> Any:
    """A boto3 EC2 client that does not retry, so that every error reaches the test."""
    return boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=server.ec2_url,
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def admin_keys(server: ServerProcess) -> Keys:
    return Keys(server.api_key, server.secret_key)


@pytest.fixture(scope="session")
def ec2(server: ServerProcess, admin_keys: Keys) -> Any:
    return ec2_client(server, admin_keys)


def create_user(server: ServerProcess, account: str) -> Keys:
    """A new User-role account, made with the operator CLI as an operator would."""
    database = ["--database-url", server.database_url] if server.database_url else []
    output = subprocess.run(
        [
            sys.executable, "-m", "cloudgate.cli", "user", "create",
            "--data-dir", str(server.data_dir), *database,
            "--account", account, "--username", account, "--password", "pw",
        ],
        check=True, capture_output=True, text=True, cwd=REPO,
    ).stdout  # fmt: skip
    keys = json.loads(output)
    return Keys(keys["apikey"], keys["secretkey"])


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    """The EC2 error code of a refused call."""
    return str(raised.value.response["Error"]["Code"])


def cloudstack_client(server: ServerProcess, keys: Keys) -> CloudStack:
    """The CloudStack API with `keys`, waiting for async jobs as cloudmonkey does."""
    return CloudStack(
        endpoint=server.native_url,
        key=keys.access_key,
        secret=keys.secret_key,
        fetch_result=True,
        poll_interval=0.2,
        job_timeout=60,
    )


@pytest.fixture(scope="session")
def cloudstack_admin(server: ServerProcess, admin_keys: Keys) -> CloudStack:
    """The CloudStack API as the admin."""
    return cloudstack_client(server, admin_keys)


@pytest.fixture(scope="module")
def keys(server: ServerProcess, tenant_name: str) -> Keys:
    """The test module's own User-role account (named by the module's `tenant_name`)."""
    return create_user(server, tenant_name)


@pytest.fixture(scope="module")
def client(server: ServerProcess, keys: Keys) -> Any:
    """EC2 as the test module's own account."""
    return ec2_client(server, keys)


@pytest.fixture(scope="module")
def cs(server: ServerProcess, keys: Keys) -> CloudStack:
    """The CloudStack API as the test module's own account."""
    return cloudstack_client(server, keys)


def until_accepted(action: Callable[[], Any], refused: type[Exception], attempts: int = 50) -> Any:
    """`action()`, repeated while it is refused with `refused`: while a job the test cannot
    wait for (an expunge, addresses going back to the pool) still holds what it needs. The
    last refusal is raised."""
    for _ in range(attempts - 1):
        try:
            return action()
        except refused:
            time.sleep(0.2)
    return action()


@contextmanager
def public_ip_range(admin: CloudStack, start: str, end: str, gateway: str) -> Iterator[None]:
    """A public IP range of the first zone (for Elastic IPs), deleted afterwards; if another
    module of the session added it already, that one is used (and left to it)."""
    zone = admin.listZones()["zone"][0]
    try:
        created = admin.createVlanIpRange(
            zoneid=zone["id"],
            netmask="255.255.255.0",
            forvirtualnetwork=True,
            startip=start,
            endip=end,
            gateway=gateway,
        )["vlan"]
    except CloudStackApiException:
        yield
        return
    yield
    # released addresses return to the pool in a job
    until_accepted(lambda: admin.deleteVlanIpRange(id=created["id"]), CloudStackApiException)


@pytest.fixture(scope="session")
def other_keys(server: ServerProcess) -> Keys:
    return create_user(server, "other")


@pytest.fixture(scope="session")
def ec2_other(server: ServerProcess, other_keys: Keys) -> Any:
    return ec2_client(server, other_keys)


@pytest.fixture(scope="session")
def image_id(ec2: Any) -> str:
    """The demo template, published as an Amazon-owned image."""
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    assert images, "the demo template should be listed as an Amazon image"
    return str(images[0]["ImageId"])


def instance_ids(reservation: dict[str, Any]) -> list[str]:
    return [instance["InstanceId"] for instance in reservation["Instances"]]


def terminate_and_wait(client: Any, ids: list[str]) -> None:
    if ids:
        client.terminate_instances(InstanceIds=ids)
        client.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)


@pytest.fixture
def launch(ec2: Any, image_id: str) -> Iterator[Callable[..., dict[str, Any]]]:
    """RunInstances (admin by default, `client=` for another); terminated at teardown."""
    launched: list[tuple[Any, list[str]]] = []

    def run(client: Any = None, **params: Any) -> dict[str, Any]:
        client = client or ec2
        params.setdefault("ImageId", image_id)
        params.setdefault("MinCount", 1)
        params.setdefault("MaxCount", 1)
        reservation = client.run_instances(**params)
        launched.append((client, instance_ids(reservation)))
        return dict(reservation)

    yield run
    for client, ids in launched:
        terminate_and_wait(client, ids)


def signed_post(
    client: Any, params: dict[str, str], *, secret_key: str | None = None
) -> httpx.Response:
    """A raw EC2 Query request, SigV4-signed by botocore with `client`'s credentials."""
    credentials = client._request_signer._credentials
    if secret_key is not None:
        credentials = type(credentials)(credentials.access_key, secret_key)
    url = client.meta.endpoint_url + "/"
    body = urlencode(params)
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(credentials, "ec2", REGION).add_auth(request)
    return httpx.post(url, content=body.encode(), headers=dict(request.headers.items()))
