"""EBS volumes through boto3 over real HTTP: lifecycle, attachments, errors, filters, paging,
waiters, modification, one core with the CloudStack API, tenant isolation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import (
    FAST_WAITER,
    Keys,
    cloudstack_client,
    ec2_client,
    instance_ids,
)
from tests.support.server import ServerProcess

NOT_OURS = "vol-0123456789abcdef0"


@pytest.fixture(scope="module")
def zone(ec2: Any) -> str:
    return str(ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"])


@pytest.fixture
def volumes(ec2: Any, zone: str) -> Iterator[Callable[..., dict[str, Any]]]:
    """CreateVolume (admin by default, `client=` for another); deleted at teardown."""
    made: list[tuple[Any, str]] = []

    def create(client: Any = None, **params: Any) -> dict[str, Any]:
        client = client or ec2
        params.setdefault("AvailabilityZone", zone)
        if "SnapshotId" not in params:
            params.setdefault("Size", 1)
        volume = client.create_volume(**params)
        made.append((client, volume["VolumeId"]))
        return dict(volume)

    yield create
    for client, volume_id in made:
        try:
            volume = client.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
            if volume["Attachments"]:
                client.detach_volume(VolumeId=volume_id)
                client.get_waiter("volume_available").wait(
                    VolumeIds=[volume_id], WaiterConfig=FAST_WAITER
                )
            client.delete_volume(VolumeId=volume_id)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidVolume.NotFound"


def error_of(call: Callable[..., Any], **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def wait_available(client: Any, *volume_ids: str) -> None:
    client.get_waiter("volume_available").wait(VolumeIds=list(volume_ids), WaiterConfig=FAST_WAITER)


def attachments_when_settled(client: Any, volume_id: str) -> list[dict[str, Any]]:
    """The volume's attachments once none is attaching (in-use comes first, as on AWS)."""
    for _ in range(100):
        [volume] = client.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        if all(a["State"] != "attaching" for a in volume["Attachments"]):
            break
        time.sleep(0.2)
    return list(volume["Attachments"])


def running_instance(client: Any, launch: Callable[..., dict[str, Any]], **params: Any) -> str:
    [instance_id] = instance_ids(launch(client=client, **params))
    client.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    return instance_id


def test_create_describe_delete(ec2: Any, zone: str, volumes: Callable[..., Any]) -> None:
    created = volumes(
        Size=3,
        VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "data"}]}],
    )
    volume_id = created["VolumeId"]
    assert volume_id.startswith("vol-") and len(volume_id) == 21
    assert created["State"] in ("creating", "available")
    assert created["Size"] == 3 and created["AvailabilityZone"] == zone
    assert created["Tags"] == [{"Key": "Name", "Value": "data"}]
    wait_available(ec2, volume_id)

    [volume] = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    assert volume["State"] == "available"
    assert volume["VolumeType"] == "gp3"
    assert (volume["Iops"], volume["Throughput"]) == (3000, 125)
    assert volume["Attachments"] == [] and volume["SnapshotId"] == ""
    assert volume["Encrypted"] is False
    assert volume["Tags"] == [{"Key": "Name", "Value": "data"}]

    ec2.delete_volume(VolumeId=volume_id)
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[volume_id], WaiterConfig=FAST_WAITER)
    assert error_of(ec2.describe_volumes, VolumeIds=[volume_id]) == (
        "InvalidVolume.NotFound",
        f"The volume '{volume_id}' does not exist.",
    )


def test_volume_types_and_their_performance(ec2: Any, volumes: Callable[..., Any]) -> None:
    gp2 = volumes(Size=50)  # no VolumeType: gp2, 3 IOPS per GiB (at least 100)
    io1 = volumes(Size=10, VolumeType="io1", Iops=500)
    standard = volumes(Size=2, VolumeType="standard")
    found = {
        v["VolumeId"]: v
        for v in ec2.describe_volumes(
            VolumeIds=[gp2["VolumeId"], io1["VolumeId"], standard["VolumeId"]]
        )["Volumes"]
    }
    assert (found[gp2["VolumeId"]]["VolumeType"], found[gp2["VolumeId"]]["Iops"]) == ("gp2", 150)
    assert (found[io1["VolumeId"]]["VolumeType"], found[io1["VolumeId"]]["Iops"]) == ("io1", 500)
    assert found[standard["VolumeId"]]["VolumeType"] == "standard"
    assert "Iops" not in found[standard["VolumeId"]]


