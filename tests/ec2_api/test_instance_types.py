"""Instance types through boto3: the seeded mapping, the operator's CLI, type offerings."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from core.volumes import MAX_DATA_VOLUMES
from tests.ec2_api.conftest import REGION, REPO, create_user, ec2_client, error_code
from tests.support.server import ServerProcess


def operator(server: ServerProcess, *args: str) -> list[dict[str, Any]]:
    """`cloudgate instance-types …` against the running server's database."""
    done = subprocess.run(
        [sys.executable, "-m", "cloudgate.cli", "instance-types", *args[:1],
         "--data-dir", str(server.data_dir), *args[1:]],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def type_names(client: Any, **params: Any) -> list[str]:
    return [t["InstanceType"] for t in client.describe_instance_types(**params)["InstanceTypes"]]


def test_aws_names_exist_from_the_first_start(ec2: Any) -> None:
    types = {t["InstanceType"]: t for t in ec2.describe_instance_types()["InstanceTypes"]}
    for name in ("t2.nano", "t2.micro", "t2.small", "t2.medium", "t3.micro", "m5.large"):
        assert name in types, name
    assert types["m5.large"]["VCpuInfo"]["DefaultVCpus"] == 2
    assert types["m5.large"]["MemoryInfo"]["SizeInMiB"] == 8192
    assert types["t2.medium"]["MemoryInfo"]["SizeInMiB"] == 4096
    assert types["t2.micro"]["MemoryInfo"]["SizeInMiB"] == 512  # CloudStack's Small Instance
    two_cpus = type_names(ec2, Filters=[{"Name": "vcpu-info.default-vcpus", "Values": ["2"]}])
    assert "m5.large" in two_cpus and "t2.micro" not in two_cpus


def test_operator_maps_a_name_and_scripts_see_it(ec2: Any, server: ServerProcess) -> None:
    listed = operator(server, "list")
    assert {"name": "t2.micro", "offering": "Small Instance"}.items() <= listed[0].items()
    after = operator(server, "set", "c5.large", "--offering", "m5.large")
    assert {"c5.large", "m5.large"} <= {row["name"] for row in after}
    found = ec2.describe_instance_types(InstanceTypes=["c5.large"])["InstanceTypes"]
    assert found[0]["MemoryInfo"]["SizeInMiB"] == 8192
    operator(server, "remove", "c5.large")
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_types(InstanceTypes=["c5.large"])
    assert error_code(raised) == "InvalidInstanceType"


def test_operator_errors_are_one_line(server: ServerProcess) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cloudgate.cli", "instance-types", "set", "x1.big",
         "--offering", "No Such Offering", "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "No Such Offering" in done.stderr


def test_launch_with_a_seeded_type(launch: Any, ec2: Any) -> None:
    [instance] = launch(InstanceType="t2.nano")["Instances"]
    # t2.nano shares t2.micro's offering; the offering's canonical name is shown
    assert instance["InstanceType"] == "t2.micro"


def test_instance_type_offerings_by_region_and_zone(ec2: Any) -> None:
    offerings = ec2.describe_instance_type_offerings()["InstanceTypeOfferings"]
    assert {o["LocationType"] for o in offerings} == {"region"}
    assert {o["Location"] for o in offerings} == {REGION}
    assert set(type_names(ec2)) == {o["InstanceType"] for o in offerings}
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]
    by_zone = ec2.describe_instance_type_offerings(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": ["t2.micro", "m5.*"]}],
    )["InstanceTypeOfferings"]
    assert sorted(o["InstanceType"] for o in by_zone) == ["m5.large", "m5.xlarge", "t2.micro"]
    assert {o["Location"] for o in by_zone} == {zone["ZoneName"]}
    by_zone_id = ec2.describe_instance_type_offerings(
        LocationType="availability-zone-id",
        Filters=[{"Name": "location", "Values": [zone["ZoneId"]]}],
    )["InstanceTypeOfferings"]
    assert len(by_zone_id) == len(offerings)
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_type_offerings(LocationType="planet")
    assert error_code(raised) == "InvalidParameterValue"


def test_instance_type_offerings_paginate(ec2: Any) -> None:
    everything = ec2.describe_instance_type_offerings()["InstanceTypeOfferings"]
    paginator = ec2.get_paginator("describe_instance_type_offerings")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 5}))
    assert len(pages) > 1
    assert [o for p in pages for o in p["InstanceTypeOfferings"]] == everything


def test_every_account_sees_the_same_types(server: ServerProcess, ec2: Any) -> None:
    user = ec2_client(server, create_user(server, "types-user"))
    assert type_names(user) == type_names(ec2)


def test_limits_and_aws_only_features_are_answered(ec2: Any) -> None:
    """Fields AWS always sends: the disk limit is the core's (root + data disks), one network
    card, and AWS's own hardware features answered "unsupported" rather than left out."""
    (info,) = ec2.describe_instance_types(InstanceTypes=["t2.micro"])["InstanceTypes"]
    assert info["EbsInfo"]["MaximumEbsAttachments"] == MAX_DATA_VOLUMES + 1
    assert info["EbsInfo"]["AttachmentLimitType"] == "dedicated"
    network = info["NetworkInfo"]
    assert network["NetworkCards"] == [
        {"NetworkCardIndex": 0, "NetworkPerformance": "Moderate", "MaximumNetworkInterfaces": 1}
    ]
    assert network["EnaSrdSupported"] is False and network["SecondaryNetworkSupported"] is False
    for feature in ("NitroEnclavesSupport", "NitroTpmSupport", "PhcSupport"):
        assert info[feature] == "unsupported", feature
