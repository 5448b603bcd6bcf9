"""Events: listEvents, listEventTypes, archiveEvents, deleteEvents."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import events as core_events
from core.events import Event
from core.identity import Account, Domain, User
from native_api.call import Call
from native_api.commands.common import DATE_RANGE, selection, selection_command
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command

EVENT_FIELDS = (
    Field("id", description="the ID of the event"),
    Field("username", description="the name of the user who performed the action"),
    Field("type", description="the type of the event (see event types)"),
    Field("level", description="the event level (INFO, WARN, ERROR)"),
    Field("description", description="a brief description of the event"),
    Field("account", description="the account name for the account that owns the object"),
    Field("domainid", description="the id of the account's domain"),
    Field("domain", description="the name of the account's domain"),
    Field("created", "date", "the date the event was created"),
    Field("state", description="the state of the event"),
    Field("parentid", description="whether the event is parented"),
    Field("resourceid", description="the id of the resource"),
    Field("resourcetype", description="the type of the resource"),
)


def event_view(session: Session, event: Event) -> dict[str, Any]:
    account = session.get_one(Account, event.account_id)
    domain = session.get_one(Domain, event.domain_id)
    user = session.get(User, event.user_id)
    return {
        "id": event.uuid,
        "username": user.username if user else None,
        "type": event.event_type,
        "level": event.level,
        "description": event.description,
        "account": account.name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT",
        "created": event.created,
        "state": event.state,
        "parentid": None,
        "resourceid": event.resource_uuid or None,
        "resourcetype": event.resource_type or None,
        "archived": event.archived,
    }


@command(
    "listEvents",
    kind=Kind.LIST,
    description="A command to list events.",
    response_name="event",
    params=(
        Param("id", "uuid", description="the ID of the event"),
        Param("type", description="the event type (see event types)"),
        Param("level", description="the event level (INFO, WARN, ERROR)"),
        Param(
            "startdate", "date", description="the start date range of the list you want to retrieve"
        ),
        Param("enddate", "date", description="the end date range of the list you want to retrieve"),
        Param("duration", "integer", description="the duration of the event"),
        Param(
            "entrytime",
            "integer",
            description="the time the event was entered (events older than this many seconds "
            "and not completed)",
        ),
        Param("archived", "boolean", description="true to list archived events otherwise false"),
        Param("resourceid", description="the ID of the resource associated with the event"),
        Param("resourcetype", description="the type of the resource associated with the event"),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=EVENT_FIELDS,
    differences="duration is accepted and ignored; entrytime lists events not yet completed "
    "that are older than entrytime seconds.",
)
def list_events(call: Call) -> Reply:
    rows, total = core_events.list_events(
        call.session,
        call.ctx,
        call.scope(),
        uuid=call.get("id"),
        event_type=call.get("type"),
        level=call.get("level"),
        keyword=call.get("keyword"),
        start=call.get("startdate"),
        end=call.get("enddate"),
        older_than_seconds=call.get("entrytime"),
        archived=call.get("archived", False),
        resource_type=call.get("resourcetype"),
        resource_uuid=call.get("resourceid"),
        page=call.page(),
    )
    return Reply(items=[event_view(call.session, event) for event in rows], total=total)


@command(
    "listEventTypes",
    kind=Kind.LIST,
    description="List Event Types",
    response_name="eventtype",
    response_fields=(Field("name", description="Event Type"),),
)
def list_event_types(call: Call) -> Reply:
    views = [{"name": name} for name in core_events.EVENT_TYPES]
    return Reply(items=views, total=len(views))


SELECTION = (
    Param("ids", "list", description="the IDs of the events"),
    Param("type", description="the type of the events"),
    *DATE_RANGE,
)


def _selection(call: Call) -> dict[str, Any]:
    return {**selection(call), "event_type": call.get("type")}


@selection_command("archiveEvents", "Archive one or more events.", SELECTION)
def archive_events(call: Call) -> Reply:
    core_events.archive_events(call.session, call.ctx, **_selection(call))
    return Reply(success=True)


@selection_command("deleteEvents", "Delete one or more events.", SELECTION)
def delete_events(call: Call) -> Reply:
    core_events.delete_events(call.session, call.ctx, **_selection(call))
    return Reply(success=True)