def test_create_errors(ec2: Any, zone: str) -> None:
    assert error_of(ec2.create_volume, Size=1)[0] == "MissingParameter"
    assert error_of(ec2.create_volume, AvailabilityZone=zone)[0] == "MissingParameter"
    assert error_of(ec2.create_volume, AvailabilityZone="nowhere-1z", Size=1) == (
        "InvalidParameterValue",
        "Invalid availability zone: [nowhere-1z]",
    )
    io1 = {"AvailabilityZone": zone, "Size": 10, "VolumeType": "io1"}
    assert error_of(ec2.create_volume, **io1)[0] == "MissingParameter"
    code, message = error_of(ec2.create_volume, AvailabilityZone=zone, Size=1, Iops=300)
    assert code == "InvalidParameterValue" and "iops" in message
    st1 = {"AvailabilityZone": zone, "Size": 10, "VolumeType": "st1"}
    assert error_of(ec2.create_volume, **st1) == (
        "InvalidParameterValue",
        "Volume of 10GiB is too small; minimum is 125GiB.",
    )
    code, _ = error_of(ec2.create_volume, AvailabilityZone=zone, Size=1, VolumeType="gp9")
    assert code == "InvalidParameterValue"
    assert error_of(ec2.create_volume, AvailabilityZone=zone, SnapshotId="snap-0123456789abcdef0")[
        0
    ] == ("InvalidSnapshot.NotFound")


def test_unknown_and_malformed_ids(ec2: Any) -> None:
    assert error_of(ec2.describe_volumes, VolumeIds=[NOT_OURS]) == (
        "InvalidVolume.NotFound",
        f"The volume '{NOT_OURS}' does not exist.",
    )
    assert error_of(ec2.describe_volumes, VolumeIds=["vol-nothex"])[0] == (
        "InvalidVolumeID.Malformed"
    )
    assert error_of(ec2.delete_volume, VolumeId=NOT_OURS)[0] == "InvalidVolume.NotFound"
    assert error_of(ec2.describe_volumes, Filters=[{"Name": "color", "Values": ["x"]}])[0] == (
        "InvalidParameterValue"
    )


def test_client_token_makes_create_idempotent(ec2: Any, volumes: Callable[..., Any]) -> None:
    token = str(uuid.uuid4())
    first = volumes(Size=2, ClientToken=token)
    again = volumes(Size=2, ClientToken=token)
    assert again["VolumeId"] == first["VolumeId"]
    code, _ = error_of(ec2.create_volume, AvailabilityZone=first["AvailabilityZone"], Size=3,
                       ClientToken=token)  # fmt: skip
    assert code == "IdempotentParameterMismatch"


def test_attach_detach_lifecycle(
    ec2: Any, volumes: Callable[..., Any], launch: Callable[..., dict[str, Any]]
) -> None:
    instance_id = running_instance(ec2, launch)
    volume_id = volumes(Size=2)["VolumeId"]
    spare_id = volumes(Size=2)["VolumeId"]
    wait_available(ec2, volume_id, spare_id)

    attached = ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdf")
    assert (attached["State"], attached["Device"]) == ("attaching", "/dev/sdf")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST_WAITER)
    [attachment] = attachments_when_settled(ec2, volume_id)
    assert attachment["InstanceId"] == instance_id
    assert (attachment["Device"], attachment["State"]) == ("/dev/sdf", "attached")
    assert attachment["DeleteOnTermination"] is False and "AttachTime" in attachment

    by = {
        "attachment.instance-id": instance_id,
        "attachment.device": "/dev/sdf",
        "attachment.status": "attached",
        "status": "in-use",
    }
    for name, value in by.items():
        found = ec2.describe_volumes(Filters=[{"Name": name, "Values": [value]}])["Volumes"]
        assert volume_id in {v["VolumeId"] for v in found}, name
        assert spare_id not in {v["VolumeId"] for v in found}, name

    assert error_of(ec2.delete_volume, VolumeId=volume_id) == (
        "VolumeInUse",
        f"Volume {volume_id} is currently attached to {instance_id}",
    )
    again = {"VolumeId": volume_id, "InstanceId": instance_id, "Device": "/dev/sdg"}
    assert error_of(ec2.attach_volume, **again)[0] == "VolumeInUse"
    taken = {"VolumeId": spare_id, "InstanceId": instance_id, "Device": "/dev/xvdf"}
    assert error_of(ec2.attach_volume, **taken) == (
        "InvalidParameterValue",
        "Invalid value '/dev/xvdf' for unixDevice. Attachment point /dev/xvdf is already in use",
    )
    bad = {"VolumeId": spare_id, "InstanceId": instance_id, "Device": "/dev/floppy"}
    assert error_of(ec2.attach_volume, **bad)[0] == "InvalidParameterValue"
    nowhere = {"VolumeId": spare_id, "InstanceId": "i-0123456789abcdef0", "Device": "/dev/sdh"}
    assert error_of(ec2.attach_volume, **nowhere)[0] == "InvalidInstanceID.NotFound"

    detached = ec2.detach_volume(VolumeId=volume_id, InstanceId=instance_id, Force=True)
    assert (detached["State"], detached["InstanceId"]) == ("detaching", instance_id)
    wait_available(ec2, volume_id)
    assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Attachments"] == []
    assert error_of(ec2.detach_volume, VolumeId=volume_id) == (
        "IncorrectState",
        f"Volume '{volume_id}' is in the 'available' state.",
    )
    # xvd names work as well, and are echoed as given
    ec2.attach_volume(VolumeId=spare_id, InstanceId=instance_id, Device="xvdh")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[spare_id], WaiterConfig=FAST_WAITER)
    [spare] = attachments_when_settled(ec2, spare_id)
    assert (spare["Device"], spare["State"]) == ("xvdh", "attached")


