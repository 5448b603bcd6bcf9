"""Device names, volume states and volume-type performance, as translators/volumes maps them."""

from __future__ import annotations

import pytest

from core.errors import InvalidParameter
from translators import volumes as tv


@pytest.mark.parametrize(
    ("name", "device_id"),
    [("/dev/sdf", 5), ("/dev/xvdf", 5), ("xvdf", 5), ("/dev/vdb", 1), ("/dev/sda1", 0)],
)
def test_device_names_name_core_device_ids(name: str, device_id: int) -> None:
    assert tv.parse_device(name) == device_id


def test_device_names_are_echoed_only_while_they_fit() -> None:
    assert tv.device_name(5) == "/dev/sdf"
    assert tv.device_name(0) == "/dev/sda1"
    assert tv.device_name(5, "xvdf") == "xvdf"
    assert tv.device_name(6, "xvdf") == "/dev/sdg"  # re-attached elsewhere through CloudStack


@pytest.mark.parametrize("name", ["/dev/floppy", "/dev/sdf1", "sd", "", "/dev/sdaa"])
def test_other_names_are_invalid(name: str) -> None:
    with pytest.raises(InvalidParameter):
        tv.parse_device(name)
    assert tv.parse_device(name, strict=False) is None


def test_volume_states() -> None:
    assert tv.volume_state("Allocated", attached=False) == "available"
    assert tv.volume_state("Ready", attached=True) == "in-use"
    assert tv.volume_state("Ready", attached=False, creating=True) == "creating"
    assert tv.volume_state("Expunging", attached=False) == "deleting"
    assert tv.volume_state("Error", attached=True) == "error"
    assert tv.snapshot_state("BackingUp") == "pending"
    assert tv.snapshot_state("BackedUp") == "completed"


def test_performance_is_what_aws_reports_for_the_type() -> None:
    none = tv.Performance()
    assert tv.reported_performance("gp2", 10, none) == tv.Performance(iops=100)
    assert tv.reported_performance("gp2", 10_000, none) == tv.Performance(iops=16000)
    assert tv.reported_performance("gp3", 10, none) == tv.Performance(iops=3000, throughput=125)
    assert tv.reported_performance("standard", 10, tv.Performance(iops=5)) == none
    with pytest.raises(InvalidParameter):
        tv.requested_performance("gp2", 300, None)
    with pytest.raises(InvalidParameter):
        tv.requested_performance("gp3", None, 2000)
    assert tv.requested_performance("io2", 1000, None) == tv.Performance(iops=1000)
