"""Instances in VPC subnets through boto3 over real HTTP: PrivateIpAddress (top level and on
the network interface, as Terraform sends it), the instance's NetworkInterfaces with their
attachment, groups, addresses and Elastic IP association, the network filters, DeleteSubnet
while instances use it, isolation, and the same NIC seen through the CloudStack API (and a
CloudStack deploy with `networkids` seen as an instance in the subnet)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack, CloudStackApiException

from tests.ec2_api.conftest import (
    FAST_WAITER,
    REGION,
    error_code,
    public_ip_range,
    terminate_and_wait,
    until_accepted,
)

Launch = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def tenant_name() -> str:
    return "eni-tenant"


@pytest.fixture(scope="module")
def subnet(client: Any) -> Iterator[dict[str, Any]]:
    """A subnet of a VPC of the tenant's own (not the default one)."""
    vpc = client.create_vpc(CidrBlock="10.44.0.0/16")["Vpc"]
    made = client.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.44.1.0/24")["Subnet"]
    yield dict(made)
    # the last instances' expunge jobs may still be running
    until_accepted(lambda: client.delete_subnet(SubnetId=made["SubnetId"]), ClientError)
    client.delete_vpc(VpcId=vpc["VpcId"])


@pytest.fixture(scope="module")
def public_range(cloudstack_admin: CloudStack) -> Iterator[None]:
    with public_ip_range(cloudstack_admin, "100.64.79.10", "100.64.79.12", "100.64.79.1"):
        yield


def described(client: Any, instance_id: str) -> dict[str, Any]:
    reservations = client.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return dict(reservations[0]["Instances"][0])


def found(client: Any, name: str, value: str) -> list[str]:
    reservations = client.describe_instances(Filters=[{"Name": name, "Values": [value]}])
    return [i["InstanceId"] for r in reservations["Reservations"] for i in r["Instances"]]


def test_private_address_and_network_interface(
    client: Any, subnet: dict[str, Any], launch: Launch
) -> None:
    [instance] = launch(client, SubnetId=subnet["SubnetId"], PrivateIpAddress="10.44.1.77")[
        "Instances"
    ]
    instance_id = instance["InstanceId"]
    assert instance["PrivateIpAddress"] == "10.44.1.77"
    assert instance["PrivateDnsName"] == "ip-10-44-1-77.cloudgate.compute.internal"
    seen = described(client, instance_id)
    assert (seen["SubnetId"], seen["VpcId"]) == (subnet["SubnetId"], subnet["VpcId"])
    [eni] = seen["NetworkInterfaces"]
    assert eni["NetworkInterfaceId"].startswith("eni-")
    assert (eni["SubnetId"], eni["VpcId"]) == (subnet["SubnetId"], subnet["VpcId"])
    assert (eni["PrivateIpAddress"], eni["Status"]) == ("10.44.1.77", "in-use")
    assert eni["PrivateDnsName"] == seen["PrivateDnsName"]
    assert eni["MacAddress"].startswith("02:00:") and len(eni["OwnerId"]) == 12
    assert eni["Groups"] == seen["SecurityGroups"] and eni["Groups"][0]["GroupName"] == "default"
    attachment = eni["Attachment"]
    assert attachment["AttachmentId"].startswith("eni-attach-")
    assert (attachment["DeviceIndex"], attachment["Status"]) == (0, "attached")
    assert attachment["DeleteOnTermination"] is True
    assert eni["PrivateIpAddresses"] == [
        {
            "Primary": True,
            "PrivateDnsName": seen["PrivateDnsName"],
            "PrivateIpAddress": "10.44.1.77",
        }
    ]
    assert "Association" not in eni and "PublicIpAddress" not in seen

    for name, value in [
        ("subnet-id", subnet["SubnetId"]),
        ("vpc-id", subnet["VpcId"]),
        ("private-ip-address", "10.44.1.77"),
        ("network-interface.network-interface-id", eni["NetworkInterfaceId"]),
        ("network-interface.subnet-id", subnet["SubnetId"]),
        ("network-interface.vpc-id", subnet["VpcId"]),
        ("network-interface.addresses.private-ip-address", "10.44.1.7?"),
        ("network-interface.attachment.attachment-id", attachment["AttachmentId"]),
        ("network-interface.attachment.status", "attached"),
        ("network-interface.mac-address", eni["MacAddress"]),
        ("network-interface.group-name", "default"),
    ]:
        assert found(client, name, value) == [instance_id], name
    assert found(client, "network-interface.addresses.private-ip-address", "10.44.1.78") == []
    assert found(client, "subnet-id", "subnet-00000000000000000") == []

    # the address is taken now; another outside the subnet is refused
    with pytest.raises(ClientError) as taken:
        launch(client, SubnetId=subnet["SubnetId"], PrivateIpAddress="10.44.1.77")
    assert error_code(taken) == "InvalidIPAddress.InUse"
    with pytest.raises(ClientError) as outside:
        launch(client, SubnetId=subnet["SubnetId"], PrivateIpAddress="10.45.0.9")
    assert error_code(outside) == "InvalidParameterValue"
    with pytest.raises(ClientError) as several:
        launch(client, PrivateIpAddress="10.44.1.90", MinCount=2, MaxCount=2)
    assert error_code(several) == "InvalidParameterValue"
    assert found(client, "instance-state-name", "pending") in ([], [instance_id])


