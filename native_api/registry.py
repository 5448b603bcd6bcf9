"""The command table: every CloudStack command cloudgate answers, declared once.

A command declares its parameters (name, type, required, description), its response object
and fields, its kind (sync, list, async, async-create) and the roles allowed to call it;
`listApis`, parameter parsing and the coverage document are all generated from here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.context import Role

ALL_ROLES = frozenset(Role)
ADMIN_ONLY = frozenset({Role.ADMIN})


class Kind(enum.StrEnum):
    SYNC = "sync"
    LIST = "list"
    ASYNC = "async"
    ASYNC_CREATE = "async-create"

    @property
    def is_async(self) -> bool:
        return self in (Kind.ASYNC, Kind.ASYNC_CREATE)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str = "string"  # CloudStack's: string, uuid, long, integer, boolean, date, list, map
    required: bool = False
    description: str = ""
    length: int = 255
    since: str = ""
    related: str = ""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str = "string"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Callable[..., Any]
    kind: Kind
    description: str
    response_name: str
    params: tuple[Param, ...] = ()
    response_fields: tuple[Field, ...] = ()
    roles: frozenset[Role] = ALL_ROLES
    since: str = "4.0.0"
    writes: bool = False
    job_command_class: str = ""
    entity: str = ""
    differences: str = ""

    @property
    def response_key(self) -> str:
        return f"{self.name.lower()}response"


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    *,
    kind: Kind,
    description: str,
    response_name: str,
    params: tuple[Param, ...] = (),
    response_fields: tuple[Field, ...] = (),
    roles: frozenset[Role] = ALL_ROLES,
    job_command_class: str = "",
    entity: str = "",
    writes: bool | None = None,
    differences: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the decorated function as the handler of CloudStack command `name`."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        if name.lower() in COMMANDS:
            raise ValueError(f"command {name} declared twice")
        COMMANDS[name.lower()] = Command(
            name=name,
            handler=handler,
            kind=kind,
            description=description,
            response_name=response_name,
            params=params,
            response_fields=response_fields,
            roles=roles,
            writes=kind is not Kind.LIST if writes is None else writes,
            job_command_class=job_command_class,
            entity=entity,
            differences=differences,
        )
        return handler

    return register


# Parameters that every list command takes, with CloudStack's descriptions.
PAGING = (
    Param("keyword", description="List by keyword"),
    Param("page", "integer", description="The page number of the result set"),
    Param("pagesize", "integer", description="The number of entries per page"),
)
OWNER_SCOPE = (
    Param("account", description="List resources by account. Must be used with domainId"),
    Param("domainid", "uuid", description="List only resources belonging to the domain"),
    Param("isrecursive", "boolean", description="Also list resources of subdomains"),
    Param("listall", "boolean", description="List all resources the caller may see"),
    Param("projectid", "uuid", description="List objects by project"),
)


@dataclass
class Reply:
    """What a handler returns: an object, a list page, a job, or a bare success."""

    obj: dict[str, Any] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    job_uuid: str | None = None
    instance_uuid: str | None = None
    success: bool | None = None
    raw: dict[str, Any] | None = None
