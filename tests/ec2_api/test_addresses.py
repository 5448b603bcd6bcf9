"""Elastic IPs through boto3: public IPs of the core with static NAT, errors, tenants, one core."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, error_code, instance_ids, public_ip_range


@pytest.fixture(scope="module", autouse=True)
def public_range(cloudstack_admin: CloudStack) -> Iterator[None]:
    """Twenty public addresses in the first zone, where Elastic IPs come from."""
    with public_ip_range(cloudstack_admin, "100.64.77.10", "100.64.77.29", "100.64.77.1"):
        yield


@pytest.fixture
def allocate(ec2: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """AllocateAddress; whatever is still allocated at teardown is released."""
    made: list[tuple[Any, str]] = []

    def run(client: Any = None, **params: Any) -> dict[str, Any]:
        client = client or ec2
        address = dict(client.allocate_address(Domain="vpc", **params))
        made.append((client, address["AllocationId"]))
        return address

    yield run
    for client, allocation_id in made:
        try:
            client.release_address(AllocationId=allocation_id)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidAllocationID.NotFound"


def _address(ec2: Any, allocation_id: str) -> dict[str, Any]:
    [address] = ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"]
    return dict(address)


def test_allocate_describe_release(ec2: Any, allocate: Callable[..., dict[str, Any]]) -> None:
    address = allocate(
        TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "role", "Value": "lb"}]}]
    )
    assert address["AllocationId"].startswith("eipalloc-")
    assert address["PublicIp"].startswith("100.64.77.")
    assert address["Domain"] == "vpc"
    described = _address(ec2, address["AllocationId"])
    assert described["PublicIp"] == address["PublicIp"]
    assert described["Tags"] == [{"Key": "role", "Value": "lb"}]
    assert "AssociationId" not in described and "InstanceId" not in described
    by_ip = ec2.describe_addresses(PublicIps=[address["PublicIp"]])["Addresses"]
    assert [a["AllocationId"] for a in by_ip] == [address["AllocationId"]]

    def found(*filters: dict[str, Any]) -> list[str]:
        return [
            a["AllocationId"] for a in ec2.describe_addresses(Filters=list(filters))["Addresses"]
        ]

    assert found({"Name": "tag:role", "Values": ["lb"]}) == [address["AllocationId"]]
    assert found({"Name": "public-ip", "Values": [address["PublicIp"]]}) == [
        address["AllocationId"]
    ]
    assert found(
        {"Name": "domain", "Values": ["vpc"]}, {"Name": "tag-key", "Values": ["role"]}
    ) == [address["AllocationId"]]
    assert found({"Name": "tag:role", "Values": ["db"]}) == []
    with pytest.raises(ClientError) as raised:
        ec2.describe_addresses(Filters=[{"Name": "nope", "Values": ["1"]}])
    assert error_code(raised) == "InvalidParameterValue"

    ec2.release_address(AllocationId=address["AllocationId"])
    with pytest.raises(ClientError) as raised:
        ec2.describe_addresses(AllocationIds=[address["AllocationId"]])
    assert error_code(raised) == "InvalidAllocationID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.release_address(AllocationId=address["AllocationId"])
    assert error_code(raised) == "InvalidAllocationID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.describe_addresses(AllocationIds=["eipalloc-xyz"])
    assert error_code(raised) == "InvalidAllocationID.Malformed"


def test_associate_disassociate(
    ec2: Any, allocate: Callable[..., dict[str, Any]], launch: Callable[..., dict[str, Any]]
) -> None:
    reservation = launch(MinCount=2, MaxCount=2)
    first, second = instance_ids(reservation)
    ec2.get_waiter("instance_running").wait(InstanceIds=[first, second], WaiterConfig=FAST_WAITER)
    address = allocate()
    allocation_id = address["AllocationId"]

    association_id = ec2.associate_address(AllocationId=allocation_id, InstanceId=first)[
        "AssociationId"
    ]
    assert association_id.startswith("eipassoc-")
    described = _address(ec2, allocation_id)
    assert described["InstanceId"] == first
    assert described["AssociationId"] == association_id
    private_ip = reservation["Instances"][0]["PrivateIpAddress"]
    assert described["PrivateIpAddress"] == private_ip
    by_instance = ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": [first]}])
    assert [a["AllocationId"] for a in by_instance["Addresses"]] == [allocation_id]
    assert ec2.describe_addresses(Filters=[{"Name": "association-id", "Values": [association_id]}])[
        "Addresses"
    ]

    # In use: it cannot be released, nor moved without AllowReassociation.
    with pytest.raises(ClientError) as raised:
        ec2.release_address(AllocationId=allocation_id)
    assert error_code(raised) == "InvalidIPAddress.InUse"
    with pytest.raises(ClientError) as raised:
        ec2.associate_address(AllocationId=allocation_id, InstanceId=second)
    assert error_code(raised) == "Resource.AlreadyAssociated"
    # Associating again with the same instance changes nothing.
    again = ec2.associate_address(PublicIp=address["PublicIp"], InstanceId=first)
    assert again["AssociationId"] == association_id
    ec2.associate_address(AllocationId=allocation_id, InstanceId=second, AllowReassociation=True)
    assert _address(ec2, allocation_id)["InstanceId"] == second

    ec2.disassociate_address(AssociationId=association_id)
    assert "InstanceId" not in _address(ec2, allocation_id)
    with pytest.raises(ClientError) as raised:
        ec2.disassociate_address(AssociationId=association_id)
    assert error_code(raised) == "InvalidAssociationID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.associate_address(AllocationId=allocation_id, InstanceId="i-0123456789abcdef0")
    assert error_code(raised) == "InvalidInstanceID.NotFound"
    ec2.release_address(PublicIp=address["PublicIp"])


def test_address_limit(
    ec2_other: Any, cloudstack_admin: CloudStack, allocate: Callable[..., Any]
) -> None:
    account = next(
        a for a in cloudstack_admin.listAccounts(listall=True)["account"] if a["name"] == "other"
    )
    cloudstack_admin.updateResourceLimit(
        resourcetype=1, max=1, account="other", domainid=account["domainid"]
    )
    try:
        allocate(client=ec2_other)
        with pytest.raises(ClientError) as raised:
            ec2_other.allocate_address(Domain="vpc")
        assert error_code(raised) == "AddressLimitExceeded"
    finally:
        cloudstack_admin.updateResourceLimit(
            resourcetype=1, max=-1, account="other", domainid=account["domainid"]
        )


def test_other_tenant_cannot_see_or_touch_an_address(
    ec2: Any, ec2_other: Any, allocate: Callable[..., dict[str, Any]]
) -> None:
    address = allocate()
    seen = ec2_other.describe_addresses()["Addresses"]
    assert address["AllocationId"] not in {a["AllocationId"] for a in seen}
    with pytest.raises(ClientError) as raised:
        ec2_other.describe_addresses(AllocationIds=[address["AllocationId"]])
    assert error_code(raised) == "InvalidAllocationID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2_other.release_address(AllocationId=address["AllocationId"])
    assert error_code(raised) == "InvalidAllocationID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2_other.release_address(PublicIp=address["PublicIp"])
    assert error_code(raised) == "InvalidAddress.NotFound"
    assert _address(ec2, address["AllocationId"])["PublicIp"] == address["PublicIp"]


def test_one_core_addresses(
    ec2: Any, cloudstack_admin: CloudStack, allocate: Callable[..., dict[str, Any]]
) -> None:
    address = allocate()
    [native] = cloudstack_admin.listPublicIpAddresses(ipaddress=address["PublicIp"])[
        "publicipaddress"
    ]
    assert native["state"] == "Allocated"

    zone = cloudstack_admin.listZones()["zone"][0]
    acquired = cloudstack_admin.associateIpAddress(zoneid=zone["id"])["ipaddress"]
    try:
        seen = ec2.describe_addresses(PublicIps=[acquired["ipaddress"]])["Addresses"]
        assert len(seen) == 1
    finally:
        ec2.release_address(PublicIp=acquired["ipaddress"])
    ec2.release_address(AllocationId=address["AllocationId"])
    # Released: gone from EC2 at once; CloudStack shows it Releasing until the job frees it.
    listed = cloudstack_admin.listPublicIpAddresses(ipaddress=address["PublicIp"])
    assert all(ip["state"] == "Releasing" for ip in listed.get("publicipaddress", []))
    assert (
        ec2.describe_addresses(Filters=[{"Name": "public-ip", "Values": [address["PublicIp"]]}])[
            "Addresses"
        ]
        == []
    )


def test_describe_addresses_attribute(ec2: Any, allocate: Callable[..., dict[str, Any]]) -> None:
    address = allocate()
    answer = ec2.describe_addresses_attribute(
        AllocationIds=[address["AllocationId"]], Attribute="domain-name"
    )
    assert answer["Addresses"] == [
        {"PublicIp": address["PublicIp"], "AllocationId": address["AllocationId"]}
    ]
