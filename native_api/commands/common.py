"""What several command families share: parameter groups, response fields, small parsers.

Declared once so that two commands taking the same CloudStack parameter describe it with
the same words (listApis shows them), and parse it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import infra
from core.context import Role
from core.db import get_live
from core.identity import Domain
from native_api.call import Call
from native_api.registry import ADMIN_ONLY, ALL_ROLES, Field, Kind, Param, Reply, command

SUCCESS_FIELDS = (Field("success", "boolean", "true if operation is executed successfully"),)
LIST_TAGS = Param("tags", "map", description="List resources by tags (key/value pairs)")
NEW_TAGS = Param("tags", "map", description="Map of tags (key/value pairs)")
LIST_ALL = Param("listall", "boolean", description="If set to true, list all the resources")
IS_RECURSIVE = Param(
    "isrecursive",
    "boolean",
    description="defaults to false, but if true, lists all "
    "resources from the parent specified by the domainId till leaves.",
)
# Offerings may be limited to domains and zones (CloudStack takes lists of each).
OFFERING_DOMAINS = Param(
    "domainid", "list", description="the ID of the containing domain(s), null for public offerings"
)
OFFERING_ZONES = Param(
    "zoneid", "list", description="the ID of the containing zone(s), null for public offerings"
)
PROVISIONING_TYPE = Param(
    "provisioningtype",
    description="provisioning type used to create volumes. Valid values are thin, sparse, fat.",
)


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def success_command(
    name: str, description: str, params: tuple[Param, ...], **declared: Any
) -> Decorator:
    """Declare a synchronous command that answers `{"success": true}`."""
    return command(
        name,
        kind=Kind.SYNC,
        description=description,
        response_name="success",
        params=params,
        **declared,
    )


def delete_command(
    name: str,
    description: str,
    id_description: str,
    *,
    response_fields: tuple[Field, ...] = SUCCESS_FIELDS,
    entity: str = "",
) -> Decorator:
    """Declare an administrator's synchronous delete-by-id command."""
    return success_command(
        name,
        description,
        (Param("id", "uuid", True, id_description),),
        roles=ADMIN_ONLY,
        response_fields=response_fields,
        entity=entity,
    )


DATE_RANGE = (
    Param("startdate", "date", description="start date range (inclusive)"),
    Param("enddate", "date", description="end date range (inclusive)"),
)


def selection_command(
    name: str,
    description: str,
    params: tuple[Param, ...],
    *,
    roles: frozenset[Role] = ALL_ROLES,
) -> Decorator:
    """Declare an archive/delete command over a selection (ids, a type, DATE_RANGE)."""
    return success_command(name, description, params, roles=roles)


def selection(call: Call) -> dict[str, Any]:
    """The ids and the date range of such a selection, as core arguments."""
    return {"uuids": call.get("ids"), "start": call.get("startdate"), "end": call.get("enddate")}


def owner_params(account: str, domain: str, project: str) -> tuple[Param, Param, Param]:
    """account, domainid, projectid: whom a create command acts for (see Call.owner), each
    with the words CloudStack uses for that command."""
    return (
        Param("account", description=account),
        Param("domainid", "uuid", description=domain),
        Param("projectid", "uuid", description=project),
    )


def zone_id_of(call: Call, name: str = "zoneid") -> int | None:
    """The core id of the zone named by an optional uuid parameter (unknown: an error)."""
    uuid = call.get(name)
    return infra.zone_by_uuid(call.session, uuid).id if uuid else None


def domain_id_of(call: Call, name: str = "domainid") -> int | None:
    """The core id of the domain named by an optional uuid parameter (unknown: an error)."""
    uuid = call.get(name)
    return get_live(call.session, Domain, "domain", uuid=uuid).id if uuid else None


def id_list(call: Call) -> list[str]:
    """`id` and `ids` together: the uuids a list command is asked for."""
    return ([call.get("id")] if call.get("id") else []) + list(call.get("ids", []))


def started(job: Any, instance: Any) -> Reply:
    """An async command's answer: its job and the object the job works on."""
    return Reply(job_uuid=job.uuid, instance_uuid=instance.uuid)
