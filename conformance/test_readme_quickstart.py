"""The README's quickstart, run exactly as a new user pastes it into a shell."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.server import ServerProcess

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_script() -> str:
    text = README.read_text()
    section = text.split("## Quickstart", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README has no quickstart block"
    return match.group(1)


def test_quickstart_works_when_pasted(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        env = {
            **os.environ,
            # What `cloudgate serve` was told, so that `cloudgate env` prints the same.
            "CLOUDGATE_DATA_DIR": str(server.data_dir),
            "CLOUDGATE_NATIVE_PORT": str(server.native_port),
            "CLOUDGATE_EC2_PORT": str(server.ec2_port),
            "CLOUDGATE_S3_PORT": str(server.s3_port),
        }
        for name in [n for n in env if n.startswith("AWS_") or n.startswith("CLOUDSTACK_")]:
            env.pop(name)
        work = tmp_path / "work"
        work.mkdir()
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", quickstart_script()],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r"i-[0-9a-f]{17}", result.stdout)
        assert '"name": "web-1"' in result.stdout
        assert "hello.txt" in result.stdout
    finally:
        server.stop()
