"""The `cs` client, library and command line, unchanged, against a real server."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from cs import CloudStack, CloudStackApiException

from tests.support.server import ServerProcess


def test_vm_lifecycle_with_cs_library(cs: CloudStack, demo: dict[str, str]) -> None:
    deployed = cs.deployVirtualMachine(name="cs-lifecycle", **demo)
    vm = deployed["virtualmachine"]
    assert vm["state"] == "Running" and vm["name"] == "cs-lifecycle"
    listed = cs.listVirtualMachines(id=vm["id"])
    assert listed["count"] == 1 and listed["virtualmachine"][0]["state"] == "Running"

    assert cs.stopVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Stopped"
    assert cs.startVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Running"
    assert cs.rebootVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Running"
    destroyed = cs.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert destroyed["virtualmachine"]["id"] == vm["id"]
    assert cs.listVirtualMachines(id=vm["id"]) == {}


def test_cs_post_method_and_signature_v3(server: ServerProcess) -> None:
    client = CloudStack(
        endpoint=server.native_url,
        key=server.api_key,
        secret=server.secret_key,
        method="post",
    )
    zones = client.listZones()
    assert zones["count"] >= 1


def test_cs_sees_api_errors_as_errors(cs: CloudStack) -> None:
    with pytest.raises(CloudStackApiException) as caught:
        cs.startVirtualMachine(id="8a4e7f46-7a3b-4fb1-9f39-000000000000")
    assert caught.value.error["errorcode"] == 431


def test_async_job_listing_shows_the_deploy(cs: CloudStack, demo: dict[str, str]) -> None:
    deployed = cs.deployVirtualMachine(name="cs-jobs", startvm=False, **demo)
    assert deployed["virtualmachine"]["state"] == "Stopped"
    jobs = cs.listAsyncJobs()["asyncjobs"]
    assert any(job["jobinstanceid"] == deployed["virtualmachine"]["id"] for job in jobs)
    cs.destroyVirtualMachine(id=deployed["virtualmachine"]["id"], expunge=True)


def test_cs_command_line(server: ServerProcess) -> None:
    env = {
        **os.environ,
        "CLOUDSTACK_ENDPOINT": server.native_url,
        "CLOUDSTACK_KEY": server.api_key,
        "CLOUDSTACK_SECRET": server.secret_key,
    }
    result = subprocess.run(
        ["cs", "listZones"], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(result.stdout)["zone"][0]["name"] == "Sandbox-simulator"
    failed = subprocess.run(
        ["cs", "listVirtualMachines", "id=not-a-uuid"], capture_output=True, text=True, env=env
    )
    assert failed.returncode != 0
    assert "431" in failed.stdout + failed.stderr
