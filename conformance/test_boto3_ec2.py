"""boto3's paginators, waiters and resources API, unchanged, against a real cloudgate server.

One tenant's session: enough instances, volumes, snapshots, images and security groups that
a small PageSize takes several pages, and every EC2 waiter of those families run to success
(with a short delay: the WaiterConfig a script may pass; the acceptors are botocore's own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError

from tests.conftest import mariadb_database
from tests.ec2_api.conftest import Keys
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess

REGION = "cloudgate"
# Polls every 0.2 s (the simulator is quick; a longer delay only idles), for up to 90 s.
FAST = {"Delay": 0.2, "MaxAttempts": 450}
PAGE = {"PageSize": 5}


def serve(data_dir: Path, database_url: str = "") -> Iterator[ServerProcess]:
    process = ServerProcess(data_dir, database_url=database_url).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data_dir = Path(tmp_path_factory.mktemp("boto3-ec2")) / "data"
    if request.param == "sqlite":
        yield from serve(data_dir)
        return
    for url in mariadb_database():
        yield from serve(data_dir, url)


@pytest.fixture(scope="module")
def tenant(server: ServerProcess) -> Keys:
    """A User-role account made through the CloudStack API, as an operator's script would."""
    admin = NativeCaller(server.native_url, server.api_key, server.secret_key)
    account = admin.call(
        "createAccount",
        username="boto3-tenant",
        password="pw",
        email="boto3@example.com",
        firstname="Boto",
        lastname="Three",
        accounttype=0,
    )["account"]
    keys = admin.call("registerUserKeys", id=account["user"][0]["id"])["userkeys"]
    return Keys(keys["apikey"], keys["secretkey"])


def session(server: ServerProcess, keys: Keys) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        region_name=REGION,
    )


@pytest.fixture(scope="module")
def ec2(server: ServerProcess, tenant: Keys) -> Any:
    return session(server, tenant).client(
        "ec2", endpoint_url=server.ec2_url, config=Config(retries={"total_max_attempts": 1})
    )


