"""Images through boto3 over HTTP: creating, registering, copying, sharing, deregistering."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, REGION, Keys, error_code, instance_ids
from tests.support.server import ServerProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_available(client: Any, image_id: str) -> dict[str, Any]:
    client.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=FAST_WAITER)
    return dict(client.describe_images(ImageIds=[image_id])["Images"][0])


def s3_client(server: ServerProcess, keys: Keys) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.s3_url,
        region_name=REGION,
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(autouse=True)
def deregister_afterwards(ec2: Any) -> Iterator[None]:
    """The admin's images are deregistered after each test: other tests expect none."""
    yield
    mine = {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    for image_id in mine:
        ec2.deregister_image(ImageId=image_id)


@pytest.fixture
def stopped_instance(ec2: Any, launch: Callable[..., dict[str, Any]]) -> str:
    [instance_id] = instance_ids(launch())
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    return instance_id


@pytest.fixture
def own_image(ec2: Any, stopped_instance: str) -> str:
    """An image of the admin's, made from a stopped instance and available."""
    image_id = ec2.create_image(InstanceId=stopped_instance, Name=unique("own"))["ImageId"]
    wait_available(ec2, image_id)
    return str(image_id)


# CreateImage -------------------------------------------------------------------------------


def test_create_image_from_a_stopped_instance(
    ec2: Any, stopped_instance: str, launch: Callable[..., dict[str, Any]]
) -> None:
    name = unique("web")
    image_id = ec2.create_image(
        InstanceId=stopped_instance,
        Name=name,
        Description="the web tier",
        NoReboot=True,
        TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "tier", "Value": "web"}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "ignored", "Value": "yes"}]},
        ],
    )["ImageId"]
    first = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert first["State"] in ("pending", "available")
    image = wait_available(ec2, image_id)
    assert image["Name"] == name
    assert image["Description"] == "the web tier"
    assert image["Tags"] == [{"Key": "tier", "Value": "web"}]
    assert image["Public"] is False
    assert "ImageOwnerAlias" not in image
    mine = ec2.describe_images(Owners=["self"])["Images"]
    assert image_id in [i["ImageId"] for i in mine]
    for name_, values in (("tag:tier", ["web"]), ("tag-key", ["tier"]), ("tag-value", ["w*"])):
        found = ec2.describe_images(Owners=["self"], Filters=[{"Name": name_, "Values": values}])
        assert [i["ImageId"] for i in found["Images"]] == [image_id], name_
    # and it launches
    [instance] = launch(ImageId=image_id)["Instances"]
    assert instance["ImageId"] == image_id
    with pytest.raises(ClientError) as raised:
        ec2.create_image(InstanceId=stopped_instance, Name=name)
    assert error_code(raised) == "InvalidAMIName.Duplicate"


def reboots(cloudstack_admin: CloudStack, vm_uuid: str) -> int:
    """How many reboots of the VM the core has queued (CloudStack's async jobs)."""
    jobs = cloudstack_admin.listAsyncJobs().get("asyncjobs", [])
    return sum(
        1 for j in jobs if j["cmd"].endswith("RebootVMCmd") and j.get("jobinstanceid") == vm_uuid
    )


def test_create_image_of_a_running_instance(
    ec2: Any, cloudstack_admin: CloudStack, launch: Callable[..., dict[str, Any]]
) -> None:
    [instance] = launch()["Instances"]
    instance_id = instance["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    [vm] = [
        v
        for v in cloudstack_admin.listVirtualMachines(listall=True)["virtualmachine"]
        if v["nic"][0]["ipaddress"] == instance["PrivateIpAddress"] and v["account"] == "admin"
    ]
    quiet = ec2.create_image(InstanceId=instance_id, Name=unique("hot"), NoReboot=True)
    assert wait_available(ec2, quiet["ImageId"])["State"] == "available"
    assert reboots(cloudstack_admin, vm["id"]) == 0
    rebooted = ec2.create_image(InstanceId=instance_id, Name=unique("hot"))
    try:
        assert wait_available(ec2, rebooted["ImageId"])["State"] == "available"
        assert reboots(cloudstack_admin, vm["id"]) == 1
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
        # the image launches like any other
        [copy] = launch(ImageId=rebooted["ImageId"])["Instances"]
        assert copy["ImageId"] == rebooted["ImageId"]
    finally:
        for image in (quiet, rebooted):
            ec2.deregister_image(ImageId=image["ImageId"])


def test_create_image_errors(ec2: Any, launch: Callable[..., dict[str, Any]]) -> None:
    [instance_id] = instance_ids(launch())
    ec2.terminate_instances(InstanceIds=[instance_id])
    with pytest.raises(ClientError) as raised:
        ec2.create_image(InstanceId=instance_id, Name=unique("gone"))
    assert error_code(raised) == "IncorrectInstanceState"
    assert ec2.describe_images(Filters=[{"Name": "name", "Values": ["gone-*"]}])["Images"] == []
    with pytest.raises(ClientError) as raised:
        ec2.create_image(InstanceId="i-0123456789abcdef0", Name=unique("ghost"))
    assert error_code(raised) == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.create_image(InstanceId=instance_id, Name="bad*name!")
    assert error_code(raised) == "InvalidParameterValue"


