"""apache-libcloud's EC2 driver, unchanged, pointed at a real cloudgate server.

libcloud only accepts AWS's own region names and filters availability zones by region, so the
server is run with `--region us-east-1` (CLOUDGATE_REGION), as a libcloud user would configure
it. For us-east-1 libcloud 3.x signs with SigV2 unless told `signature_version="4"`; both are
exercised. list_sizes is libcloud's own table of AWS types (it asks the server nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError
from libcloud.compute.base import Node, NodeAuthSSHKey, StorageVolume
from libcloud.compute.drivers.ec2 import EC2NodeDriver
from libcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState

from conformance.support import public_key, wait_for
from tests.ec2_api.conftest import Keys, create_user
from tests.support.native import NativeCaller, create_public_range
from tests.support.server import ServerProcess

REGION = "us-east-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        Path(tmp_path_factory.mktemp("libcloud-ec2")) / "data",
        extra_env={"CLOUDGATE_REGION": REGION},
    ).start()
    admin = NativeCaller(process.native_url, process.api_key, process.secret_key)
    create_public_range(admin, admin.call("listZones")["zone"][0]["id"], 1)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def tenant(server: ServerProcess) -> Keys:
    return create_user(server, "libcloud-tenant")


def make_driver(server: ServerProcess, keys: Keys, signature_version: str | None = None) -> Any:
    host, port = server.ec2_url.removeprefix("http://").split(":")
    return EC2NodeDriver(
        keys.access_key,
        keys.secret_key,
        secure=False,
        host=host,
        port=int(port),
        region=REGION,
        signature_version=signature_version,
    )


@pytest.fixture(scope="module")
def driver(server: ServerProcess, tenant: Keys) -> Any:
    return make_driver(server, tenant)


def node_state(driver: Any, node: Node) -> Any:
    found = driver.list_nodes(ex_node_ids=[node.id])
    return found[0].state if found else None


def test_signature_versions(server: ServerProcess, tenant: Keys) -> None:
    sigv2 = make_driver(server, tenant)
    sigv4 = make_driver(server, tenant, "4")
    assert (sigv2.signature_version, sigv4.signature_version) == ("2", "4")
    assert [z.name for z in sigv2.ex_list_availability_zones()] == [
        z.name for z in sigv4.ex_list_availability_zones()
    ]
    wrong = make_driver(server, Keys(tenant.access_key, "not-the-secret"), "4")
    with pytest.raises(InvalidCredsError, match="SignatureDoesNotMatch"):
        wrong.list_nodes()


def test_catalogue(driver: Any) -> None:
    locations = driver.list_locations()
    assert [loc.availability_zone.region_name for loc in locations] == [REGION]
    assert locations[0].availability_zone.zone_state == "available"
    sizes = {size.id for size in driver.list_sizes()}
    assert {"t2.micro", "m5.large"} <= sizes
    images = driver.list_images(ex_owner="amazon")
    assert images and all(image.id.startswith("ami-") for image in images)
    assert images[0].extra["owner_alias"] == "amazon"
    assert driver.list_images(ex_owner="self") == []


def test_key_pairs(driver: Any) -> None:
    created = driver.create_key_pair("lc-ec2-key-1")
    assert created.name == "lc-ec2-key-1"
    assert created.private_key and "PRIVATE KEY" in created.private_key
    assert created.fingerprint.count(":") == 19  # SHA-1 of the private key, as AWS
    imported = driver.import_key_pair_from_string("lc-ec2-key-2", public_key())
    assert imported.name == "lc-ec2-key-2"
    assert imported.fingerprint.count(":") == 15  # MD5 of the public key, as AWS
    assert driver.get_key_pair("lc-ec2-key-2").fingerprint == imported.fingerprint
    names = {pair.name for pair in driver.list_key_pairs()}
    assert {"lc-ec2-key-1", "lc-ec2-key-2"} <= names
    assert driver.delete_key_pair(created) is True
    assert driver.delete_key_pair(imported) is True
    assert not {pair.name for pair in driver.list_key_pairs()} & {"lc-ec2-key-1", "lc-ec2-key-2"}


def test_security_groups(driver: Any) -> None:
    group = driver.ex_create_security_group("lc-ec2-web", "web servers")
    group_id = group["group_id"]
    assert group_id.startswith("sg-")
    assert "lc-ec2-web" in driver.ex_list_security_groups()
    assert driver.ex_authorize_security_group_ingress(group_id, 22, 22, ["0.0.0.0/0"]) is True
    assert driver.ex_authorize_security_group_ingress(
        group_id, 8000, 8080, ["10.0.0.0/8", "192.168.0.0/16"], protocol="udp"
    )
    (listed,) = driver.ex_get_security_groups(group_ids=[group_id])
    assert listed.name == "lc-ec2-web"
    rules = sorted(
        (r["protocol"], r["from_port"], r["to_port"], tuple(sorted(r["cidr_ips"])))
        for r in listed.ingress_rules
    )
    assert rules == [
        ("tcp", "22", "22", ("0.0.0.0/0",)),
        ("udp", "8000", "8080", ("10.0.0.0/8", "192.168.0.0/16")),
    ]
    assert driver.ex_revoke_security_group_ingress(group_id, 22, 22, ["0.0.0.0/0"])
    (listed,) = driver.ex_get_security_groups(group_ids=[group_id])
    assert [r["protocol"] for r in listed.ingress_rules] == ["udp"]
    assert driver.ex_delete_security_group_by_id(group_id)
    assert "lc-ec2-web" not in driver.ex_list_security_groups()


def test_node_volume_address_and_tag_lifecycle(driver: Any) -> None:
    location = driver.list_locations()[0]
    size = next(size for size in driver.list_sizes() if size.id == "t2.micro")
    image = driver.list_images(ex_owner="amazon")[0]
    driver.create_key_pair("lc-ec2-node-key")
    driver.ex_create_security_group("lc-ec2-node-sg", "for the node")
    node = driver.create_node(
        name="lc-ec2-node-1",
        size=size,
        image=image,
        location=location,
        ex_keyname="lc-ec2-node-key",
        ex_security_groups=["lc-ec2-node-sg"],
        ex_userdata="#!/bin/sh\necho hello\n",
        ex_metadata={"team": "conformance"},
    )
    try:
        assert node.id.startswith("i-")
        assert node.name == "lc-ec2-node-1"
        wait_for(lambda: node_state(driver, node) == NodeState.RUNNING)
        (listed,) = driver.list_nodes(ex_node_ids=[node.id])
        assert listed.extra["instance_type"] == "t2.micro"
        assert listed.extra["key_name"] == "lc-ec2-node-key"
        assert listed.extra["availability"] == location.availability_zone.name
        assert [g["group_name"] for g in listed.extra["groups"]] == ["lc-ec2-node-sg"]
        assert listed.extra["tags"] == {"Name": "lc-ec2-node-1", "team": "conformance"}
        assert listed.private_ips
        assert listed.name == "lc-ec2-node-1"
        assert driver.list_nodes(ex_filters={"tag:team": "conformance"})[0].id == node.id
        assert driver.list_nodes(ex_filters={"tag:team": "nobody"}) == []

        assert driver.reboot_node(listed) is True
        wait_for(lambda: node_state(driver, node) == NodeState.RUNNING)

        # volumes
        volume = driver.create_volume(5, "lc-ec2-data", location=location)
        assert volume.id.startswith("vol-") and volume.size == 5
        assert volume.extra["tags"] == {"Name": "lc-ec2-data"}
        wait_for(
            lambda: any(
                v.id == volume.id and v.state == StorageVolumeState.AVAILABLE
                for v in driver.list_volumes()
            )
        )
        assert driver.attach_volume(listed, volume, "/dev/sdf") is True
        wait_for(
            lambda: any(
                v.id == volume.id and v.state == StorageVolumeState.INUSE
                for v in driver.list_volumes(node=listed)
            )
        )
        attached = next(v for v in driver.list_volumes(node=listed) if v.id == volume.id)
        assert attached.extra["instance_id"] == node.id
        assert attached.extra["device"] == "/dev/sdf"
        assert attached.name == "lc-ec2-data"
        assert driver.detach_volume(volume) is True
        wait_for(
            lambda: any(
                v.id == volume.id and v.state == StorageVolumeState.AVAILABLE
                for v in driver.list_volumes()
            )
        )
        assert driver.destroy_volume(volume) is True
        assert not any(v.id == volume.id for v in driver.list_volumes())

        # Elastic IPs (VPC addresses: the allocation id is what associates and releases)
        address = driver.ex_allocate_address(domain="vpc")
        assert address.ip.startswith("198.18.1.")
        assert address.extra["allocation_id"].startswith("eipalloc-")
        association = driver.ex_associate_address_with_node(listed, address, domain="vpc")
        assert association and association.startswith("eipassoc-")
        (with_ip,) = driver.list_nodes(ex_node_ids=[node.id])
        assert address.ip in with_ip.public_ips
        (associated,) = driver.ex_describe_all_addresses(only_associated=True)
        assert (associated.ip, associated.instance_id) == (address.ip, node.id)
        assert associated.extra["association_id"] == association
        assert driver.ex_describe_addresses_for_node(with_ip) == [address.ip]
        assert driver.ex_disassociate_address(associated, domain="vpc") is True
        assert driver.ex_describe_all_addresses(only_associated=True) == []
        assert driver.ex_release_address(address, domain="vpc") is True
        assert address.ip not in [a.ip for a in driver.ex_describe_all_addresses()]

        # tags
        assert driver.ex_create_tags(with_ip, {"env": "test", "Name": "renamed"}) is True
        assert driver.ex_describe_tags(with_ip) == {
            "Name": "renamed",
            "env": "test",
            "team": "conformance",
        }
        assert driver.ex_delete_tags(with_ip, {"env": "test"}) is True
        assert "env" not in driver.ex_describe_tags(with_ip)
        assert driver.list_nodes(ex_node_ids=[node.id])[0].name == "renamed"
    finally:
        assert driver.destroy_node(node) is True
    wait_for(lambda: node_state(driver, node) in (NodeState.TERMINATED, None))
    driver.ex_delete_security_group("lc-ec2-node-sg")
    driver.delete_key_pair(driver.get_key_pair("lc-ec2-node-key"))


def test_snapshots_and_images(driver: Any) -> None:
    location = driver.list_locations()[0]
    size = next(size for size in driver.list_sizes() if size.id == "t2.micro")
    image = driver.list_images(ex_owner="amazon")[0]
    volume = driver.create_volume(1, "lc-ec2-snap-src", location=location)
    wait_for(
        lambda: any(
            v.id == volume.id and v.state == StorageVolumeState.AVAILABLE
            for v in driver.list_volumes()
        )
    )
    snapshot = driver.create_volume_snapshot(volume, name="lc-ec2-snap")
    assert snapshot.id.startswith("snap-")
    wait_for(
        lambda: (
            [s.state for s in driver.list_volume_snapshots(volume)]
            == [VolumeSnapshotState.AVAILABLE]
        )
    )
    (listed,) = driver.list_snapshots(snapshot=snapshot, owner="self")
    assert (listed.extra["volume_id"], listed.extra["name"]) == (volume.id, "lc-ec2-snap")
    assert driver.destroy_volume_snapshot(listed) is True
    assert driver.destroy_volume(volume) is True

    node = driver.create_node(name="lc-ec2-imaged", size=size, image=image, location=location)
    try:
        wait_for(lambda: node_state(driver, node) == NodeState.RUNNING)
        assert driver.stop_node(node) is True
        wait_for(lambda: node_state(driver, node) == NodeState.STOPPED)
        made = driver.create_image(node, "lc-ec2-image", description="from libcloud")
        assert made.id.startswith("ami-")
        wait_for(
            lambda: driver.list_images(ex_image_ids=[made.id])[0].extra["state"] == "available"
        )
        (own,) = driver.list_images(ex_owner="self")
        assert (own.id, own.name, own.extra["description"]) == (
            made.id,
            "lc-ec2-image",
            "from libcloud",
        )
        assert driver.delete_image(own) is True
        assert driver.list_images(ex_owner="self") == []
    finally:
        driver.destroy_node(node)


# libcloud's own create_node(auth=…) imports the key through a deprecated method of its own.
@pytest.mark.filterwarnings("ignore:This method has been deprecated:UserWarning")
def test_portable_api_resize_and_account_views(driver: Any) -> None:
    sizes = {size.id: size for size in driver.list_sizes()}
    image = driver.list_images(ex_owner="amazon")[0]
    key = public_key()
    # The base API's auth: libcloud finds the key pair by the fingerprint it computes itself
    # (AWS's MD5 of the public key), importing it only when no key pair has it.
    node = driver.create_node(
        name="lc-ec2-portable", size=sizes["t2.micro"], image=image, auth=NodeAuthSSHKey(key)
    )
    try:
        found = driver.ex_find_or_import_keypair_by_key_material(key)
        assert found["keyName"] == "conformance@example-" + found["keyFingerprint"]
        assert [p.name for p in driver.list_key_pairs()].count(found["keyName"]) == 1
        wait_for(lambda: node_state(driver, node) == NodeState.RUNNING)
        (listed,) = driver.list_nodes(ex_node_ids=[node.id])
        assert listed.extra["key_name"] == found["keyName"]
        console = driver.ex_get_console_output(listed)
        assert console["instance_id"] == node.id and console["output"]

        assert driver.stop_node(listed) is True
        wait_for(lambda: node_state(driver, node) == NodeState.STOPPED)
        assert driver.ex_change_node_size(listed, sizes["t2.small"]) is True
        assert driver.start_node(listed) is True
        wait_for(lambda: node_state(driver, node) == NodeState.RUNNING)
        assert driver.list_nodes(ex_node_ids=[node.id])[0].extra["instance_type"] == "t2.small"
    finally:
        driver.destroy_node(node)
    (vpc,) = driver.ex_list_networks()
    assert (vpc.cidr_block, vpc.extra["is_default"]) == ("172.31.0.0/16", "true")
    subnets = driver.ex_list_subnets(filters={"vpc-id": vpc.id})
    assert subnets and all(subnet.extra["vpc_id"] == vpc.id for subnet in subnets)
    limits = driver.ex_get_limits()["resource"]
    assert limits["max-instances"] == 20  # the account's core limit (max.account.user.vms)
    driver.delete_key_pair(driver.get_key_pair(found["keyName"]))


def test_network_interfaces_route_tables_and_gateways(driver: Any) -> None:
    size = next(size for size in driver.list_sizes() if size.id == "t2.micro")
    image = driver.list_images(ex_owner="amazon")[0]
    node = driver.create_node(name="lc-ec2-eni", size=size, image=image)
    try:
        wait_for(lambda: node_state(driver, node) == NodeState.RUNNING)
        (listed,) = driver.list_nodes(ex_node_ids=[node.id])
        (vpc,) = driver.ex_list_networks()
        interfaces = [
            i
            for i in driver.ex_list_network_interfaces()
            if i.extra["attachment"]["instance_id"] == node.id
        ]
        (interface,) = interfaces
        assert interface.id.startswith("eni-") and interface.state == "in-use"
        assert interface.extra["vpc_id"] == vpc.id
        assert interface.extra["subnet_id"] == listed.extra["subnet_id"]
        assert interface.extra["attachment"]["device_index"] == 0
        assert interface.extra["private_ips"][0]["private_ip"] == listed.private_ips[0]
        (table,) = driver.ex_list_route_tables(filters={"vpc-id": vpc.id})
        assert table.id.startswith("rtb-") and table.extra["vpc_id"] == vpc.id
        (association,) = table.subnet_associations
        assert association.main is True and association.route_table_id == table.id
        (gateway,) = driver.ex_list_internet_gateways(filters={"attachment.vpc-id": vpc.id})
        assert (gateway.vpc_id, gateway.state) == (vpc.id, "available")
        routes = {(route.cidr, route.gateway_id) for route in table.routes}
        assert routes == {(vpc.cidr_block, "local"), ("0.0.0.0/0", gateway.id)}
        assert driver.ex_list_route_tables(route_table_ids=[table.id])[0].id == table.id
        assert driver.ex_list_internet_gateways(gateway_ids=[gateway.id])[0].id == gateway.id
    finally:
        driver.destroy_node(node)


def test_errors_reach_libcloud(driver: Any) -> None:
    pair = driver.create_key_pair("lc-ec2-dup")
    with pytest.raises(BaseHTTPError, match=r"InvalidKeyPair\.Duplicate") as raised:
        driver.create_key_pair("lc-ec2-dup")
    assert raised.value.code == 400
    driver.delete_key_pair(pair)
    with pytest.raises(BaseHTTPError, match=r"InvalidInstanceID\.NotFound"):
        driver.list_nodes(ex_node_ids=["i-0123456789abcdef0"])
    missing = StorageVolume("vol-0123456789abcdef0", "gone", 1, driver)
    with pytest.raises(BaseHTTPError, match=r"InvalidVolume\.NotFound"):
        driver.destroy_volume(missing)


def test_another_tenant_sees_nothing(server: ServerProcess, driver: Any) -> None:
    other = make_driver(server, create_user(server, "libcloud-other"))
    group = driver.ex_create_security_group("lc-ec2-private", "mine")
    try:
        assert "lc-ec2-private" not in other.ex_list_security_groups()
        with pytest.raises(BaseHTTPError, match=r"InvalidGroup\.NotFound"):
            other.ex_delete_security_group_by_id(group["group_id"])
    finally:
        driver.ex_delete_security_group_by_id(group["group_id"])
