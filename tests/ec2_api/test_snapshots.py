"""EBS snapshots through boto3 over real HTTP: create, the snapshot_completed waiter, volumes
from snapshots, copies, filters, paging, errors, one core with CloudStack, tenants."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api import test_volumes
from tests.ec2_api.conftest import FAST_WAITER, REGION
from tests.ec2_api.test_volumes import error_of, wait_available

# fixtures shared with the neighbouring modules
volumes = test_volumes.volumes
zone = test_volumes.zone

NOT_OURS = "snap-0123456789abcdef0"


@pytest.fixture
def snapshots(ec2: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """CreateSnapshot, waited for until completed; deleted at teardown."""
    made: list[tuple[Any, str]] = []

    def create(volume_id: str, client: Any = None, **params: Any) -> dict[str, Any]:
        client = client or ec2
        snapshot = client.create_snapshot(VolumeId=volume_id, **params)
        made.append((client, snapshot["SnapshotId"]))
        complete(client, snapshot["SnapshotId"])
        return dict(snapshot)

    yield create
    for client, snapshot_id in made:
        try:
            client.delete_snapshot(SnapshotId=snapshot_id)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidSnapshot.NotFound"


def complete(client: Any, *snapshot_ids: str) -> None:
    waiter = client.get_waiter("snapshot_completed")
    waiter.wait(SnapshotIds=list(snapshot_ids), WaiterConfig=FAST_WAITER)


def test_snapshot_of_a_new_volume(
    ec2: Any, volumes: Callable[..., Any], snapshots: Callable[..., Any]
) -> None:
    volume_id = volumes(Size=3)["VolumeId"]
    wait_available(ec2, volume_id)
    tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "nightly"}]}]
    created = snapshots(volume_id, Description="before upgrade", TagSpecifications=tags)
    assert created["State"] == "pending" and created["Progress"] == "0%"
    assert created["SnapshotId"].startswith("snap-") and created["VolumeId"] == volume_id
    [snapshot] = ec2.describe_snapshots(SnapshotIds=[created["SnapshotId"]])["Snapshots"]
    assert (snapshot["State"], snapshot["Progress"]) == ("completed", "100%")
    assert (snapshot["VolumeSize"], snapshot["Description"]) == (3, "before upgrade")
    assert snapshot["OwnerId"] == created["OwnerId"] and len(snapshot["OwnerId"]) == 12
    assert snapshot["Tags"] == [{"Key": "Name", "Value": "nightly"}]
    # the volume, never attached, is still available after being put on primary storage
    assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["State"] == "available"

    for name, value in (
        ("volume-id", volume_id),
        ("status", "completed"),
        ("description", "before*"),
        ("tag:Name", "nightly"),
        ("owner-id", snapshot["OwnerId"]),
    ):
        found = ec2.describe_snapshots(Filters=[{"Name": name, "Values": [value]}])["Snapshots"]
        assert created["SnapshotId"] in {s["SnapshotId"] for s in found}, name
    for owners in (["self"], [snapshot["OwnerId"]]):
        found = ec2.describe_snapshots(OwnerIds=owners)["Snapshots"]
        assert created["SnapshotId"] in {s["SnapshotId"] for s in found}
    assert ec2.describe_snapshots(OwnerIds=["amazon"])["Snapshots"] == []
    restorable = ec2.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"]
    assert created["SnapshotId"] in {s["SnapshotId"] for s in restorable}


def test_volume_from_snapshot(
    ec2: Any, zone: str, volumes: Callable[..., Any], snapshots: Callable[..., Any]
) -> None:
    source = volumes(Size=2)["VolumeId"]
    snapshot_id = snapshots(source)["SnapshotId"]
    restored = volumes(SnapshotId=snapshot_id, VolumeType="gp3")
    assert restored["SnapshotId"] == snapshot_id and restored["Size"] == 2
    wait_available(ec2, restored["VolumeId"])
    by_snapshot = ec2.describe_volumes(Filters=[{"Name": "snapshot-id", "Values": [snapshot_id]}])
    assert [v["VolumeId"] for v in by_snapshot["Volumes"]] == [restored["VolumeId"]]
    smaller = {"AvailabilityZone": zone, "SnapshotId": snapshot_id, "Size": 1}
    assert error_of(ec2.create_volume, **smaller) == (
        "InvalidParameterValue",
        "Volume of 1GiB is too small; minimum is 2GiB.",
    )


def test_copy_snapshot_outlives_its_source(
    ec2: Any, volumes: Callable[..., Any], snapshots: Callable[..., Any]
) -> None:
    source = snapshots(volumes(Size=2)["VolumeId"])["SnapshotId"]
    tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "copy", "Value": "yes"}]}]
    copy = ec2.copy_snapshot(
        SourceSnapshotId=source, SourceRegion=REGION, Description="copied", TagSpecifications=tags
    )
    copy_id = copy["SnapshotId"]
    try:
        assert copy_id != source and copy["Tags"] == [{"Key": "copy", "Value": "yes"}]
        complete(ec2, copy_id)
        ec2.delete_snapshot(SnapshotId=source)
        [shown] = ec2.describe_snapshots(SnapshotIds=[copy_id])["Snapshots"]
        assert (shown["State"], shown["Description"], shown["VolumeSize"]) == (
            "completed",
            "copied",
            2,
        )
        elsewhere = {"SourceSnapshotId": copy_id, "SourceRegion": "us-east-1"}
        assert error_of(ec2.copy_snapshot, **elsewhere)[0] == "InvalidParameterValue"
    finally:
        ec2.delete_snapshot(SnapshotId=copy_id)


def test_delete_and_errors(
    ec2: Any, volumes: Callable[..., Any], snapshots: Callable[..., Any]
) -> None:
    snapshot_id = snapshots(volumes()["VolumeId"])["SnapshotId"]
    ec2.delete_snapshot(SnapshotId=snapshot_id)
    assert error_of(ec2.describe_snapshots, SnapshotIds=[snapshot_id]) == (
        "InvalidSnapshot.NotFound",
        f"The snapshot '{snapshot_id}' does not exist.",
    )
    assert error_of(ec2.delete_snapshot, SnapshotId=NOT_OURS)[0] == "InvalidSnapshot.NotFound"
    assert error_of(ec2.delete_snapshot, SnapshotId="snap-xyz")[0] == (
        "InvalidSnapshotID.Malformed"
    )
    assert error_of(ec2.create_snapshot, VolumeId="vol-0123456789abcdef0")[0] == (
        "InvalidVolume.NotFound"
    )


def test_paginator_and_attribute(
    ec2: Any, volumes: Callable[..., Any], snapshots: Callable[..., Any]
) -> None:
    volume_id = volumes()["VolumeId"]
    made = {snapshots(volume_id)["SnapshotId"] for _ in range(6)}
    by_volume = [{"Name": "volume-id", "Values": [volume_id]}]
    pages = list(
        ec2.get_paginator("describe_snapshots").paginate(
            Filters=by_volume, PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(p["Snapshots"]) for p in pages] == [5, 1]
    assert {s["SnapshotId"] for p in pages for s in p["Snapshots"]} == made
    some = sorted(made)[0]
    attribute = ec2.describe_snapshot_attribute(SnapshotId=some, Attribute="createVolumePermission")
    assert attribute["CreateVolumePermissions"] == []


def test_one_core_with_cloudstack(
    ec2: Any,
    volumes: Callable[..., Any],
    snapshots: Callable[..., Any],
    cloudstack_admin: CloudStack,
) -> None:
    marker = str(uuid.uuid4())
    tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "marker", "Value": marker}]}]
    snapshots(volumes(Size=2)["VolumeId"], TagSpecifications=tags)
    [native] = cloudstack_admin.listSnapshots(
        listall=True, tags=[{"key": "marker", "value": marker}]
    )["snapshot"]
    assert (native["state"], native["virtualsize"]) == ("BackedUp", 2 * 1024**3)

    # …and a snapshot taken through CloudStack is an EBS snapshot.
    taken = cloudstack_admin.createSnapshot(volumeid=native["volumeid"])["snapshot"]
    try:
        cloudstack_admin.createTags(
            resourcetype="Snapshot",
            resourceids=taken["id"],
            tags=[{"key": "marker", "value": marker + "-cs"}],
        )
        [shown] = ec2.describe_snapshots(
            Filters=[{"Name": "tag:marker", "Values": [marker + "-cs"]}]
        )["Snapshots"]
        assert (shown["State"], shown["VolumeSize"]) == ("completed", 2)
    finally:
        cloudstack_admin.deleteSnapshot(id=taken["id"])


def test_other_tenant_cannot_see_or_touch_a_snapshot(
    ec2_other: Any, zone: str, volumes: Callable[..., Any], snapshots: Callable[..., Any]
) -> None:
    snapshot_id = snapshots(volumes()["VolumeId"])["SnapshotId"]
    seen = ec2_other.describe_snapshots()["Snapshots"]
    assert snapshot_id not in {s["SnapshotId"] for s in seen}
    for call, params in (
        (ec2_other.describe_snapshots, {"SnapshotIds": [snapshot_id]}),
        (ec2_other.delete_snapshot, {"SnapshotId": snapshot_id}),
        (ec2_other.copy_snapshot, {"SourceSnapshotId": snapshot_id, "SourceRegion": REGION}),
        (
            ec2_other.describe_snapshot_attribute,
            {"SnapshotId": snapshot_id, "Attribute": "createVolumePermission"},
        ),
    ):
        assert error_of(call, **params)[0] == "InvalidSnapshot.NotFound"
    restore = {"AvailabilityZone": zone, "SnapshotId": snapshot_id}
    assert error_of(ec2_other.create_volume, **restore)[0] == "InvalidSnapshot.NotFound"
