"""EC2 ids: keyed, reversible, distinct per kind and per installation; malformed ids refused."""

from __future__ import annotations

import re

import pytest

from translators.ids import IMAGE, INSTANCE, RESERVATION, IdCodec, MalformedId

KEY = b"k" * 32


@pytest.fixture
def codec() -> IdCodec:
    return IdCodec(KEY)


@pytest.mark.parametrize("core_id", [1, 2, 3, 255, 65_536, 10**9, 2**40 + 7, 2**63 - 1])
def test_round_trip(codec: IdCodec, core_id: int) -> None:
    for prefix in (INSTANCE, IMAGE, RESERVATION):
        ec2_id = codec.encode(prefix, core_id)
        assert re.fullmatch(rf"{prefix}-[0-9a-f]{{17}}", ec2_id)
        assert codec.decode(prefix, ec2_id) == core_id


def test_ids_are_distinct_and_look_random(codec: IdCodec) -> None:
    ids = [codec.encode(INSTANCE, n) for n in range(1, 5001)]
    assert len(set(ids)) == len(ids)
    # Consecutive core ids do not give neighbouring EC2 ids: the first digits vary.
    assert len({ec2_id[2:5] for ids_slice in [ids[:200]] for ec2_id in ids_slice}) > 150


def test_kinds_do_not_share_digits(codec: IdCodec) -> None:
    assert codec.encode(INSTANCE, 7)[2:] != codec.encode(IMAGE, 7)[4:]


def test_key_is_per_installation(codec: IdCodec) -> None:
    other = IdCodec(b"o" * 32)
    assert codec.encode(INSTANCE, 42) != other.encode(INSTANCE, 42)
    # Someone else's well-formed id is, at worst, some other number; most are out of range.
    decoded = [other.decode(INSTANCE, codec.encode(INSTANCE, n)) for n in range(1, 200)]
    assert decoded != list(range(1, 200))
    assert decoded.count(None) > 150


def test_stable_across_instances() -> None:
    assert IdCodec(KEY).encode(INSTANCE, 12345) == IdCodec(KEY).encode(INSTANCE, 12345)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "i-",
        "i-123",
        "i-0123456789abcdef",  # 16 digits
        "i-0123456789abcdef01",  # 18 digits
        "i-0123456789ABCDEF0",  # upper case
        "i-0123456789abcdefg",
        "ami-0123456789abcdef0",  # another kind's prefix
        "0123456789abcdef0",
        " i-0123456789abcdef0",
    ],
)
def test_malformed(codec: IdCodec, value: str) -> None:
    with pytest.raises(MalformedId) as raised:
        codec.decode(INSTANCE, value)
    assert raised.value.prefix == INSTANCE
    assert value in raised.value.message


def test_well_formed_but_foreign_is_none(codec: IdCodec) -> None:
    assert codec.decode(INSTANCE, "i-12345678") is None  # old 8-digit form: never ours
    decoded = codec.decode(INSTANCE, "i-fffffffffffffffff")
    assert decoded is None or 0 < decoded < 2**63


def test_encode_rejects_out_of_range(codec: IdCodec) -> None:
    for bad in (0, -1, 2**63):
        with pytest.raises(ValueError):
            codec.encode(INSTANCE, bad)


def test_account_numbers(codec: IdCodec) -> None:
    numbers = [codec.account_number(n) for n in range(1, 2001)]
    assert all(re.fullmatch(r"\d{12}", number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    assert [codec.account_id(number) for number in numbers] == list(range(1, 2001))
    assert codec.account_number(1) != "000000000001"
    assert codec.account_id("12345") is None
