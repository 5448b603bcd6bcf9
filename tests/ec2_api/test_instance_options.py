"""MetadataOptions and HibernationOptions on every instance, their filters, and the operator's
`metadata_http_tokens` setting reported as HttpTokens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ec2_api.conftest import Keys, ec2_client, instance_ids, terminate_and_wait
from tests.support.server import ServerProcess

DEFAULT_OPTIONS = {
    "State": "applied",
    "HttpTokens": "optional",
    "HttpPutResponseHopLimit": 1,
    "HttpEndpoint": "enabled",
    "HttpProtocolIpv6": "disabled",
    "InstanceMetadataTags": "disabled",
}


def only_instance(client: Any, **params: Any) -> dict[str, Any]:
    [reservation] = client.describe_instances(**params)["Reservations"]
    [instance] = reservation["Instances"]
    return dict(instance)


def test_every_instance_shows_the_metadata_service_and_no_hibernation(
    ec2: Any, launch: Callable[..., dict[str, Any]]
) -> None:
    [launched] = launch()["Instances"]
    assert launched["MetadataOptions"] == DEFAULT_OPTIONS  # RunInstances' answer too
    instance = only_instance(ec2, InstanceIds=[launched["InstanceId"]])
    assert instance["MetadataOptions"] == DEFAULT_OPTIONS
    assert instance["HibernationOptions"] == {"Configured": False}


@pytest.mark.parametrize(
    ("name", "matching", "other"),
    [
        ("metadata-options.http-tokens", "optional", "required"),
        ("metadata-options.http-endpoint", "enabled", "disabled"),
        ("metadata-options.http-put-response-hop-limit", "1", "2"),
        ("hibernation-options.configured", "false", "true"),
    ],
)
def test_option_filters(
    ec2: Any, launch: Callable[..., dict[str, Any]], name: str, matching: str, other: str
) -> None:
    [instance_id] = instance_ids(launch())
    ids = {"Name": "instance-id", "Values": [instance_id]}

    def found(value: str) -> list[str]:
        answer = ec2.describe_instances(Filters=[ids, {"Name": name, "Values": [value]}])
        return [i["InstanceId"] for r in answer["Reservations"] for i in r["Instances"]]

    assert found(matching) == [instance_id]
    assert found(other) == []


def test_required_tokens_are_reported(tmp_path: Path) -> None:
    """An operator who requires IMDSv2 tokens sees `required` on every instance."""
    server = ServerProcess(
        tmp_path / "data", extra_env={"CLOUDGATE_METADATA_HTTP_TOKENS": "required"}
    ).start()
    try:
        ec2 = ec2_client(server, Keys(server.api_key, server.secret_key))
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ids = instance_ids(ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1))
        instance = only_instance(ec2, InstanceIds=ids)
        assert instance["MetadataOptions"] == {**DEFAULT_OPTIONS, "HttpTokens": "required"}
        terminate_and_wait(ec2, ids)
    finally:
        server.stop()
