"""The control-plane scale benchmark (bench/scale.py) end to end at minimal sizes.

Not a measurement: it keeps the suite working (hosts are added, VMs deployed, tagged, listed
and copied, the planner timed, the result document complete) so that `python -m bench` does
not rot between real runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import scale

pytestmark = pytest.mark.timeout(300)


def test_scale_suite_fills_every_table_curve_and_target(tmp_path: Path) -> None:
    scale.main(["--mode", "smoke", "--out", str(tmp_path)])
    document = json.loads((tmp_path / "scale.json").read_text())
    sizes = scale.SIZES["smoke"]
    assert (document["suite"], document["mode"]) == ("scale", "smoke")
    assert document["seconds"] > 0
    hosts, vms = document["tables"]
    assert [row[0] for row in hosts["rows"]] == list(sizes.host_stages)
    assert all(row[2] > 0 for row in hosts["rows"])  # planner ms per placement
    assert hosts["rows"][-1][1] > 0  # hosts were added through addHost
    counts = [*sizes.vm_milestones, *sizes.bulk_milestones]
    assert [row[0] for row in vms["rows"]] == counts
    for row in vms["rows"]:
        assert all(value > 0 for value in row[2:])  # latencies and RSS
    assert all(row[1] > 0 for row in vms["rows"][: len(sizes.vm_milestones)])  # deploys/s
    assert "copied in the database" in vms["note"]
    curves = {curve["title"]: curve["series"]["cloudgate"] for curve in document["curves"]}
    assert [x for x, _ in curves["listVirtualMachines page of 500"]] == counts
    assert [x for x, _ in curves["Planner time per placement"]] == list(sizes.host_stages)
    assert [x for x, _ in curves["Deploy rate"]] == list(sizes.vm_milestones)
    names = [target["name"] for target in document["targets"]]
    assert names == [
        "listVirtualMachines page p50",
        "deploy throughput",
        "planner cost sub-linear in hosts",
    ]
    for target in document["targets"]:
        assert target["measured"]
        assert target["met"] or target["cause"]  # a target not met says why
