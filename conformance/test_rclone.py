"""rclone (Debian's package, `scripts/s3-tools`) with a remote configured from the environment.

The remote `cg:` is what an rclone user would put in rclone.conf, given as
`RCLONE_CONFIG_CG_*` variables: `type = s3`, `provider = Other`, the endpoint, path-style
addressing. Over HTTPS rclone is given the test CA with `--ca-cert`. rclone keeps a file's
modification time in `X-Amz-Meta-Mtime` and checks MD5s against ETags, so listings, metadata
and ETags all have to be right for `check` and a second `copy` to find nothing to do.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.s3_support import (
    EVERY_ENDPOINT,
    Endpoint,
    bucket_name,
    endpoint_fixture,
    read_tree,
    require_tool,
    write_tree,
)
from tests.s3_api.conftest import REGION, Credentials, empty_and_delete

MiB = 1024 * 1024


endpoint = endpoint_fixture(*EVERY_ENDPOINT)


class Rclone:
    """`rclone …` with the `cg:` remote of these credentials, and nothing from the machine's
    own configuration (no rclone.conf; AWS_* variables would be read by rclone's AWS SDK)."""

    def __init__(self, endpoint: Endpoint, credentials: Credentials | None = None) -> None:
        credentials = credentials or endpoint.admin
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        self.env = {
            **env,
            "RCLONE_CONFIG": os.devnull,
            "RCLONE_CONFIG_CG_TYPE": "s3",
            "RCLONE_CONFIG_CG_PROVIDER": "Other",
            "RCLONE_CONFIG_CG_ENDPOINT": endpoint.url,
            "RCLONE_CONFIG_CG_REGION": REGION,
            "RCLONE_CONFIG_CG_FORCE_PATH_STYLE": "true",
            "RCLONE_CONFIG_CG_ACCESS_KEY_ID": credentials.access_key,
            "RCLONE_CONFIG_CG_SECRET_ACCESS_KEY": credentials.secret_key,
        }
        self.command = [require_tool("rclone"), "--retries", "1", "--low-level-retries", "1"]
        if endpoint.ca_bundle:
            self.command += ["--ca-cert", endpoint.ca_bundle]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self.command, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and done.returncode != 0:
            pytest.fail(f"rclone {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done


@pytest.fixture
def rclone(endpoint: Endpoint) -> Rclone:
    return Rclone(endpoint)


@pytest.fixture
def bucket(endpoint: Endpoint, rclone: Rclone) -> Iterator[str]:
    name = bucket_name("rclone")
    rclone("mkdir", f"cg:{name}")
    yield name
    empty_and_delete(endpoint.client(), name)


def test_copy_list_check_cat_delete(
    endpoint: Endpoint, rclone: Rclone, bucket: str, tmp_path: Path
) -> None:
    assert bucket in rclone("lsd", "cg:").stdout
    source = tmp_path / "source"
    files = write_tree(source, 40)
    rclone("copy", str(source), f"cg:{bucket}/tree")

    lines = rclone("ls", f"cg:{bucket}").stdout.splitlines()
    listed = dict(line.strip().split(" ", 1)[::-1] for line in lines)
    assert {key: int(size) for key, size in listed.items()} == {
        f"tree/{path}": len(content) for path, content in files.items()
    }
    entries = json.loads(rclone("lsjson", "-R", "--files-only", f"cg:{bucket}/tree").stdout)
    by_path = {entry["Path"]: entry for entry in entries}
    assert set(by_path) == set(files)
    first = sorted(files)[0]
    local_mtime = (source / first).stat().st_mtime
    # The modification time made the round trip through X-Amz-Meta-Mtime.
    remote_mtime = json.loads(
        rclone("lsjson", "--no-mimetype", f"cg:{bucket}/tree/{first}").stdout
    )[0]["ModTime"]
    expected = datetime.datetime.fromtimestamp(local_mtime, datetime.UTC)
    assert remote_mtime.startswith(expected.strftime("%Y-%m-%dT%H:%M:%S"))
    assert rclone("cat", f"cg:{bucket}/tree/{first}").stdout.encode() == files[first]

    checked = rclone("check", str(source), f"cg:{bucket}/tree")
    assert f"{len(files)} matching files" in checked.stderr
    assert "0 differences found" in checked.stderr
    md5s = rclone("md5sum", f"cg:{bucket}/tree").stdout.splitlines()
    assert len(md5s) == len(files) and all(len(line.split()[0]) == 32 for line in md5s)
    again = rclone("copy", "-v", str(source), f"cg:{bucket}/tree")
    assert "Copied" not in again.stderr  # nothing to do: sizes, times and MD5s agree

    (source / first).write_bytes(b"changed")
    differs = rclone("check", str(source), f"cg:{bucket}/tree", check=False)
    assert differs.returncode != 0 and "1 differences found" in differs.stderr

    restored = tmp_path / "restored"
    rclone("copy", f"cg:{bucket}/tree", str(restored))
    assert read_tree(restored) == files

    rclone("delete", f"cg:{bucket}")
    assert rclone("ls", f"cg:{bucket}").stdout == ""
    rclone("rmdir", f"cg:{bucket}")
    assert bucket not in rclone("lsd", "cg:").stdout


def test_multipart_copy(rclone: Rclone, endpoint: Endpoint, bucket: str, tmp_path: Path) -> None:
    s3 = endpoint.client()
    big = tmp_path / "big" / "video.bin"
    big.parent.mkdir()
    big.write_bytes(os.urandom(12 * MiB + 5))
    rclone("copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", str(big.parent),
           f"cg:{bucket}")  # fmt: skip
    head = s3.head_object(Bucket=bucket, Key="video.bin")
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == big.stat().st_size
    # For multipart objects rclone keeps the whole file's MD5 in metadata and checks that.
    checked = rclone("check", str(big.parent), f"cg:{bucket}")
    assert "0 differences found" in checked.stderr
    back = tmp_path / "back"
    rclone("copy", f"cg:{bucket}/video.bin", str(back))
    assert (back / "video.bin").read_bytes() == big.read_bytes()


def test_another_tenant_sees_nothing(endpoint: Endpoint, bucket: str) -> None:
    stranger = Rclone(endpoint, endpoint.create_tenant("rclone-other"))
    assert bucket not in stranger("lsd", "cg:").stdout
    refused = stranger("ls", f"cg:{bucket}", check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
