"""An instance's PublicIpAddress is its associated Elastic IP, as on AWS.

Found by conformance/test_awscli_ec2.py: a script reads the address it just associated back
from `describe-instances --query …PublicIpAddress`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.ec2_api.conftest import FAST_WAITER, instance_ids
from tests.ec2_api.test_addresses import public_range  # noqa: F401 (autouse: addresses to allocate)


def instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return dict(reservations[0]["Instances"][0])


def test_public_ip_is_the_associated_elastic_ip(
    ec2: Any, ec2_other: Any, launch: Callable[..., dict[str, Any]]
) -> None:
    first, second = instance_ids(launch(MinCount=2, MaxCount=2))
    ec2.get_waiter("instance_running").wait(InstanceIds=[first, second], WaiterConfig=FAST_WAITER)
    assert "PublicIpAddress" not in instance(ec2, first)
    address = ec2.allocate_address(Domain="vpc")
    try:
        association = ec2.associate_address(AllocationId=address["AllocationId"], InstanceId=first)[
            "AssociationId"
        ]
        assert instance(ec2, first)["PublicIpAddress"] == address["PublicIp"]
        assert "PublicIpAddress" not in instance(ec2, second)
        found = ec2.describe_instances(
            Filters=[{"Name": "ip-address", "Values": [address["PublicIp"]]}]
        )["Reservations"]
        assert [i["InstanceId"] for r in found for i in r["Instances"]] == [first]
        # Another account's filter finds nothing of it.
        assert (
            ec2_other.describe_instances(
                Filters=[{"Name": "ip-address", "Values": [address["PublicIp"]]}]
            )["Reservations"]
            == []
        )
        ec2.disassociate_address(AssociationId=association)
        assert "PublicIpAddress" not in instance(ec2, first)
    finally:
        ec2.release_address(AllocationId=address["AllocationId"])
