"""metadata_api.tokens on its own: what a token binds, and TTL parsing."""

from __future__ import annotations

import pytest

from metadata_api.tokens import TokenSigner, parse_ttl

NOW = 1_800_000_000.0


def test_a_token_is_bound_to_its_vm_its_secret_and_its_expiry() -> None:
    signer = TokenSigner(b"secret")
    token = signer.issue(7, 60, NOW)
    assert signer.remaining(token, 7, NOW) == 60
    assert signer.remaining(token, 7, NOW + 59.5) == 1
    assert signer.remaining(token, 7, NOW + 60) is None
    assert signer.remaining(token, 8, NOW) is None
    assert TokenSigner(b"other secret").remaining(token, 7, NOW) is None
    assert TokenSigner(b"secret").remaining(token, 7, NOW) == 60  # stateless: any signer


@pytest.mark.parametrize(
    ("value", "ttl"),
    [("1", 1), ("21600", 21600), (" 60 ", 60), ("0", None), ("21601", None), ("-5", None),
     ("1e3", None), ("", None), (None, None), ("٣", None)],
)  # fmt: skip
def test_ttl_parsing(value: str | None, ttl: int | None) -> None:
    assert parse_ttl(value) == ttl
