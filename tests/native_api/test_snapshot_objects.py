"""Snapshots are objects in secondary storage, through the CloudStack API (the `cs` library)
on a real server per object store: local disk and the Swift all-in-one.

The store is inspected directly, as an operator would: namespace = the system account's
uuid (read from the server's database), container "secondary-storage".
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cs import CloudStack, CloudStackApiException

from drivers.objectstore.base import NoSuchContainer, ObjectStore
from drivers.objectstore.local import LocalObjectStore
from tests.drivers.objectstore.conftest import _purge
from tests.native_api.conftest import create_tenant
from tests.s3_api.conftest import swift_environment
from tests.support.native import cs_client
from tests.support.server import ServerProcess

CONTAINER = "secondary-storage"


@dataclass
class Deployment:
    server: ServerProcess
    store: ObjectStore
    namespace: str

    def snapshot_objects(self) -> dict[str, bytes]:
        """Every snapshot object, by key."""
        try:
            listing = self.store.list_objects(self.namespace, CONTAINER, prefix="snapshots/")
        except NoSuchContainer:
            return {}
        return {
            entry.key: b"".join(self.store.get_object(self.namespace, CONTAINER, entry.key)[1])
            for entry in listing.objects
        }

    def template_images(self) -> list[bytes]:
        listing = self.store.list_objects(self.namespace, CONTAINER, prefix="template/")
        return [
            b"".join(self.store.get_object(self.namespace, CONTAINER, entry.key)[1])
            for entry in listing.objects
        ]


def _system_namespace(server: ServerProcess) -> str:
    with sqlite3.connect(server.data_dir / "cloudgate.db") as connection:
        (uuid,) = connection.execute("SELECT uuid FROM account WHERE name = 'system'").fetchone()
    return str(uuid)


@pytest.fixture(scope="module", params=["local", pytest.param("swift", marks=pytest.mark.swift)])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    backend = request.param
    swift_env = swift_environment() if backend == "swift" else {}
    server = ServerProcess(
        tmp_path_factory.mktemp(f"snapshots-{backend}"), object_store=backend, extra_env=swift_env
    ).start()
    if backend == "swift":
        from drivers.objectstore.swift import SwiftObjectStore

        store: ObjectStore = SwiftObjectStore(
            auth_url=swift_env["CLOUDGATE_SWIFT_AUTH_URL"],
            user=swift_env["CLOUDGATE_SWIFT_USER"],
            key=swift_env["CLOUDGATE_SWIFT_KEY"],
        )
    else:
        store = LocalObjectStore(server.data_dir / "objects")
    namespace = _system_namespace(server)
    try:
        yield Deployment(server, store, namespace)
    finally:
        server.stop()
        if backend == "swift":  # keep the shared Swift small: this server's account goes
            _purge(store, namespace)
        output = "".join(server.output)
        assert "Traceback" not in output, output[-5000:]


@pytest.fixture(scope="module")
def owner(deployment: Deployment) -> CloudStack:
    return cs_client(deployment.server, create_tenant(deployment.server, "snapobj-owner"))


def test_snapshot_lifecycle_in_the_object_store(deployment: Deployment, owner: CloudStack) -> None:
    zone = owner.listZones()["zone"][0]["id"]
    offering = owner.listServiceOfferings(name="Small Instance")["serviceoffering"][0]["id"]
    template = owner.listTemplates(templatefilter="featured")["template"][0]["id"]
    vm = owner.deployVirtualMachine(zoneid=zone, serviceofferingid=offering, templateid=template)[
        "virtualmachine"
    ]
    small = owner.listDiskOfferings(name="Small")["diskoffering"][0]["id"]
    volume = owner.createVolume(zoneid=zone, diskofferingid=small, virtualmachineid=vm["id"])[
        "volume"
    ]

    snapshot = owner.createSnapshot(volumeid=volume["id"], name="in-the-store")["snapshot"]
    assert snapshot["state"] == "BackedUp"
    objects = deployment.snapshot_objects()
    (key,) = [key for key in objects if key.endswith("/" + snapshot["id"])]
    body = objects[key]
    assert key.startswith("snapshots/") and json.loads(body)["size_bytes"] == volume["size"]
    assert snapshot["physicalsize"] == len(body) and snapshot["virtualsize"] == volume["size"]
    info = deployment.store.head_object(deployment.namespace, CONTAINER, key)
    assert info.etag == hashlib.md5(body).hexdigest()  # a real object, checksummed by the store
    assert info.metadata["snapshot-uuid"] == snapshot["id"]

    # read back: a new volume, a revert and a template
    made = owner.createVolume(snapshotid=snapshot["id"], name="from-object")["volume"]
    assert made["state"] == "Ready" and made["size"] == volume["size"]
    owner.stopVirtualMachine(id=vm["id"])
    assert owner.revertSnapshot(id=snapshot["id"])["snapshot"]["id"] == snapshot["id"]
    ostype = owner.listOsTypes(description="Ubuntu 22.04")["ostype"][0]["id"]
    image = owner.createTemplate(
        snapshotid=snapshot["id"], name="snap-image", displaytext="from a snapshot", ostypeid=ostype
    )["template"]
    assert image["isready"] is True
    assert body in deployment.template_images()

    # deleting the snapshot deletes its object (the template keeps its own copy)
    assert owner.deleteSnapshot(id=snapshot["id"]) == {"success": True}
    assert key not in deployment.snapshot_objects()
    assert body in deployment.template_images()

    # a snapshot whose object is gone fails to read back, with CloudStack's error code
    second = owner.createSnapshot(volumeid=volume["id"])["snapshot"]
    (second_key,) = [key for key in deployment.snapshot_objects() if second["id"] in key]
    deployment.store.delete_object(deployment.namespace, CONTAINER, second_key)
    with pytest.raises(CloudStackApiException) as failed:
        owner.createVolume(snapshotid=second["id"], name="no-object")
    assert "missing from secondary storage" in json.dumps(failed.value.error)
    assert owner.deleteSnapshot(id=second["id"]) == {"success": True}
    assert deployment.snapshot_objects() == {}
