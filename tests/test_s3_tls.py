"""The S3 listener over HTTPS: `s3_tls_certfile` / `s3_tls_keyfile` (uvicorn's ssl options).

The other listeners stay plain HTTP. Certificate checks are real: a client that does not
trust the test CA is refused, one given the CA bundle gets through.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.support.server import ServerProcess
from tests.support.tls import TlsFiles, make_certificates


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tls: TlsFiles) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("s3-tls") / "data", s3_tls=(tls.certfile, tls.keyfile)
    ).start()
    yield process
    process.stop()


def test_s3_is_served_over_https_and_announced_so(server: ServerProcess, tls: TlsFiles) -> None:
    assert server.s3_url.startswith("https://")
    server.wait_for_output(f"S3              {server.s3_url}")
    s3 = boto3.client(
        "s3",
        endpoint_url=server.s3_url,
        region_name="cloudgate",
        aws_access_key_id=server.api_key,
        aws_secret_access_key=server.secret_key,
        verify=str(tls.ca_bundle),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    s3.create_bucket(Bucket="over-tls")
    s3.put_object(Bucket="over-tls", Key="k", Body=b"secret")
    assert s3.get_object(Bucket="over-tls", Key="k")["Body"].read() == b"secret"
    # The other listeners are unchanged.
    assert httpx.get(server.ec2_url, timeout=10).status_code < 500


def test_certificates_are_checked(server: ServerProcess, tls: TlsFiles) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(server.s3_url, verify=ssl.create_default_context(), timeout=10)
    trusted = ssl.create_default_context(cafile=str(tls.ca_bundle))
    assert httpx.get(server.s3_url, verify=trusted, timeout=10).status_code == 403
    plain = server.s3_url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(plain, timeout=10)


def test_env_exports_the_https_endpoint(server: ServerProcess, tls: TlsFiles) -> None:
    exports = cloudgate(
        "env", "--data-dir", str(server.data_dir), "--s3-port", str(server.s3_port),
        env={"CLOUDGATE_S3_TLS_CERTFILE": str(tls.certfile),
             "CLOUDGATE_S3_TLS_KEYFILE": str(tls.keyfile)},
    )  # fmt: skip
    assert exports.returncode == 0, exports.stderr
    assert f"export AWS_ENDPOINT_URL_S3='https://127.0.0.1:{server.s3_port}'" in exports.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--s3-tls-certfile", "cert.pem"], "s3_tls_certfile and s3_tls_keyfile must be given"),
        (["--s3-tls-certfile", "missing.pem", "--s3-tls-keyfile", "missing.key"],
         "S3 TLS file not found: missing.pem"),
    ],
)  # fmt: skip
def test_bad_tls_settings_stop_the_start(tmp_path: Path, flags: list[str], message: str) -> None:
    started = cloudgate("serve", "--data-dir", str(tmp_path / "data"), *flags, cwd=tmp_path)
    assert started.returncode != 0
    assert f"cloudgate: {message}" in started.stderr
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "data" / "cloudgate.db").exists()  # refused before anything started


def cloudgate(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "cloudgate", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root), **(env or {})},
        cwd=cwd or root,
        timeout=120,
        check=False,
    )


def test_an_idle_tls_client_does_not_hold_the_stop(tmp_path: Path, tls: TlsFiles) -> None:
    """An SDK keeps its pooled connection open and never sends TLS close_notify: the stop
    used to wait for it for asyncio's 30 s, then the harness killed the server."""
    process = ServerProcess(tmp_path / "data", s3_tls=(tls.certfile, tls.keyfile)).start()
    idle = httpx.Client(verify=ssl.create_default_context(cafile=str(tls.ca_bundle)))
    try:
        idle.get(process.s3_url, timeout=10)  # the connection stays in the client's pool
        started = time.monotonic()
        process.stop()
        assert process.process is not None and process.process.returncode == 0
        assert time.monotonic() - started < 10
    finally:
        idle.close()
        process.kill()
