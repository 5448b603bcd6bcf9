"""CreateTags, DeleteTags and DescribeTags through boto3: on instances, volumes, security
groups, VPCs and subnets; AWS's overwrite and delete semantics; the same tags through the
CloudStack API (createTags/listTags); filters, paging, errors and tenant isolation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError
from cs import CloudStack

from core.db import Database
from core.security_groups import SecurityGroup
from core.volumes import Volume
from tests.ec2_api.conftest import error_code, instance_ids
from tests.support.server import ServerProcess
from translators.ids import SECURITY_GROUP, VOLUME, IdCodec, installation_key


def ec2_id(server: ServerProcess, prefix: str, model: Any, uuid: str) -> str:
    """The EC2 id of a resource made through the CloudStack API (read off the server's db)."""
    database = Database(f"sqlite:///{server.data_dir / 'cloudgate.db'}")
    try:
        with database.read() as session:
            core_id = session.scalar(sa.select(model.id).where(model.uuid == uuid))
            return IdCodec(installation_key(session)).encode(prefix, core_id)
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def tenant_name() -> str:
    return "tag-owner"


@pytest.fixture(scope="module")
def resources(server: ServerProcess, client: Any, cs: CloudStack) -> dict[str, Any]:
    """A security group and a volume made through CloudStack, the default VPC and subnet."""
    group = cs.createSecurityGroup(name="tagged")["securitygroup"]
    zone = cs.listZones()["zone"][0]["id"]
    small = cs.listDiskOfferings(name="Small")["diskoffering"][0]["id"]
    volume = cs.createVolume(name="tagged", zoneid=zone, diskofferingid=small)["volume"]
    return {
        "group": (group["id"], ec2_id(server, SECURITY_GROUP, SecurityGroup, group["id"])),
        "volume": (volume["id"], ec2_id(server, VOLUME, Volume, volume["id"])),
        "vpc": client.describe_vpcs()["Vpcs"][0]["VpcId"],
        "subnet": client.describe_subnets()["Subnets"][0]["SubnetId"],
    }


def tags_of(client: Any, resource_id: str) -> dict[str, str]:
    found = client.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])
    return {tag["Key"]: tag["Value"] for tag in found["Tags"]}


def test_create_tags_on_every_kind_and_seen_by_cloudstack(
    client: Any,
    cs: CloudStack,
    resources: dict[str, Any],
    launch: Callable[..., dict[str, Any]],
) -> None:
    [instance] = instance_ids(launch(client=client))
    group_uuid, group_id = resources["group"]
    volume_uuid, volume_id = resources["volume"]
    everything = [instance, group_id, volume_id, resources["vpc"], resources["subnet"]]
    client.create_tags(
        Resources=everything, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": ""}]
    )
    described = client.describe_tags(Filters=[{"Name": "key", "Values": ["env"]}])["Tags"]
    assert {(t["ResourceId"], t["ResourceType"], t["Value"]) for t in described} == {
        (instance, "instance", "prod"),
        (group_id, "security-group", "prod"),
        (volume_id, "volume", "prod"),
        (resources["vpc"], "vpc", "prod"),
        (resources["subnet"], "subnet", "prod"),
    }
    listed = cs.listTags(key="env")["tag"]
    assert {t["resourcetype"] for t in listed} == {
        "UserVm", "SecurityGroup", "Volume", "Vpc", "Network",
    }  # fmt: skip
    assert {group_uuid, volume_uuid} <= {t["resourceid"] for t in listed}
    assert client.describe_vpcs(VpcIds=[resources["vpc"]])["Vpcs"][0]["Tags"] == [
        {"Key": "env", "Value": "prod"},
        {"Key": "team", "Value": ""},
    ]

    client.create_tags(Resources=[group_id], Tags=[{"Key": "env", "Value": "staging"}])
    [overwritten] = cs.listTags(resourceid=group_uuid, key="env")["tag"]
    assert overwritten["value"] == "staging"

    cs.createTags(
        resourcetype="Volume", resourceids=volume_uuid, tags=[{"key": "from-cs", "value": "yes"}]
    )
    assert tags_of(client, volume_id) == {"env": "prod", "team": "", "from-cs": "yes"}