def test_root_volume_is_listed_and_stays(ec2: Any, launch: Callable[..., dict[str, Any]]) -> None:
    instance_id = running_instance(ec2, launch)
    [root] = ec2.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}]
    )["Volumes"]
    [attachment] = root["Attachments"]
    assert (attachment["Device"], attachment["DeleteOnTermination"]) == ("/dev/sda1", True)
    assert root["State"] == "in-use"
    assert error_of(ec2.detach_volume, VolumeId=root["VolumeId"])[0] == "OperationNotPermitted"


def test_modify_volume_grows_it(ec2: Any, volumes: Callable[..., Any]) -> None:
    volume_id = volumes(Size=2)["VolumeId"]
    wait_available(ec2, volume_id)
    modification = ec2.modify_volume(VolumeId=volume_id, Size=4, VolumeType="gp3")[
        "VolumeModification"
    ]
    assert (modification["OriginalSize"], modification["TargetSize"]) == (2, 4)
    assert (modification["OriginalVolumeType"], modification["TargetVolumeType"]) == ("gp2", "gp3")
    assert modification["ModificationState"] in ("modifying", "completed")
    for _ in range(60):
        [shown] = ec2.describe_volumes_modifications(VolumeIds=[volume_id])["VolumesModifications"]
        if shown["ModificationState"] == "completed":
            break
        time.sleep(0.5)
    assert shown["ModificationState"] == "completed" and shown["Progress"] == 100
    [volume] = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    assert (volume["Size"], volume["VolumeType"]) == (4, "gp3")
    code, message = error_of(ec2.modify_volume, VolumeId=volume_id, Size=3)
    assert code == "InvalidParameterValue" and "smaller" in message
    completed = ec2.describe_volumes_modifications(
        Filters=[{"Name": "modification-state", "Values": ["completed"]}]
    )["VolumesModifications"]
    assert volume_id in {m["VolumeId"] for m in completed}


