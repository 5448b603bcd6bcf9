"""VPCs and subnets through boto3 over real HTTP: defaults, CIDR rules, filters, paging,
errors, isolation, and the same VPCs and tiers seen through the CloudStack API."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, create_user, ec2_client, error_code
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def tenant_name() -> str:
    return "vpc-owner"


def test_a_fresh_account_has_a_default_vpc_and_subnet(server: ServerProcess, ec2: Any) -> None:
    fresh = ec2_client(server, create_user(server, "vpc-fresh"))
    [vpc] = fresh.describe_vpcs()["Vpcs"]
    assert (vpc["CidrBlock"], vpc["IsDefault"], vpc["State"]) == (
        "172.31.0.0/16",
        True,
        "available",
    )
    assert vpc["VpcId"].startswith("vpc-") and len(vpc["OwnerId"]) == 12
    [association] = vpc["CidrBlockAssociationSet"]
    assert association["CidrBlock"] == "172.31.0.0/16"
    assert association["CidrBlockState"]["State"] == "associated"
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]
    [subnet] = fresh.describe_subnets()["Subnets"]
    assert subnet["VpcId"] == vpc["VpcId"] and subnet["CidrBlock"] == "172.31.0.0/20"
    assert subnet["DefaultForAz"] is True and subnet["MapPublicIpOnLaunch"] is True
    assert subnet["AvailableIpAddressCount"] == 4096 - 5
    assert subnet["AvailabilityZone"] == zone["ZoneName"]
    assert subnet["AvailabilityZoneId"] == zone["ZoneId"]
    assert subnet["SubnetArn"].endswith(f":subnet/{subnet['SubnetId']}")
    assert fresh.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"] == []
    filtered = fresh.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    assert [s["SubnetId"] for s in filtered["Subnets"]] == [subnet["SubnetId"]]
    # the admin's default VPC (made when the demo zone was created at bootstrap) is there too
    assert [v["IsDefault"] for v in ec2.describe_vpcs(Filters=[
        {"Name": "is-default", "Values": ["true"]}])["Vpcs"]] == [True]  # fmt: skip


def test_vpc_and_subnet_lifecycle(client: Any) -> None:
    vpc = client.create_vpc(
        CidrBlock="10.20.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}],
    )["Vpc"]
    vpc_id = vpc["VpcId"]
    assert vpc["IsDefault"] is False and vpc["Tags"] == [{"Key": "Name", "Value": "app"}]
    client.get_waiter("vpc_available").wait(VpcIds=[vpc_id], WaiterConfig=FAST_WAITER)
    by_tag = client.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["ap?"]}])["Vpcs"]
    assert [v["VpcId"] for v in by_tag] == [vpc_id]
    by_cidr = client.describe_vpcs(
        Filters=[{"Name": "cidr-block-association.cidr-block", "Values": ["10.20.*"]}]
    )["Vpcs"]
    assert [v["VpcId"] for v in by_cidr] == [vpc_id]

    subnet = client.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]
    assert subnet["AvailableIpAddressCount"] == 251 and subnet["DefaultForAz"] is False
    assert subnet["MapPublicIpOnLaunch"] is False and subnet["State"] == "available"
    client.get_waiter("subnet_available").wait(
        SubnetIds=[subnet["SubnetId"]], WaiterConfig=FAST_WAITER
    )
    listed = client.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert [s["SubnetId"] for s in listed] == [subnet["SubnetId"]]
    with pytest.raises(ClientError) as outside:
        client.create_subnet(VpcId=vpc_id, CidrBlock="10.21.0.0/24")
    assert error_code(outside) == "InvalidSubnet.Range"
    with pytest.raises(ClientError) as overlap:
        client.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.128/25")
    assert error_code(overlap) == "InvalidSubnet.Conflict"
    with pytest.raises(ClientError) as too_big:
        client.create_subnet(VpcId=vpc_id, CidrBlock="10.20.0.0/15")
    assert error_code(too_big) == "InvalidSubnet.Range"

    with pytest.raises(ClientError) as busy:
        client.delete_vpc(VpcId=vpc_id)
    assert error_code(busy) == "DependencyViolation"
    client.delete_subnet(SubnetId=subnet["SubnetId"])
    client.delete_vpc(VpcId=vpc_id)
    with pytest.raises(ClientError) as gone:
        client.describe_vpcs(VpcIds=[vpc_id])
    assert error_code(gone) == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as gone_subnet:
        client.delete_subnet(SubnetId=subnet["SubnetId"])
    assert error_code(gone_subnet) == "InvalidSubnetID.NotFound"


def test_errors(client: Any) -> None:
    with pytest.raises(ClientError) as big:
        client.create_vpc(CidrBlock="10.0.0.0/8")
    assert error_code(big) == "InvalidVpc.Range"
    with pytest.raises(ClientError) as bad:
        client.create_vpc(CidrBlock="not-a-cidr")
    assert error_code(bad) == "InvalidParameterValue"
    with pytest.raises(ClientError) as malformed:
        client.describe_vpcs(VpcIds=["vpc-xyz"])
    assert error_code(malformed) == "InvalidVpcID.Malformed"
    with pytest.raises(ClientError) as unknown:
        client.describe_subnets(SubnetIds=["subnet-0123456789abcdef0"])
    assert error_code(unknown) == "InvalidSubnetID.NotFound"
    with pytest.raises(ClientError) as filter_name:
        client.describe_vpcs(Filters=[{"Name": "bogus", "Values": ["x"]}])
    assert error_code(filter_name) == "InvalidParameterValue"
    before = len(client.describe_vpcs()["Vpcs"])
    with pytest.raises(ClientError) as dry:
        client.create_vpc(CidrBlock="10.30.0.0/16", DryRun=True)
    assert error_code(dry) == "DryRunOperation"
    assert len(client.describe_vpcs()["Vpcs"]) == before


def test_paging_and_attributes(server: ServerProcess) -> None:
    pager = ec2_client(server, create_user(server, "vpc-pager"))
    made = [pager.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"] for n in range(5)]
    first = pager.describe_vpcs(MaxResults=5)
    assert len(first["Vpcs"]) == 5 and first["NextToken"]
    second = pager.describe_vpcs(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["Vpcs"]) == 1 and "NextToken" not in second
    everything = pager.get_paginator("describe_vpcs").paginate(PaginationConfig={"PageSize": 5})
    assert len([v for page in everything for v in page["Vpcs"]]) == 6

    vpc_id = made[0]
    support = pager.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
    assert support["EnableDnsSupport"] == {"Value": True}
    hostnames = pager.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert hostnames["EnableDnsHostnames"] == {"Value": False}
    pager.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    hostnames = pager.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert hostnames["EnableDnsHostnames"] == {"Value": True}

    subnet_id = pager.create_subnet(VpcId=vpc_id, CidrBlock="10.0.3.0/24")["Subnet"]["SubnetId"]
    pager.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    [subnet] = pager.describe_subnets(
        Filters=[{"Name": "map-public-ip-on-launch", "Values": ["true"]},
                 {"Name": "subnet-id", "Values": [subnet_id]}]
    )["Subnets"]  # fmt: skip
    assert subnet["MapPublicIpOnLaunch"] is True


def test_one_core_vpcs_and_tiers_on_both_apis(client: Any, cs: CloudStack) -> None:
    vpc = client.create_vpc(
        CidrBlock="10.40.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "shared"}]}],
    )["Vpc"]
    [listed] = cs.listVPCs(name="shared")["vpc"]
    assert listed["cidr"] == "10.40.0.0/16" and listed["state"] == "Enabled"
    assert {(t["key"], t["value"]) for t in listed["tags"]} == {("Name", "shared")}
    offering = cs.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingForVpcNetworks")[
        "networkoffering"
    ][0]
    tier = cs.createNetwork(
        name="web-tier", displaytext="web", networkofferingid=offering["id"],
        zoneid=listed["zoneid"], vpcid=listed["id"], gateway="10.40.7.1", netmask="255.255.255.0",
    )["network"]  # fmt: skip
    assert tier["vpcid"] == listed["id"] and tier["cidr"] == "10.40.7.0/24"
    [subnet] = client.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ]
    assert subnet["CidrBlock"] == "10.40.7.0/24"
    # …and the other way round: a VPC made through CloudStack is an EC2 VPC
    made = cs.createVPC(
        name="from-cs", displaytext="cs", cidr="10.50.0.0/16", zoneid=listed["zoneid"],
        vpcofferingid=cs.listVPCOfferings()["vpcoffering"][0]["id"],
    )["vpc"]  # fmt: skip
    found = client.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.50.0.0/16"]}])["Vpcs"]
    assert len(found) == 1 and found[0]["IsDefault"] is False
    client.delete_vpc(VpcId=found[0]["VpcId"])
    assert cs.listVPCs(id=made["id"]) == {}


def test_other_tenant_cannot_see_or_touch_a_vpc(client: Any, ec2_other: Any) -> None:
    vpc_id = client.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    assert vpc_id not in {v["VpcId"] for v in ec2_other.describe_vpcs()["Vpcs"]}
    for attempt in (
        lambda: ec2_other.describe_vpcs(VpcIds=[vpc_id]),
        lambda: ec2_other.delete_vpc(VpcId=vpc_id),
        lambda: ec2_other.create_subnet(VpcId=vpc_id, CidrBlock="10.60.1.0/24"),
    ):
        with pytest.raises(ClientError) as hidden:
            attempt()
        assert error_code(hidden) == "InvalidVpcID.NotFound"
    assert client.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["VpcId"] == vpc_id
