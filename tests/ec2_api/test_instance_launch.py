"""RunInstances with what AWS scripts pass: key pair, security groups, user data, block-device
mappings, tags, protection — and how DescribeInstances (and CloudStack) show them after."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, error_code, instance_ids

Launch = Callable[..., dict[str, Any]]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def described(ec2: Any, instance_id: str) -> dict[str, Any]:
    [reservation] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    [instance] = reservation["Instances"]
    return dict(instance)


def test_key_pair_security_groups_and_user_data(ec2: Any, launch: Launch) -> None:
    key_name = unique("launch-key")
    ec2.create_key_pair(KeyName=key_name)
    web = ec2.create_security_group(GroupName=unique("web"), Description="web")["GroupId"]
    db_name = unique("db")
    ec2.create_security_group(GroupName=db_name, Description="db")
    reservation = launch(
        KeyName=key_name,
        SecurityGroupIds=[web],
        SecurityGroups=[db_name],
        UserData="#cloud-config\nruncmd: [echo hi]\n",
    )
    [instance] = reservation["Instances"]
    assert instance["KeyName"] == key_name
    groups = {group["GroupName"]: group["GroupId"] for group in instance["SecurityGroups"]}
    assert set(groups) == {db_name, next(n for n, i in groups.items() if i == web)}
    assert groups[db_name].startswith("sg-")

    [found] = ec2.describe_instances(Filters=[{"Name": "instance.group-id", "Values": [web]}])[
        "Reservations"
    ]
    assert instance_ids(found) == [instance["InstanceId"]]
    by_name = ec2.describe_instances(Filters=[{"Name": "group-name", "Values": [db_name]}])
    assert [i["InstanceId"] for r in by_name["Reservations"] for i in r["Instances"]] == [
        instance["InstanceId"]
    ]
    by_key = ec2.describe_instances(Filters=[{"Name": "key-name", "Values": [key_name]}])
    assert len(by_key["Reservations"]) == 1

    user_data = ec2.describe_instance_attribute(
        InstanceId=instance["InstanceId"], Attribute="userData"
    )["UserData"]["Value"]
    assert base64.b64decode(user_data).decode() == "#cloud-config\nruncmd: [echo hi]\n"


def test_default_security_group_when_none_named(ec2: Any, launch: Launch) -> None:
    [instance] = launch()["Instances"]
    [group] = instance["SecurityGroups"]
    assert group["GroupName"] == "default"
    [default] = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]
    assert group["GroupId"] == default["GroupId"]


def test_unknown_key_pair_and_groups(ec2: Any, image_id: str) -> None:
    base = {"ImageId": image_id, "MinCount": 1, "MaxCount": 1}
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(**base, KeyName="no-such-key")
    assert error_code(raised) == "InvalidKeyPair.NotFound"
    assert raised.value.response["Error"]["Message"] == "The key pair 'no-such-key' does not exist"
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(**base, SecurityGroupIds=["sg-0123456789abcdef0"])
    assert error_code(raised) == "InvalidGroup.NotFound"
    assert "sg-0123456789abcdef0" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(**base, SecurityGroups=["no-such-group"])
    assert error_code(raised) == "InvalidGroup.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(**base, SecurityGroupIds=["sg-bogus"])
    assert error_code(raised) == "InvalidGroupId.Malformed"


def test_block_device_mappings_make_volumes(ec2: Any, launch: Launch) -> None:
    reservation = launch(
        BlockDeviceMappings=[
            {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 12}},
            {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 3, "VolumeType": "gp3"}},
            {"DeviceName": "/dev/sdg", "Ebs": {"VolumeSize": 4, "DeleteOnTermination": False}},
        ],
    )
    instance_id = instance_ids(reservation)[0]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    mappings = {
        m["DeviceName"]: m["Ebs"] for m in described(ec2, instance_id)["BlockDeviceMappings"]
    }
    assert set(mappings) == {"/dev/sda1", "/dev/sdf", "/dev/sdg"}
    assert [mappings[d]["DeleteOnTermination"] for d in ("/dev/sda1", "/dev/sdf", "/dev/sdg")] == [
        True,
        True,
        False,
    ]
    volumes = {
        v["VolumeId"]: v
        for v in ec2.describe_volumes(VolumeIds=[m["VolumeId"] for m in mappings.values()])[
            "Volumes"
        ]
    }
    sizes = {d: volumes[m["VolumeId"]]["Size"] for d, m in mappings.items()}
    assert sizes == {"/dev/sda1": 12, "/dev/sdf": 3, "/dev/sdg": 4}
    assert volumes[mappings["/dev/sdf"]["VolumeId"]]["VolumeType"] == "gp3"
    for volume in volumes.values():
        assert volume["Attachments"][0]["InstanceId"] == instance_id
    kept = mappings["/dev/sdg"]["VolumeId"]
    by_volume = ec2.describe_instances(
        Filters=[{"Name": "block-device-mapping.volume-id", "Values": [kept]}]
    )["Reservations"]
    assert instance_ids(by_volume[0]) == [instance_id]

    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    # The volume launched with DeleteOnTermination=false outlives its instance, detached.
    [left] = ec2.describe_volumes(VolumeIds=[kept])["Volumes"]
    assert left["State"] == "available" and left["Attachments"] == []
    gone = mappings["/dev/sdf"]["VolumeId"]
    remaining = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [gone]}])
    assert [v["State"] for v in remaining["Volumes"]] in ([], ["deleting"], ["deleted"])
    ec2.delete_volume(VolumeId=kept)


def test_block_device_mapping_errors(ec2: Any, image_id: str) -> None:
    base = {"ImageId": image_id, "MinCount": 1, "MaxCount": 1}
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 1}}], "InvalidBlockDeviceMapping"),
        ([{"DeviceName": "/dev/sdf", "Ebs": {"VolumeType": "gp2"}}], "MissingParameter"),
        ([{"DeviceName": "floppy", "Ebs": {"VolumeSize": 1}}], "InvalidBlockDeviceMapping"),
        (
            [
                {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 1}},
                {"DeviceName": "/dev/xvdf", "Ebs": {"VolumeSize": 1}},
            ],
            "InvalidBlockDeviceMapping",
        ),
    ]
    before = ec2.describe_volumes()["Volumes"]
    for mappings, code in cases:
        with pytest.raises(ClientError) as raised:
            ec2.run_instances(**base, BlockDeviceMappings=mappings)
        assert error_code(raised) == code, mappings
    assert ec2.describe_volumes()["Volumes"] == before  # nothing half-made


def test_tag_specifications_tag_instances_and_volumes(ec2: Any, launch: Launch) -> None:
    name = unique("tagged")
    reservation = launch(
        MinCount=2,
        MaxCount=2,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]},
            {"ResourceType": "volume", "Tags": [{"Key": "Owner", "Value": "ops"}]},
        ],
    )
    ids = instance_ids(reservation)
    for instance in reservation["Instances"]:
        assert instance["Tags"] == [{"Key": "Name", "Value": name}]
    found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
    assert sorted(i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]) == sorted(
        ids
    )
    keyed = ec2.describe_instances(
        Filters=[{"Name": "tag-key", "Values": ["Name"]}, {"Name": "tag-value", "Values": [name]}]
    )
    assert sum(len(r["Instances"]) for r in keyed["Reservations"]) == 2
    assert (
        ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["x" + name]}])[
            "Reservations"
        ]
        == []
    )
    root_ids = [m["Ebs"]["VolumeId"] for i in ids for m in described(ec2, i)["BlockDeviceMappings"]]
    volumes = ec2.describe_volumes(VolumeIds=root_ids)["Volumes"]
    assert [v["Tags"] for v in volumes] == [[{"Key": "Owner", "Value": "ops"}]] * 2
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ids[0]]}])["Tags"]
    assert [(t["Key"], t["Value"], t["ResourceType"]) for t in tags] == [("Name", name, "instance")]


def test_tag_specification_for_another_type_is_refused(ec2: Any, image_id: str) -> None:
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(
            ImageId=image_id,
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "a", "Value": "b"}]}],
        )
    assert error_code(raised) == "InvalidParameterValue"


def test_ec2_launch_is_the_cloudstack_vm(
    ec2: Any, cloudstack_admin: CloudStack, launch: Launch
) -> None:
    group_name = unique("seen")
    ec2.create_security_group(GroupName=group_name, Description="seen from both sides")
    key_name = unique("seen-key")
    ec2.create_key_pair(KeyName=key_name)
    reservation = launch(
        KeyName=key_name,
        SecurityGroups=[group_name],
        UserData="hello",
        BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 2}}],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "t"}]}],
    )
    [instance] = reservation["Instances"]
    vms = cloudstack_admin.listVirtualMachines(listall=True, keypair=key_name)["virtualmachine"]
    [vm] = vms
    assert vm["nic"][0]["ipaddress"] == instance["PrivateIpAddress"]
    assert [g["name"] for g in vm["securitygroup"]] == [group_name]
    assert {(t["key"], t["value"]) for t in vm["tags"]} == {("env", "t")}
    userdata = cloudstack_admin.getVirtualMachineUserData(virtualmachineid=vm["id"])
    assert base64.b64decode(userdata["virtualmachineuserdata"]["userdata"]) == b"hello"
    disks = cloudstack_admin.listVolumes(virtualmachineid=vm["id"], listall=True)["volume"]
    assert sorted((d["type"], d["size"] // 1024**3) for d in disks)[0] == ("DATADISK", 2)


def test_other_accounts_cannot_use_my_groups_or_see_my_instances(
    ec2: Any, ec2_other: Any, launch: Launch
) -> None:
    mine = ec2.create_security_group(GroupName=unique("private"), Description="mine")["GroupId"]
    name = unique("isolated")
    reservation = launch(
        SecurityGroupIds=[mine],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
    )
    instance_id = instance_ids(reservation)[0]
    with pytest.raises(ClientError) as raised:
        ec2_other.run_instances(
            ImageId=reservation["Instances"][0]["ImageId"],
            MinCount=1,
            MaxCount=1,
            SecurityGroupIds=[mine],
        )
    assert error_code(raised) == "InvalidGroup.NotFound"
    assert (
        ec2_other.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])[
            "Reservations"
        ]
        == []
    )
    for call in (
        lambda: ec2_other.describe_instance_attribute(InstanceId=instance_id, Attribute="userData"),
        lambda: ec2_other.modify_instance_attribute(
            InstanceId=instance_id, DisableApiTermination={"Value": True}
        ),
        lambda: ec2_other.get_console_output(InstanceId=instance_id),
        lambda: ec2_other.get_password_data(InstanceId=instance_id),
        lambda: ec2_other.describe_instance_status(InstanceIds=[instance_id]),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_code(raised) == "InvalidInstanceID.NotFound"