def test_another_account_cannot_image_my_instance(ec2_other: Any, stopped_instance: str) -> None:
    with pytest.raises(ClientError) as raised:
        ec2_other.create_image(InstanceId=stopped_instance, Name=unique("theft"))
    assert error_code(raised) == "InvalidInstanceID.NotFound"


# RegisterImage -----------------------------------------------------------------------------


def test_register_image_from_a_snapshot(ec2: Any) -> None:
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    volume_id = ec2.create_volume(AvailabilityZone=zone, Size=1)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST_WAITER)
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=FAST_WAITER)
    image_id = ec2.register_image(
        Name=unique("from-snap"),
        RootDeviceName="/dev/sda1",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snapshot_id}}],
        VirtualizationType="hvm",
        Architecture="x86_64",
    )["ImageId"]
    image = wait_available(ec2, image_id)
    assert image["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 1
    with pytest.raises(ClientError) as raised:
        ec2.register_image(
            Name=unique("no-snap"),
            BlockDeviceMappings=[
                {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}}
            ],
        )
    assert error_code(raised) == "InvalidSnapshot.NotFound"
    ec2.deregister_image(ImageId=image_id)
    ec2.delete_snapshot(SnapshotId=snapshot_id)
    ec2.delete_volume(VolumeId=volume_id)


def test_register_image_from_an_s3_object(
    ec2: Any, ec2_other: Any, server: ServerProcess, admin_keys: Keys
) -> None:
    s3 = s3_client(server, admin_keys)
    bucket = unique("images")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="disks/base.qcow2", Body=b"QFI\xfb" + b"\0" * 4096)
    image_id = ec2.register_image(
        Name=unique("from-s3"), ImageLocation=f"{bucket}/disks/base.qcow2"
    )["ImageId"]
    image = wait_available(ec2, image_id)
    assert image["ImageLocation"] == f"{bucket}/disks/base.qcow2"
    # the bucket is the admin's: another account may not register from it
    with pytest.raises(ClientError) as raised:
        ec2_other.register_image(Name=unique("stolen"), ImageLocation=f"{bucket}/disks/base.qcow2")
    assert error_code(raised) == "UnauthorizedOperation"
    with pytest.raises(ClientError) as raised:
        ec2.register_image(Name=unique("missing"), ImageLocation=f"{bucket}/nothing.raw")
    assert error_code(raised) == "InvalidParameterValue"
    with pytest.raises(ClientError) as raised:
        ec2.register_image(Name=unique("nowhere"))
    assert error_code(raised) == "MissingParameter"


# CopyImage ---------------------------------------------------------------------------------


def test_copy_image_makes_a_new_image(ec2: Any, own_image: str, image_id: str) -> None:
    ec2.create_tags(Resources=[own_image], Tags=[{"Key": "team", "Value": "red"}])
    copy_id = ec2.copy_image(
        SourceImageId=own_image, SourceRegion=REGION, Name=unique("copy"), CopyImageTags=True
    )["ImageId"]
    assert copy_id != own_image
    copy = wait_available(ec2, copy_id)
    assert copy["Tags"] == [{"Key": "team", "Value": "red"}]
    # the Amazon image (held as is, without a stored image) can be copied too
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    amazon_copy = ec2.copy_image(
        SourceImageId=image_id,
        SourceRegion=REGION,
        Name=unique("centos"),
        DestinationAvailabilityZone=zone,
    )["ImageId"]
    copied = wait_available(ec2, amazon_copy)
    assert copied["OwnerId"] == copy["OwnerId"]
    assert "ImageOwnerAlias" not in copied
    with pytest.raises(ClientError) as raised:
        ec2.copy_image(SourceImageId=own_image, SourceRegion="us-east-1", Name=unique("far"))
    assert error_code(raised) == "InvalidParameterValue"


# sharing -----------------------------------------------------------------------------------


