"""Usage records over real HTTP: generated on demand, listed per account, never doubled."""

from __future__ import annotations

import datetime as dt

from cs import CloudStack

from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def _fmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def test_generate_and_list_usage(
    server: ServerProcess, admin: NativeCaller, tenant: NativeCaller, demo: dict[str, str]
) -> None:
    admin.call("updateConfiguration", name="usage.stats.job.aggregation.range", value="60")
    started = tenant.call("deployVirtualMachine", name="metered", **demo)
    tenant.wait_job(started["jobid"])
    tenant.wait_job(tenant.call("stopVirtualMachine", id=started["id"])["jobid"])
    now = dt.datetime.now(dt.UTC)
    window = {
        "startdate": _fmt(now - dt.timedelta(hours=2)),
        "enddate": _fmt(now + dt.timedelta(hours=1)),
    }

    client = CloudStack(
        endpoint=server.native_url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )
    assert client.generateUsageRecords(**window) == {"success": "true"}
    assert client.generateUsageRecords(**window) == {"success": "true"}
    records = client.listUsageRecords(account="tenant-a", domainid=_root(admin), **window)
    mine = [r for r in records["usagerecord"] if r.get("virtualmachineid") == started["id"]]
    assert sorted(r["usagetype"] for r in mine) == [1, 2]
    running = next(r for r in mine if r["usagetype"] == 1)
    assert running["usage"].endswith(" Hrs") and float(running["rawusage"]) > 0
    assert running["name"] == "metered" and running["account"] == "tenant-a"
    assert running["offeringid"] == demo["serviceofferingid"]
    assert running["templateid"] == demo["templateid"]
    assert running["startdate"].endswith("+0000")
    only_running = client.listUsageRecords(type=1, **window)["usagerecord"]
    assert {r["usagetype"] for r in only_running} == {1}

    # users have no usage commands; admins list usage types
    assert tenant.request("listUsageRecords", **window).status_code == 432
    assert tenant.request("generateUsageRecords", **window).status_code == 432
    types = {t["usagetypeid"]: t["name"] for t in client.listUsageTypes()["usagetype"]}
    assert types[1] == "RUNNING_VM" and types[6] == "VOLUME"
    bad = admin.request("listUsageRecords", startdate="2026-11-21", enddate="2026-11-01")
    assert bad.status_code == 431
    assert admin.request("listUsageRecords", startdate="2026-11-21").status_code == 431


def _root(admin: NativeCaller) -> str:
    return admin.call("listResourceLimits")["resourcelimit"][0]["domainid"]
