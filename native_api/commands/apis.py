"""`listApis`: the command table, described for clients that generate bindings from it."""

from __future__ import annotations

from typing import Any

from native_api.call import Call
from native_api.registry import COMMANDS, Command, Field, Kind, Param, Reply, command


def describe(cmd: Command) -> dict[str, Any]:
    return {
        "name": cmd.name,
        "description": cmd.description,
        "since": cmd.since,
        "isasync": cmd.kind.is_async,
        "related": "",
        "params": [
            {
                "name": p.name,
                "description": p.description,
                "type": p.type,
                "length": p.length,
                "required": p.required,
                "related": p.related,
            }
            for p in cmd.params
        ],
        "response": [
            {"name": f.name, "description": f.description, "type": f.type}
            for f in cmd.response_fields
        ],
        "responsename": cmd.response_name,
        "type": cmd.kind.value,
    }


@command(
    "listApis",
    kind=Kind.LIST,
    description="lists all available apis on the server, provided by the Api Discovery plugin",
    response_name="api",
    params=(Param("name", description="API name"),),
    response_fields=(
        Field("name", description="the name of the api command"),
        Field("description", description="description of the api"),
        Field("isasync", "boolean", "true if api is asynchronous"),
        Field("params", "list", "the list params the api accepts"),
        Field("response", "list", "api response fields"),
    ),
)
def list_apis(call: Call) -> Reply:
    wanted = (call.get("name") or "").lower()
    commands = [
        cmd
        for key, cmd in sorted(COMMANDS.items())
        if call.ctx.role in cmd.roles and (not wanted or key == wanted)
    ]
    views = [describe(cmd) for cmd in commands]
    for view in views:
        view.pop("type")
    return Reply(items=views, total=len(views))
