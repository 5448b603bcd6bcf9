"""A minimal signed CloudStack API caller for wire-level tests (the real clients — cs,
libcloud — are used for the behavioural ones; this one can also send what they never would)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from native_api.signing import sign


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