def test_paging_and_the_paginator(ec2: Any, volumes: Callable[..., Any]) -> None:
    batch = str(uuid.uuid4())
    tag = [{"ResourceType": "volume", "Tags": [{"Key": "batch", "Value": batch}]}]
    made = {volumes(TagSpecifications=tag)["VolumeId"] for _ in range(6)}
    by_tag = [{"Name": "tag:batch", "Values": [batch]}]
    pages = list(
        ec2.get_paginator("describe_volumes").paginate(
            Filters=by_tag, PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(p["Volumes"]) for p in pages] == [5, 1]
    assert {v["VolumeId"] for p in pages for v in p["Volumes"]} == made
    assert {v["VolumeId"] for v in ec2.describe_volumes(Filters=by_tag)["Volumes"]} == made
    key_only = ec2.describe_volumes(Filters=[{"Name": "tag-value", "Values": [batch]}])
    assert len(key_only["Volumes"]) == 6
    assert error_of(ec2.describe_volumes, MaxResults=2)[0] == "InvalidParameterValue"
    assert error_of(ec2.describe_volumes, VolumeIds=sorted(made), MaxResults=5)[0] == (
        "InvalidParameterCombination"
    )


def test_status_and_attribute(ec2: Any, volumes: Callable[..., Any]) -> None:
    volume_id = volumes()["VolumeId"]
    [status] = ec2.describe_volume_status(VolumeIds=[volume_id])["VolumeStatuses"]
    refused = error_of(ec2.describe_volume_status, VolumeIds=[volume_id], MaxResults=5)
    assert refused[0] == "InvalidParameterCombination"
    assert status["VolumeStatus"]["Status"] == "ok"
    assert {"Name": "io-enabled", "Status": "passed"} in status["VolumeStatus"]["Details"]
    filtered = ec2.describe_volume_status(
        Filters=[{"Name": "volume-status.status", "Values": ["impaired"]}]
    )
    assert volume_id not in {s["VolumeId"] for s in filtered["VolumeStatuses"]}
    attribute = ec2.describe_volume_attribute(VolumeId=volume_id, Attribute="autoEnableIO")
    assert attribute["AutoEnableIO"] == {"Value": False}


def test_one_core_with_cloudstack(
    ec2: Any,
    zone: str,
    volumes: Callable[..., Any],
    cloudstack_admin: CloudStack,
) -> None:
    marker = str(uuid.uuid4())
    tags = [{"ResourceType": "volume", "Tags": [{"Key": "marker", "Value": marker}]}]
    volumes(Size=2, TagSpecifications=tags)
    # The EC2 volume is a core volume: listVolumes finds it by the tag set through EC2.
    [native] = cloudstack_admin.listVolumes(
        listall=True, tags=[{"key": "marker", "value": marker}]
    )["volume"]
    assert (native["size"], native["zonename"], native["type"]) == (2 * 1024**3, zone, "DATADISK")
    assert native["diskofferingname"] == "Custom"

    offering = cloudstack_admin.listDiskOfferings(name="Small")["diskoffering"][0]
    zone_id = cloudstack_admin.listZones(name=zone)["zone"][0]["id"]
    made = cloudstack_admin.createVolume(
        name="from-cs", zoneid=zone_id, diskofferingid=offering["id"]
    )
    try:
        cloudstack_admin.createTags(
            resourcetype="Volume",
            resourceids=made["volume"]["id"],
            tags=[{"key": "marker", "value": marker + "-cs"}],
        )
        [shown] = ec2.describe_volumes(
            Filters=[{"Name": "tag:marker", "Values": [marker + "-cs"]}]
        )["Volumes"]
        assert (shown["Size"], shown["VolumeType"], shown["State"]) == (5, "standard", "available")
    finally:
        cloudstack_admin.deleteVolume(id=made["volume"]["id"])


def test_other_tenant_cannot_see_or_touch_a_volume(
    ec2: Any,
    ec2_other: Any,
    volumes: Callable[..., Any],
    launch: Callable[..., dict[str, Any]],
) -> None:
    volume_id = volumes()["VolumeId"]
    assert volume_id not in {v["VolumeId"] for v in ec2_other.describe_volumes()["Volumes"]}
    theirs = running_instance(ec2_other, launch)
    for call, params in (
        (ec2_other.describe_volumes, {"VolumeIds": [volume_id]}),
        (ec2_other.delete_volume, {"VolumeId": volume_id}),
        (ec2_other.detach_volume, {"VolumeId": volume_id}),
        (ec2_other.modify_volume, {"VolumeId": volume_id, "Size": 9}),
        (ec2_other.create_snapshot, {"VolumeId": volume_id}),
        (
            ec2_other.attach_volume,
            {"VolumeId": volume_id, "InstanceId": theirs, "Device": "/dev/sdf"},
        ),
    ):
        assert error_of(call, **params)[0] == "InvalidVolume.NotFound"
    mine = volumes(client=ec2_other)["VolumeId"]
    assert mine not in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}


@pytest.fixture(scope="module")
def two_zones(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, CloudStack]]:
    """A server of this module's own with a second zone (other tests count the zones)."""
    process = ServerProcess(tmp_path_factory.mktemp("two-zones")).start()
    keys = Keys(process.api_key, process.secret_key)
    native = cloudstack_client(process, keys)
    native.createZone(name="far", dns1="8.8.8.8", internaldns1="10.0.0.2", networktype="Advanced")
    yield ec2_client(process, keys), native
    process.stop()


def test_attach_across_zones_is_a_zone_mismatch(two_zones: tuple[Any, CloudStack]) -> None:
    ec2, native = two_zones
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    [instance_id] = instance_ids(ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1))
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    far = native.listZones(name="far")["zone"][0]["id"]
    offering = native.listDiskOfferings(name="Small")["diskoffering"][0]["id"]
    native.createVolume(name="far-away", zoneid=far, diskofferingid=offering)
    [volume] = ec2.describe_volumes(Filters=[{"Name": "availability-zone", "Values": ["far"]}])[
        "Volumes"
    ]
    attach = {"VolumeId": volume["VolumeId"], "InstanceId": instance_id, "Device": "/dev/sdf"}
    assert error_of(ec2.attach_volume, **attach) == (
        "InvalidVolume.ZoneMismatch",
        f"The volume '{volume['VolumeId']}' is not in the same availability zone as instance "
        f"'{instance_id}'",
    )
