"""What every list use case shares: paging (one count, one page, stable order) and the
optional filters of a list call written as conditions, so that a family lists its filters
once instead of an `if … is not None: query = query.where(…)` per filter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import InvalidParameter

MAX_PAGE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Page:
    """A 1-based page of `size` rows; size None means everything."""

    number: int = 1
    size: int | None = None

    def __post_init__(self) -> None:
        if self.number < 1:
            raise InvalidParameter("page must be a positive number", parameter="page")
        if self.size is not None and not 0 < self.size <= MAX_PAGE_SIZE:
            raise InvalidParameter(
                f"pagesize must be between 1 and {MAX_PAGE_SIZE}", parameter="pagesize"
            )


def paginate(
    session: Session, query: sa.Select[Any], page: Page, *, key: Any = None
) -> tuple[list[Any], int]:
    """The rows of `page` and the total across all pages.

    With `key` (the primary key column of the listed model), the page's keys are picked
    first and only their rows are loaded: a deep page then skips index entries instead of
    whole rows (page 200 of 100k VMs), when an index covers the filters."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    if page.size is not None:
        offset = (page.number - 1) * page.size
        if key is None:
            query = query.limit(page.size).offset(offset)
        else:
            # a derived table: MariaDB refuses LIMIT in an IN subquery itself
            keys = query.with_only_columns(key).limit(page.size).offset(offset).subquery()
            query = query.where(key.in_(sa.select(*keys.c)))
    return list(session.scalars(query)), int(total or 0)


Condition = sa.ColumnElement[bool] | None  # None: the filter was not given


def given(column: Any, value: object) -> Condition:
    """`column == value`, or no condition when the filter was not given (None)."""
    return None if value is None else column == value


def among(column: Any, values: Iterable[object] | None) -> Condition:
    """`column IN values` (ids asked for), or no condition when none were asked for."""
    return None if values is None else column.in_(values)


def keyword_in(keyword: str | None, *columns: Any) -> Condition:
    """CloudStack's `keyword`: a substring of any of `columns`; empty means no condition."""
    if not keyword:
        return None
    return sa.or_(*(column.like(f"%{keyword}%") for column in columns))


def select_where(model: Any, *conditions: Condition) -> sa.Select[Any]:
    """SELECT `model` WHERE every condition that was given (None ones are skipped)."""
    return sa.select(model).where(*(c for c in conditions if c is not None))


def picked(
    model: Any,
    uuids: list[str] | None,
    kind: Condition,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[sa.ColumnElement[bool]]:
    """archive/delete of events and alerts: the rows named by id, by type (`kind`) or created
    in a time window; CloudStack requires at least one of them."""
    if not uuids and kind is None and start is None and end is None:
        raise InvalidParameter(
            "either ids, type, startdate or enddate must be specified", parameter="ids"
        )
    if start is not None and end is not None and start > end:
        raise InvalidParameter("startdate must be before enddate", parameter="startdate")
    conditions = (
        among(model.uuid, uuids or None),
        kind,
        None if start is None else model.created >= start,
        None if end is None else model.created <= end,
    )
    return [condition for condition in conditions if condition is not None]