@pytest.fixture(scope="module")
def image_id(ec2: Any) -> str:
    return str(ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


@pytest.fixture(scope="module")
def zone(ec2: Any) -> str:
    return str(ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"])


def wait(ec2: Any, name: str, **params: Any) -> None:
    ec2.get_waiter(name).wait(**params, WaiterConfig=FAST)


def pages(ec2: Any, operation: str, **params: Any) -> list[dict[str, Any]]:
    paginator = ec2.get_paginator(operation)
    return list(paginator.paginate(**params, PaginationConfig=PAGE))


def tagged(kind: str, **tags: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def test_instances(ec2: Any, image_id: str) -> None:
    launched = ec2.run_instances(
        ImageId=image_id,
        InstanceType="t2.micro",
        MinCount=6,
        MaxCount=6,
        TagSpecifications=tagged("instance", suite="paging"),
    )
    ids = sorted(i["InstanceId"] for i in launched["Instances"])
    try:
        wait(ec2, "instance_exists", InstanceIds=ids)
        wait(ec2, "instance_running", InstanceIds=ids)
        wait(ec2, "instance_status_ok", InstanceIds=ids)
        wait(ec2, "system_status_ok", InstanceIds=ids)

        found = pages(
            ec2, "describe_instances", Filters=[{"Name": "tag:suite", "Values": ["paging"]}]
        )
        assert [sum(len(r["Instances"]) for r in p["Reservations"]) for p in found] == [5, 1]
        assert "NextToken" in found[0] and "NextToken" not in found[1]
        paged = [i["InstanceId"] for p in found for r in p["Reservations"] for i in r["Instances"]]
        assert sorted(paged) == ids
        # (AWS refuses InstanceIds with MaxResults: a paginating script filters instead)
        running = [{"Name": "instance-state-name", "Values": ["running"]}]
        statuses = pages(ec2, "describe_instance_status", Filters=running)
        assert [len(p["InstanceStatuses"]) for p in statuses] == [5, 1]
        assert {s["InstanceState"]["Name"] for p in statuses for s in p["InstanceStatuses"]} == {
            "running"
        }

        ec2.stop_instances(InstanceIds=ids[:2])
        wait(ec2, "instance_stopped", InstanceIds=ids[:2])
        ec2.start_instances(InstanceIds=ids[:1])
        wait(ec2, "instance_running", InstanceIds=ids[:1])
    finally:
        ec2.terminate_instances(InstanceIds=ids)
    wait(ec2, "instance_terminated", InstanceIds=ids)
    with pytest.raises(WaiterError, match="failure state"):
        # instance_running fails at once on a terminated instance
        ec2.get_waiter("instance_running").wait(InstanceIds=ids[:1], WaiterConfig=FAST)


def test_volumes_and_snapshots(ec2: Any, image_id: str, zone: str) -> None:
    volume_ids = sorted(
        ec2.create_volume(
            AvailabilityZone=zone, Size=1, TagSpecifications=tagged("volume", suite="paging")
        )["VolumeId"]
        for _ in range(6)
    )
    wait(ec2, "volume_available", VolumeIds=volume_ids)
    found = pages(ec2, "describe_volumes", Filters=[{"Name": "tag:suite", "Values": ["paging"]}])
    assert [len(p["Volumes"]) for p in found] == [5, 1]
    assert sorted(v["VolumeId"] for p in found for v in p["Volumes"]) == volume_ids
    statuses = pages(ec2, "describe_volume_status")
    assert [len(p["VolumeStatuses"]) for p in statuses] == [5, 1]
    assert sorted(s["VolumeId"] for p in statuses for s in p["VolumeStatuses"]) == volume_ids

    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    try:
        wait(ec2, "instance_running", InstanceIds=[instance_id])
        ec2.attach_volume(VolumeId=volume_ids[0], InstanceId=instance_id, Device="/dev/sdf")
        wait(ec2, "volume_in_use", VolumeIds=volume_ids[:1])
        ec2.detach_volume(VolumeId=volume_ids[0])
        wait(ec2, "volume_available", VolumeIds=volume_ids[:1])
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])

    snapshot_ids = sorted(
        ec2.create_snapshot(
            VolumeId=volume_ids[i % 2],
            Description=f"paging {i}",
            TagSpecifications=tagged("snapshot", suite="paging"),
        )["SnapshotId"]
        for i in range(6)
    )
    wait(ec2, "snapshot_completed", SnapshotIds=snapshot_ids)
    found = pages(ec2, "describe_snapshots", OwnerIds=["self"])
    assert [len(p["Snapshots"]) for p in found] == [5, 1]
    assert sorted(s["SnapshotId"] for p in found for s in p["Snapshots"]) == snapshot_ids
    by_volume = pages(
        ec2, "describe_snapshots", Filters=[{"Name": "volume-id", "Values": volume_ids[:1]}]
    )
    assert sum(len(p["Snapshots"]) for p in by_volume) == 3

    for snapshot_id in snapshot_ids:
        ec2.delete_snapshot(SnapshotId=snapshot_id)
    for volume_id in volume_ids:
        ec2.delete_volume(VolumeId=volume_id)
    wait(ec2, "volume_deleted", VolumeIds=volume_ids)
    wait(ec2, "instance_terminated", InstanceIds=[instance_id])


def test_images(ec2: Any, image_id: str) -> None:
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    try:
        wait(ec2, "instance_running", InstanceIds=[instance_id])
        ec2.stop_instances(InstanceIds=[instance_id])
        wait(ec2, "instance_stopped", InstanceIds=[instance_id])
        first = ec2.create_image(InstanceId=instance_id, Name="paging-0")["ImageId"]
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])
    wait(ec2, "image_exists", ImageIds=[first])
    wait(ec2, "image_available", ImageIds=[first])
    copies = [
        ec2.copy_image(SourceImageId=first, SourceRegion=REGION, Name=f"paging-{i}")["ImageId"]
        for i in range(1, 6)
    ]
    image_ids = sorted([first, *copies])
    wait(ec2, "image_available", ImageIds=image_ids)
    found = pages(ec2, "describe_images", Owners=["self"])
    assert [len(p["Images"]) for p in found] == [5, 1]
    assert sorted(i["ImageId"] for p in found for i in p["Images"]) == image_ids
    by_name = pages(ec2, "describe_images", Filters=[{"Name": "name", "Values": ["paging-*"]}])
    assert sorted(i["Name"] for p in by_name for i in p["Images"]) == [
        f"paging-{i}" for i in range(6)
    ]
    for image in image_ids:
        ec2.deregister_image(ImageId=image)
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    wait(ec2, "instance_terminated", InstanceIds=[instance_id])


