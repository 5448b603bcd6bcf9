"""One real server per test session for the CloudStack API tests, plus a second tenant."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from cs import CloudStack

from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("native-server")).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def admin(server: ServerProcess) -> NativeCaller:
    return NativeCaller(server.native_url, server.api_key, server.secret_key)


@pytest.fixture
def cs(server: ServerProcess) -> CloudStack:
    """The `cs` library as the administrator."""
    return cs_client(server, job_timeout=90)


def create_tenant(server: ServerProcess, name: str, role: str = "user") -> dict[str, str]:
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "cloudgate",
            "user",
            "create",
            "--data-dir",
            str(server.data_dir),
            "--account",
            name,
            "--username",
            name,
            "--password",
            "pw",
            "--role",
            role,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    keys: dict[str, str] = json.loads(output)
    return keys


@pytest.fixture(scope="session")
def tenant(server: ServerProcess) -> NativeCaller:
    keys = create_tenant(server, "tenant-a")
    return NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])


@pytest.fixture(scope="session")
def demo(admin: NativeCaller) -> dict[str, str]:
    """Ids of the demo zone, the Small Instance offering and the featured template."""
    zone = admin.call("listZones")["zone"][0]["id"]
    offerings = admin.call("listServiceOfferings", name="Small Instance")["serviceoffering"]
    template = admin.call("listTemplates", templatefilter="featured")["template"][0]["id"]
    return {"zoneid": zone, "serviceofferingid": offerings[0]["id"], "templateid": template}
