"""The AWS CLI (`aws ec2 …`), as one tenant scripts a session against cloudgate.

Credentials come from the environment, the endpoint from `--endpoint-url`; outputs are read
the way scripts read them (`--query` with `--output text|json`). `aws ec2 wait` keeps the
CLI's own waiter timing: a first poll at once, then one every 15 s. So that the session does
not sit through those 15 s, boto3's same waiter, polling every half second, waits first (see
`wait`): the CLI's waiter still runs, and finds the state on its first poll.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.ec2_scenario import WAIT
from tests.ec2_api.conftest import Keys, create_user, ec2_client
from tests.support.native import NativeCaller, create_public_range
from tests.support.server import ServerProcess

Aws = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(Path(tmp_path_factory.mktemp("awscli-ec2")) / "data").start()
    admin = NativeCaller(process.native_url, process.api_key, process.secret_key)
    create_public_range(admin, admin.call("listZones")["zone"][0]["id"], 2)
    yield process
    process.stop()


def cli(server: ServerProcess, keys: Keys, home: Path) -> Aws:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": keys.access_key,
        "AWS_SECRET_ACCESS_KEY": keys.secret_key,
        "AWS_DEFAULT_REGION": "cloudgate",
        # Nothing from the machine's own AWS set-up may leak in.
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
        # boto3 in-process signs with awscrt (a dependency, for CRC64NVME); the CLI uses
        # botocore's own Python signers, so the suite exercises both.
        "BOTO_DISABLE_CRT": "true",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["aws", "--endpoint-url", server.ec2_url, *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=home)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done

    return run


@pytest.fixture(scope="module")
def keys(server: ServerProcess) -> Keys:
    return create_user(server, "cli-tenant")


@pytest.fixture(scope="module")
def aws(server: ServerProcess, keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Aws:
    return cli(server, keys, tmp_path_factory.mktemp("cli-home"))


@pytest.fixture(scope="module")
def wait(server: ServerProcess, keys: Keys, aws: Aws) -> Callable[..., None]:
    """`wait("volume-available", "--volume-ids", vol)`: `aws ec2 wait` once boto3's waiter of
    the same name, as the same tenant, has seen the state (see the module docstring)."""
    ec2 = ec2_client(server, keys)
    params = {"--volume-ids": "VolumeIds", "--instance-ids": "InstanceIds"}

    def run(waiter: str, option: str, *ids: str) -> None:
        ec2.get_waiter(waiter.replace("-", "_")).wait(
            **{params[option]: list(ids)}, WaiterConfig=WAIT
        )
        aws("ec2", "wait", waiter, option, *ids)

    return run


def text(aws: Aws, *args: str) -> str:
    return aws(*args, "--output", "text").stdout.strip()


def as_json(aws: Aws, *args: str) -> Any:
    return json.loads(aws(*args, "--output", "json").stdout)


def test_scripted_session(aws: Aws, wait: Callable[..., None], tmp_path: Path) -> None:
    image_id = text(aws, "ec2", "describe-images", "--owners", "amazon",
                    "--query", "Images[0].ImageId")  # fmt: skip
    assert image_id.startswith("ami-")
    zone = text(aws, "ec2", "describe-availability-zones",
                "--query", "AvailabilityZones[?State=='available'].ZoneName | [0]")  # fmt: skip
    account = text(aws, "sts", "get-caller-identity", "--query", "Account")
    assert len(account) == 12 and account.isdigit()

    # a key pair saved as a script saves it, and a security group with two ingress rules
    key_file = tmp_path / "cli-key.pem"
    key_file.write_text(
        text(aws, "ec2", "create-key-pair", "--key-name", "cli-key", "--query", "KeyMaterial")
    )
    assert key_file.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    group_id = text(aws, "ec2", "create-security-group", "--group-name", "cli-web",
                    "--description", "web servers", "--query", "GroupId")  # fmt: skip
    assert group_id.startswith("sg-")
    authorized = as_json(aws, "ec2", "authorize-security-group-ingress", "--group-id", group_id,
                         "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")  # fmt: skip
    assert authorized["Return"] is True
    web = "IpProtocol=tcp,FromPort=80,ToPort=443,IpRanges=[{CidrIp=10.0.0.0/8,Description=lan}]"
    aws("ec2", "authorize-security-group-ingress", "--group-id", group_id, "--ip-permissions", web)
    rules = as_json(aws, "ec2", "describe-security-groups", "--group-names", "cli-web",
                    "--query", "SecurityGroups[0].IpPermissions[].[FromPort,ToPort,"
                    "IpRanges[0].CidrIp,IpRanges[0].Description]")  # fmt: skip
    assert sorted(rules) == [[22, 22, "0.0.0.0/0", None], [80, 443, "10.0.0.0/8", "lan"]]

    # two instances, tagged at launch, with user data from a file
    user_data = tmp_path / "boot.sh"
    user_data.write_text("#!/bin/sh\necho hello from cloud-init\n")
    instances = as_json(aws, "ec2", "run-instances", "--image-id", image_id,
                        "--instance-type", "t2.micro", "--count", "2", "--key-name", "cli-key",
                        "--security-group-ids", group_id, "--placement", f"AvailabilityZone={zone}",
                        "--user-data", f"file://{user_data}", "--tag-specifications",
                        "ResourceType=instance,Tags=[{Key=Name,Value=cli-web},"
                        "{Key=env,Value=conformance}]",
                        "--query", "Instances[].[InstanceId,State.Name]")  # fmt: skip
    assert [state for _, state in instances] == ["pending", "pending"]
    first, second = sorted(instance_id for instance_id, _ in instances)

    volume_id = text(aws, "ec2", "create-volume", "--availability-zone", zone, "--size", "2",
                     "--volume-type", "gp2", "--tag-specifications",
                     "ResourceType=volume,Tags=[{Key=Name,Value=cli-data}]",
                     "--query", "VolumeId")  # fmt: skip
    assert volume_id.startswith("vol-")
    wait("volume-available", "--volume-ids", volume_id)
    wait("instance-running", "--instance-ids", first, second)

    # describe with filters and JMESPath, in both output formats
    query = (
        "sort_by(Reservations[].Instances[], &InstanceId)[].{id: InstanceId, type: InstanceType,"
        " key: KeyName, group: SecurityGroups[0].GroupName, zone: Placement.AvailabilityZone,"
        " name: Tags[?Key=='Name'].Value | [0]}"
    )
    described = as_json(aws, "ec2", "describe-instances", "--filters",
                        "Name=tag:env,Values=conformance",
                        "Name=instance-state-name,Values=running", "--query", query)  # fmt: skip
    expected = {"type": "t2.micro", "key": "cli-key", "group": "cli-web", "zone": zone}
    assert described == [
        {"id": first, **expected, "name": "cli-web"},
        {"id": second, **expected, "name": "cli-web"},
    ]
    listed = text(aws, "ec2", "describe-instances", "--filters", "Name=key-name,Values=cli-key",
                  "--query", "Reservations[].Instances[].[InstanceId]")  # fmt: skip
    assert sorted(listed.split()) == [first, second]
    assert text(aws, "ec2", "describe-instances", "--filters", "Name=tag:env,Values=prod",
                "--query", "Reservations[].Instances[].InstanceId") == ""  # fmt: skip
    user_data_b64 = text(aws, "ec2", "describe-instance-attribute", "--instance-id", first,
                         "--attribute", "userData", "--query", "UserData.Value")  # fmt: skip
    assert "hello from cloud-init" in base64.b64decode(user_data_b64).decode()

    # a data volume attached to the first instance
    attaching = as_json(aws, "ec2", "attach-volume", "--volume-id", volume_id,
                        "--instance-id", first, "--device", "/dev/sdf")  # fmt: skip
    assert attaching["State"] in ("attaching", "attached")
    wait("volume-in-use", "--volume-ids", volume_id)
    attachment = text(aws, "ec2", "describe-volumes", "--volume-ids", volume_id,
                      "--query", "Volumes[0].Attachments[0].[InstanceId,Device,State]")  # fmt: skip
    assert attachment.split() == [first, "/dev/sdf", "attached"]

    # an Elastic IP on the second instance
    allocation = as_json(aws, "ec2", "allocate-address", "--domain", "vpc")
    allocation_id, public_ip = allocation["AllocationId"], allocation["PublicIp"]
    assert public_ip.startswith("198.18.2.")
    association_id = text(aws, "ec2", "associate-address", "--instance-id", second,
                          "--allocation-id", allocation_id, "--query", "AssociationId")  # fmt: skip
    assert association_id.startswith("eipassoc-")
    assert text(aws, "ec2", "describe-addresses", "--public-ips", public_ip,
                "--query", "Addresses[0].InstanceId") == second  # fmt: skip
    assert text(aws, "ec2", "describe-instances", "--instance-ids", second,
                "--query", "Reservations[0].Instances[0].PublicIpAddress") == public_ip  # fmt: skip

    # tags on several resources at once
    aws("ec2", "create-tags", "--resources", first, volume_id, group_id,
        "--tags", "Key=owner,Value=cli", "Key=cost-center,Value=42")  # fmt: skip
    tagged = text(aws, "ec2", "describe-tags", "--filters", "Name=key,Values=owner",
                  "--query", "Tags[].[ResourceType,ResourceId]")  # fmt: skip
    assert sorted(tuple(line.split()) for line in tagged.splitlines()) == sorted(
        [("instance", first), ("security-group", group_id), ("volume", volume_id)]
    )
    aws("ec2", "delete-tags", "--resources", group_id, "--tags", "Key=cost-center")
    assert text(aws, "ec2", "describe-tags", "--filters", f"Name=resource-id,Values={group_id}",
                "--query", "Tags[].Key") == "owner"  # fmt: skip

    # tear down as a script would
    aws("ec2", "detach-volume", "--volume-id", volume_id)
    wait("volume-available", "--volume-ids", volume_id)
    aws("ec2", "delete-volume", "--volume-id", volume_id)
    aws("ec2", "disassociate-address", "--association-id", association_id)
    aws("ec2", "release-address", "--allocation-id", allocation_id)
    assert text(aws, "ec2", "describe-addresses", "--query", "Addresses[].PublicIp") == ""
    terminating = as_json(aws, "ec2", "terminate-instances", "--instance-ids", first, second,
                          "--query", "TerminatingInstances[].CurrentState.Name")  # fmt: skip
    assert set(terminating) <= {"shutting-down", "terminated"}
    wait("instance-terminated", "--instance-ids", first, second)
    aws("ec2", "delete-security-group", "--group-id", group_id)
    aws("ec2", "delete-key-pair", "--key-name", "cli-key")
    assert text(aws, "ec2", "describe-key-pairs", "--query", "KeyPairs[].KeyName") == ""


def test_errors_exit_non_zero_with_the_aws_code(aws: Aws) -> None:
    missing = aws("ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0",
                  check=False)  # fmt: skip
    assert missing.returncode != 0
    assert "(InvalidInstanceID.NotFound)" in missing.stderr
    bad = aws("ec2", "describe-volumes", "--volume-ids", "vol-nothex", check=False)
    assert bad.returncode != 0
    assert "(InvalidVolumeID.Malformed)" in bad.stderr
    dry = aws("ec2", "create-security-group", "--group-name", "cli-dry", "--description", "d",
              "--dry-run", check=False)  # fmt: skip
    assert "(DryRunOperation)" in dry.stderr
    left = text(aws, "ec2", "describe-security-groups", "--filters",
                "Name=group-name,Values=cli-dry", "--query", "SecurityGroups")  # fmt: skip
    assert left == ""


def test_another_tenant_sees_none_of_it(
    server: ServerProcess, aws: Aws, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = cli(server, create_user(server, "cli-other"), tmp_path_factory.mktemp("other-home"))
    group_id = text(aws, "ec2", "create-security-group", "--group-name", "cli-private",
                    "--description", "mine", "--query", "GroupId")  # fmt: skip
    try:
        found = text(other, "ec2", "describe-security-groups", "--filters",
                     "Name=group-name,Values=cli-private", "--query", "SecurityGroups")  # fmt: skip
        assert found == ""
        denied = other("ec2", "delete-security-group", "--group-id", group_id, check=False)
        assert "(InvalidGroup.NotFound)" in denied.stderr
    finally:
        aws("ec2", "delete-security-group", "--group-id", group_id)
