"""IMDSv2: session tokens (`PUT /latest/api/token`), their checks, and http-tokens required."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.metadata_api.conftest import (
    TOKEN_HEADER,
    TTL_HEADER,
    Imds,
    Tenant,
    imds_for,
    launch_running,
    new_tenant,
    terminate,
)
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def two_vms(
    tenant: Tenant, image_id: str, imds: Callable[[str | None], Imds]
) -> Iterator[tuple[Imds, Imds, list[dict[str, Any]]]]:
    launched = [launch_running(tenant, image_id) for _ in range(2)]
    yield imds(launched[0]["PrivateIpAddress"]), imds(launched[1]["PrivateIpAddress"]), launched
    for instance in launched:
        terminate(tenant, instance["InstanceId"])


def test_token_flow(two_vms) -> None:
    vm, _, launched = two_vms
    reply = vm.token("300")
    assert reply.status_code == 200 and reply.headers[TTL_HEADER] == "300"
    assert reply.headers["content-type"].startswith("text/plain")
    token = reply.text
    with_token = vm.get("/latest/meta-data/instance-id", **{TOKEN_HEADER: token})
    assert with_token.status_code == 200 and with_token.text == launched[0]["InstanceId"]
    assert vm.get("/2021-03-23/meta-data/", **{TOKEN_HEADER: token}).status_code == 200
    assert vm.get("/", **{TOKEN_HEADER: token}).status_code == 200
    # optional by default: IMDSv1 requests still answer
    assert vm.get("/latest/meta-data/instance-id").status_code == 200


@pytest.mark.parametrize("ttl", [None, "", "0", "21601", "-1", "abc", "1.5", "7e2", "0x10"])
def test_ttl_must_be_1_to_21600_seconds(two_vms, ttl: str | None) -> None:
    vm = two_vms[0]
    reply = vm.request("PUT", "/latest/api/token") if ttl is None else vm.token(ttl)
    assert reply.status_code == 400
    assert "<title>400 - Bad Request</title>" in reply.text


@pytest.mark.parametrize("ttl", ["1", "21600"])
def test_ttl_bounds_are_accepted(two_vms, ttl: str) -> None:
    reply = two_vms[0].token(ttl)
    assert reply.status_code == 200 and reply.headers[TTL_HEADER] == ttl


def test_a_forwarded_token_request_is_refused(two_vms) -> None:
    reply = two_vms[0].token("60", **{"X-Forwarded-For": "203.0.113.9"})
    assert reply.status_code == 403
    assert "<title>403 - Forbidden</title>" in reply.text


def test_the_token_path_takes_put_only(two_vms) -> None:
    reply = two_vms[0].get("/latest/api/token")
    assert reply.status_code == 405 and reply.headers["allow"] == "PUT"


def test_bad_tokens_are_unauthorized(two_vms) -> None:
    first, second, _ = two_vms
    token = first.token("60").text
    assert second.get("/latest/meta-data/", **{TOKEN_HEADER: token}).status_code == 401
    for bad in ("garbage", token[:-4] + "AAAA", "", token + "x"):
        reply = first.get("/latest/meta-data/", **{TOKEN_HEADER: bad})
        assert reply.status_code == 401, bad
    assert "<title>401 - Unauthorized</title>" in reply.text


def test_a_token_expires(two_vms) -> None:
    vm = two_vms[0]
    token = vm.token("1").text
    assert vm.get("/latest/meta-data/", **{TOKEN_HEADER: token}).status_code == 200
    time.sleep(1.2)
    assert vm.get("/latest/meta-data/", **{TOKEN_HEADER: token}).status_code == 401


def test_no_token_for_an_unknown_source(imds: Callable[[str | None], Imds]) -> None:
    assert imds("10.255.255.254").token("60").status_code == 404
    assert imds(None).token("60").status_code == 404  # 127.0.0.1 itself is no VM


# http-tokens required, on a server of its own -------------------------------------------------


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("metadata-strict"),
        extra_env={"CLOUDGATE_METADATA_HTTP_TOKENS": "required"},
    ).start()
    yield process
    process.stop()


def test_required_tokens_and_tokens_survive_a_restart(strict_server: ServerProcess) -> None:
    tenant = new_tenant(strict_server, "md-strict")
    image = tenant.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = launch_running(tenant, image)
    vm = imds_for(strict_server)(instance["PrivateIpAddress"])
    assert vm.get("/latest/meta-data/instance-id").status_code == 401
    assert vm.get("/latest/user-data").status_code == 401
    token = vm.token("600").text
    assert (
        vm.get("/latest/meta-data/instance-id", **{TOKEN_HEADER: token}).text
        == (instance["InstanceId"])
    )
    key_file = Path(strict_server.data_dir) / "metadata-token.key"
    assert key_file.stat().st_mode & 0o077 == 0  # the token secret is private to the server
    strict_server.stop()
    strict_server.start()  # same data dir and ports: the secret and the VM are still there
    reply = vm.get("/latest/meta-data/instance-id", **{TOKEN_HEADER: token})
    assert (reply.status_code, reply.text) == (200, instance["InstanceId"])
    terminate(tenant, instance["InstanceId"])
