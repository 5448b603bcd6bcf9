"""The same boto3 scenario against `moto_server` and against cloudgate, answers compared by shape.

moto tracks AWS's answers closely; every key path moto's answer has must be in cloudgate's
answer to the same call (more is fine), except for the fields listed in `ALLOWED` below, each
with the reason it cannot apply here. Values are not compared, only which keys are present
(`conformance/ec2_scenario.py`: list elements merged, ResponseMetadata ignored).
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from moto.server import ThreadedMotoServer

from conformance.ec2_scenario import key_paths, run_scenario
from tests.support.native import NativeCaller, create_public_range
from tests.support.server import ServerProcess, free_port


class Allowed(NamedTuple):
    """A field moto returns that cloudgate leaves out, in the answers whose label matches."""

    labels: tuple[str, ...]  # fnmatch patterns over the scenario's labels
    path: str  # a key path, matched at the end of a path (and everything under it)
    reason: str


INSTANCE_LABELS = ("*Instances*",)  # RunInstances and every DescribeInstances
RUNNING = ("RunInstances", "DescribeInstances", "DescribeInstances(filters)")
UNASSOCIATED = (*RUNNING, "DescribeInstances(stopped)")
ALLOWED = (
    # -- AWS hardware and features that have no counterpart on a CloudStack-style cloud.
    Allowed(
        INSTANCE_LABELS,
        "Instances[].SriovNetSupport",
        "Intel 82599 VF enhanced networking is an AWS NIC feature",
    ),
    Allowed(
        ("DescribeInstanceTypes",),
        "ProcessorInfo.Manufacturer",
        "a service offering does not name a CPU vendor (hosts of any vendor may run it)",
    ),
    Allowed(
        ("DescribeInstanceTypes",),
        "NetworkInfo.ConnectionTrackingConfiguration",
        "security group connection-tracking timeouts are AWS's, not configurable here",
    ),
    Allowed(
        ("DescribeInstanceTypes",),
        "NetworkCards[].BaselineBandwidthInGbps",
        "service offerings carry no bandwidth figures",
    ),
    Allowed(
        ("DescribeInstanceTypes",),
        "NetworkCards[].PeakBandwidthInGbps",
        "service offerings carry no bandwidth figures",
    ),
    Allowed(
        ("DescribeInstanceTypes",),
        "NetworkCards[].DefaultEnaQueueCountPerInterface",
        "ENA queues are an AWS NIC feature (EnaSupport is unsupported)",
    ),
    Allowed(
        ("DescribeImages*",),
        "Images[].BlockDeviceMappings[].Ebs.SnapshotId",
        "an image is a template in secondary storage, not an EBS snapshot",
    ),
    # -- Differences of state, not of shape: checked where the state matches.
    Allowed(
        (*RUNNING, "DescribeInstances(associated)"),
        "Instances[].StateReason",
        "AWS omits StateReason while an instance runs, moto sends an empty one; cloudgate's "
        "is checked on the stopped instance (DescribeInstances(stopped))",
    ),
    Allowed(
        ("ModifyVolume",),
        "VolumeModification.EndTime",
        "AWS answers ModifyVolume while the change is under way (no EndTime yet); moto has "
        "finished it already. Checked once completed (DescribeVolumesModifications)",
    ),
    Allowed(
        UNASSOCIATED,
        "Instances[].PublicIpAddress",
        "no public IPv4 is assigned at launch; an instance has one once an Elastic IP is "
        "associated (checked in DescribeInstances(associated))",
    ),
    # -- Elastic network interfaces: there is no ENI resource of its own; an instance's one
    #    interface is its VM's NIC in its subnet (ec2_api/actions/instance_interfaces.py),
    #    with an Association once an Elastic IP is associated.
    Allowed(
        UNASSOCIATED,
        "NetworkInterfaces[].Association",
        "no public IPv4 is assigned at launch (checked in DescribeInstances(associated))",
    ),
    Allowed(
        UNASSOCIATED,
        "NetworkInterfaces[].PrivateIpAddresses[].Association",
        "no public IPv4 is assigned at launch (checked in DescribeInstances(associated))",
    ),
    # -- Not recorded by the core: a template made by createTemplate keeps its source volume
    #    only, which is the same for an image of a stopped instance and of a snapshot of it.
    Allowed(
        ("DescribeImages",),
        "Images[].SourceInstanceId",
        "the core does not record which instance an image was made from",
    ),
)


def excuses(entry: Allowed, label: str, path: str) -> bool:
    """Whether `entry` allows `path` to be missing from the answer labelled `label`."""
    if not any(fnmatch.fnmatchcase(label, pattern) for pattern in entry.labels):
        return False
    start = f".{path}".find(f".{entry.path}")
    while start != -1:
        end = start + len(entry.path)
        if end == len(path) or path[end] in ".[":
            return True
        start = f".{path}".find(f".{entry.path}", start + 1)
    return False


def allowed(label: str, path: str) -> bool:
    return any(excuses(entry, label, path) for entry in ALLOWED)


def missing_paths(
    reference: dict[str, dict[str, Any]], ours: dict[str, dict[str, Any]]
) -> dict[str, list[str]]:
    """Per label: the key paths of `reference`'s answer that are neither in ours nor allowed."""
    found: dict[str, list[str]] = {}
    for label, answer in reference.items():
        missing = key_paths(answer) - key_paths(ours.get(label, {}))
        left = sorted(path for path in missing if not allowed(label, path))
        if left:
            found[label] = left
    return found


