"""EC2 filters: values OR'ed, filters AND'ed, `*`/`?` wildcards, unknown names refused."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidParameter
from translators.filters import Filter, FilterSet, compile_pattern, parse_filters

ITEMS: list[dict[str, Any]] = [
    {"id": "i-1", "state": "running", "type": "t2.micro", "tags": {"Name": "web-1"}, "n": 16},
    {"id": "i-2", "state": "stopped", "type": "t2.small", "tags": {"Name": "web-2"}, "n": 80},
    {"id": "i-3", "state": "running", "type": "t2.small", "tags": {}, "n": 16},
    {"id": "i-4", "state": "pending", "type": "m1.small", "tags": {"Env": "a*b"}, "n": 0},
]

FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "instance-id": lambda i: i["id"],
        "state": lambda i: i["state"],
        "type": lambda i: i["type"],
        "code": lambda i: i["n"],
        "tag-key": lambda i: list(i["tags"]),
        "flag": lambda i: i["n"] == 16,
    },
    prefixes={"tag:": lambda i, key: i["tags"].get(key)},
)


def ids(filters: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in FILTERS.select(ITEMS, parse_filters(filters))]


def test_no_filters_selects_everything() -> None:
    assert ids([]) == ["i-1", "i-2", "i-3", "i-4"]


def test_values_are_ored() -> None:
    assert ids([{"Name": "state", "Values": ["stopped", "pending"]}]) == ["i-2", "i-4"]


def test_filters_are_anded() -> None:
    selected = ids(
        [
            {"Name": "state", "Values": ["running"]},
            {"Name": "type", "Values": ["t2.small", "m1.small"]},
        ]
    )
    assert selected == ["i-3"]


def test_wildcards() -> None:
    assert ids([{"Name": "type", "Values": ["t2.*"]}]) == ["i-1", "i-2", "i-3"]
    assert ids([{"Name": "type", "Values": ["?1.small"]}]) == ["i-4"]
    assert ids([{"Name": "type", "Values": ["*small"]}]) == ["i-2", "i-3", "i-4"]
    assert ids([{"Name": "type", "Values": ["t2"]}]) == []  # whole-value match, not substring


def test_escaped_wildcards_are_literal() -> None:
    assert ids([{"Name": "tag:Env", "Values": [r"a\*b"]}]) == ["i-4"]
    assert compile_pattern(r"a\*b").fullmatch("axxb") is None
    assert compile_pattern(r"a\?b").fullmatch("a?b")
    assert compile_pattern("a.b").fullmatch("axb") is None  # regex characters are literal


def test_case_sensitive() -> None:
    assert ids([{"Name": "state", "Values": ["RUNNING"]}]) == []


def test_multi_valued_attributes_and_prefixes() -> None:
    assert ids([{"Name": "tag-key", "Values": ["Name"]}]) == ["i-1", "i-2"]
    assert ids([{"Name": "tag:Name", "Values": ["web-*"]}]) == ["i-1", "i-2"]
    assert ids([{"Name": "tag:Missing", "Values": ["*"]}]) == []


def test_numbers_and_booleans_compare_as_strings() -> None:
    assert ids([{"Name": "code", "Values": ["16"]}]) == ["i-1", "i-3"]
    assert ids([{"Name": "flag", "Values": ["false"]}]) == ["i-2", "i-4"]


def test_unknown_filter_is_refused_even_without_items() -> None:
    with pytest.raises(InvalidParameter, match="The filter 'colour' is invalid"):
        FILTERS.select([], [Filter("colour", ("red",))])
    with pytest.raises(InvalidParameter):
        FILTERS.select(ITEMS, [Filter("tag:", ("x",))])


def test_parse_filters_requires_name_and_values() -> None:
    assert parse_filters(None) == []
    assert parse_filters([{"Name": "state", "Values": ["a", "b"]}]) == [Filter("state", ("a", "b"))]
    with pytest.raises(InvalidParameter):
        parse_filters([{"Values": ["a"]}])
    with pytest.raises(InvalidParameter):
        parse_filters([{"Name": "state", "Values": []}])