def test_terraform_style_network_interface(
    client: Any, subnet: dict[str, Any], launch: Launch
) -> None:
    group = client.create_security_group(
        GroupName="eni-web", Description="eni test", VpcId=subnet["VpcId"]
    )["GroupId"]
    [instance] = launch(
        client,
        NetworkInterfaces=[
            {
                "DeviceIndex": 0,
                "SubnetId": subnet["SubnetId"],
                "Groups": [group],
                "AssociatePublicIpAddress": False,
                "DeleteOnTermination": True,
                "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": "10.44.1.20"}],
            }
        ],
    )["Instances"]
    assert (instance["SubnetId"], instance["PrivateIpAddress"]) == (
        subnet["SubnetId"],
        "10.44.1.20",
    )
    assert [g["GroupId"] for g in instance["NetworkInterfaces"][0]["Groups"]] == [group]
    assert found(client, "network-interface.group-id", group) == [instance["InstanceId"]]
    with pytest.raises(ClientError) as both:
        launch(
            client,
            SubnetId=subnet["SubnetId"],
            NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet["SubnetId"]}],
        )
    assert error_code(both) == "InvalidParameterCombination"


def test_elastic_ip_shows_on_the_interface(
    client: Any, public_range: None, subnet: dict[str, Any], launch: Launch
) -> None:
    [instance_id] = [
        i["InstanceId"] for i in launch(client, SubnetId=subnet["SubnetId"])["Instances"]
    ]
    client.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    address = client.allocate_address(Domain="vpc")
    try:
        association = client.associate_address(
            AllocationId=address["AllocationId"], InstanceId=instance_id
        )["AssociationId"]
        seen = described(client, instance_id)
        assert seen["PublicIpAddress"] == address["PublicIp"]
        [eni] = seen["NetworkInterfaces"]
        owner = eni["OwnerId"]
        public_name = f"ec2-{address['PublicIp'].replace('.', '-')}.{REGION}.compute.internal"
        assert seen["PublicDnsName"] == public_name
        assert found(client, "dns-name", public_name) == [instance_id]
        expected = {
            "IpOwnerId": owner,
            "PublicDnsName": public_name,
            "PublicIp": address["PublicIp"],
        }
        assert eni["Association"] == expected
        assert eni["PrivateIpAddresses"][0]["Association"] == expected
        assert found(client, "ip-address", address["PublicIp"]) == [instance_id]
        by_eni = found(client, "network-interface.association.public-ip", address["PublicIp"])
        assert by_eni == [instance_id]
        [shown] = client.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"]
        assert shown["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
        client.disassociate_address(AssociationId=association)
    finally:
        client.release_address(AllocationId=address["AllocationId"])
    assert "Association" not in described(client, instance_id)["NetworkInterfaces"][0]


def test_subnet_in_use_and_isolation(
    client: Any, ec2_other: Any, subnet: dict[str, Any], launch: Launch
) -> None:
    vpc = client.create_vpc(CidrBlock="10.46.0.0/16")["Vpc"]
    busy = client.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.46.0.0/24")["Subnet"]
    ids = [i["InstanceId"] for i in launch(client, SubnetId=busy["SubnetId"])["Instances"]]
    with pytest.raises(ClientError) as in_use:
        client.delete_subnet(SubnetId=busy["SubnetId"])
    assert error_code(in_use) == "DependencyViolation"
    # another account neither launches into it nor finds instances by it
    with pytest.raises(ClientError) as foreign:
        ec2_other.run_instances(
            ImageId=described(client, ids[0])["ImageId"],
            MinCount=1,
            MaxCount=1,
            SubnetId=busy["SubnetId"],
        )
    assert error_code(foreign) == "InvalidSubnetID.NotFound"
    assert found(ec2_other, "subnet-id", busy["SubnetId"]) == []
    terminate_and_wait(client, ids)
    assert "SubnetId" not in described(client, ids[0])  # a terminated instance has left it
    # the expunge job frees the NIC
    until_accepted(lambda: client.delete_subnet(SubnetId=busy["SubnetId"]), ClientError)
    client.delete_vpc(VpcId=vpc["VpcId"])


def test_one_core_with_the_cloudstack_api(
    client: Any,
    cs: CloudStack,
    cloudstack_admin: CloudStack,
    subnet: dict[str, Any],
    launch: Launch,
) -> None:
    [instance] = launch(client, SubnetId=subnet["SubnetId"])["Instances"]
    [network] = [n for n in cs.listNetworks()["network"] if n["cidr"] == subnet["CidrBlock"]]
    [vm] = [
        v
        for v in cs.listVirtualMachines()["virtualmachine"]
        if v["nic"][0]["ipaddress"] == instance["PrivateIpAddress"]
    ]
    assert (vm["nic"][0]["networkid"], vm["nic"][0]["networkname"]) == (
        network["id"],
        network["name"],
    )
    assert vm["nic"][0]["gateway"] == "10.44.1.1"

    # a CloudStack deploy into the same network is an instance of the subnet
    zone = cs.listZones()["zone"][0]
    offering = cs.listServiceOfferings()["serviceoffering"][0]
    template = cs.listTemplates(templatefilter="executable")["template"][0]
    deployed = cs.deployVirtualMachine(
        zoneid=zone["id"],
        serviceofferingid=offering["id"],
        templateid=template["id"],
        networkids=network["id"],
        ipaddress="10.44.1.200",
    )["virtualmachine"]
    try:
        assert deployed["nic"][0]["ipaddress"] == "10.44.1.200"
        [seen] = [
            i
            for r in client.describe_instances(
                Filters=[{"Name": "private-ip-address", "Values": ["10.44.1.200"]}]
            )["Reservations"]
            for i in r["Instances"]
        ]
        assert (seen["SubnetId"], seen["VpcId"]) == (subnet["SubnetId"], subnet["VpcId"])
        with pytest.raises(CloudStackApiException) as taken:
            cs.deployVirtualMachine(
                zoneid=zone["id"],
                serviceofferingid=offering["id"],
                templateid=template["id"],
                networkids=network["id"],
                ipaddress="10.44.1.200",
            )
        assert taken.value.error["errorcode"] == 431
    finally:
        cloudstack_admin.destroyVirtualMachine(id=deployed["id"], expunge=True)
