"""The simulator's volume-snapshot operations: what the core backs up and restores."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from drivers.hypervisor.base import OperationFailed
from drivers.hypervisor.simulator import SNAPSHOT_IMAGE_FORMAT, SimulatorDriver

GIB = 1024**3


@pytest.fixture
def simulator(tmp_path) -> SimulatorDriver:
    driver = SimulatorDriver(tmp_path / "simulator.db")
    driver.create_volume("pool", "vol", 2 * GIB)
    driver.write_volume("vol", "first")
    return driver


def test_a_snapshot_reads_as_an_image_of_the_disk(simulator: SimulatorDriver) -> None:
    simulator.snapshot_volume("pool", "vol", "snap")
    simulator.write_volume("vol", "second")
    simulator.snapshot_volume("pool", "vol", "snap")  # idempotent: the first one stays
    image = json.loads(b"".join(simulator.read_snapshot("pool", "snap")))
    assert image["format"] == SNAPSHOT_IMAGE_FORMAT
    assert (image["content"], image["size_bytes"], image["volume"]) == ("first", 2 * GIB, "vol")

    simulator.delete_snapshot("pool", "snap")
    simulator.delete_snapshot("pool", "snap")  # absent is not an error
    assert not simulator.snapshot_exists("snap")
    with pytest.raises(OperationFailed):
        simulator.read_snapshot("pool", "snap")


def test_restore_replaces_the_content_or_nothing(simulator: SimulatorDriver) -> None:
    simulator.snapshot_volume("pool", "vol", "snap")
    data = list(simulator.read_snapshot("pool", "snap"))
    simulator.create_volume("pool", "other", GIB)
    simulator.restore_volume("pool", "other", data)
    assert simulator.volume_info("other") == {
        "pool": "pool",
        "size_bytes": 2 * GIB,
        "instance_name": None,
        "device_id": None,
        "content": "first",
    }

    def failing() -> Iterator[bytes]:
        yield data[0][:5]
        raise OperationFailed("the store went away")

    simulator.write_volume("other", "kept")
    with pytest.raises(OperationFailed):
        simulator.restore_volume("pool", "other", failing())
    with pytest.raises(OperationFailed, match="not a simulator snapshot"):
        simulator.restore_volume("pool", "other", [b'{"format": "qcow2"}'])
    assert simulator.volume_info("other")["content"] == "kept"
    with pytest.raises(OperationFailed):
        simulator.restore_volume("pool", "missing", data)
