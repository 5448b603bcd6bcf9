"""Tenants: one account never sees, stops or terminates another's instances through EC2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.ec2_api.conftest import FAST_WAITER, instance_ids


def test_other_tenant_cannot_see_or_touch_an_instance(
    ec2: Any, ec2_other: Any, launch: Callable[..., dict[str, Any]]
) -> None:
    reservation = launch()
    ids = instance_ids(reservation)
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)

    seen = ec2_other.describe_instances()["Reservations"]
    assert ids[0] not in {i for r in seen for i in instance_ids(r)}
    by_filter = ec2_other.describe_instances(
        Filters=[{"Name": "reservation-id", "Values": [reservation["ReservationId"]]}]
    )
    assert by_filter["Reservations"] == []

    for call in (
        ec2_other.describe_instances,
        ec2_other.stop_instances,
        ec2_other.start_instances,
        ec2_other.reboot_instances,
        ec2_other.terminate_instances,
    ):
        with pytest.raises(ClientError) as raised:
            call(InstanceIds=ids)
        # Not found, never "forbidden": another tenant's ids cannot be probed.
        assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"

    [instance] = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
    assert instance["State"]["Name"] == "running"


def test_each_tenant_sees_its_own(
    ec2: Any, ec2_other: Any, launch: Callable[..., dict[str, Any]]
) -> None:
    mine = launch(client=ec2_other)
    assert mine["OwnerId"] != launch()["OwnerId"]
    theirs = ec2_other.describe_instances()["Reservations"]
    owners = {r["OwnerId"] for r in theirs}
    assert owners == {mine["OwnerId"]}
    assert instance_ids(mine)[0] in {i for r in theirs for i in instance_ids(r)}
    with pytest.raises(ClientError) as raised:
        # An admin using EC2 acts for its own account, as every AWS caller does.
        ec2.describe_instances(InstanceIds=instance_ids(mine))
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def test_public_images_have_the_same_id_for_every_tenant(ec2_other: Any, image_id: str) -> None:
    images = ec2_other.describe_images(Owners=["amazon"])["Images"]
    assert [i["ImageId"] for i in images] == [image_id]
