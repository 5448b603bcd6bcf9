"""apache-libcloud's CloudStack driver, unchanged, against a real cloudgate server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from libcloud.compute.base import NodeDriver
from libcloud.compute.providers import get_driver
from libcloud.compute.types import NodeState, Provider

from conformance.support import public_key, wait_for
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(Path(tmp_path_factory.mktemp("libcloud")) / "data").start()
    admin = NativeCaller(process.native_url, process.api_key, process.secret_key)
    zone = admin.call("listZones")["zone"][0]["id"]
    admin.call(
        "createVlanIpRange",
        zoneid=zone,
        startip="198.51.100.10",
        endip="198.51.100.20",
        gateway="198.51.100.1",
        netmask="255.255.255.0",
        forvirtualnetwork=True,
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def driver(server: ServerProcess) -> NodeDriver:
    cls = get_driver(Provider.CLOUDSTACK)
    return cls(server.api_key, server.secret_key, url=server.native_url, secure=False)


def test_catalogue(driver: NodeDriver) -> None:
    locations = driver.list_locations()
    assert locations and locations[0].id
    sizes = driver.list_sizes()
    assert any(size.name == "Small Instance" for size in sizes)
    small = next(size for size in sizes if size.name == "Small Instance")
    assert small.ram == 512
    images = driver.list_images()
    assert images and images[0].id


def test_node_lifecycle_volumes_and_port_forwarding(
    server: ServerProcess, driver: NodeDriver
) -> None:
    location = driver.list_locations()[0]
    size = next(size for size in driver.list_sizes() if size.name == "Small Instance")
    image = driver.list_images()[0]
    node = driver.create_node(
        name="lc-node-1", size=size, image=image, location=location, ex_start_vm=True
    )
    assert node.id
    wait_for(
        lambda: any(n.id == node.id and n.state == NodeState.RUNNING for n in driver.list_nodes())
    )
    node = next(n for n in driver.list_nodes() if n.id == node.id)
    assert node.name == "lc-node-1"
    assert node.private_ips

    assert driver.reboot_node(node)
    wait_for(
        lambda: any(n.id == node.id and n.state == NodeState.RUNNING for n in driver.list_nodes())
    )

    # volumes
    volume = driver.create_volume(size=10, name="lc-data-1", location=location)
    assert volume.id
    assert any(v.id == volume.id for v in driver.list_volumes())
    assert driver.attach_volume(node, volume)
    assert driver.detach_volume(volume)
    assert driver.destroy_volume(volume)
    assert not any(v.id == volume.id for v in driver.list_volumes())

    # public IPs and port forwarding
    address = driver.ex_allocate_public_ip(location=location)
    assert address.address.startswith("198.51.100.")
    assert any(a.id == address.id for a in driver.ex_list_public_ips())
    rule = driver.ex_create_port_forwarding_rule(node, address, 22, 2222, "tcp")
    assert rule.id
    rules = driver.ex_list_port_forwarding_rules()
    assert [(r.id, r.public_port, r.private_port, r.protocol) for r in rules] == [
        (rule.id, "2222", "22", "tcp")
    ]
    assert rules[0].node.id == node.id
    listed = next(n for n in driver.list_nodes() if n.id == node.id)
    assert address.address in listed.public_ips
    assert [r.id for r in listed.extra["port_forwarding_rules"]] == [rule.id]
    assert driver.ex_delete_port_forwarding_rule(node, rule)
    assert driver.ex_list_port_forwarding_rules() == []
    # a rule left on a released address disappears with it
    driver.ex_create_port_forwarding_rule(node, address, 80, 8080, "tcp")
    assert driver.ex_release_public_ip(address)
    assert not any(a.id == address.id for a in driver.ex_list_public_ips())
    assert driver.ex_list_port_forwarding_rules() == []

    # IP forwarding rules on a static NAT address (libcloud has no enableStaticNat call)
    nat_address = driver.ex_allocate_public_ip(location=location)
    admin = NativeCaller(server.native_url, server.api_key, server.secret_key)
    admin.call("enableStaticNat", ipaddressid=nat_address.id, virtualmachineid=node.id)
    node = next(n for n in driver.list_nodes() if n.id == node.id)
    forwarding = driver.ex_create_ip_forwarding_rule(node, nat_address, "tcp", 1000, 1010)
    listed = next(n for n in driver.list_nodes() if n.id == node.id)
    assert nat_address.address in listed.public_ips
    shown = listed.extra["ip_forwarding_rules"]
    assert [(r.id, r.protocol, r.start_port, r.end_port) for r in shown] == [
        (forwarding.id, "TCP", 1000, 1010)
    ]
    assert driver.ex_delete_ip_forwarding_rule(listed, shown[0])
    listed = next(n for n in driver.list_nodes() if n.id == node.id)
    assert listed.extra["ip_forwarding_rules"] == []
    assert driver.ex_release_public_ip(nat_address)

    assert driver.destroy_node(node)
    # Destroyed VMs stay listed (as TERMINATED) until expunged, as in CloudStack.
    wait_for(
        lambda: all(n.state == NodeState.TERMINATED for n in driver.list_nodes() if n.id == node.id)
    )


def test_key_pairs(driver: NodeDriver) -> None:
    created = driver.create_key_pair("lc-key-1")
    assert created.name == "lc-key-1"
    assert created.private_key and "PRIVATE KEY" in created.private_key
    imported = driver.import_key_pair_from_string("lc-key-2", public_key())
    assert imported.name == "lc-key-2"
    assert imported.fingerprint
    names = {pair.name for pair in driver.list_key_pairs()}
    assert {"lc-key-1", "lc-key-2"} <= names
    # delete_key_pair's return value: see test_sync_success_is_the_string_true below.
    driver.delete_key_pair(created)
    driver.delete_key_pair(imported)
    names = {pair.name for pair in driver.list_key_pairs()}
    assert not names & {"lc-key-1", "lc-key-2"}


def test_security_groups(driver: NodeDriver) -> None:
    group = driver.ex_create_security_group("lc-web", description="web servers")
    assert group["name"] == "lc-web"
    assert any(g["name"] == "lc-web" for g in driver.ex_list_security_groups())
    rules = driver.ex_authorize_security_group_ingress(
        securitygroupname="lc-web", protocol="tcp", cidrlist="0.0.0.0/0", startport=22
    )
    assert rules
    listed = next(g for g in driver.ex_list_security_groups() if g["name"] == "lc-web")
    assert [(r["protocol"], r["startport"]) for r in listed["ingressrule"]] == [("tcp", 22)]
    assert driver.ex_delete_security_group("lc-web")
    assert not any(g["name"] == "lc-web" for g in driver.ex_list_security_groups())


def test_sync_success_is_the_string_true(driver: NodeDriver) -> None:
    pair = driver.create_key_pair("lc-key-3")
    assert driver.delete_key_pair(pair)
