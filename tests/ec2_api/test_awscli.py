"""The AWS CLI, as a user runs it: a subprocess with AWS_* variables and --endpoint-url."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.ec2_api.conftest import REGION, terminate_and_wait


@pytest.fixture
def aws(server: Any, admin_keys: Any, tmp_path: Path) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": admin_keys.access_key,
        "AWS_SECRET_ACCESS_KEY": admin_keys.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        # Nothing from the machine's own AWS set-up may leak in.
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
        # boto3 in-process signs with awscrt (a dependency, for CRC64NVME); the CLI uses
        # botocore's own Python signers, so the suite exercises both.
        "BOTO_DISABLE_CRT": "true",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["aws", "--endpoint-url", server.ec2_url, "ec2", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=check)

    return run


def test_run_and_describe_instances(aws: Any, ec2: Any, image_id: str) -> None:
    instance_id = aws(
        "run-instances",
        "--image-id", image_id,
        "--instance-type", "t2.micro",
        "--count", "1",
        "--query", "Instances[0].InstanceId",
        "--output", "text",
    ).stdout.strip()  # fmt: skip
    try:
        assert instance_id.startswith("i-")
        aws("wait", "instance-running", "--instance-ids", instance_id)
        described = aws(
            "describe-instances",
            "--instance-ids", instance_id,
            "--query", "Reservations[].Instances[].[InstanceId,State.Name,InstanceType]",
            "--output", "json",
        ).stdout  # fmt: skip
        assert json.loads(described) == [[instance_id, "running", "t2.micro"]]
        table = aws(
            "describe-instances",
            "--filters", "Name=instance-state-name,Values=running",
            "--query", "Reservations[].Instances[].InstanceId",
            "--output", "text",
        ).stdout  # fmt: skip
        assert instance_id in table.split()
    finally:
        terminate_and_wait(ec2, [instance_id])


def test_cli_reports_ec2_errors(aws: Any) -> None:
    result = aws("describe-instances", "--instance-ids", "i-nothex", check=False)
    assert result.returncode != 0
    assert "InvalidInstanceID.Malformed" in result.stderr
