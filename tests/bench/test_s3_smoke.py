"""The S3 benchmarks (bench/s3.py, bench/s3_large.py) end to end at minimal sizes.

Not a measurement: it keeps the suites working (every system starts, every phase runs, the
result document is complete) so that `python -m bench` does not rot between real runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import s3, s3_large
from tests.s3_api.conftest import swift_environment

pytestmark = [pytest.mark.swift, pytest.mark.timeout(600)]

SYSTEMS = {s3.CLOUDGATE, s3.S3API_ACL, s3.S3API_NO_ACL, s3.DIRECT, s3.MOTO}


def run(main, tmp_path: Path, suite: str) -> dict:
    swift_environment()  # the all-in-one, started if needed (skipped locally without it)
    main(["--mode", "smoke", "--out", str(tmp_path)])
    document = json.loads((tmp_path / f"{suite}.json").read_text())
    assert document["suite"] == suite
    assert document["mode"] == "smoke"
    assert document["seconds"] > 0
    return document


def test_s3_suite_compares_every_system(tmp_path: Path) -> None:
    document = run(s3.main, tmp_path, "s3")
    sizes = s3.SIZES["smoke"]
    small, ratios, large, bulk = document["tables"]
    assert {row[0] for row in small["rows"]} == SYSTEMS
    # every cell is "ops/s (p50 / p99)" with a positive rate
    assert all(float(cell.split()[0]) > 0 for row in small["rows"] for cell in row[1:])
    assert [row[0] for row in ratios["rows"]] == list(s3.PEERS)
    assert all(isinstance(value, float) for row in ratios["rows"] for value in row[1:])
    assert {row[0] for row in large["rows"]} == SYSTEMS
    assert all(value > 0 for row in large["rows"] for value in row[1:3])
    assert {row[0] for row in bulk["rows"]} == SYSTEMS
    assert all(row[3] > 0 for row in bulk["rows"])  # a peak RSS for every server
    put, get, listing = document["curves"]
    for curve in (put, get):
        assert set(curve["series"]) == SYSTEMS
        for points in curve["series"].values():
            assert [x for x, _ in points] == list(sizes.object_sizes)
            assert all(y > 0 for _, y in points)
    for points in listing["series"].values():
        assert [x for x, _ in points] == list(sizes.list_counts)
    names = [target["name"] for target in document["targets"]]
    assert names == [
        "small objects vs s3api (s3_acl on)",
        "small objects vs direct swiftclient",
        "256 KiB objects vs direct Swift",
    ]
    for target in document["targets"]:
        assert target["measured"]
        assert target["met"] or target["cause"]  # a target not met says why


def test_s3_large_suite_moves_a_multipart_object_on_both_stores(tmp_path: Path) -> None:
    document = run(s3_large.main, tmp_path, "s3_large")
    (table,) = document["tables"]
    assert [row[0] for row in table["rows"]] == ["local", "swift"]
    for row in table["rows"]:
        assert row[1] > 0 and row[2] > 0
        assert row[3].endswith("-3")  # 24 MiB in 8 MiB parts: a three-part ETag
    assert [target["met"] for target in document["targets"]] == [True, True]
