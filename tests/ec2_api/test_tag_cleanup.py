"""A deleted resource's tags go with it, as on AWS (and CloudStack, which removes them too).

Found by conformance/test_boto3_ec2.py: DescribeTags kept listing the tags of deleted volumes
and snapshots; and a key pair (deleted outright, its row id reused) inherited the tags of the
deleted one before it.
"""

from __future__ import annotations

import time
from typing import Any

from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER


def tagged(kind: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "cleanup", "Value": kind}]}]


def cleanup_tags(ec2: Any) -> list[tuple[str, str]]:
    tags = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["cleanup"]}])["Tags"]
    return sorted((t["ResourceType"], t["ResourceId"]) for t in tags)


def test_tags_of_deleted_volumes_snapshots_and_images_go(
    ec2: Any, image_id: str, cloudstack_admin: CloudStack
) -> None:
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    volume = ec2.create_volume(AvailabilityZone=zone, Size=1, TagSpecifications=tagged("volume"))
    volume_id = volume["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST_WAITER)
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id, TagSpecifications=tagged("snapshot"))[
        "SnapshotId"
    ]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=FAST_WAITER)
    copy_id = ec2.copy_image(SourceImageId=image_id, SourceRegion="cloudgate", Name="cleanup")[
        "ImageId"
    ]
    ec2.create_tags(Resources=[copy_id], Tags=[{"Key": "cleanup", "Value": "image"}])
    assert cleanup_tags(ec2) == sorted(
        [("image", copy_id), ("snapshot", snapshot_id), ("volume", volume_id)]
    )
    assert len(cloudstack_admin.listTags(key="cleanup", listall=True)["tag"]) == 3

    ec2.delete_snapshot(SnapshotId=snapshot_id)
    ec2.delete_volume(VolumeId=volume_id)
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[volume_id], WaiterConfig=FAST_WAITER)
    ec2.deregister_image(ImageId=copy_id)
    for _ in range(100):  # the snapshot's delete job removes it
        filters = [{"Name": "snapshot-id", "Values": [snapshot_id]}]
        if not ec2.describe_snapshots(Filters=filters)["Snapshots"]:
            break
        time.sleep(0.2)
    assert cleanup_tags(ec2) == []
    assert cloudstack_admin.listTags(key="cleanup", listall=True) == {}


def test_a_new_key_pair_has_none_of_a_deleted_ones_tags(ec2: Any, ec2_other: Any) -> None:
    ec2.create_key_pair(KeyName="cleanup-1", TagSpecifications=tagged("key-pair"))
    ec2.delete_key_pair(KeyName="cleanup-1")
    assert cleanup_tags(ec2) == []
    for client, name in ((ec2, "cleanup-2"), (ec2_other, "cleanup-3")):
        client.create_key_pair(KeyName=name)
        try:
            (pair,) = client.describe_key_pairs(KeyNames=[name])["KeyPairs"]
            assert pair.get("Tags", []) == []
        finally:
            client.delete_key_pair(KeyName=name)
