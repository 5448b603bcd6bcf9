"""The EC2 benchmark still runs end to end (smoke sizes), and the renderer turns result
documents into markdown and PNG plots. Benchmarks themselves are not tests: see bench/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.__main__ import discover
from bench.common import Curve, SuiteResult, Table, Target
from bench.render import render

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_ec2_suite_runs_end_to_end_and_saves_a_complete_document(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench.ec2", "--mode", "smoke", "--out", str(tmp_path)],
        cwd=REPO,
        check=True,
        timeout=240,
        capture_output=True,
    )
    document = json.loads((tmp_path / "ec2.json").read_text())
    assert document["suite"] == "ec2" and document["mode"] == "smoke"
    tables = {table["title"].split(" ")[0]: table for table in document["tables"]}
    launches = tables["RunInstances"]["rows"]
    assert {(row[0], row[3]) for row in launches} == {
        (operation, clients)
        for operation in ("RunInstances", "TerminateInstances")
        for clients in (1, 2)
    }
    describes = tables["DescribeInstances"]["rows"]
    assert {row[1] for row in describes} == {
        "all",
        "instance-state-name",
        "tag:Name",
        "instance-type",
    }
    for row in launches + describes:
        rates = [row[4], row[7]]  # cloudgate req/s, moto_server req/s
        assert all(rate > 0 for rate in rates), row
    assert {curve["title"] for curve in document["curves"]} >= {
        "DescribeInstances p50 latency (all), 1 client"
    }
    for curve in document["curves"]:
        assert set(curve["series"]) == {"cloudgate", "moto_server"}
    assert len(document["targets"]) == 6
    for target in document["targets"]:
        assert target["measured"].startswith("×")
        assert target["met"] or target["cause"], target


def test_render_writes_markdown_and_one_png_per_curve(tmp_path: Path) -> None:
    result = SuiteResult(suite="demo", title="Demo suite", mode="quick", command="python -m x")
    result.tables.append(Table("Sizes", ["size", "a|b"], [[1, 2.5], [10, 3]], note="a note"))
    for name in ("first", "second"):
        curve = Curve(name, "instances", "ms", log_x=True)
        curve.add("cloudgate", 10, 1.0)
        curve.add("cloudgate", 100, 2.0)
        curve.add("peer", 10, 3.0)
        result.curves.append(curve)
    result.targets.append(Target("speed", "≥ 2×", "×1.5", False, "the cause"))
    result.save(tmp_path / "results")
    markdown = tmp_path / "docs" / "benchmarks.md"
    images = tmp_path / "docs" / "benchmarks"
    (images).mkdir(parents=True)
    (images / "demo-9.png").write_bytes(b"stale")

    render(tmp_path / "results", markdown, images)

    text = markdown.read_text()
    assert "## Demo suite" in text and "`python -m x`" in text
    assert "| size | a\\|b |" in text and "| 10 | 3 |" in text and "*a note*" in text
    assert "| speed | ≥ 2× | ×1.5 | **not met** | the cause |" in text
    assert "![first](benchmarks/demo-1.png)" in text
    assert "![second](benchmarks/demo-2.png)" in text
    assert sorted(path.name for path in images.iterdir()) == ["demo-1.png", "demo-2.png"]
    for path in images.iterdir():
        assert path.read_bytes().startswith(PNG_MAGIC)


def test_runner_discovers_the_suites_and_renders_only_on_request(tmp_path: Path) -> None:
    assert "ec2" in discover()
    assert {"common", "render", "__main__"}.isdisjoint(discover())
    SuiteResult(suite="demo", title="Demo", mode="smoke", command="c").save(tmp_path)
    markdown = tmp_path / "out.md"
    subprocess.run(
        [sys.executable, "-m", "bench", "--render", "--results", str(tmp_path),
         "--markdown", str(markdown), "--images", str(tmp_path / "img")],
        cwd=REPO, check=True, timeout=60,
    )  # fmt: skip
    assert "## Demo" in markdown.read_text()
