"""apache-libcloud's S3-compatible storage drivers, unchanged, pointed at a real cloudgate.

libcloud's drivers for S3-compatible servers take host, port and `secure`:
`S3RGWStorageDriver` (Ceph RGW's; SigV4 by default, SigV2 when asked) and
`MinIOStorageDriver` (SigV4 with an empty region in the credential scope). Over HTTPS
libcloud trusts the CA named by `libcloud.security.CA_CERTS_PATH`.

`upload_object_via_stream` is always a multipart upload in libcloud. With SigV2 libcloud signs
the path without its sub-resource (`?uploads`), which S3's SigV2 requires — AWS refuses that
signature as well — so the SigV2 driver is exercised without it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libcloud.security
import pytest
from libcloud.common.types import InvalidCredsError
from libcloud.storage.drivers.minio import MinIOStorageDriver
from libcloud.storage.drivers.rgw import S3RGWStorageDriver
from libcloud.storage.types import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    ObjectDoesNotExistError,
)

from conformance.s3_support import (
    EVERY_ENDPOINT,
    Endpoint,
    bucket_name,
    endpoint_fixture,
)
from tests.s3_api.conftest import REGION, Credentials, empty_and_delete

endpoint = endpoint_fixture(*EVERY_ENDPOINT)


@pytest.fixture(autouse=True)
def trust_the_test_ca(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    if endpoint.ca_bundle:
        monkeypatch.setattr(libcloud.security, "CA_CERTS_PATH", endpoint.ca_bundle)


def make_driver(endpoint: Endpoint, kind: str, credentials: Credentials | None = None) -> Any:
    credentials = credentials or endpoint.admin
    where = {"secure": endpoint.secure, "host": "127.0.0.1", "port": endpoint.port}
    keys = (credentials.access_key, credentials.secret_key)
    if kind == "minio":
        return MinIOStorageDriver(*keys, **where)
    return S3RGWStorageDriver(*keys, region=REGION, signature_version=kind, **where)


@pytest.fixture
def container_name(endpoint: Endpoint) -> Iterator[str]:
    name = bucket_name("libcloud")
    yield name
    empty_and_delete(endpoint.client(), name)


@pytest.mark.parametrize("kind", ["4", "minio", "2"])
def test_containers_and_objects(
    endpoint: Endpoint, kind: str, container_name: str, tmp_path: Path
) -> None:
    driver = make_driver(endpoint, kind)
    container = driver.create_container(container_name)
    assert container_name in [c.name for c in driver.list_containers()]
    assert driver.get_container(container_name).name == container_name
    with pytest.raises(ContainerAlreadyExistsError):
        driver.create_container(container_name)

    source = tmp_path / "photo.jpg"
    source.write_bytes(os.urandom(300_000))
    uploaded = driver.upload_object(
        str(source), container, "albums/2026/photo.jpg",
        extra={"content_type": "image/jpeg", "meta_data": {"camera": "x100"}},
    )  # fmt: skip
    assert uploaded.hash == hashlib.md5(source.read_bytes()).hexdigest()  # verify_hash passed

    found = driver.get_object(container_name, "albums/2026/photo.jpg")
    assert (found.size, found.meta_data) == (source.stat().st_size, {"camera": "x100"})
    assert found.extra["content_type"] == "image/jpeg"
    assert b"".join(driver.download_object_as_stream(found, chunk_size=65536)) == (
        source.read_bytes()
    )
    assert (
        b"".join(driver.download_object_range_as_stream(found, 100, 200))
        == (source.read_bytes()[100:200])
    )
    target = tmp_path / "back.jpg"
    assert driver.download_object(found, str(target), overwrite_existing=True)
    assert target.read_bytes() == source.read_bytes()

    if kind != "2":  # see the module docstring
        pieces = [os.urandom(1000) for _ in range(50)]
        streamed = driver.upload_object_via_stream(iter(pieces), container, "streamed.bin")
        assert streamed.size == 50_000
        assert b"".join(driver.download_object_as_stream(streamed)) == b"".join(pieces)

    listed = {o.name: o.size for o in driver.list_container_objects(container)}
    assert listed["albums/2026/photo.jpg"] == source.stat().st_size
    assert [o.name for o in driver.list_container_objects(container, prefix="albums/")] == [
        "albums/2026/photo.jpg"
    ]
    with pytest.raises(ObjectDoesNotExistError):
        driver.get_object(container_name, "albums/missing.jpg")
    with pytest.raises(ContainerIsNotEmptyError):
        driver.delete_container(container)

    for item in driver.list_container_objects(container):
        assert driver.delete_object(item)
    assert driver.list_container_objects(container) == []
    assert driver.delete_container(container)
    with pytest.raises(ContainerDoesNotExistError):
        driver.get_container(container_name)


def test_another_tenant_and_a_wrong_secret(endpoint: Endpoint, container_name: str) -> None:
    owner = make_driver(endpoint, "4")
    container = owner.create_container(container_name)
    owner.upload_object_via_stream(iter([b"private"]), container, "secret.txt")
    stranger = make_driver(endpoint, "4", endpoint.create_tenant("libcloud-other"))
    assert container_name not in [c.name for c in stranger.list_containers()]
    # A HEAD answered 403 (no body to read a code from): libcloud raises InvalidCredsError.
    with pytest.raises(InvalidCredsError):
        stranger.get_object(container_name, "secret.txt")
    with pytest.raises(InvalidCredsError, match="AccessDenied"):
        stranger.delete_container(container)
    wrong = make_driver(endpoint, "4", Credentials(endpoint.admin.access_key, "not-the-secret"))
    with pytest.raises(InvalidCredsError):
        wrong.list_containers()
