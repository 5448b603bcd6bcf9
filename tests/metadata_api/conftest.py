"""A real `cloudgate serve` for the metadata service tests, tenants' clients, and an IMDS caller.

The server runs in "header" mode (tests/support/server.py): every VM is simulated on
loopback, so a test speaks for a VM by sending `X-Cloudgate-Vm-Ip: <its guest IP>` from
127.0.0.1, as the docs describe for simulator set-ups.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cs import CloudStack

from tests.native_api.conftest import create_tenant
from tests.support.server import ServerProcess

REGION = "cloudgate"
VM_IP_HEADER = "X-Cloudgate-Vm-Ip"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
FAST_WAITER = {"Delay": 1, "MaxAttempts": 60}


@dataclass(frozen=True)
class Imds:
    """Calls the metadata service as the VM with guest address `vm_ip`."""

    url: str
    vm_ip: str | None

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        return ({VM_IP_HEADER: self.vm_ip} if self.vm_ip else {}) | extra

    def get(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=self._headers(headers), timeout=10)

    def request(self, method: str, path: str, **headers: str) -> httpx.Response:
        return httpx.request(method, self.url + path, headers=self._headers(headers), timeout=10)

    def token(self, ttl: str = "21600", **headers: str) -> httpx.Response:
        return self.request("PUT", "/latest/api/token", **{TTL_HEADER: ttl, **headers})

    def text(self, path: str) -> str:
        reply = self.get(path)
        assert reply.status_code == 200, (path, reply.status_code)
        return reply.text


@dataclass(frozen=True)
class Tenant:
    name: str
    keys: dict[str, str]
    cs: CloudStack
    ec2: Any


def new_tenant(server: ServerProcess, name: str) -> Tenant:
    keys = create_tenant(server, name)
    cs = CloudStack(
        endpoint=server.native_url,
        key=keys["apikey"],
        secret=keys["secretkey"],
        fetch_result=True,
        job_timeout=60,
        poll_interval=0.2,
    )
    ec2 = boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=server.ec2_url,
        aws_access_key_id=keys["apikey"],
        aws_secret_access_key=keys["secretkey"],
        config=Config(retries={"total_max_attempts": 1}),
    )
    return Tenant(name, keys, cs, ec2)


def public_key_line() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    encoded = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return encoded.decode()


def register_key(tenant: Tenant, name: str) -> str:
    """A new public key registered through the CloudStack API under `name`; its line."""
    line = public_key_line()
    tenant.cs.registerSSHKeyPair(name=name, publickey=line)
    return line


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("metadata-server")).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def tenant(server: ServerProcess) -> Tenant:
    return new_tenant(server, "md-tenant")


@pytest.fixture(scope="session")
def demo(tenant: Tenant) -> dict[str, str]:
    """The demo zone, the Small Instance offering and the featured template."""
    cs = tenant.cs
    return {
        "zoneid": cs.listZones()["zone"][0]["id"],
        "serviceofferingid": cs.listServiceOfferings(name="Small Instance")["serviceoffering"][0][
            "id"
        ],
        "templateid": cs.listTemplates(templatefilter="featured")["template"][0]["id"],
    }


@pytest.fixture(scope="session")
def image_id(tenant: Tenant) -> str:
    return str(tenant.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


def imds_for(server: ServerProcess) -> Callable[[str | None], Imds]:
    return lambda vm_ip: Imds(server.metadata_url, vm_ip)


@pytest.fixture(scope="session")
def imds(server: ServerProcess) -> Callable[[str | None], Imds]:
    return imds_for(server)


def launch_running(tenant: Tenant, image_id: str, **params: Any) -> dict[str, Any]:
    """RunInstances through EC2 and wait until the instance runs; the instance as described."""
    reservation = tenant.ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, **params)
    instance_id = reservation["Instances"][0]["InstanceId"]
    tenant.ec2.get_waiter("instance_running").wait(
        InstanceIds=[instance_id], WaiterConfig=FAST_WAITER
    )
    described = tenant.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]
    return {**described["Instances"][0], "ReservationId": described["ReservationId"]}


def terminate(tenant: Tenant, instance_id: str) -> None:
    tenant.ec2.terminate_instances(InstanceIds=[instance_id])
    tenant.ec2.get_waiter("instance_terminated").wait(
        InstanceIds=[instance_id], WaiterConfig=FAST_WAITER
    )
