"""listEvents / listEventTypes / archiveEvents / deleteEvents, and the root admin's alerts."""

from __future__ import annotations

import pytest
from cs import CloudStack

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def events_tenant(server: ServerProcess) -> NativeCaller:
    keys = create_tenant(server, "events-tenant")
    return NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])


def test_events_of_a_deploy(
    server: ServerProcess, events_tenant: NativeCaller, tenant: NativeCaller, demo
) -> None:
    started = events_tenant.call("deployVirtualMachine", name="evented", **demo)
    events_tenant.wait_job(started["jobid"])
    listed = events_tenant.call("listEvents")
    by_type = {e["type"]: e for e in listed["event"]}
    assert {"VM.CREATE", "VM.START"} <= set(by_type)
    event = by_type["VM.CREATE"]
    assert event["account"] == "events-tenant" and event["username"] == "events-tenant"
    assert event["level"] == "INFO" and event["state"] == "Completed"
    assert event["resourceid"] == started["id"] and event["resourcetype"] == "VirtualMachine"
    assert event["created"].endswith("+0000")
    assert events_tenant.call("listEvents", type="VM.START")["count"] == 1
    # another tenant sees none of them
    seen = tenant.call("listEvents", listall=True).get("event", [])
    assert all(e["account"] != "events-tenant" for e in seen)

    client = CloudStack(
        endpoint=server.native_url,
        key=events_tenant.api_key,
        secret=events_tenant.secret_key,
        fetch_result=True,
    )
    assert client.archiveEvents(ids=by_type["VM.CREATE"]["id"]) == {"success": "true"}
    remaining = {e["type"] for e in client.listEvents()["event"]}
    assert "VM.CREATE" not in remaining
    archived = client.listEvents(archived=True)["event"]
    assert [e["type"] for e in archived] == ["VM.CREATE"]
    assert client.deleteEvents(type="VM.START") == {"success": "true"}
    assert "VM.START" not in {e["type"] for e in client.listEvents().get("event", [])}
    reply = events_tenant.request("deleteEvents")
    assert reply.status_code == 431


def test_event_types(tenant: NativeCaller) -> None:
    names = [t["name"] for t in tenant.call("listEventTypes")["eventtype"]]
    assert {"VM.CREATE", "VOLUME.ATTACH", "CREATE_TAGS"} <= set(names)


def test_alerts_are_admin_only_and_archivable(
    server: ServerProcess, admin: NativeCaller, tenant: NativeCaller
) -> None:
    assert tenant.request("listAlerts").status_code == 432
    assert tenant.request("archiveAlerts", type="1").status_code == 432
    types = admin.call("listAlertTypes")["alerttype"]
    assert {"alerttypeid": 7, "name": "ALERT.COMPUTE.HOST"} in types
    # no condition has been met on the demo cloud: nothing to list, archiving is harmless
    listed = admin.call("listAlerts")
    for alert in listed.get("alert", []):
        assert {"id", "type", "name", "description", "sent"} <= set(alert)
    assert admin.call("archiveAlerts", type="0") == {"success": "true"}
    assert admin.request("deleteAlerts").status_code == 431
