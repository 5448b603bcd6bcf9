"""CloudStack's virtual router paths for a VM deployed through the CloudStack API, and what
the two APIs' names share; tenant isolation of what a VM is told."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.metadata_api.conftest import Imds, Tenant, b64, new_tenant, public_key_line, register_key
from tests.support.server import ServerProcess

USER_DATA = "#!/bin/sh\necho 'deployed through the CloudStack API'\n"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"
CLOUD_IDENTIFIER = re.compile(r"CloudStack-\{" + UUID + r"\}")


def deploy(tenant: Tenant, demo: dict[str, str], **params: Any) -> dict[str, Any]:
    vm: dict[str, Any] = tenant.cs.deployVirtualMachine(**demo, **params)["virtualmachine"]
    assert vm["state"] == "Running"
    return vm


@pytest.fixture(scope="module")
def key_line(tenant: Tenant) -> str:
    return register_key(tenant, "cs-key")


@pytest.fixture(scope="module")
def deployed(tenant: Tenant, demo: dict[str, str], key_line: str) -> Iterator[dict[str, Any]]:
    vm = deploy(tenant, demo, name="web-1", keypair="cs-key", userdata=b64(USER_DATA))
    yield vm
    tenant.cs.destroyVirtualMachine(id=vm["id"])


@pytest.fixture(scope="module")
def vm(imds: Callable[[str | None], Imds], deployed: dict[str, Any]) -> Imds:
    return imds(deployed["nic"][0]["ipaddress"])


def test_virtual_router_names(vm: Imds, deployed: dict[str, Any], tenant: Tenant) -> None:
    offering = tenant.cs.listServiceOfferings(id=deployed["serviceofferingid"])
    assert vm.text("/latest/meta-data/vm-id") == deployed["id"]
    assert (
        vm.text("/latest/meta-data/service-offering")
        == (offering["serviceoffering"][0]["displaytext"])
    )
    assert vm.text("/latest/meta-data/availability-zone") == deployed["zonename"]
    assert vm.text("/latest/meta-data/local-ipv4") == deployed["nic"][0]["ipaddress"]
    assert CLOUD_IDENTIFIER.fullmatch(vm.text("/latest/meta-data/cloud-identifier"))
    index = vm.text("/latest/meta-data/").splitlines()
    for name in ("availability-zone", "cloud-identifier", "service-offering", "vm-id"):
        assert name in index


def test_short_forms_answer_as_meta_data(vm: Imds) -> None:
    for name in ("vm-id", "service-offering", "availability-zone", "cloud-identifier",
                 "instance-id", "local-ipv4", "local-hostname", "public-keys"):  # fmt: skip
        long_form = vm.text(f"/latest/meta-data/{name}")
        assert vm.text(f"/latest/{name}") == long_form
        assert vm.text(f"/latest/{name}/") == long_form  # the router ignores a trailing slash
    assert vm.get("/2009-04-04/vm-id").status_code == 404  # only under latest, as the router


def test_public_keys_flat_and_ec2_forms(vm: Imds, key_line: str) -> None:
    assert vm.text("/latest/meta-data/public-keys") == key_line
    assert vm.text("/latest/public-keys") == key_line
    assert vm.text("/latest/meta-data/public-keys/") == "0=cs-key"


def test_user_data_as_deployed(vm: Imds) -> None:
    assert vm.get("/latest/user-data").content == USER_DATA.encode()


def test_one_core_the_ec2_names_of_a_cloudstack_vm(
    vm: Imds, deployed: dict[str, Any], tenant: Tenant
) -> None:
    found = tenant.ec2.describe_instances(
        Filters=[{"Name": "private-ip-address", "Values": [deployed["nic"][0]["ipaddress"]]}]
    )["Reservations"]
    instance = found[0]["Instances"][0]
    assert vm.text("/latest/meta-data/instance-id") == instance["InstanceId"]
    assert vm.text("/latest/meta-data/ami-id") == instance["ImageId"]
    assert vm.text("/latest/meta-data/instance-type") == instance["InstanceType"]
    assert vm.text("/latest/meta-data/placement/availability-zone") == deployed["zonename"]


def test_several_key_pairs(tenant: Tenant, demo: dict[str, str], imds) -> None:
    lines = [public_key_line(), public_key_line()]
    for name, line in zip(("multi-a", "multi-b"), lines, strict=True):
        tenant.cs.registerSSHKeyPair(name=name, publickey=line)
    deployed = deploy(tenant, demo, keypairs="multi-a,multi-b")
    try:
        vm = imds(deployed["nic"][0]["ipaddress"])
        assert vm.text("/latest/meta-data/public-keys/").splitlines() == ["0=multi-a", "1=multi-b"]
        assert vm.text("/latest/meta-data/public-keys/1/openssh-key") == lines[1]
        assert vm.text("/latest/meta-data/public-keys").splitlines() == lines
    finally:
        tenant.cs.destroyVirtualMachine(id=deployed["id"])


def test_a_vm_sees_its_own_accounts_key_only(
    server: ServerProcess, tenant: Tenant, demo: dict[str, str], imds, key_line: str
) -> None:
    """Another account's key pair of the same name is never shown to this account's VM."""
    other = new_tenant(server, "md-other")
    other_line = public_key_line()
    other.cs.registerSSHKeyPair(name="cs-key", publickey=other_line)
    theirs = deploy(other, demo, keypair="cs-key")
    mine = deploy(tenant, demo, keypair="cs-key")
    try:
        assert imds(theirs["nic"][0]["ipaddress"]).text("/latest/public-keys") == other_line
        assert imds(mine["nic"][0]["ipaddress"]).text("/latest/public-keys") == key_line
        their_id = imds(theirs["nic"][0]["ipaddress"]).text("/latest/meta-data/vm-id")
        assert their_id == theirs["id"] != mine["id"]
    finally:
        other.cs.destroyVirtualMachine(id=theirs["id"])
        tenant.cs.destroyVirtualMachine(id=mine["id"])


def test_a_stopped_vm_does_not_answer(tenant: Tenant, demo: dict[str, str], imds) -> None:
    deployed = deploy(tenant, demo)
    vm = imds(deployed["nic"][0]["ipaddress"])
    try:
        assert vm.text("/latest/meta-data/vm-id") == deployed["id"]
        tenant.cs.stopVirtualMachine(id=deployed["id"])
        assert vm.get("/latest/meta-data/vm-id").status_code == 404
        tenant.cs.startVirtualMachine(id=deployed["id"])
        assert vm.text("/latest/meta-data/vm-id") == deployed["id"]
    finally:
        tenant.cs.destroyVirtualMachine(id=deployed["id"])
