"""DescribeNetworkInterfaces through boto3: the instance's own interface, one truth with
DescribeInstances, its Elastic IP, filters, ids, paging and tenant isolation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, instance_ids, public_ip_range

Launch = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def tenant_name() -> str:
    return "eni-owner"


@pytest.fixture(scope="module")
def public_range(cloudstack_admin: CloudStack) -> Iterator[None]:
    with public_ip_range(cloudstack_admin, "100.64.81.10", "100.64.81.12", "100.64.81.1"):
        yield


def code(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return str(raised.value.response["Error"]["Code"])


def instance(client: Any, instance_id: str) -> dict[str, Any]:
    [found] = client.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    return dict(found)


def enis(client: Any, **filters: str) -> list[dict[str, Any]]:
    asked = [{"Name": name, "Values": [value]} for name, value in filters.items()]
    return list(client.describe_network_interfaces(Filters=asked)["NetworkInterfaces"])


def test_the_interface_is_the_instances(
    client: Any, ec2_other: Any, public_range: None, launch: Launch
) -> None:
    [instance_id] = instance_ids(launch(client))
    client.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    seen = instance(client, instance_id)
    [own] = seen["NetworkInterfaces"]
    eni_id = own["NetworkInterfaceId"]
    [eni] = client.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    # One interface: every field the instance shows is the same here.
    for key in ("MacAddress", "PrivateIpAddress", "PrivateDnsName", "SubnetId", "VpcId"):
        assert eni[key] == own[key] == seen.get(key, own[key]), key
    assert eni["Groups"] == own["Groups"] == seen["SecurityGroups"]
    assert eni["OwnerId"] == own["OwnerId"] and eni["Status"] == "in-use"
    assert eni["Attachment"]["InstanceId"] == instance_id
    assert eni["Attachment"]["AttachmentId"] == own["Attachment"]["AttachmentId"]
    assert eni["Attachment"]["InstanceOwnerId"] == eni["OwnerId"]
    assert eni["Attachment"]["DeviceIndex"] == 0 and eni["Attachment"]["Status"] == "attached"
    assert eni["AvailabilityZone"] == seen["Placement"]["AvailabilityZone"]
    assert eni["RequesterManaged"] is False and eni["InterfaceType"] == "interface"
    assert eni["PrivateIpAddresses"][0]["Primary"] is True

    for name, value in (
        ("attachment.instance-id", instance_id),
        ("network-interface-id", eni_id),
        ("vpc-id", eni["VpcId"]),
        ("subnet-id", eni["SubnetId"]),
        ("private-ip-address", eni["PrivateIpAddress"]),
        ("mac-address", eni["MacAddress"]),
        ("group-name", "default"),
        ("availability-zone", eni["AvailabilityZone"]),
        ("status", "in-use"),
    ):
        assert eni_id in [e["NetworkInterfaceId"] for e in enis(client, **{name: value})], name
    assert enis(client, **{"attachment.instance-id": "i-00000000000000000"}) == []
    assert enis(client, **{"tag:Name": "*"}) == []
    unknown = [{"Name": "nope", "Values": ["x"]}]
    assert code(client.describe_network_interfaces, Filters=unknown) == "InvalidParameterValue"

    address = client.allocate_address(Domain="vpc")
    try:
        associated = client.associate_address(
            AllocationId=address["AllocationId"], InstanceId=instance_id
        )
        [eni] = enis(client, **{"association.public-ip": address["PublicIp"]})
        association = eni["Association"]
        assert association["PublicIp"] == address["PublicIp"]
        assert association["AllocationId"] == address["AllocationId"]
        assert association["AssociationId"].startswith("eipassoc-")
        assert association["PublicDnsName"] == instance(client, instance_id)["PublicDnsName"]
        assert eni["PrivateIpAddresses"][0]["Association"] == association
        by_allocation = enis(client, **{"association.allocation-id": address["AllocationId"]})
        assert [e["NetworkInterfaceId"] for e in by_allocation] == [eni_id]
        assert association["AssociationId"] == associated["AssociationId"]
        client.disassociate_address(AssociationId=associated["AssociationId"])
        assert "Association" not in enis(client, **{"network-interface-id": eni_id})[0]
    finally:
        client.release_address(AllocationId=address["AllocationId"])

    # Another tenant sees none of it.
    assert eni_id not in [e["NetworkInterfaceId"] for e in enis(ec2_other)]
    assert (
        code(ec2_other.describe_network_interfaces, NetworkInterfaceIds=[eni_id])
        == "InvalidNetworkInterfaceID.NotFound"
    )
    # Terminated, the interface is gone.
    client.terminate_instances(InstanceIds=[instance_id])
    waiter = client.get_waiter("instance_terminated")
    waiter.wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    assert eni_id not in [e["NetworkInterfaceId"] for e in enis(client)]


def test_ids_and_paging(client: Any, launch: Launch) -> None:
    made = instance_ids(launch(client, MinCount=6, MaxCount=6))
    client.get_waiter("instance_running").wait(InstanceIds=made, WaiterConfig=FAST_WAITER)
    wanted = {instance(client, i)["NetworkInterfaces"][0]["NetworkInterfaceId"] for i in made}
    pages = client.get_paginator("describe_network_interfaces").paginate(
        PaginationConfig={"PageSize": 5}
    )
    sizes, seen = [], []
    for answer in pages:
        sizes.append(len(answer["NetworkInterfaces"]))
        seen += [e["NetworkInterfaceId"] for e in answer["NetworkInterfaces"]]
    assert wanted <= set(seen) and len(seen) == len(set(seen)) and max(sizes) == 5
    missing = "eni-0123456789abcdef0"
    refused = code(client.describe_network_interfaces, NetworkInterfaceIds=[missing])
    assert refused == "InvalidNetworkInterfaceID.NotFound"
    malformed = code(client.describe_network_interfaces, NetworkInterfaceIds=["eni-xyz"])
    assert malformed == "InvalidNetworkInterfaceId.Malformed"
