"""s3cmd (Debian's package, `scripts/s3-tools`) with a config file as its users write one.

Path-style addressing (`host_bucket` without `%(bucket)s`), `use_https` off and on (with the
test CA as `ca_certs_file`, certificate and host name checks on), and both of s3cmd's
signatures: SigV4 (its default) and SigV2 (`signature_v2 = True`, which older gateways need),
each on both backends and both schemes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
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
from tests.s3_api.conftest import REGION, Credentials

endpoint = endpoint_fixture(*EVERY_ENDPOINT)


def write_config(
    endpoint: Endpoint, path: Path, *, signature_v2: bool, credentials: Credentials | None = None
) -> Path:
    credentials = credentials or endpoint.admin
    path.write_text(
        f"""[default]
access_key = {credentials.access_key}
secret_key = {credentials.secret_key}
host_base = {endpoint.host_port}
host_bucket = {endpoint.host_port}
bucket_location = {REGION}
use_https = {endpoint.secure}
check_ssl_certificate = True
check_ssl_hostname = True
ca_certs_file = {endpoint.ca_bundle or ""}
signature_v2 = {signature_v2}
progress_meter = False
signurl_use_https = {endpoint.secure}
"""
    )
    return path


class S3cmd:
    """`s3cmd -c CONFIG …`, failing the test with s3cmd's own output when it fails."""

    def __init__(self, config: Path) -> None:
        self.command = [require_tool("s3cmd"), "-c", str(config)]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            pytest.fail(f"s3cmd {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done


# Each backend and each scheme is driven with both signatures (four servers, not eight).
SIGNATURE_V2 = {"local-http": False, "local-https": True, "swift-http": True, "swift-https": False}


@pytest.fixture
def s3cmd(endpoint: Endpoint, tmp_path: Path) -> S3cmd:
    signature_v2 = SIGNATURE_V2[endpoint.name]
    return S3cmd(write_config(endpoint, tmp_path / "s3cmd.cfg", signature_v2=signature_v2))


def test_bucket_and_object_round_trip(s3cmd: S3cmd, tmp_path: Path) -> None:
    name = bucket_name("s3cmd")
    assert f"Bucket 's3://{name}/' created" in s3cmd("mb", f"s3://{name}").stdout
    assert f"s3://{name}" in s3cmd("ls").stdout

    report = tmp_path / "report.txt"
    report.write_bytes(b"quarterly numbers\n" * 500)
    s3cmd("put", str(report), f"s3://{name}/docs/report.txt")
    listing = s3cmd("ls", f"s3://{name}/docs/").stdout
    assert f"{report.stat().st_size}  s3://{name}/docs/report.txt" in listing
    assert f"DIR  s3://{name}/docs/" in s3cmd("ls", f"s3://{name}").stdout
    info = s3cmd("info", f"s3://{name}/docs/report.txt").stdout
    assert "MD5 sum:   " in info and "File size: 9000" in info

    back = tmp_path / "back.txt"
    s3cmd("get", f"s3://{name}/docs/report.txt", str(back))
    assert back.read_bytes() == report.read_bytes()

    s3cmd("cp", f"s3://{name}/docs/report.txt", f"s3://{name}/copy.txt")
    assert "copy.txt" in s3cmd("ls", f"s3://{name}").stdout

    refused = s3cmd("rb", f"s3://{name}", check=False)
    assert refused.returncode != 0 and "BucketNotEmpty" in refused.stderr
    s3cmd("del", f"s3://{name}/docs/report.txt", f"s3://{name}/copy.txt")
    assert s3cmd("ls", "--recursive", f"s3://{name}").stdout.strip() == ""
    assert f"Bucket 's3://{name}/' removed" in s3cmd("rb", f"s3://{name}").stdout
    missing = s3cmd("ls", f"s3://{name}", check=False)
    assert missing.returncode != 0 and "NoSuchBucket" in missing.stderr


def test_sync_up_and_down(s3cmd: S3cmd, tmp_path: Path) -> None:
    name = bucket_name("s3cmd-sync")
    s3cmd("mb", f"s3://{name}")
    source = tmp_path / "source"
    files = write_tree(source, 20)
    first = s3cmd("sync", f"{source}/", f"s3://{name}/tree/").stdout
    assert first.count("upload:") == len(files)
    # Unchanged: s3cmd compares sizes and MD5s (the listing's ETags) and sends nothing.
    assert "upload:" not in s3cmd("sync", f"{source}/", f"s3://{name}/tree/").stdout
    restored = tmp_path / "restored"
    s3cmd("sync", f"s3://{name}/tree/", f"{restored}/")
    assert read_tree(restored) == files

    gone = sorted(files)[0]
    (source / gone).unlink()
    s3cmd("sync", "--delete-removed", f"{source}/", f"s3://{name}/tree/")
    remote = s3cmd("ls", "--recursive", f"s3://{name}").stdout
    assert len(remote.splitlines()) == len(files) - 1 and gone not in remote
    s3cmd("del", "--recursive", "--force", f"s3://{name}")
    s3cmd("rb", f"s3://{name}")


def test_signed_url_and_another_tenant(endpoint: Endpoint, tmp_path: Path) -> None:
    admin = S3cmd(write_config(endpoint, tmp_path / "admin.cfg", signature_v2=False))
    name = bucket_name("s3cmd-share")
    admin("mb", f"s3://{name}")
    note = tmp_path / "note.txt"
    note.write_text("for your eyes\n")
    admin("put", str(note), f"s3://{name}/note.txt")
    # `signurl` makes a SigV2 query-string URL, whatever the configured signature.
    url = admin("signurl", f"s3://{name}/note.txt", "+120").stdout.strip()
    fetched = httpx.get(url, verify=endpoint.verify, timeout=30)
    assert (fetched.status_code, fetched.text) == (200, "for your eyes\n")

    other = endpoint.create_tenant("s3cmd-other")
    stranger = S3cmd(write_config(endpoint, tmp_path / "other.cfg", signature_v2=False,
                                  credentials=other))  # fmt: skip
    refused = stranger("get", f"s3://{name}/note.txt", str(tmp_path / "x"), check=False)
    assert refused.returncode != 0 and "403" in refused.stderr
    assert name not in stranger("ls").stdout
    admin("del", "--recursive", "--force", f"s3://{name}")
    admin("rb", f"s3://{name}")
