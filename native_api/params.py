"""Request parameters: case-insensitive names, CloudStack's types, 431 on bad values."""

from __future__ import annotations

import datetime as dt
import re
import uuid as uuid_module
from collections.abc import Iterable
from typing import Any

from native_api.errors import PARAM_ERROR, ApiError
from native_api.registry import Command, Param

_MAP_KEY = re.compile(r"^([a-z0-9_]+)\[(\d+)\]\.(.+)$")
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


def _invalid(param: Param, value: str, why: str) -> ApiError:
    return ApiError(
        PARAM_ERROR,
        f"Unable to execute API command {param.name} due to invalid value. "
        f"Invalid parameter {param.name} value={value} due to {why}",
        4350,
    )


def _convert(param: Param, value: str) -> Any:
    kind = param.type
    if kind in ("long", "integer", "short"):
        try:
            return int(value)
        except ValueError:
            raise _invalid(param, value, "incorrect long value format") from None
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise _invalid(param, value, "incorrect boolean value format")
    if kind == "uuid":
        if value.strip() == "-1":  # CloudStack's "all" (e.g. projectid=-1: every project)
            return "-1"
        try:
            return str(uuid_module.UUID(value.strip()))
        except ValueError:
            raise _invalid(param, value, "incorrect uuid format") from None
    if kind == "list":
        return [item.strip() for item in value.split(",") if item.strip()]
    if kind == "date":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise _invalid(param, value, "incorrect date format") from None
    if len(value) > param.length and param.length:
        raise _invalid(param, value, f"length longer than {param.length}")
    return value


def parse(cmd: Command, raw: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Typed values for the command's declared parameters; unknown parameters are ignored,
    as CloudStack does, and `name[N].key` style maps are gathered into lists of dicts."""
    flat: dict[str, str] = {}
    maps: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in raw:
        lowered = key.lower()
        found = _MAP_KEY.match(lowered)
        if found:
            name, index, sub = found.group(1), int(found.group(2)), found.group(3)
            maps.setdefault(name, {}).setdefault(index, {})[sub] = value
        else:
            flat[lowered] = value
    parsed: dict[str, Any] = {}
    for param in cmd.params:
        if param.type == "map":
            entries = maps.get(param.name.lower())
            if entries:
                parsed[param.name] = [entries[i] for i in sorted(entries)]
            elif param.required:
                raise _missing(param)
            continue
        value = flat.get(param.name.lower())
        if value is None or value == "":
            if param.required:
                raise _missing(param)
            continue
        parsed[param.name] = _convert(param, value)
    return parsed


def _missing(param: Param) -> ApiError:
    return ApiError(
        PARAM_ERROR,
        f"Unable to execute API command due to missing parameter {param.name}",
        4350,
    )
