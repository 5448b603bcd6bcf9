"""EC2 `Filter.N` → predicates, with AWS's semantics.

A request carries filters `[{"Name": n, "Values": [v, …]}, …]`. A resource matches when it
matches every filter (AND), and it matches a filter when any of the filter's values matches
any of the resource's values for that name (OR; a resource attribute may be multi-valued, such
as a tag key). Values compare as strings, case-sensitively, with `*` (any run of characters)
and `?` (one character) as wildcards; `\\*`, `\\?` and `\\\\` stand for the literal characters.

Each Describe call declares the filter names it supports as a `FilterSet`: a name → function
returning the resource's value(s) for that name. A name outside the set is an error, as on
AWS, even when there is nothing to filter. Names ending in `:` are prefixes (`tag:Name`); their
function also receives the rest of the name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from core.errors import InvalidParameter

T = TypeVar("T")
Value = str | int | bool | None
Extracted = Value | Iterable[Value]
Attribute = Callable[[T], Extracted]
PrefixAttribute = Callable[[T, str], Extracted]


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    values: tuple[str, ...]


def parse_filters(raw: Sequence[Mapping[str, Any]] | None) -> list[Filter]:
    """Filters from the parsed `Filters` parameter; each needs a name and a value."""
    filters = []
    for entry in raw or ():
        name = entry.get("Name")
        if not name:
            raise InvalidParameter("The filter name is missing", parameter="Filter")
        values = tuple(str(value) for value in entry.get("Values") or ())
        if not values:
            raise InvalidParameter(f"The filter '{name}' requires a value", parameter="Filter")
        filters.append(Filter(name, values))
    return filters


@lru_cache(maxsize=1024)
def compile_pattern(value: str) -> re.Pattern[str]:
    """A regular expression for one filter value (`*`, `?` wildcards, backslash escapes)."""
    parts = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value) and value[index + 1] in "*?\\":
            parts.append(re.escape(value[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


def _as_strings(extracted: Extracted) -> list[str]:
    if extracted is None:
        return []
    if isinstance(extracted, bool):
        return ["true" if extracted else "false"]
    if isinstance(extracted, str | int):
        return [str(extracted)]
    return [item for value in extracted for item in _as_strings(value)]


class FilterSet(Generic[T]):
    """The filter names one Describe call supports, and how to read them off a resource."""

    def __init__(
        self,
        attributes: Mapping[str, Attribute[T]],
        prefixes: Mapping[str, PrefixAttribute[T]] | None = None,
    ) -> None:
        self._attributes = dict(attributes)
        self._prefixes = dict(prefixes or {})

    def _reader(self, name: str) -> Callable[[T], Extracted]:
        attribute = self._attributes.get(name)
        if attribute is not None:
            return attribute
        for prefix, prefixed in self._prefixes.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                rest = name[len(prefix) :]
                return lambda item: prefixed(item, rest)
        raise InvalidParameter(f"The filter '{name}' is invalid", parameter="Filter")

    def predicate(self, filters: Sequence[Filter]) -> Callable[[T], bool]:
        """One predicate for all `filters` (validated now, before any resource is read)."""
        checks = [
            (self._reader(f.name), [compile_pattern(value) for value in f.values]) for f in filters
        ]

        def matches(item: T) -> bool:
            for read, patterns in checks:
                values = _as_strings(read(item))
                if not any(p.fullmatch(v) for p in patterns for v in values):
                    return False
            return True

        return matches

    def select(self, items: Iterable[T], filters: Sequence[Filter]) -> list[T]:
        """The items matching every filter."""
        matches = self.predicate(filters)
        return [item for item in items if matches(item)]
