"""DescribeRegions, DescribeAvailabilityZones, DescribeImages, DescribeInstanceTypes via boto3."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.ec2_api.conftest import REGION


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_describe_regions(ec2: Any, server: Any) -> None:
    regions = ec2.describe_regions()["Regions"]
    assert [r["RegionName"] for r in regions] == [REGION]
    assert regions[0]["Endpoint"] == server.ec2_url.removeprefix("http://")
    assert ec2.describe_regions(RegionNames=[REGION])["Regions"] == regions
    empty = ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["us-*"]}])
    assert empty["Regions"] == []
    with pytest.raises(ClientError) as raised:
        ec2.describe_regions(RegionNames=["us-east-1"])
    assert error_code(raised) == "InvalidParameterValue"


def test_describe_availability_zones(ec2: Any) -> None:
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == ["Sandbox-simulator"]
    zone = zones[0]
    assert zone["State"] == "available"
    assert zone["RegionName"] == REGION
    assert re.fullmatch(rf"{REGION}-az\d+", zone["ZoneId"])
    by_id = ec2.describe_availability_zones(ZoneIds=[zone["ZoneId"]])["AvailabilityZones"]
    assert by_id == zones
    by_filter = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-name", "Values": ["Sandbox-*"]}]
    )["AvailabilityZones"]
    assert by_filter == zones
    with pytest.raises(ClientError) as raised:
        ec2.describe_availability_zones(ZoneNames=["nowhere-1a"])
    assert error_code(raised) == "InvalidParameterValue"


def test_describe_images_lists_the_amazon_template(ec2: Any, image_id: str) -> None:
    images = ec2.describe_images()["Images"]
    image = next(i for i in images if i["ImageId"] == image_id)
    assert re.fullmatch(r"ami-[0-9a-f]{17}", image_id)
    assert image["State"] == "available"
    assert image["ImageOwnerAlias"] == "amazon"
    assert image["Public"] is True
    assert re.fullmatch(r"\d{12}", image["OwnerId"])
    assert image["Name"].startswith("CentOS")
    assert image["RootDeviceType"] == "ebs"


def test_describe_images_owners_ids_and_filters(ec2: Any, image_id: str) -> None:
    owner = ec2.describe_images(ImageIds=[image_id])["Images"][0]["OwnerId"]
    assert [i["ImageId"] for i in ec2.describe_images(Owners=[owner])["Images"]] == [image_id]
    # The admin owns no template; the system account owns the demo one.
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    both = ec2.describe_images(Owners=["self", "amazon"])["Images"]
    assert [i["ImageId"] for i in both] == [image_id]
    named = ec2.describe_images(Filters=[{"Name": "name", "Values": ["CentOS*"]}])["Images"]
    assert image_id in [i["ImageId"] for i in named]
    nothing = ec2.describe_images(
        Filters=[
            {"Name": "name", "Values": ["CentOS*"]},
            {"Name": "platform", "Values": ["windows"]},
        ]
    )["Images"]
    assert nothing == []


def test_describe_images_errors(ec2: Any, image_id: str) -> None:
    with pytest.raises(ClientError) as raised:
        ec2.describe_images(ImageIds=["ami-xyz"])
    assert error_code(raised) == "InvalidAMIID.Malformed"
    with pytest.raises(ClientError) as raised:
        ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])
    assert error_code(raised) == "InvalidAMIID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.describe_images(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert error_code(raised) == "InvalidParameterValue"


def test_describe_instance_types(ec2: Any) -> None:
    types = {t["InstanceType"]: t for t in ec2.describe_instance_types()["InstanceTypes"]}
    assert {"t2.micro", "t2.small", "cg.small-instance", "cg.medium-instance"} <= set(types)
    micro = types["t2.micro"]
    assert micro["VCpuInfo"]["DefaultVCpus"] == 1
    assert micro["MemoryInfo"]["SizeInMiB"] == 512  # Small Instance
    assert types["t2.small"]["MemoryInfo"]["SizeInMiB"] == 1024  # Medium Instance
    assert types["cg.small-instance"]["MemoryInfo"] == micro["MemoryInfo"]
    one = ec2.describe_instance_types(InstanceTypes=["t2.small"])["InstanceTypes"]
    assert [t["InstanceType"] for t in one] == ["t2.small"]
    big = ec2.describe_instance_types(
        Filters=[{"Name": "memory-info.size-in-mib", "Values": ["1024"]}]
    )["InstanceTypes"]
    assert "t2.micro" not in {t["InstanceType"] for t in big}
    assert "m1.medium" in {t["InstanceType"] for t in big}  # Medium Instance, as t2.small
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_types(InstanceTypes=["x9.huge"])
    assert error_code(raised) == "InvalidInstanceType"


def test_describe_instance_types_paginates(ec2: Any) -> None:
    everything = [t["InstanceType"] for t in ec2.describe_instance_types()["InstanceTypes"]]
    paginator = ec2.get_paginator("describe_instance_types")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 5}))
    assert len(pages) > 1
    assert [t["InstanceType"] for p in pages for t in p["InstanceTypes"]] == everything
