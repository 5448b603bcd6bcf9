"""The AWS CLI's high-level `s3` commands, run as a user would run them."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from tests.s3_api.conftest import S3Server, aws_env


def aws(server: S3Server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["aws", "--endpoint-url", server.url, "s3", *args],
        env=aws_env(server),
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def test_mb_cp_ls_rm_rb(s3_server: S3Server, tmp_path: Path) -> None:
    name = f"cli-{uuid.uuid4().hex[:12]}"
    source = tmp_path / "notes.txt"
    source.write_bytes(b"written by the aws cli\n" * 1000)

    assert f"make_bucket: {name}" in aws(s3_server, "mb", f"s3://{name}").stdout
    aws(s3_server, "cp", "--no-progress", str(source), f"s3://{name}/dir/notes.txt")
    assert name in aws(s3_server, "ls").stdout
    listing = aws(s3_server, "ls", f"s3://{name}/", "--recursive").stdout
    assert "dir/notes.txt" in listing
    assert str(source.stat().st_size) in listing
    assert "PRE dir/" in aws(s3_server, "ls", f"s3://{name}/").stdout

    target = tmp_path / "back.txt"
    aws(s3_server, "cp", "--no-progress", f"s3://{name}/dir/notes.txt", str(target))
    assert target.read_bytes() == source.read_bytes()

    assert "delete:" in aws(s3_server, "rm", f"s3://{name}/dir/notes.txt").stdout
    assert aws(s3_server, "ls", f"s3://{name}/", "--recursive").stdout.strip() == ""
    assert f"remove_bucket: {name}" in aws(s3_server, "rb", f"s3://{name}").stdout
    assert name not in aws(s3_server, "ls").stdout


def test_errors_reach_the_cli(s3_server: S3Server) -> None:
    missing = aws(s3_server, "ls", f"s3://missing-{uuid.uuid4().hex[:12]}", check=False)
    assert missing.returncode != 0
    assert "NoSuchBucket" in missing.stderr
