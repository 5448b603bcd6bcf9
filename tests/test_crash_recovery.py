"""Kill -9 the server while deploys are in flight: after a restart no VM is stuck in a
transitional state and every job has an outcome."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import mariadb_database
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess

TRANSITIONAL = ("Starting", "Stopping", "Expunging", "Migrating")


def _database_url(server: ServerProcess) -> str:
    return server.database_url or f"sqlite:///{server.data_dir / 'cloudgate.db'}"


def _crash_and_recover(server: ServerProcess) -> None:
    server.start()
    caller = NativeCaller(server.native_url, server.api_key, server.secret_key)
    zone = caller.call("listZones")["zone"][0]["id"]
    offering = caller.call("listServiceOfferings", name="Small Instance")["serviceoffering"][0][
        "id"
    ]
    template = caller.call("listTemplates", templatefilter="featured")["template"][0]["id"]
    first = caller.call(
        "deployVirtualMachine",
        zoneid=zone,
        serviceofferingid=offering,
        templateid=template,
        name="crash-stop",
    )
    caller.wait_job(first["jobid"], timeout=30)
    # From now on every start and stop takes 5 s on the hypervisor: the kill lands mid-flight.
    for operation in ("start", "stop"):
        server.simulator("configure", "--operation", operation, "--latency-ms", "5000")
    started = [
        caller.call(
            "deployVirtualMachine",
            zoneid=zone,
            serviceofferingid=offering,
            templateid=template,
            name=f"crash-{n}",
        )
        for n in range(12)
    ]
    stopping = caller.call("stopVirtualMachine", id=first["id"])
    time.sleep(1.0)
    states = {vm["state"] for vm in caller.call("listVirtualMachines")["virtualmachine"]}
    assert {"Starting", "Stopping"} <= states  # the crash really happens mid-operation
    server.kill()

    server.simulator("reset")
    server.start()
    try:
        jobs = [s["jobid"] for s in started] + [stopping["jobid"]]
        results = [caller.wait_job(job, timeout=60) for job in jobs]
        assert all(result["jobstatus"] == 1 for result in results)
        vms = caller.call("listVirtualMachines")["virtualmachine"]
        assert not [vm for vm in vms if vm["state"] in TRANSITIONAL]
        by_name = {vm["name"]: vm["state"] for vm in vms}
        assert all(by_name[f"crash-{n}"] == "Running" for n in range(12))
        assert by_name["crash-stop"] == "Stopped"
        engine = sa.create_engine(_database_url(server))
        with engine.connect() as connection:
            pending = connection.execute(sa.text("SELECT COUNT(*) FROM async_job WHERE status = 0"))
            assert pending.scalar() == 0
            used = connection.execute(sa.text("SELECT SUM(cpu_used_mhz) FROM host")).scalar()
            assert used == 500 * 12  # the stopped VM's reservation was given back
        engine.dispose()
    finally:
        server.stop()


def test_sigkill_mid_deploy_on_sqlite(tmp_path: Path) -> None:
    _crash_and_recover(ServerProcess(tmp_path / "data"))


@pytest.mark.mariadb
def test_sigkill_mid_deploy_on_mariadb(tmp_path: Path) -> None:
    for url in mariadb_database():
        _crash_and_recover(ServerProcess(tmp_path / "data", database_url=url))
