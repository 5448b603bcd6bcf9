"""MaxResults/NextToken over an in-memory result: the token is the offset, opaque to clients."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from ec2_api.errors import invalid_value

T = TypeVar("T")
_TOKEN_PREFIX = "cg1:"


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if not text.startswith(_TOKEN_PREFIX):
            raise ValueError(token)
        offset = int(text.removeprefix(_TOKEN_PREFIX))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_value(f"Invalid value '{token}' for NextToken") from None
    if offset < 0:
        raise invalid_value(f"Invalid value '{token}' for NextToken")
    return offset


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode()


def page(
    items: Sequence[T],
    max_results: int | None,
    next_token: str | None,
    *,
    minimum: int = 5,
    maximum: int = 1000,
) -> tuple[list[T], str | None]:
    """One page of `items` and the token for the next page (None on the last page)."""
    start = _decode(next_token) if next_token else 0
    if max_results is None:
        return list(items[start:]), None
    if not minimum <= max_results <= maximum:
        raise invalid_value(
            f"Value ( {max_results} ) for parameter maxResults is invalid. "
            f"Expecting a value between {minimum} and {maximum}."
        )
    end = start + max_results
    return list(items[start:end]), (_encode(end) if end < len(items) else None)
