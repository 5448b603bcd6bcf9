"""Alerts (root admin): listAlerts, archiveAlerts, deleteAlerts, listAlertTypes."""

from __future__ import annotations

from typing import Any

from core import alerts as core_alerts
from core.alerts import Alert
from native_api.call import Call
from native_api.commands.common import DATE_RANGE, selection, selection_command
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command

ALERT_FIELDS = (
    Field("id", description="the id of the alert"),
    Field(
        "type",
        "short",
        "One of the following alert types: MEMORY = 0, CPU = 1, STORAGE = 2, "
        "STORAGE_ALLOCATED = 3, PUBLIC_IP = 4, PRIVATE_IP = 5, SECONDARY_STORAGE = 6, "
        "HOST = 7, USERVM = 8, …",
    ),
    Field("name", description="the name of the alert"),
    Field("description", description="description of the alert"),
    Field("sent", "date", "the date and time the alert was sent"),
)


def alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.uuid,
        "type": alert.alert_type,
        "name": alert.name,
        "description": alert.subject,
        "sent": alert.last_sent,
    }


def _alert_type(call: Call) -> int | None:
    value = call.get("type")
    if value is None:
        return None
    if str(value).lstrip("-").isdigit():
        return int(value)
    for number, name in core_alerts.ALERT_TYPES.items():
        if name.lower() == str(value).lower():
            return number
    return -1  # an unknown type lists nothing


@command(
    "listAlerts",
    kind=Kind.LIST,
    description="Lists all alerts.",
    response_name="alert",
    params=(
        Param("id", "uuid", description="the ID of the alert"),
        Param("type", description="list by alert type"),
        Param("name", description="list by alert name"),
        *PAGING,
    ),
    response_fields=ALERT_FIELDS,
    roles=ADMIN_ONLY,
)
def list_alerts(call: Call) -> Reply:
    rows, total = core_alerts.list_alerts(
        call.session,
        call.ctx,
        uuid=call.get("id"),
        alert_type=_alert_type(call),
        name=call.get("name"),
        keyword=call.get("keyword"),
        page=call.page(),
    )
    return Reply(items=[alert_view(alert) for alert in rows], total=total)


SELECTION = (
    Param("ids", "list", description="the IDs of the alerts"),
    Param("type", description="archive/delete by alert type"),
    *DATE_RANGE,
)


def _selection(call: Call) -> dict[str, Any]:
    return {**selection(call), "alert_type": _alert_type(call)}


@selection_command("archiveAlerts", "Archive one or more alerts.", SELECTION, roles=ADMIN_ONLY)
def archive_alerts(call: Call) -> Reply:
    core_alerts.archive_alerts(call.session, call.ctx, **_selection(call))
    return Reply(success=True)


@selection_command("deleteAlerts", "Delete one or more alerts.", SELECTION, roles=ADMIN_ONLY)
def delete_alerts(call: Call) -> Reply:
    core_alerts.delete_alerts(call.session, call.ctx, **_selection(call))
    return Reply(success=True)


@command(
    "listAlertTypes",
    kind=Kind.LIST,
    description="Lists all alerts types",
    response_name="alerttype",
    response_fields=(
        Field("alerttypeid", "short", "the id of the alert type"),
        Field("name", description="description of alert type"),
    ),
    roles=ADMIN_ONLY,
)
def list_alert_types(call: Call) -> Reply:
    views = [{"alerttypeid": n, "name": name} for n, name in core_alerts.ALERT_TYPES.items()]
    return Reply(items=views, total=len(views))
