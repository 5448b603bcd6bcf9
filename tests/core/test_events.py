"""The event log (listing with filters and scope, archiving, deleting) and operators' alerts
(raised by the periodic checks once per condition, listed, archived, deleted)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import alerts, events
from core.db import utcnow
from core.errors import InvalidParameter, PermissionDenied
from core.infra import Host
from core.jobs import FAILED, AsyncJob
from core.visibility import ListScope
from tests.core.conftest import CoreHarness


def _record(core: CoreHarness, ctx, event_type: str, text: str, level: str = "INFO") -> str:
    with core.db.write() as session:
        event = events.record_for_caller(session, ctx, event_type, text, level=level)
        session.flush()
        return event.uuid


def test_list_filters_and_isolation(core: CoreHarness) -> None:
    alice = core.new_tenant("ev-alice")
    bob = core.new_tenant("ev-bob")
    _record(core, alice, "VM.CREATE", "alice made a vm")
    _record(core, alice, "VOLUME.CREATE", "alice made a volume", level="WARN")
    _record(core, bob, "VM.CREATE", "bob made a vm")
    with core.db.read() as session:
        rows, total = events.list_events(session, alice, ListScope())
        assert total == 2 and all(e.account_id == alice.account_id for e in rows)
        rows, _ = events.list_events(
            session, alice, ListScope(list_all=True), event_type="vm.create"
        )
        assert [e.description for e in rows] == ["alice made a vm"]
        rows, _ = events.list_events(session, alice, ListScope(), level="WARN")
        assert [e.event_type for e in rows] == ["VOLUME.CREATE"]
        rows, _ = events.list_events(session, alice, ListScope(), keyword="volume")
        assert len(rows) == 1
        later = utcnow() + dt.timedelta(minutes=1)
        assert events.list_events(session, alice, ListScope(), start=later)[1] == 0
        admin_rows, _ = events.list_events(session, core.admin_context(), ListScope(list_all=True))
        assert {"bob made a vm", "alice made a vm"} <= {e.description for e in admin_rows}


def test_archive_and_delete(core: CoreHarness) -> None:
    alice = core.new_tenant("ev-archiver")
    bob = core.new_tenant("ev-other")
    first = _record(core, alice, "VM.START", "one")
    _record(core, alice, "VM.STOP", "two")
    bobs = _record(core, bob, "VM.STOP", "bob's")
    with core.db.write() as session:
        assert events.archive_events(session, alice, uuids=[first, bobs]) == 1  # not bob's
    with core.db.read() as session:
        assert [e.description for e in events.list_events(session, alice, ListScope())[0]] == [
            "two"
        ]
        archived = events.list_events(session, alice, ListScope(), archived=True)[0]
        assert [e.uuid for e in archived] == [first]
    with core.db.write() as session:
        assert events.delete_events(session, alice, event_type="VM.STOP") == 1
    with core.db.read() as session:
        assert events.list_events(session, alice, ListScope())[1] == 0
        assert events.list_events(session, bob, ListScope())[1] == 1
    with core.db.write() as session, pytest.raises(InvalidParameter):
        events.delete_events(session, alice)


def test_event_types_include_the_core_ones() -> None:
    for name in ("VM.CREATE", "VOLUME.ATTACH", "SNAPSHOT.CREATE", "CREATE_TAGS", "SG.CREATE"):
        assert name in events.EVENT_TYPES


def test_capacity_and_host_alerts_are_raised_once(core: CoreHarness) -> None:
    with core.db.write() as session:
        hosts = session.scalars(sa.select(Host)).all()
        for host in hosts:
            host.cpu_used_mhz = host.cpu_total_mhz  # 100% allocated > 85%
    with core.db.write() as session:
        raised = alerts.check_capacity(session)
        assert raised and {a.alert_type for a in raised} == {alerts.CPU}
    with core.db.write() as session:
        assert alerts.check_capacity(session) == []  # already open
    with core.db.write() as session:
        session.get_one(Host, host.id).state = "Down"
    with core.db.write() as session:
        raised = alerts.check_hosts(session)
        assert [a.name for a in raised] == ["ALERT.COMPUTE.HOST"]
    with core.db.read() as session:
        rows, total = alerts.list_alerts(session, core.admin_context())
        assert total == len(raised) + 1 and rows[0].alert_type == alerts.HOST


def test_failed_infrastructure_jobs_raise_alerts(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        session.add(
            AsyncJob(
                kind="vm.start",
                account_id=admin.account_id,
                domain_id=admin.domain_id,
                user_id=admin.user_id,
                status=FAILED,
                error_kind="InsufficientCapacity",
                error_text="no host",
                completed=utcnow(),
                owner_msid="elsewhere",
            )
        )
    with core.db.write() as session:
        raised = alerts.check_failed_jobs(session)
        assert len(raised) == 1 and raised[0].alert_type == alerts.USERVM
        assert "no host" in raised[0].subject


def test_archive_delete_and_admin_only(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        first = alerts.raise_alert(session, alerts.MEMORY, "low memory", key="c1")
        second = alerts.raise_alert(session, alerts.STORAGE_ALLOCATED, "low storage", key="p1")
        assert first and second
        first_uuid, second_uuid = first.uuid, second.uuid
    with core.db.write() as session:
        assert alerts.archive_alerts(session, admin, uuids=[first_uuid]) == 1
    with core.db.read() as session:
        assert [a.uuid for a in alerts.list_alerts(session, admin)[0]] == [second_uuid]
    with core.db.write() as session:  # archiving re-arms the condition
        assert alerts.raise_alert(session, alerts.MEMORY, "low memory", key="c1") is not None
    with core.db.write() as session:
        later = utcnow() + dt.timedelta(minutes=1)
        assert alerts.delete_alerts(session, admin, end=later) == 3
    tenant = core.new_tenant("alert-user")
    with core.db.read() as session, pytest.raises(PermissionDenied):
        alerts.list_alerts(session, tenant)
