"""The AWS CLI's `s3` and `s3api` commands as one tenant's backup script would run them.

A nested tree of 200 small files (names with spaces and non-ASCII letters) goes up with
`s3 sync`, is listed with `s3 ls --recursive`, comes back with `s3 sync` and `s3 cp
--recursive`, is synced again (nothing to do, then one changed file, then `--delete`), and is
removed with `s3 rm --recursive`. The CLI runs with its default settings (its transfer
manager's ten threads, checksums on); over HTTPS it is given the CA with AWS_CA_BUNDLE.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.s3_support import (
    LOCAL_HTTP,
    SWIFT_HTTPS,
    Endpoint,
    bucket_name,
    endpoint_fixture,
    read_tree,
    require_tool,
    write_tree,
)

FILES = 200


endpoint = endpoint_fixture(LOCAL_HTTP, SWIFT_HTTPS)


def aws(endpoint: Endpoint, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("aws"), "--endpoint-url", endpoint.url, *args],
        env=endpoint.aws_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


@pytest.fixture
def bucket(endpoint: Endpoint) -> Iterator[str]:
    name = bucket_name("awscli")
    aws(endpoint, "s3", "mb", f"s3://{name}")
    yield name
    aws(endpoint, "s3", "rb", "--force", f"s3://{name}", check=False)


def listed_keys(endpoint: Endpoint, url: str) -> dict[str, int]:
    """`aws s3 ls --recursive`: key → size, parsed from the CLI's text lines."""
    lines = aws(endpoint, "s3", "ls", "--recursive", url).stdout.splitlines()
    keys = {}
    for line in lines:
        _date, _time, size, key = line.split(maxsplit=3)
        keys[key] = int(size)
    return keys


def test_sync_a_tree_of_many_small_files(endpoint: Endpoint, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "source"
    files = write_tree(source, FILES)
    uploaded = aws(endpoint, "s3", "sync", "--no-progress", str(source), f"s3://{bucket}/backup")
    assert uploaded.stdout.count("upload:") == FILES
    assert listed_keys(endpoint, f"s3://{bucket}/backup/") == {
        f"backup/{path}": len(content) for path, content in files.items()
    }
    folders = aws(endpoint, "s3", "ls", f"s3://{bucket}/backup/").stdout
    assert sorted(line.split()[-1] for line in folders.splitlines()) == [
        "level-0/",
        "level-1/",
        "level-2/",
    ]

    # Nothing changed: sync compares sizes and times from the listing and uploads nothing.
    again = aws(endpoint, "s3", "sync", "--no-progress", str(source), f"s3://{bucket}/backup")
    assert again.stdout.strip() == ""

    restored = tmp_path / "restored"
    aws(endpoint, "s3", "sync", "--no-progress", f"s3://{bucket}/backup", str(restored))
    assert read_tree(restored) == files
    copied = tmp_path / "copied"
    aws(endpoint, "s3", "cp", "--recursive", "--no-progress", f"s3://{bucket}/backup/level-1",
        str(copied))  # fmt: skip
    assert read_tree(copied) == {
        path.removeprefix("level-1/"): content
        for path, content in files.items()
        if path.startswith("level-1/")
    }

    changed = next(iter(files))
    (source / changed).write_bytes(b"a longer, changed content\n" * 3)
    removed = sorted(files)[-1]
    (source / removed).unlink()
    delta = aws(
        endpoint, "s3", "sync", "--delete", "--no-progress", str(source), f"s3://{bucket}/backup"
    ).stdout
    assert delta.count("upload:") == 1 and f"backup/{changed}" in delta
    assert delta.count("delete:") == 1 and f"backup/{removed}" in delta
    assert len(listed_keys(endpoint, f"s3://{bucket}/backup/")) == FILES - 1

    level_2 = [key for key in listed_keys(endpoint, f"s3://{bucket}/") if "/level-2/" in key]
    gone = aws(endpoint, "s3", "rm", "--recursive", f"s3://{bucket}/backup/level-2")
    remaining = listed_keys(endpoint, f"s3://{bucket}/")
    assert gone.stdout.count("delete:") == len(level_2) > 0
    assert len(remaining) == FILES - 1 - len(level_2)
    aws(endpoint, "s3", "rm", "--recursive", f"s3://{bucket}/")
    assert listed_keys(endpoint, f"s3://{bucket}/") == {}


def test_cp_with_metadata_and_head_object(endpoint: Endpoint, bucket: str, tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<h1>hello</h1>\n")
    aws(endpoint, "s3", "cp", "--no-progress", str(page), f"s3://{bucket}/site/index.html",
        "--content-type", "text/html; charset=utf-8", "--metadata", "owner=ops,build=42",
        "--cache-control", "max-age=60")  # fmt: skip
    head = json.loads(
        aws(endpoint, "s3api", "head-object", "--bucket", bucket, "--key", "site/index.html").stdout
    )
    assert head["ContentLength"] == page.stat().st_size
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["CacheControl"] == "max-age=60"
    assert head["Metadata"] == {"owner": "ops", "build": "42"}
    assert head["ETag"].startswith('"') and len(head["ETag"]) == 34

    missing = aws(endpoint, "s3api", "head-object", "--bucket", bucket, "--key", "nope",
                  check=False)  # fmt: skip
    assert missing.returncode != 0 and "Not Found" in missing.stderr
    streamed = aws(endpoint, "s3", "cp", f"s3://{bucket}/site/index.html", "-").stdout
    assert streamed == "<h1>hello</h1>\n"


def test_another_tenant_is_refused(endpoint: Endpoint, bucket: str) -> None:
    other = endpoint.create_tenant("awscli-other")
    refused = subprocess.run(
        [require_tool("aws"), "--endpoint-url", endpoint.url, "s3", "ls", f"s3://{bucket}"],
        env=endpoint.aws_env(other),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
