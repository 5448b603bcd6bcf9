"""A minimal signed CloudStack API caller for wire-level tests (the real clients — cs,
libcloud — are used for the behavioural ones; this one can also send what they never would),
and the ways the CloudStack API tests make their clients."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from cs import CloudStack

from native_api.signing import sign

if TYPE_CHECKING:
    from tests.support.server import ServerProcess


@dataclass
class NativeCaller:
    url: str
    api_key: str
    secret_key: str

    def request(
        self, command: str, *, response: str = "json", sign_with: str | None = None, **params: Any
    ) -> httpx.Response:
        query: dict[str, str] = {"command": command, "apiKey": self.api_key}
        if response:
            query["response"] = response
        query.update(
            {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
        )
        query["signature"] = sign(list(query.items()), sign_with or self.secret_key)
        return httpx.get(self.url, params=query, timeout=30)

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        reply = self.request(command, **params)
        body: dict[str, Any] = reply.json()[f"{command.lower()}response"]
        if reply.status_code != 200:
            raise AssertionError(f"{command} failed: {reply.status_code} {body}")
        return body

    def wait_job(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.call("queryAsyncJobResult", jobid=job_id)
            if result["jobstatus"] != 0:
                return result
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still pending after {timeout}s")


def cs_client(
    server: ServerProcess, keys: dict[str, str] | None = None, *, job_timeout: int = 60
) -> CloudStack:
    """The `cs` library as the keys' user (`create_tenant`'s answer) or, without keys, as the
    server's administrator; async commands are waited for."""
    return CloudStack(
        endpoint=server.native_url,
        key=keys["apikey"] if keys else server.api_key,
        secret=keys["secretkey"] if keys else server.secret_key,
        fetch_result=True,
        job_timeout=job_timeout,
        poll_interval=0.2,
    )


def native_caller(server: ServerProcess, keys: dict[str, str]) -> NativeCaller:
    """A NativeCaller signing with the keys `create_tenant` answered."""
    return NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])


def unique(prefix: str, length: int = 8) -> str:
    """A name no other test (or earlier run against the same server) has used."""
    return f"{prefix}-{uuid.uuid4().hex[:length]}"


def create_public_range(admin: NativeCaller, zone_id: str, subnet: int) -> dict[str, Any]:
    """A public VLAN IP range of 20 addresses, 198.18.<subnet>.10-29 on VLAN 200 + subnet
    (198.18/15 is for benchmarking: it clashes with nothing)."""
    prefix = f"198.18.{subnet}"
    created: dict[str, Any] = admin.call(
        "createVlanIpRange",
        zoneid=zone_id,
        startip=f"{prefix}.10",
        endip=f"{prefix}.29",
        gateway=f"{prefix}.1",
        netmask="255.255.255.0",
        vlan=str(200 + subnet),
        forvirtualnetwork=True,
    )["vlan"]
    return created