def public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return openssh.decode()


def clients(url: str, region: str, access_key: str, secret_key: str) -> tuple[Any, Any]:
    """EC2 and STS clients for one endpoint (cloudgate answers STS on its EC2 endpoint)."""
    options = {
        "region_name": region,
        "endpoint_url": url,
        "aws_access_key_id": access_key,
        "aws_secret_access_key": secret_key,
        "config": Config(retries={"total_max_attempts": 1}),
    }
    return boto3.client("ec2", **options), boto3.client("sts", **options)


@pytest.fixture(scope="module")
def moto_answers() -> dict[str, dict[str, Any]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        return run_scenario(*clients(url, "us-east-1", "testing", "testing"), public_key())
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cloudgate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(Path(tmp_path_factory.mktemp("differential")) / "data").start()
    admin = NativeCaller(process.native_url, process.api_key, process.secret_key)
    create_public_range(admin, admin.call("listZones")["zone"][0]["id"], subnet=7)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def cloudgate_answers(cloudgate: ServerProcess) -> dict[str, dict[str, Any]]:
    keys = (cloudgate.api_key, cloudgate.secret_key)
    return run_scenario(*clients(cloudgate.ec2_url, "cloudgate", *keys), public_key())


def test_both_ran_the_whole_scenario(
    moto_answers: dict[str, dict[str, Any]], cloudgate_answers: dict[str, dict[str, Any]]
) -> None:
    assert len(moto_answers) > 40
    assert list(cloudgate_answers) == list(moto_answers)


def test_cloudgate_answers_have_every_field_moto_has(
    moto_answers: dict[str, dict[str, Any]], cloudgate_answers: dict[str, dict[str, Any]]
) -> None:
    missing = missing_paths(moto_answers, cloudgate_answers)
    report = "\n".join(f"{label}: {', '.join(paths)}" for label, paths in missing.items())
    assert not missing, "fields moto returns and cloudgate does not:\n" + report


def test_every_allowance_is_still_needed(
    moto_answers: dict[str, dict[str, Any]], cloudgate_answers: dict[str, dict[str, Any]]
) -> None:
    """An allow-list entry that no longer excuses anything is stale: remove it."""
    used = set()
    for label, answer in moto_answers.items():
        for path in key_paths(answer) - key_paths(cloudgate_answers.get(label, {})):
            used |= {entry for entry in ALLOWED if excuses(entry, label, path)}
    stale = [f"{entry.labels}: {entry.path}" for entry in ALLOWED if entry not in used]
    assert not stale, "allow-list entries that excuse nothing any more:\n" + "\n".join(stale)


def test_shape_comparison_sees_nested_and_listed_keys() -> None:
    """The comparison itself: list elements merged, metadata ignored, allowances scoped."""
    answer = {
        "Reservations": [{"Instances": [{"State": {"Name": "x"}}, {"VpcId": "v"}]}],
        "ResponseMetadata": {"RequestId": "r"},
    }
    assert key_paths(answer) == {
        "Reservations",
        "Reservations[].Instances",
        "Reservations[].Instances[].State",
        "Reservations[].Instances[].State.Name",
        "Reservations[].Instances[].VpcId",
    }
    assert allowed("DescribeInstances", "Reservations[].Instances[].SriovNetSupport")
    assert allowed("DescribeInstances", "Reservations[].Instances[].PublicIpAddress")
    assert not allowed(
        "DescribeInstances(associated)", "Reservations[].Instances[].PublicIpAddress"
    )
    assert not allowed("DescribeVolumes", "Reservations[].Instances[].SriovNetSupport")
    assert not allowed("DescribeInstances", "Reservations[].Instances[].SriovNetSupportX")
    assert missing_paths({"Op": {"A": {"B": 1}}}, {"Op": {"A": {}}}) == {"Op": ["A.B"]}
