"""Templates and OS types through the CloudStack API: the `cs` library and raw signed calls."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from drivers.objectstore.local import LocalObjectStore
from tests.core.test_templates import IMAGE, ImageServer, _handler
from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess


@contextmanager
def serve_images() -> Iterator[ImageServer]:
    """A local http.server thread serving test images."""
    from http.server import ThreadingHTTPServer

    served = ImageServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    with serve_images() as served:
        yield served


@pytest.fixture(scope="module")
def owner_keys(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "tpl-owner")


@pytest.fixture(scope="module")
def other_keys(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "tpl-other")


@pytest.fixture
def owner(server: ServerProcess, owner_keys: dict[str, str]) -> CloudStack:
    return cs_client(server, owner_keys)


@pytest.fixture
def other(server: ServerProcess, other_keys: dict[str, str]) -> CloudStack:
    return cs_client(server, other_keys)


@pytest.fixture
def other_raw(server: ServerProcess, other_keys: dict[str, str]) -> NativeCaller:
    return NativeCaller(server.native_url, other_keys["apikey"], other_keys["secretkey"])


def wait_ready(cs: CloudStack, template_id: str, *, iso: bool = False) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if iso:
            found = cs.listIsos(isofilter="self", id=template_id)["iso"][0]
        else:
            found = cs.listTemplates(templatefilter="self", id=template_id)["template"][0]
        if found["isready"] or found.get("status", "").startswith("Failed"):
            return found
        time.sleep(0.2)
    raise AssertionError(f"template {template_id} not ready: {found}")


def stored_images(server: ServerProcess) -> list[bytes]:
    """Every image under secondary storage, read straight from the object store."""
    root = Path(server.data_dir) / "objects"
    store = LocalObjectStore(root)
    found = []
    for namespace in (p.name for p in root.iterdir() if p.is_dir()):
        if not store.container_exists(namespace, "secondary-storage"):
            continue
        for obj in store.list_objects(namespace, "secondary-storage", prefix="template/").objects:
            found.append(b"".join(store.get_object(namespace, "secondary-storage", obj.key)[1]))
    return found


def register(cs: CloudStack, demo: dict[str, str], url: str, **extra: Any) -> dict[str, Any]:
    ostype = cs.listOsTypes(description="Ubuntu 22.04")["ostype"][0]["id"]
    reply = cs.registerTemplate(
        name=extra.pop("name", "ubuntu-tiny"),
        displaytext="tiny",
        format="QCOW2",
        hypervisor="Simulator",
        zoneid=demo["zoneid"],
        ostypeid=ostype,
        url=url,
        **extra,
    )
    assert reply["count"] == 1
    template = reply["template"][0]
    assert template["isready"] is False and template["ostypename"] == "Ubuntu 22.04 LTS"
    return template


def test_register_download_and_list(
    owner: CloudStack, demo: dict[str, str], images: ImageServer, server: ServerProcess
) -> None:
    body = IMAGE + b"registered-through-the-api"
    url = images.add("/api.qcow2", body)
    template = register(owner, demo, url, checksum=hashlib.md5(body).hexdigest())
    ready = wait_ready(owner, template["id"])
    assert ready["isready"] is True and ready["status"] == "Download Complete"
    assert ready["zoneid"] == demo["zoneid"] and ready["physicalsize"] == len(body)
    assert ready["account"] == "tpl-owner" and ready["templatetype"] == "USER"
    assert body in stored_images(server)
    executable = owner.listTemplates(templatefilter="executable")["template"]
    assert template["id"] in {t["id"] for t in executable}


def test_failed_downloads_show_the_reason(
    owner: CloudStack, demo: dict[str, str], images: ImageServer
) -> None:
    bad = register(
        owner,
        demo,
        images.add("/bad-sum.qcow2", IMAGE),
        name="bad-sum",
        checksum="{MD5}" + "0" * 32,
    )
    missing = register(owner, demo, images.url + "/nowhere.qcow2", name="missing")
    assert "checksum mismatch" in wait_ready(owner, bad["id"])["status"]
    failed = wait_ready(owner, missing["id"])
    assert failed["isready"] is False and "HTTP Server returned 404" in failed["status"]
    executable = owner.listTemplates(templatefilter="executable")
    assert bad["id"] not in {t["id"] for t in executable.get("template", [])}


def test_tenant_isolation_and_sharing(
    owner: CloudStack,
    other: CloudStack,
    other_raw: NativeCaller,
    demo: dict[str, str],
    images: ImageServer,
) -> None:
    template = register(owner, demo, images.add("/shared.qcow2", IMAGE), name="to-share")
    wait_ready(owner, template["id"])
    assert template["id"] not in {
        t["id"] for t in other.listTemplates(templatefilter="executable").get("template", [])
    }
    for command, params in (
        ("updateTemplate", {"id": template["id"], "name": "stolen"}),
        ("deleteTemplate", {"id": template["id"]}),
        ("listTemplatePermissions", {"id": template["id"]}),
        ("updateTemplatePermissions", {"id": template["id"], "ispublic": "true"}),
    ):
        reply = other_raw.request(command, **params)
        assert reply.status_code == 431, (command, reply.text)
    reply = other_raw.request(
        "deployVirtualMachine",
        serviceofferingid=demo["serviceofferingid"],
        zoneid=demo["zoneid"],
        templateid=template["id"],
    )
    assert reply.status_code == 431

    assert owner.updateTemplatePermissions(id=template["id"], accounts="tpl-other", op="add")[
        "success"
    ]
    permissions = owner.listTemplatePermissions(id=template["id"])["templatepermission"]
    assert permissions["account"] == ["tpl-other"] and permissions["ispublic"] is False
    shared = other.listTemplates(templatefilter="sharedexecutable")["template"]
    assert [t["id"] for t in shared] == [template["id"]]
    vm = other.deployVirtualMachine(
        serviceofferingid=demo["serviceofferingid"],
        zoneid=demo["zoneid"],
        templateid=template["id"],
        name="from-shared",
    )["virtualmachine"]
    assert vm["templateid"] == template["id"]
    other.destroyVirtualMachine(id=vm["id"])


def test_update_delete_and_vm_in_use(
    owner: CloudStack, demo: dict[str, str], images: ImageServer
) -> None:
    template = register(owner, demo, images.add("/inuse.qcow2", IMAGE), name="in-use")
    wait_ready(owner, template["id"])
    centos = owner.listOsTypes(description="CentOS 7")["ostype"][0]
    updated = owner.updateTemplate(
        id=template["id"], name="renamed", ostypeid=centos["id"], passwordenabled=True, sortkey=3
    )["template"]
    assert updated["name"] == "renamed" and updated["ostypeid"] == centos["id"]
    assert updated["passwordenabled"] is True and updated["sortkey"] == 3
    vm = owner.deployVirtualMachine(
        serviceofferingid=demo["serviceofferingid"],
        zoneid=demo["zoneid"],
        templateid=template["id"],
        name="uses-template",
    )["virtualmachine"]
    with pytest.raises(CloudStackApiException) as caught:
        owner.deleteTemplate(id=template["id"])
    assert caught.value.error["errorcode"] == 431
    assert "are using it" in caught.value.error["errortext"]
    assert owner.deleteTemplate(id=template["id"], forced=True)["success"] is True
    assert owner.listTemplates(templatefilter="self", id=template["id"]) == {}
    owner.destroyVirtualMachine(id=vm["id"])


def test_create_template_from_stopped_vm(owner: CloudStack, demo: dict[str, str]) -> None:
    vm = owner.deployVirtualMachine(name="to-image", startvm=False, **demo)["virtualmachine"]
    root = owner.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    ostype = owner.listOsTypes(description="Debian GNU/Linux 12")["ostype"][0]["id"]
    created = owner.createTemplate(name="golden", ostypeid=ostype, volumeid=root["id"])
    template = created["template"]
    assert template["name"] == "golden" and template["isready"] is True
    assert template["ostypename"] == "Debian GNU/Linux 12 (64-bit)"
    owner.startVirtualMachine(id=vm["id"])
    with pytest.raises(CloudStackApiException) as caught:
        owner.createTemplate(name="hot", ostypeid=ostype, volumeid=root["id"])
    assert caught.value.error["errorcode"] == 431
    with pytest.raises(CloudStackApiException) as caught:
        owner.createTemplate(
            name="snap", ostypeid=ostype, snapshotid="8a4e7f46-7a3b-4fb1-9f39-000000000000"
        )
    assert caught.value.error["errorcode"] == 431
    snapshot = owner.createSnapshot(volumeid=root["id"])["snapshot"]
    from_snapshot = owner.createTemplate(
        name="from-snap", ostypeid=ostype, snapshotid=snapshot["id"]
    )
    assert from_snapshot["template"]["isready"] is True
    assert from_snapshot["template"]["size"] == root["size"]
    owner.destroyVirtualMachine(id=vm["id"])


def test_filters_on_the_wire(
    admin: NativeCaller, other_raw: NativeCaller, demo: dict[str, str]
) -> None:
    reply = other_raw.request("listTemplates", templatefilter="all")
    assert reply.status_code == 431
    assert other_raw.request("listTemplates", templatefilter="bogus").status_code == 431
    assert other_raw.request("listTemplates").status_code == 431  # templatefilter is required
    # one row per template per zone (other tests add zones): look at the demo zone's row
    featured = other_raw.call("listTemplates", templatefilter="featured", zoneid=demo["zoneid"])
    assert featured["count"] == 1
    row = featured["template"][0]
    assert row["id"] == demo["templateid"] and row["ostypename"] == "CentOS 5.6 (64-bit)"
    assert row["ostypeid"] and row["zoneid"] == demo["zoneid"] and row["isready"] is True
    assert "url" not in row
    everything = admin.call("listTemplates", templatefilter="all", listall=True)
    assert everything["count"] >= 1
    xml = other_raw.request("listTemplates", response="xml", templatefilter="featured")
    assert xml.status_code == 200 and "<template>" in xml.text


def test_os_types_and_categories(other: CloudStack) -> None:
    categories = other.listOsCategories()["oscategory"]
    names = {c["name"] for c in categories}
    assert {"CentOS", "Debian", "Ubuntu", "Windows", "Other"} <= names
    ubuntu = next(c for c in categories if c["name"] == "Ubuntu")
    types = other.listOsTypes(oscategoryid=ubuntu["id"])["ostype"]
    assert types and all(t["oscategoryid"] == ubuntu["id"] for t in types)
    assert "Ubuntu 22.04 LTS" in {t["description"] for t in types}
    one = other.listOsTypes(id=types[0]["id"])
    assert one["count"] == 1 and one["ostype"][0]["isuserdefined"] is False


def test_tags_filter_templates(owner: CloudStack, demo: dict[str, str], images: ImageServer):
    template = register(owner, demo, images.add("/tagged.qcow2", IMAGE), name="tagged")
    untagged = register(owner, demo, images.add("/plain.qcow2", IMAGE), name="plain")
    owner.createTags(
        resourceids=template["id"], resourcetype="Template", tags=[{"key": "tier", "value": "gold"}]
    )
    found = owner.listTemplates(templatefilter="self", tags=[{"key": "tier", "value": "gold"}])
    assert [t["id"] for t in found["template"]] == [template["id"]]
    assert found["template"][0]["tags"][0]["key"] == "tier"
    assert untagged["id"] not in {t["id"] for t in found["template"]}


def test_role_visibility_of_self_filter(
    server: ServerProcess,
    owner: CloudStack,
    other_raw: NativeCaller,
    demo: dict[str, str],
    images: ImageServer,
) -> None:
    template = register(owner, demo, images.add("/roles.qcow2", IMAGE), name="roles")
    keys = create_tenant(server, "tpl-domadmin", role="domain-admin")
    domain_admin = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])

    def ids(caller: NativeCaller, **params: Any) -> set[str]:
        found = caller.call("listTemplates", templatefilter="self", **params)
        return {t["id"] for t in found.get("template", [])}

    assert template["id"] not in ids(domain_admin)
    assert template["id"] in ids(domain_admin, listall=True)
    assert template["id"] not in ids(other_raw, listall=True)
    domain = owner.listTemplates(templatefilter="self", id=template["id"])["template"][0]
    assert template["id"] in ids(domain_admin, account="tpl-owner", domainid=domain["domainid"])
