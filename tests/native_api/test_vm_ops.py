"""VM operations over real HTTP: the `cs` client for behaviour, NativeCaller for wire details
(error codes, roles, tenant isolation)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cs import CloudStack, CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def cs(server: ServerProcess) -> CloudStack:
    return cs_client(server)


@pytest.fixture(scope="module")
def user(server: ServerProcess) -> tuple[CloudStack, NativeCaller]:
    keys = create_tenant(server, "vmops-user")
    return (
        cs_client(server, keys),
        NativeCaller(server.native_url, keys["apikey"], keys["secretkey"]),
    )


@pytest.fixture
def password_template(admin: NativeCaller, demo: dict[str, str]) -> Iterator[str]:
    """The demo template, password-enabled for the duration of one test."""
    admin.call("updateTemplate", id=demo["templateid"], passwordenabled=True)
    yield demo["templateid"]
    admin.call("updateTemplate", id=demo["templateid"], passwordenabled=False)


def error_of(caller: NativeCaller, command: str, **params: object) -> tuple[int, dict]:
    reply = caller.request(command, **params)
    body = reply.json()[f"{command.lower()}response"]
    return reply.status_code, body


def test_password_shown_once_and_encrypted_with_the_key_pair(
    user: tuple[CloudStack, NativeCaller], demo: dict[str, str], password_template: str
) -> None:
    cs, _ = user
    private_pem = cs.createSSHKeyPair(name="pw-key")["keypair"]["privatekey"]
    vm = cs.deployVirtualMachine(name="pw-vm", keypair="pw-key", **demo)["virtualmachine"]
    password = vm["password"]
    assert password and vm["keypairs"] == "pw-key" and vm["passwordenabled"] is True
    listed = cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert "password" not in listed

    encrypted = cs.getVMPassword(id=vm["id"])["password"]["encryptedpassword"]
    private = load_pem_private_key(private_pem.encode(), password=None)
    decrypted = private.decrypt(base64.b64decode(encrypted), padding.PKCS1v15())  # type: ignore[union-attr]
    assert decrypted.decode() == password

    reset = cs.resetPasswordForVirtualMachine(id=vm["id"])["virtualmachine"]
    assert reset["password"] and reset["password"] != password
    cs.destroyVirtualMachine(id=vm["id"])


def test_destroy_recover_expunge_and_the_user_setting(
    cs: CloudStack,
    admin: NativeCaller,
    user: tuple[CloudStack, NativeCaller],
    demo: dict[str, str],
) -> None:
    user_cs, user_caller = user
    vm = user_cs.deployVirtualMachine(name="recoverable", startvm=False, **demo)["virtualmachine"]
    destroyed = user_cs.destroyVirtualMachine(id=vm["id"])["virtualmachine"]
    assert destroyed["state"] == "Destroyed"

    status, body = error_of(user_caller, "recoverVirtualMachine", id=vm["id"])
    assert (status, body["errorcode"], body["cserrorcode"]) == (531, 531, 4365)
    status, _ = error_of(user_caller, "expungeVirtualMachine", id=vm["id"])
    assert status == 531

    recovered = cs.recoverVirtualMachine(id=vm["id"])["virtualmachine"]
    assert recovered["state"] == "Stopped"
    status, body = error_of(user_caller, "destroyVirtualMachine", id=vm["id"], expunge=True)
    assert status == 531

    admin.call("updateConfiguration", name="allow.user.expunge.recover.vm", value="true")
    try:
        user_cs.destroyVirtualMachine(id=vm["id"])
        assert user_cs.recoverVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Stopped"
        user_cs.destroyVirtualMachine(id=vm["id"])
        assert user_cs.expungeVirtualMachine(id=vm["id"]) == {"success": True}
    finally:
        admin.call("updateConfiguration", name="allow.user.expunge.recover.vm", value="false")
    assert user_cs.listVirtualMachines(id=vm["id"]) == {}


def test_expunge_of_a_running_vm_is_an_invalid_state(
    cs: CloudStack, admin: NativeCaller, demo: dict[str, str]
) -> None:
    vm = cs.deployVirtualMachine(name="not-destroyed", **demo)["virtualmachine"]
    status, body = error_of(admin, "expungeVirtualMachine", id=vm["id"])
    assert (status, body["cserrorcode"]) == (431, 4350)
    cs.destroyVirtualMachine(id=vm["id"], expunge=True)


def test_scale_and_change_service_offering(
    user: tuple[CloudStack, NativeCaller], demo: dict[str, str]
) -> None:
    cs, caller = user
    medium = cs.listServiceOfferings(name="Medium Instance")["serviceoffering"][0]["id"]
    vm = cs.deployVirtualMachine(name="scaled", **demo)["virtualmachine"]

    status, body = error_of(caller, "changeServiceForVirtualMachine", id=vm["id"],
                            serviceofferingid=medium)  # fmt: skip
    assert (status, body["cserrorcode"]) == (431, 4350)
    status, _ = error_of(caller, "scaleVirtualMachine", id=vm["id"], serviceofferingid=medium)
    assert status == 431  # not dynamically scalable

    updated = cs.updateVirtualMachine(id=vm["id"], isdynamicallyscalable=True)["virtualmachine"]
    assert updated["isdynamicallyscalable"] is True
    scaled = cs.scaleVirtualMachine(id=vm["id"], serviceofferingid=medium)["virtualmachine"]
    assert (scaled["state"], scaled["memory"], scaled["cpuspeed"]) == ("Running", 1024, 1000)
    assert scaled["serviceofferingid"] == medium

    cs.stopVirtualMachine(id=vm["id"])
    changed = cs.changeServiceForVirtualMachine(
        id=vm["id"], serviceofferingid=demo["serviceofferingid"]
    )["virtualmachine"]
    assert (changed["memory"], changed["state"]) == (512, "Stopped")
    cs.destroyVirtualMachine(id=vm["id"])


def test_update_user_data_group_details_and_ssh_key(
    user: tuple[CloudStack, NativeCaller], demo: dict[str, str]
) -> None:
    cs, caller = user
    cs.createSSHKeyPair(name="ssh-a")
    cs.createSSHKeyPair(name="ssh-b")
    userdata = base64.b64encode(b"#cloud-config\n").decode()
    vm = cs.deployVirtualMachine(
        name="upd", group="web", keypairs="ssh-a", userdata=userdata, **demo
    )["virtualmachine"]
    assert (vm["group"], vm["keypairs"]) == ("web", "ssh-a")
    got = cs.getVirtualMachineUserData(virtualmachineid=vm["id"])["virtualmachineuserdata"]
    assert got == {"virtualmachineid": vm["id"], "userdata": userdata}

    updated = cs.updateVirtualMachine(
        id=vm["id"], displayname="Updated", group="db", details={"foo": "bar"}
    )["virtualmachine"]
    assert (updated["displayname"], updated["group"], updated["details"]) == (
        "Updated",
        "db",
        {"foo": "bar"},
    )
    assert cs.listVirtualMachines(group="db", id=vm["id"])["count"] == 1

    status, _ = error_of(caller, "resetSSHKeyForVirtualMachine", id=vm["id"], keypair="ssh-b")
    assert status == 431  # running
    cs.stopVirtualMachine(id=vm["id"])
    reset = cs.resetSSHKeyForVirtualMachine(id=vm["id"], keypair="ssh-b")["virtualmachine"]
    assert reset["keypairs"] == "ssh-b"
    status, _ = error_of(caller, "resetSSHKeyForVirtualMachine", id=vm["id"], keypair="nokey")
    assert status == 431
    with pytest.raises(CloudStackApiException) as caught:
        cs.updateVirtualMachine(id=vm["id"], name="9starts-with-digit")
    assert caught.value.error["errorcode"] == 431
    cs.destroyVirtualMachine(id=vm["id"])


def test_list_virtual_machines_by_tag(
    user: tuple[CloudStack, NativeCaller], demo: dict[str, str]
) -> None:
    cs, _ = user
    tagged = cs.deployVirtualMachine(name="tagged", startvm=False, **demo)["virtualmachine"]
    plain = cs.deployVirtualMachine(name="plain", startvm=False, **demo)["virtualmachine"]
    cs.createTags(
        resourceids=tagged["id"], resourcetype="UserVm", tags=[{"key": "env", "value": "prod"}]
    )
    found = cs.listVirtualMachines(tags=[{"key": "env", "value": "prod"}])
    assert [vm["id"] for vm in found["virtualmachine"]] == [tagged["id"]]
    assert found["virtualmachine"][0]["tags"][0]["key"] == "env"
    for vm in (tagged, plain):
        cs.destroyVirtualMachine(id=vm["id"])


def test_tenants_cannot_operate_on_others_vms(
    server: ServerProcess, cs: CloudStack, demo: dict[str, str]
) -> None:
    vm = cs.deployVirtualMachine(name="admins-own", **demo)["virtualmachine"]
    keys = create_tenant(server, "vmops-intruder")
    intruder = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])
    medium = cs.listServiceOfferings(name="Medium Instance")["serviceoffering"][0]["id"]
    for command, params in (
        ("scaleVirtualMachine", {"id": vm["id"], "serviceofferingid": medium}),
        ("changeServiceForVirtualMachine", {"id": vm["id"], "serviceofferingid": medium}),
        ("resetPasswordForVirtualMachine", {"id": vm["id"]}),
        ("resetSSHKeyForVirtualMachine", {"id": vm["id"], "keypair": "x"}),
        ("getVMPassword", {"id": vm["id"]}),
        ("updateVirtualMachine", {"id": vm["id"], "displayname": "mine"}),
        ("getVirtualMachineUserData", {"virtualmachineid": vm["id"]}),
        ("recoverVirtualMachine", {"id": vm["id"]}),
    ):
        status, body = error_of(intruder, command, **params)
        assert status == 431, (command, body)
        assert body["errortext"].startswith("Unable to find"), (command, body)  # as if absent
    assert cs.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["displayname"] == "admins-own"
    cs.destroyVirtualMachine(id=vm["id"], expunge=True)


def test_domain_admin_may_recover_in_its_domain(
    server: ServerProcess, demo: dict[str, str]
) -> None:
    keys = create_tenant(server, "vmops-domadmin", role="domain-admin")
    domain_admin = cs_client(server, keys)
    vm = domain_admin.deployVirtualMachine(name="da-vm", startvm=False, **demo)["virtualmachine"]
    domain_admin.destroyVirtualMachine(id=vm["id"])
    recovered = domain_admin.recoverVirtualMachine(id=vm["id"])["virtualmachine"]
    assert recovered["state"] == "Stopped"
    domain_admin.destroyVirtualMachine(id=vm["id"], expunge=True)


def test_users_see_destroyed_vms_only_when_allowed(
    cs: CloudStack,
    admin: NativeCaller,
    user: tuple[CloudStack, NativeCaller],
    demo: dict[str, str],
) -> None:
    user_cs, _ = user
    vm = user_cs.deployVirtualMachine(name="hidden", startvm=False, **demo)["virtualmachine"]
    user_cs.destroyVirtualMachine(id=vm["id"])
    assert user_cs.listVirtualMachines(id=vm["id"]) == {}
    assert cs.listVirtualMachines(id=vm["id"], listall=True)["virtualmachine"][0]["state"] == (
        "Destroyed"
    )
    admin.call("updateConfiguration", name="allow.user.view.destroyed.vm", value="true")
    try:
        listed = user_cs.listVirtualMachines(id=vm["id"])["virtualmachine"]
        assert listed[0]["state"] == "Destroyed"
    finally:
        admin.call("updateConfiguration", name="allow.user.view.destroyed.vm", value="false")
