"""Paging shared by every list use case: one count, one page, stable order."""

from __future__ import annotations

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


def paginate(session: Session, query: sa.Select[Any], page: Page) -> tuple[list[Any], int]:
    """The rows of `page` and the total across all pages."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    if page.size is not None:
        query = query.limit(page.size).offset((page.number - 1) * page.size)
    return list(session.scalars(query)), int(total or 0)
