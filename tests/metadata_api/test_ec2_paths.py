"""EC2's metadata paths for an instance launched through EC2, over real HTTP.

The key pair is registered through the CloudStack API and named in RunInstances: one core,
so the metadata service finds it either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.metadata_api.conftest import (
    Imds,
    Tenant,
    launch_running,
    register_key,
    terminate,
)
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess

USER_DATA = "#cloud-config\nhostname: web\nruncmd:\n - [sh, -c, 'echo ok > /tmp/ok']\n"


@pytest.fixture(scope="module")
def key_line(tenant: Tenant) -> str:
    return register_key(tenant, "md-key")


@pytest.fixture(scope="module")
def instance(tenant: Tenant, image_id: str, key_line: str) -> Iterator[dict[str, Any]]:
    launched = launch_running(
        tenant, image_id, KeyName="md-key", UserData=USER_DATA, InstanceType="t2.micro"
    )
    yield launched
    terminate(tenant, launched["InstanceId"])


@pytest.fixture(scope="module")
def vm(imds: Callable[[str | None], Imds], instance: dict[str, Any]) -> Imds:
    return imds(instance["PrivateIpAddress"])


def test_leaves_match_describe_instances(
    tenant: Tenant, instance: dict[str, Any], vm: Imds
) -> None:
    expected = {
        "instance-id": instance["InstanceId"],
        "ami-id": instance["ImageId"],
        "instance-type": "t2.micro",
        "local-ipv4": instance["PrivateIpAddress"],
        "local-hostname": instance["PrivateDnsName"],
        "hostname": instance["PrivateDnsName"],
        "reservation-id": instance["ReservationId"],
        "ami-launch-index": str(instance["AmiLaunchIndex"]),
        "placement/availability-zone": instance["Placement"]["AvailabilityZone"],
        "placement/region": "cloudgate",
        "services/domain": "amazonaws.com",
    }
    for path, value in expected.items():
        reply = vm.get(f"/latest/meta-data/{path}")
        assert (path, reply.status_code, reply.text) == (path, 200, value)
        assert reply.headers["content-type"].startswith("text/plain")
    # the groups as the CloudStack API shows them on the same VM (the account's default one)
    vm_uuid = vm.text("/latest/meta-data/vm-id")
    shown = tenant.cs.listVirtualMachines(id=vm_uuid)["virtualmachine"][0]
    groups = [group["name"] for group in shown["securitygroup"]]
    assert groups == ["default"]
    assert vm.text("/latest/meta-data/security-groups") == "\n".join(groups)
    mac = vm.text("/latest/meta-data/mac")
    assert mac == shown["nic"][0]["macaddress"]
    assert mac.startswith("02:00:") and len(mac) == 17
    assert vm.text("/latest/meta-data/network/interfaces/macs/") == f"{mac}/"
    nic = f"/latest/meta-data/network/interfaces/macs/{mac}"
    assert vm.text(f"{nic}/local-ipv4s") == instance["PrivateIpAddress"]
    # the instance is in its account's default subnet: the same ids DescribeInstances shows
    assert vm.text(f"{nic}/subnet-id") == instance["SubnetId"]
    assert vm.text(f"{nic}/vpc-id") == instance["VpcId"]
    subnet = tenant.ec2.describe_subnets(SubnetIds=[instance["SubnetId"]])["Subnets"][0]
    assert vm.text(f"{nic}/subnet-ipv4-cidr-block") == subnet["CidrBlock"]
    assert vm.text(f"{nic}/vpc-ipv4-cidr-block") == "172.31.0.0/16"


def test_index_lists_what_the_instance_has(vm: Imds) -> None:
    index = vm.text("/latest/meta-data/").splitlines()
    assert index == sorted(index)
    for name in ("ami-id", "instance-id", "local-ipv4", "public-keys/", "placement/", "vm-id"):
        assert name in index
    assert "public-ipv4" not in index and "public-hostname" not in index  # no static NAT
    assert vm.get("/latest/meta-data/public-ipv4").status_code == 404
    assert vm.text("/latest/meta-data") == vm.text("/latest/meta-data/")
    assert vm.text("/latest/").splitlines() == ["dynamic", "meta-data", "user-data"]
    assert vm.text("/latest/meta-data/placement/").splitlines() == [
        "availability-zone",
        "availability-zone-id",
        "region",
    ]
    assert vm.text("/latest/meta-data/block-device-mapping/").splitlines() == ["ami", "root"]
    assert vm.text("/latest/meta-data/block-device-mapping/root") == "/dev/sda1"


def test_public_keys_ec2_form(vm: Imds, key_line: str) -> None:
    assert vm.text("/latest/meta-data/public-keys/") == "0=md-key"
    assert vm.text("/latest/meta-data/public-keys/0/") == "openssh-key"
    assert vm.text("/latest/meta-data/public-keys/0/openssh-key") == key_line
    assert vm.get("/latest/meta-data/public-keys/1/openssh-key").status_code == 404


def test_user_data_is_the_raw_bytes(vm: Imds) -> None:
    reply = vm.get("/latest/user-data")
    assert reply.status_code == 200 and reply.content == USER_DATA.encode()
    assert reply.headers["content-type"] == "application/octet-stream"
    assert vm.get("/latest/user-data/").content == USER_DATA.encode()


def test_identity_document(vm: Imds, instance: dict[str, Any], tenant: Tenant) -> None:
    reply = vm.get("/latest/dynamic/instance-identity/document")
    document = json.loads(reply.text)
    account = tenant.ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][
        0
    ]["OwnerId"]
    assert document["instanceId"] == instance["InstanceId"]
    assert document["imageId"] == instance["ImageId"]
    assert document["accountId"] == account and len(account) == 12
    assert document["availabilityZone"] == instance["Placement"]["AvailabilityZone"]
    assert (document["region"], document["instanceType"]) == ("cloudgate", "t2.micro")
    assert document["privateIp"] == instance["PrivateIpAddress"]
    assert document["version"] == "2017-09-30" and document["kernelId"] is None
    assert '"instanceId" : ' in reply.text  # laid out as AWS lays it out
    assert vm.text("/latest/dynamic/instance-identity/") == "document"


def test_dated_versions_are_aliases_of_latest(vm: Imds, instance: dict[str, Any]) -> None:
    versions = vm.text("/").splitlines()
    assert versions[0] == "1.0" and versions[-1] == "latest"
    assert {"2009-04-04", "2021-03-23"} <= set(versions)
    for version in ("2009-04-04", "2021-03-23", "latest"):
        assert vm.text(f"/{version}/meta-data/instance-id") == instance["InstanceId"]
    assert vm.get("/2009-04-04/user-data").content == USER_DATA.encode()
    assert vm.get("/1999-01-01/meta-data/instance-id").status_code == 404


def test_not_found_is_the_imds_error_page(vm: Imds) -> None:
    reply = vm.get("/latest/meta-data/no-such-thing")
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("text/html")
    assert "<title>404 - Not Found</title>" in reply.text
    assert vm.get("/latest/meta-data/instance-id/extra").status_code == 404
    assert vm.get("/latest/nothing").status_code == 404


def test_only_reads_are_allowed(vm: Imds) -> None:
    for method in ("POST", "DELETE", "PUT"):
        reply = vm.request(method, "/latest/meta-data/instance-id")
        assert reply.status_code == 405 and reply.headers["allow"] == "GET, HEAD"
    head = vm.request("HEAD", "/latest/meta-data/instance-id")
    assert head.status_code == 200 and head.content == b""


def test_public_ipv4_is_the_static_nat_address(
    server: ServerProcess, tenant: Tenant, vm: Imds, instance: dict[str, Any]
) -> None:
    admin = NativeCaller(server.native_url, server.api_key, server.secret_key)
    zone = tenant.cs.listZones()["zone"][0]["id"]
    admin.call(
        "createVlanIpRange", zoneid=zone, startip="198.18.7.10", endip="198.18.7.19",
        gateway="198.18.7.1", netmask="255.255.255.0", vlan="207", forvirtualnetwork=True,
    )  # fmt: skip
    vm_uuid = vm.text("/latest/meta-data/vm-id")
    address = tenant.cs.associateIpAddress(zoneid=zone)["ipaddress"]
    tenant.cs.enableStaticNat(ipaddressid=address["id"], virtualmachineid=vm_uuid)
    try:
        assert vm.text("/latest/meta-data/public-ipv4") == address["ipaddress"]
        dashed = address["ipaddress"].replace(".", "-")
        public_name = f"ec2-{dashed}.cloudgate.compute.internal"
        assert vm.text("/latest/meta-data/public-hostname") == public_name
        mac = vm.text("/latest/meta-data/mac")
        interface = f"/latest/meta-data/network/interfaces/macs/{mac}/public-hostname"
        assert vm.text(interface) == public_name
        assert "public-ipv4" in vm.text("/latest/meta-data/").splitlines()
        assert vm.text("/latest/public-ipv4") == address["ipaddress"]  # CloudStack's short form
    finally:
        tenant.cs.disassociateIpAddress(id=address["id"])
    assert vm.get("/latest/meta-data/public-ipv4").status_code == 404


def test_an_instance_without_key_or_user_data(
    tenant: Tenant, image_id: str, imds: Callable[[str | None], Imds]
) -> None:
    plain = launch_running(tenant, image_id)
    try:
        vm = imds(plain["PrivateIpAddress"])
        assert vm.text("/latest/meta-data/instance-id") == plain["InstanceId"]
        assert vm.get("/latest/user-data").status_code == 404
        assert vm.get("/latest/meta-data/public-keys/").status_code == 404
        assert vm.get("/latest/meta-data/public-keys").status_code == 404
        assert "public-keys/" not in vm.text("/latest/meta-data/").splitlines()
        assert vm.text("/latest/").splitlines() == ["dynamic", "meta-data"]
    finally:
        terminate(tenant, plain["InstanceId"])
    # terminated: the address no longer names a running VM
    assert vm.get("/latest/meta-data/instance-id").status_code == 404


@pytest.mark.parametrize("named", ["10.255.255.254", "not-an-address", "", None])
def test_an_unknown_source_is_not_found(imds: Callable[[str | None], Imds], named) -> None:
    reply = imds(named).get("/latest/meta-data/instance-id")
    assert reply.status_code == 404 and "<title>404 - Not Found</title>" in reply.text