def test_filters_and_paging(client: Any, resources: dict[str, Any]) -> None:
    group_id = resources["group"][1]
    client.create_tags(
        Resources=[group_id], Tags=[{"Key": f"k{n}", "Value": f"v{n}"} for n in range(6)]
    )
    by_type = client.describe_tags(
        Filters=[
            {"Name": "resource-type", "Values": ["security-group"]},
            {"Name": "key", "Values": ["k*"]},
        ]
    )["Tags"]
    assert sorted(t["Key"] for t in by_type) == [f"k{n}" for n in range(6)]
    by_value = client.describe_tags(Filters=[{"Name": "value", "Values": ["v1", "v4"]}])["Tags"]
    assert sorted(t["Key"] for t in by_value) == ["k1", "k4"]
    first = client.describe_tags(MaxResults=5)
    assert len(first["Tags"]) == 5 and first["NextToken"]
    pages = client.get_paginator("describe_tags").paginate(PaginationConfig={"PageSize": 5})
    total = [tag for page in pages for tag in page["Tags"]]
    assert len(total) == len(client.describe_tags()["Tags"]) >= 6
    with pytest.raises(ClientError) as bad_filter:
        client.describe_tags(Filters=[{"Name": "bogus", "Values": ["x"]}])
    assert error_code(bad_filter) == "InvalidParameterValue"


def test_delete_tags_semantics(client: Any, resources: dict[str, Any]) -> None:
    subnet = resources["subnet"]
    client.create_tags(
        Resources=[subnet],
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}, {"Key": "c", "Value": "3"}],
    )
    client.delete_tags(Resources=[subnet], Tags=[{"Key": "a", "Value": "other"}])
    assert tags_of(client, subnet)["a"] == "1"  # value given and different: kept
    client.delete_tags(Resources=[subnet], Tags=[{"Key": "a"}])  # no value: any value
    client.delete_tags(Resources=[subnet], Tags=[{"Key": "c", "Value": ""}])  # only empty
    client.delete_tags(Resources=[subnet], Tags=[{"Key": "b", "Value": ""}])
    remaining = tags_of(client, subnet)
    assert "a" not in remaining and "b" not in remaining and remaining["c"] == "3"
    client.delete_tags(Resources=[subnet])  # no tags: all of them
    assert tags_of(client, subnet) == {}


def test_errors_and_isolation(client: Any, ec2_other: Any, resources: dict[str, Any]) -> None:
    group_id = resources["group"][1]
    cases = {
        "i-00000000000000001": "InvalidInstanceID.NotFound",
        "vpc-00000000000000001": "InvalidVpcID.NotFound",
        "nonsense-1234": "InvalidID",
        "vol-xyz": "InvalidVolumeID.Malformed",
    }
    for resource, expected in cases.items():
        with pytest.raises(ClientError) as error:
            client.create_tags(Resources=[resource], Tags=[{"Key": "x", "Value": "y"}])
        assert error_code(error) == expected, resource
    with pytest.raises(ClientError) as reserved:
        client.create_tags(Resources=[group_id], Tags=[{"Key": "aws:x", "Value": "y"}])
    assert error_code(reserved) == "InvalidParameterValue"
    # another tenant can neither tag nor see the owner's resources or tags
    with pytest.raises(ClientError) as hidden:
        ec2_other.create_tags(Resources=[group_id], Tags=[{"Key": "x", "Value": "y"}])
    assert error_code(hidden) == "InvalidGroup.NotFound"
    with pytest.raises(ClientError) as hidden_delete:
        ec2_other.delete_tags(Resources=[resources["vpc"]])
    assert error_code(hidden_delete) == "InvalidVpcID.NotFound"
    client.create_tags(Resources=[group_id], Tags=[{"Key": "secret", "Value": "s"}])
    theirs = ec2_other.describe_tags(Filters=[{"Name": "resource-id", "Values": [group_id]}])
    assert theirs["Tags"] == []
    before = tags_of(client, group_id)
    with pytest.raises(ClientError) as dry:
        client.create_tags(Resources=[group_id], Tags=[{"Key": "dry", "Value": "run"}], DryRun=True)
    assert error_code(dry) == "DryRunOperation"
    assert tags_of(client, group_id) == before
