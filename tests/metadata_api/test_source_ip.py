"""Source-IP mode, as on a real cloud: the VM is whoever the TCP peer is.

The VM is launched into a subnet on loopback (a VPC of 127.0.0.0/16), so its guest address
is a loopback address this machine can send from: a client bound to it *is* the VM. Over that,
two real consumers: the `ec2-metadata` library (an IMDSv2 client) and a crawl done the way
cloud-init's EC2 datasource does it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import urllib3
from ec2_metadata import EC2Metadata

from tests.metadata_api.conftest import (
    TOKEN_HEADER,
    TTL_HEADER,
    VM_IP_HEADER,
    Tenant,
    launch_running,
    new_tenant,
    public_key_line,
    terminate,
)
from tests.support.server import ServerProcess

USER_DATA = "#cloud-config\npackages: [htop]\n"


@pytest.fixture(scope="module")
def loopback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("metadata-source-ip"), metadata_identify_by="source-ip"
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def guest(loopback_server: ServerProcess) -> Iterator[tuple[Tenant, dict[str, Any], str]]:
    tenant = new_tenant(loopback_server, "md-loopback")
    line = public_key_line()
    tenant.cs.registerSSHKeyPair(name="src-key", publickey=line)
    image = tenant.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = tenant.ec2.create_vpc(CidrBlock="127.0.0.0/16")["Vpc"]["VpcId"]
    subnet = tenant.ec2.create_subnet(VpcId=vpc, CidrBlock="127.0.9.0/24")["Subnet"]["SubnetId"]
    instance = launch_running(tenant, image, KeyName="src-key", UserData=USER_DATA, SubnetId=subnet)
    assert instance["PrivateIpAddress"].startswith("127.0.9.")
    yield tenant, instance, line
    terminate(tenant, instance["InstanceId"])


def as_vm(address: str) -> httpx.Client:
    """An HTTP client whose requests come from `address` (a VM's guest IP on loopback)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_the_ec2_metadata_library(loopback_server: ServerProcess, guest) -> None:
    _, instance, line = guest
    pool = urllib3.PoolManager(source_address=(instance["PrivateIpAddress"], 0))
    metadata = EC2Metadata(pool_manager=pool)
    metadata.service_url = f"{loopback_server.metadata_url}/latest/"
    metadata.dynamic_url = f"{metadata.service_url}dynamic/"
    metadata.metadata_url = f"{metadata.service_url}meta-data/"
    metadata.userdata_url = f"{metadata.service_url}user-data/"
    assert metadata.instance_id == instance["InstanceId"]
    assert metadata.ami_id == instance["ImageId"]
    assert metadata.instance_type == instance["InstanceType"]
    assert metadata.availability_zone == instance["Placement"]["AvailabilityZone"]
    assert metadata.region == "cloudgate"
    assert metadata.private_ipv4 == instance["PrivateIpAddress"]
    assert metadata.private_hostname == instance["PrivateDnsName"]
    assert metadata.reservation_id == instance["ReservationId"]
    assert metadata.public_ipv4 is None
    assert metadata.security_groups == ["default"]
    assert metadata.public_keys["src-key"].openssh_key == line
    assert metadata.user_data == USER_DATA.encode()
    assert metadata.account_id == metadata.instance_identity_document["accountId"]
    interface = metadata.network_interfaces[metadata.mac]
    assert interface.private_ipv4s == [instance["PrivateIpAddress"]]
    assert interface.device_number == 0


def crawl(client: httpx.Client, url: str, token: str) -> dict[str, Any]:
    """cloud-init's MetadataMaterializer: `name/` is a directory, `N=name` a public key,
    anything else a leaf (JSON-looking leaves are decoded)."""
    listing = client.get(url, headers={TOKEN_HEADER: token})
    assert listing.status_code == 200, url
    tree: dict[str, Any] = {}
    for line in listing.text.splitlines():
        if line.endswith("/"):
            tree[line[:-1]] = crawl(client, url + line, token)
            continue
        name, resource = line, line
        if "=" in line:
            index, name = line.split("=", 1)
            resource = f"{int(index)}/openssh-key"
        leaf = client.get(url + resource, headers={TOKEN_HEADER: token})
        assert leaf.status_code == 200, url + resource
        text = leaf.text
        tree[name] = json.loads(text) if text.startswith("{") else text
    return tree


def test_a_cloud_init_style_crawl(loopback_server: ServerProcess, guest) -> None:
    _, instance, line = guest
    base = loopback_server.metadata_url
    with as_vm(instance["PrivateIpAddress"]) as client:
        token = client.put(f"{base}/latest/api/token", headers={TTL_HEADER: "21600"}).text
        auth = {TOKEN_HEADER: token}
        probe = client.get(f"{base}/2021-03-23/meta-data/instance-id", headers=auth)
        assert probe.text == instance["InstanceId"]
        meta = crawl(client, f"{base}/2021-03-23/meta-data/", token)
        identity = crawl(client, f"{base}/2021-03-23/dynamic/instance-identity/", token)
        user_data = client.get(f"{base}/2021-03-23/user-data", headers=auth)
    assert meta["instance-id"] == instance["InstanceId"]
    assert meta["public-keys"] == {"src-key": line}
    assert meta["placement"]["availability-zone"] == instance["Placement"]["AvailabilityZone"]
    assert meta["local-hostname"] == instance["PrivateDnsName"]
    assert meta["block-device-mapping"] == {"ami": "/dev/sda1", "root": "/dev/sda1"}
    assert (
        meta["network"]["interfaces"]["macs"][meta["mac"]]["local-ipv4s"]
        == (instance["PrivateIpAddress"])
    )
    assert identity["document"]["instanceId"] == instance["InstanceId"]
    assert user_data.content == USER_DATA.encode()


def test_only_the_peer_address_counts(loopback_server: ServerProcess, guest) -> None:
    _, instance, _ = guest
    address, url = instance["PrivateIpAddress"], loopback_server.metadata_url
    path = "/latest/meta-data/instance-id"
    # From 127.0.0.1, which is no VM, neither the header nor X-Forwarded-For names one.
    assert httpx.get(url + path, headers={VM_IP_HEADER: address}).status_code == 404
    assert httpx.get(url + path, headers={"X-Forwarded-For": address}).status_code == 404
    # A VM naming another address is still answered as itself.
    with as_vm(address) as client:
        reply = client.get(url + path, headers={VM_IP_HEADER: "127.0.0.99"})
    assert (reply.status_code, reply.text) == (200, instance["InstanceId"])