def test_security_groups_tags_and_key_pairs(ec2: Any) -> None:
    group_ids = sorted(
        ec2.create_security_group(
            GroupName=f"paging-{i}",
            Description="paging",
            TagSpecifications=tagged("security-group", suite="paging"),
        )["GroupId"]
        for i in range(6)
    )
    wait(ec2, "security_group_exists", GroupIds=group_ids)
    wait(ec2, "security_group_exists", GroupNames=["paging-5"])
    found = pages(
        ec2, "describe_security_groups", Filters=[{"Name": "group-name", "Values": ["paging-*"]}]
    )
    assert [len(p["SecurityGroups"]) for p in found] == [5, 1]
    assert sorted(g["GroupId"] for p in found for g in p["SecurityGroups"]) == group_ids

    ec2.authorize_security_group_ingress(
        GroupId=group_ids[0],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": c}]}
            for port in (22, 80, 443)
            for c in ("10.0.0.0/8", "192.168.0.0/16")
        ],
    )
    rules = pages(
        ec2,
        "describe_security_group_rules",
        Filters=[{"Name": "group-id", "Values": group_ids[:1]}],
    )
    ingress = [r for p in rules for r in p["SecurityGroupRules"] if not r["IsEgress"]]
    assert len(rules) >= 2
    assert sorted((r["FromPort"], r["CidrIpv4"]) for r in ingress) == sorted(
        (port, c) for port in (22, 80, 443) for c in ("10.0.0.0/8", "192.168.0.0/16")
    )
    tags = pages(
        ec2,
        "describe_tags",
        Filters=[
            {"Name": "key", "Values": ["suite"]},
            {"Name": "resource-type", "Values": ["security-group"]},
        ],
    )
    assert [len(p["Tags"]) for p in tags] == [5, 1]
    assert {t["ResourceType"] for p in tags for t in p["Tags"]} == {"security-group"}

    with pytest.raises(WaiterError):
        ec2.get_waiter("key_pair_exists").wait(
            KeyNames=["paging-key"], WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )
    ec2.create_key_pair(KeyName="paging-key")
    wait(ec2, "key_pair_exists", KeyNames=["paging-key"])
    ec2.delete_key_pair(KeyName="paging-key")
    for group_id in group_ids:
        ec2.delete_security_group(GroupId=group_id)
    with pytest.raises(ClientError) as raised:
        ec2.describe_security_groups(GroupIds=group_ids[:1])
    assert raised.value.response["Error"]["Code"] == "InvalidGroup.NotFound"


def test_vpcs_and_instance_types(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    wait(ec2, "vpc_exists", VpcIds=[vpc_id])
    wait(ec2, "vpc_available", VpcIds=[vpc_id])
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    wait(ec2, "subnet_available", SubnetIds=[subnet_id])
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)

    everything = ec2.describe_instance_types()["InstanceTypes"]
    found = pages(ec2, "describe_instance_types")
    assert len(found) > 2 and all(len(p["InstanceTypes"]) <= 5 for p in found)
    assert sorted(t["InstanceType"] for p in found for t in p["InstanceTypes"]) == sorted(
        t["InstanceType"] for t in everything
    )


def test_resources_api(server: ServerProcess, tenant: Keys, image_id: str, zone: str) -> None:
    ec2 = session(server, tenant).resource("ec2", endpoint_url=server.ec2_url)
    group = ec2.create_security_group(GroupName="resource-web", Description="via resources")
    group.authorize_ingress(IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    group.reload()
    assert [(p["IpProtocol"], p["FromPort"]) for p in group.ip_permissions] == [("tcp", 22)]
    (instance,) = ec2.create_instances(
        ImageId=image_id,
        InstanceType="t2.micro",
        MinCount=1,
        MaxCount=1,
        SecurityGroupIds=[group.id],
    )
    try:
        instance.wait_until_running(WaiterConfig=FAST)
        instance.reload()
        assert instance.state["Name"] == "running"
        assert instance.image_id == image_id
        assert [g["GroupName"] for g in instance.security_groups] == ["resource-web"]
        instance.create_tags(Tags=[{"Key": "Name", "Value": "resource-1"}])
        named = ec2.instances.filter(Filters=[{"Name": "tag:Name", "Values": ["resource-1"]}])
        assert [i.id for i in named] == [instance.id]
        assert instance.id in [i.id for i in ec2.instances.page_size(5).all()]

        volume = ec2.create_volume(AvailabilityZone=zone, Size=1)
        ec2.meta.client.get_waiter("volume_available").wait(
            VolumeIds=[volume.id], WaiterConfig=FAST
        )
        volume.attach_to_instance(InstanceId=instance.id, Device="/dev/sdg")
        ec2.meta.client.get_waiter("volume_in_use").wait(VolumeIds=[volume.id], WaiterConfig=FAST)
        volume.reload()
        assert [(a["InstanceId"], a["Device"]) for a in volume.attachments] == [
            (instance.id, "/dev/sdg")
        ]
        assert volume.id in [v.id for v in instance.volumes.all()]
        volume.detach_from_instance()
        ec2.meta.client.get_waiter("volume_available").wait(
            VolumeIds=[volume.id], WaiterConfig=FAST
        )
        volume.delete()
        amazon = list(ec2.images.filter(Owners=["amazon"]))
        assert image_id in [image.id for image in amazon]
        assert ec2.Image(image_id).state == "available"
    finally:
        instance.terminate()
    instance.wait_until_terminated(WaiterConfig=FAST)
    group.delete()
