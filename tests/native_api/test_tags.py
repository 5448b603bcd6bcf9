"""createTags / deleteTags / listTags over real HTTP, with the cs client and raw callers."""

from __future__ import annotations

import pytest
from cs import CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def owner_keys(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "tags-owner")


@pytest.fixture(scope="module")
def owner_vm(server: ServerProcess, owner_keys, demo: dict[str, str]) -> str:
    client = cs_client(server, owner_keys)
    return client.deployVirtualMachine(name="tagged", startvm=False, **demo)["virtualmachine"]["id"]


def test_tag_lifecycle_with_cs(server: ServerProcess, owner_keys, owner_vm: str) -> None:
    client = cs_client(server, owner_keys)
    created = client.createTags(
        resourcetype="UserVm",
        resourceids=owner_vm,
        tags=[{"key": "env", "value": "prod"}, {"key": "tier", "value": "web"}],
    )
    assert created == {"success": True}
    listed = client.listTags(resourceid=owner_vm)
    assert listed["count"] == 2
    tag = next(t for t in listed["tag"] if t["key"] == "env")
    assert tag["value"] == "prod" and tag["resourcetype"] == "UserVm"
    assert tag["resourceid"] == owner_vm and tag["account"] == "tags-owner"

    vm = client.listVirtualMachines(id=owner_vm)["virtualmachine"][0]
    assert {(t["key"], t["value"]) for t in vm["tags"]} == {("env", "prod"), ("tier", "web")}
    by_tag = client.listVirtualMachines(tags=[{"key": "env", "value": "prod"}])
    assert [v["id"] for v in by_tag["virtualmachine"]] == [owner_vm]
    assert client.listVirtualMachines(tags=[{"key": "env", "value": "dev"}]) == {}

    with pytest.raises(CloudStackApiException) as caught:
        client.createTags(
            resourcetype="UserVm", resourceids=owner_vm, tags=[{"key": "env", "value": "dev"}]
        )
    assert caught.value.error["errorcode"] == 431
    assert "already exists" in caught.value.error["errortext"]

    client.deleteTags(resourcetype="UserVm", resourceids=owner_vm, tags=[{"key": "env"}])
    assert [t["key"] for t in client.listTags(resourceid=owner_vm)["tag"]] == ["tier"]
    client.deleteTags(resourcetype="UserVm", resourceids=owner_vm)
    assert client.listTags(resourceid=owner_vm) == {}


def test_wire_details_and_isolation(
    server: ServerProcess, owner_keys, owner_vm: str, tenant: NativeCaller, admin: NativeCaller
) -> None:
    owner = NativeCaller(server.native_url, owner_keys["apikey"], owner_keys["secretkey"])
    started = owner.call(
        "createTags",
        resourcetype="UserVm",
        resourceids=owner_vm,
        **{"tags[0].key": "secret", "tags[0].value": "x"},
    )
    result = owner.wait_job(started["jobid"])
    assert result["jobstatus"] == 1
    assert result["cmd"] == "org.apache.cloudstack.api.command.user.tag.CreateTagsCmd"
    assert result["jobresult"] == {"success": True}

    # another tenant: not found, and sees none of the tags
    reply = tenant.request(
        "createTags",
        resourcetype="UserVm",
        resourceids=owner_vm,
        **{"tags[0].key": "mine", "tags[0].value": "y"},
    )
    assert reply.status_code == 431
    assert tenant.call("listTags", listall=True) == {}
    assert (
        tenant.request("deleteTags", resourcetype="UserVm", resourceids=owner_vm).status_code == 431
    )
    # the admin sees them with listall
    assert any(t["key"] == "secret" for t in admin.call("listTags", listall=True)["tag"])

    reply = owner.request(
        "createTags",
        resourcetype="Spaceship",
        resourceids=owner_vm,
        **{"tags[0].key": "a", "tags[0].value": "b"},
    )
    assert reply.status_code == 431
    assert "Unsupported resource type" in reply.json()["createtagsresponse"]["errortext"]
    missing = owner.request("createTags", resourcetype="UserVm", resourceids=owner_vm)
    assert missing.status_code == 431  # tags is required
