"""ISOs through the CloudStack API: register, list, attach/detach, permissions, isolation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.core.test_templates import IMAGE, ImageServer
from tests.native_api.conftest import create_tenant
from tests.native_api.test_templates import serve_images, wait_ready
from tests.support.native import NativeCaller, cs_client, native_caller
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    with serve_images() as served:
        yield served


@pytest.fixture(scope="module")
def owner(server: ServerProcess) -> CloudStack:
    keys = create_tenant(server, "iso-owner")
    return cs_client(server, keys)


@pytest.fixture(scope="module")
def other_keys(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "iso-other")


@pytest.fixture
def other(server: ServerProcess, other_keys: dict[str, str]) -> CloudStack:
    return cs_client(server, other_keys)


@pytest.fixture
def other_raw(server: ServerProcess, other_keys: dict[str, str]) -> NativeCaller:
    return native_caller(server, other_keys)


def register_iso(cs: CloudStack, demo: dict[str, str], url: str, **extra: Any) -> dict[str, Any]:
    reply = cs.registerIso(
        name=extra.pop("name", "rescue"), url=url, zoneid=demo["zoneid"], **extra
    )
    assert reply["count"] == 1
    iso = reply["iso"][0]
    assert iso["isready"] is False and iso["format"] == "ISO"
    return iso


def test_iso_lifecycle_with_a_vm(
    owner: CloudStack, other_raw: NativeCaller, demo: dict[str, str], images: ImageServer
) -> None:
    iso = register_iso(owner, demo, images.add("/rescue.iso", IMAGE), bootable=True)
    assert wait_ready(owner, iso["id"], iso=True)["status"] == "Download Complete"
    assert owner.listIsos(isofilter="self")["iso"][0]["id"] == iso["id"]
    listed = owner.listTemplates(templatefilter="self").get("template", [])
    assert iso["id"] not in {t["id"] for t in listed}

    vm = owner.deployVirtualMachine(name="with-cd", **demo)["virtualmachine"]
    assert "isoid" not in vm
    assert vm["osdisplayname"] == "CentOS 5.6 (64-bit)" and vm["guestosid"]
    centos = owner.listOsTypes(id=vm["guestosid"])["ostype"][0]
    assert centos["description"] == "CentOS 5.6 (64-bit)"
    # another tenant can neither see the ISO nor touch the VM
    reply = other_raw.request("attachIso", id=iso["id"], virtualmachineid=vm["id"])
    assert reply.status_code == 431
    attached = owner.attachIso(id=iso["id"], virtualmachineid=vm["id"])["virtualmachine"]
    assert attached["isoid"] == iso["id"] and attached["isoname"] == "rescue"
    shown = owner.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert shown["isodisplaytext"] == "rescue"
    with pytest.raises(CloudStackApiException) as caught:
        owner.attachIso(id=iso["id"], virtualmachineid=vm["id"])
    assert caught.value.error["errorcode"] == 431
    with pytest.raises(CloudStackApiException) as caught:
        owner.deleteIso(id=iso["id"])
    assert "used by other vms" in caught.value.error["errortext"]
    detached = owner.detachIso(virtualmachineid=vm["id"])["virtualmachine"]
    assert "isoid" not in detached
    with pytest.raises(CloudStackApiException):
        owner.detachIso(virtualmachineid=vm["id"])
    owner.destroyVirtualMachine(id=vm["id"])

    updated = owner.updateIso(id=iso["id"], displaytext="rescue disk", bootable=False)["iso"]
    assert updated["displaytext"] == "rescue disk" and updated["bootable"] is False
    assert owner.deleteIso(id=iso["id"])["success"] is True
    assert owner.listIsos(isofilter="self", id=iso["id"]) == {}


def test_iso_permissions_and_isolation(
    owner: CloudStack,
    other: CloudStack,
    other_raw: NativeCaller,
    demo: dict[str, str],
    images: ImageServer,
) -> None:
    iso = register_iso(owner, demo, images.add("/tools.iso", IMAGE), name="tools")
    wait_ready(owner, iso["id"], iso=True)
    assert other.listIsos(isofilter="executable").get("iso", []) == [] or iso["id"] not in {
        i["id"] for i in other.listIsos(isofilter="executable")["iso"]
    }
    assert other_raw.request("deleteIso", id=iso["id"]).status_code == 431
    assert other_raw.request("listIsoPermissions", id=iso["id"]).status_code == 431
    owner.updateIsoPermissions(id=iso["id"], accounts="iso-other", op="add")
    assert owner.listIsoPermissions(id=iso["id"])["templatepermission"]["account"] == ["iso-other"]
    shared = other.listIsos(isofilter="sharedexecutable")["iso"]
    assert [i["id"] for i in shared] == [iso["id"]]
    bad = other_raw.request("listTemplates", templatefilter="self", id=iso["id"])
    assert bad.status_code == 200 and bad.json()["listtemplatesresponse"] == {}