def test_launch_permissions_share_with_an_account_and_the_public(
    ec2: Any, ec2_other: Any, own_image: str
) -> None:
    other_account = ec2_other.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0][
        "OwnerId"
    ]
    with pytest.raises(ClientError) as raised:
        ec2_other.describe_images(ImageIds=[own_image])
    assert error_code(raised) == "InvalidAMIID.NotFound"

    ec2.modify_image_attribute(
        ImageId=own_image, LaunchPermission={"Add": [{"UserId": other_account}]}
    )
    permissions = ec2.describe_image_attribute(ImageId=own_image, Attribute="launchPermission")
    assert permissions["LaunchPermissions"] == [{"UserId": other_account}]
    shared = ec2_other.describe_images(ExecutableUsers=["self"])["Images"]
    assert own_image in [i["ImageId"] for i in shared]
    assert ec2_other.describe_images(ImageIds=[own_image])["Images"][0]["Public"] is False
    # the other account sees it but may not change or deregister it
    with pytest.raises(ClientError) as raised:
        ec2_other.modify_image_attribute(
            ImageId=own_image, LaunchPermission={"Add": [{"Group": "all"}]}
        )
    assert error_code(raised) == "AuthFailure"
    with pytest.raises(ClientError) as raised:
        ec2_other.deregister_image(ImageId=own_image)
    assert error_code(raised) == "AuthFailure"

    ec2.modify_image_attribute(
        ImageId=own_image,
        Attribute="launchPermission",
        OperationType="remove",
        UserIds=[other_account],
    )
    with pytest.raises(ClientError) as raised:
        ec2_other.describe_images(ImageIds=[own_image])
    assert error_code(raised) == "InvalidAMIID.NotFound"

    ec2.modify_image_attribute(ImageId=own_image, LaunchPermission={"Add": [{"Group": "all"}]})
    public = ec2_other.describe_images(
        ExecutableUsers=["all"], Filters=[{"Name": "is-public", "Values": ["true"]}]
    )["Images"]
    assert own_image in [i["ImageId"] for i in public]
    permissions = ec2.describe_image_attribute(ImageId=own_image, Attribute="launchPermission")
    assert permissions["LaunchPermissions"] == [{"Group": "all"}]
    ec2.modify_image_attribute(ImageId=own_image, LaunchPermission={"Remove": [{"Group": "all"}]})
    assert ec2.describe_images(ImageIds=[own_image])["Images"][0]["Public"] is False
    with pytest.raises(ClientError) as raised:
        ec2.modify_image_attribute(
            ImageId=own_image, LaunchPermission={"Add": [{"UserId": "12345"}]}
        )
    assert error_code(raised) == "InvalidAMIAttributeItemValue"


def test_boot_mode_and_product_codes_are_shown(ec2: Any, image_id: str) -> None:
    """As AWS shows them on every image: the boot mode DescribeImageAttribute also gives (and
    every instance type supports), and no Marketplace product codes."""
    [image] = ec2.describe_images(ImageIds=[image_id])["Images"]
    assert image["BootMode"] == "legacy-bios"
    assert image["ProductCodes"] == []
    attribute = ec2.describe_image_attribute(ImageId=image_id, Attribute="bootMode")
    assert attribute["BootMode"] == {"Value": image["BootMode"]}


def test_image_description_attribute(ec2: Any, own_image: str) -> None:
    ec2.modify_image_attribute(ImageId=own_image, Description={"Value": "golden"})
    answer = ec2.describe_image_attribute(ImageId=own_image, Attribute="description")
    assert answer["Description"] == {"Value": "golden"}
    assert ec2.describe_images(ImageIds=[own_image])["Images"][0]["Description"] == "golden"
    mapping = ec2.describe_image_attribute(ImageId=own_image, Attribute="blockDeviceMapping")
    assert mapping["BlockDeviceMappings"][0]["DeviceName"] == "/dev/sda1"
    with pytest.raises(ClientError) as raised:
        ec2.describe_image_attribute(ImageId=own_image, Attribute="colour")
    assert error_code(raised) == "InvalidParameterValue"


# DeregisterImage and listing ---------------------------------------------------------------


def test_deregister_image(ec2: Any, own_image: str) -> None:
    assert ec2.deregister_image(ImageId=own_image)["Return"] is True
    with pytest.raises(ClientError) as raised:
        ec2.describe_images(ImageIds=[own_image])
    assert error_code(raised) == "InvalidAMIID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.deregister_image(ImageId=own_image)
    assert error_code(raised) == "InvalidAMIID.NotFound"


def test_describe_images_pages_and_executable_users(ec2: Any, own_image: str) -> None:
    everything = [i["ImageId"] for i in ec2.describe_images()["Images"]]
    assert own_image in everything
    pages = list(ec2.get_paginator("describe_images").paginate(PaginationConfig={"PageSize": 5}))
    assert [i["ImageId"] for p in pages for i in p["Images"]] == everything
    first = ec2.describe_images(MaxResults=5)
    assert len(first["Images"]) == min(5, len(everything))
    mine = ec2.describe_images(Owners=["self"])["Images"]
    owner = mine[0]["OwnerId"]
    assert [i["ImageId"] for i in ec2.describe_images(Owners=[owner])["Images"]] == [
        i["ImageId"] for i in mine
    ]
    assert ec2.describe_images(ExecutableUsers=["self"], Owners=["self"])["Images"] == []
    with pytest.raises(ClientError) as raised:
        ec2.describe_images(ExecutableUsers=["someone"])
    assert error_code(raised) == "InvalidParameterValue"


def test_image_made_in_ec2_is_a_cloudstack_template(
    ec2: Any, own_image: str, cloudstack_admin: CloudStack
) -> None:
    image = ec2.describe_images(ImageIds=[own_image])["Images"][0]
    templates = cloudstack_admin.listTemplates(templatefilter="self", name=image["Name"])[
        "template"
    ]
    assert [t["isready"] for t in templates] == [True]
    # changed through CloudStack, seen through EC2
    cloudstack_admin.updateTemplate(id=templates[0]["id"], displaytext="from cloudstack")
    assert ec2.describe_images(ImageIds=[own_image])["Images"][0]["Description"] == (
        "from cloudstack"
    )
