"""The systems the S3 benchmarks compare, started for one run and stopped after it.

- Swift proxies of the all-in-one's own Swift (scripts/swift-aio), on ports of their own, with
  configs made from the all-in-one's proxy config: one plain (the ceiling: python-swiftclient
  talks to it directly, and cloudgate's Swift driver uses it), and two with Swift's `s3api`
  middleware before `tempauth`, with `s3_acl` on and off. The all-in-one the tests use is
  never touched: these proxies only share its rings, storage servers and memcached.
- cloudgate (`tests.support.server.ServerProcess`) on that plain proxy or on the local store.
- `moto_server` (in-memory S3).

Each `Store` gives the benchmark the same few operations, one client per worker thread; the S3
stores all run the same boto3 code, the direct store runs python-swiftclient.
"""

from __future__ import annotations

import configparser
import io
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

import boto3
import httpx
from botocore.config import Config
from swiftclient.client import Connection

from tests.support.server import ServerProcess, free_port

REPO = Path(__file__).resolve().parents[1]
SWIFT_AIO = REPO / "scripts" / "swift-aio"
# The all-in-one's tempauth users (scripts/swift-aio): s3api takes "account:user" as the
# access key and the tempauth key as the secret, as Swift's s3api docs describe.
S3API_USER, S3API_KEY = "test:tester", "testing"
SWIFT_ADMIN_USER, SWIFT_ADMIN_KEY = "admin:admin", "admin"
READ_CHUNK = 1024 * 1024


class Store(Protocol):
    """One system under test: a bucket (or container) and `workers` clients for it."""

    name: str

    def open(self, workers: int) -> None: ...
    def pids(self) -> list[int]: ...
    def put(self, worker: int, key: str, body: bytes | BinaryIO, size: int) -> None: ...
    def get(self, worker: int, key: str) -> int: ...
    def head(self, worker: int, key: str) -> int: ...
    def list_count(self, worker: int) -> int: ...
    def delete_many(self, worker: int, keys: Sequence[str]) -> None: ...


class S3Store:
    """A bucket on an S3 endpoint, used through boto3 the same way for every endpoint.

    Payloads are sent unsigned and without the optional CRC checksums, so that client-side
    hashing (identical for every endpoint, absent from swiftclient) does not hide the servers'
    differences in the large-object figures.
    """

    def __init__(
        self, name: str, endpoint: str, access: str, secret: str, region: str, pid: list[int]
    ) -> None:
        self.name = name
        self.bucket = f"bench-{secrets.token_hex(4)}"
        self._pids = pid
        config = Config(
            s3={"addressing_style": "path", "payload_signing_enabled": False},
            retries={"max_attempts": 1},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=4,
            read_timeout=600,
        )
        session = boto3.session.Session(
            aws_access_key_id=access, aws_secret_access_key=secret, region_name=region
        )
        self._client_factory = lambda: session.client("s3", endpoint_url=endpoint, config=config)
        self.clients = [self._client_factory()]

    def open(self, workers: int) -> None:
        """Creates the bucket and warms `workers` clients (connection made, before timing)."""
        self.clients[0].create_bucket(Bucket=self.bucket)
        while len(self.clients) < workers:
            self.clients.append(self._client_factory())
        for client in self.clients:
            client.head_bucket(Bucket=self.bucket)

    def pids(self) -> list[int]:
        return self._pids

    def put(self, worker: int, key: str, body: bytes | BinaryIO, size: int) -> None:
        self.clients[worker].put_object(Bucket=self.bucket, Key=key, Body=body, ContentLength=size)

    def get(self, worker: int, key: str) -> int:
        body = self.clients[worker].get_object(Bucket=self.bucket, Key=key)["Body"]
        return sum(len(chunk) for chunk in body.iter_chunks(READ_CHUNK))

    def head(self, worker: int, key: str) -> int:
        return int(self.clients[worker].head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def list_count(self, worker: int) -> int:
        pages = self.clients[worker].get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sum(page.get("KeyCount", 0) for page in pages)

    def delete_many(self, worker: int, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            answer = self.clients[worker].delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if answer.get("Errors"):
                raise RuntimeError(f"{self.name}: DeleteObjects failed: {answer['Errors'][:3]}")


class SwiftDirectStore:
    """A container reached with python-swiftclient straight at a Swift proxy: the ceiling a
    gateway in front of that proxy can reach (same 1,000-entry listing pages as S3)."""

    name = "swiftclient (direct)"

    def __init__(self, auth_url: str, pid: list[int]) -> None:
        self.container = f"bench-{secrets.token_hex(4)}"
        self._auth_url = auth_url
        self._pids = pid
        self.clients = [self._connect()]

    def _connect(self) -> Connection:
        return Connection(
            authurl=self._auth_url, user=S3API_USER, key=S3API_KEY, retries=0, timeout=600
        )

    def open(self, workers: int) -> None:
        self.clients[0].put_container(self.container)
        while len(self.clients) < workers:
            self.clients.append(self._connect())
        for client in self.clients:
            client.head_container(self.container)

    def pids(self) -> list[int]:
        return self._pids

    def put(self, worker: int, key: str, body: bytes | BinaryIO, size: int) -> None:
        # chunk_size applies to file bodies (swiftclient warns when given one for bytes)
        chunking = {} if isinstance(body, bytes) else {"chunk_size": READ_CHUNK}
        self.clients[worker].put_object(self.container, key, body, content_length=size, **chunking)

    def get(self, worker: int, key: str) -> int:
        _, chunks = self.clients[worker].get_object(self.container, key, resp_chunk_size=READ_CHUNK)
        return sum(len(chunk) for chunk in chunks)

    def head(self, worker: int, key: str) -> int:
        return int(self.clients[worker].head_object(self.container, key)["content-length"])

    def list_count(self, worker: int) -> int:
        count, marker = 0, ""
        while True:
            _, page = self.clients[worker].get_container(self.container, marker=marker, limit=1000)
            count += len(page)
            if len(page) < 1000:
                return count
            marker = page[-1]["name"]

    def delete_many(self, worker: int, keys: Sequence[str]) -> None:
        # Swift's bulk middleware (in the proxy pipeline) deletes up to 10,000 names a request.
        for start in range(0, len(keys), 1000):
            names = "\n".join(f"/{self.container}/{key}" for key in keys[start : start + 1000])
            answer: dict[str, object] = {}
            self.clients[worker].post_account(
                headers={"Content-Type": "text/plain", "Accept": "application/json"},
                query_string="bulk-delete",
                data=names.encode(),
                response_dict=answer,
            )
            if answer.get("status") != 200:
                raise RuntimeError(f"bulk delete failed: {answer.get('status')}")


# ---------------------------------------------------------------- processes


def swift_aio_config() -> Path:
    """Starts the all-in-one if needed (idempotent) and returns its proxy config."""
    subprocess.run([str(SWIFT_AIO), "start"], check=True, capture_output=True, timeout=900)
    home = os.environ.get("CLOUDGATE_SWIFT_HOME") or Path.home() / ".cache" / "cloudgate-swift"
    return Path(home) / "etc" / "proxy-server.conf"


def proxy_config(aio_config: Path, port: int, s3_acl: bool | None) -> str:
    """The all-in-one's proxy config on PORT, quieter, with s3api (s3_acl on/off) before
    tempauth when `s3_acl` is not None."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep tempauth's user_<account>_<user> names as they are
    parser.read(aio_config)
    parser["DEFAULT"]["bind_port"] = str(port)
    # Access logs at INFO cost a console write per request; cloudgate runs at "warning" too.
    parser["DEFAULT"]["log_level"] = "WARNING"
    if s3_acl is not None:
        pipeline = parser["pipeline:main"]["pipeline"].split()
        pipeline.insert(pipeline.index("tempauth"), "s3api")
        parser["pipeline:main"]["pipeline"] = " ".join(pipeline)
        parser["filter:s3api"] = {"use": "egg:swift#s3api", "s3_acl": str(s3_acl).lower()}
    text = io.StringIO()
    parser.write(text)
    return text.getvalue()


class SwiftProxy:
    """An extra proxy-server process of the all-in-one's Swift, on its own port."""

    def __init__(self, aio_config: Path, directory: Path, name: str, s3_acl: bool | None):
        self.port = free_port()
        self.name = name
        self._config = directory / f"{name}.conf"
        self._config.write_text(proxy_config(aio_config, self.port, s3_acl))
        self._log = directory / f"{name}.log"
        self._binary = aio_config.parents[1] / "venv" / "bin" / "swift-proxy-server"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/auth/v1.0"

    def start(self, timeout: float = 60) -> SwiftProxy:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self._binary), str(self._config)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_until_up(f"{self.url}/healthcheck", self.process, timeout, self._log)
        return self

    def stop(self) -> None:
        stop_process(self.process)


class MotoServer:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self._log = directory / "moto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> MotoServer:
        moto = shutil.which("moto_server") or f"{Path(sys.executable).parent}/moto_server"
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [moto, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(f"{self.url}/moto-api/", self.process, timeout, self._log)
        return self

    def stop(self) -> None:
        stop_process(self.process)


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_process(process)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cloudgate_server(directory: Path, object_store: str, swift_auth_url: str = "") -> ServerProcess:
    swift_env = {}
    if object_store == "swift":
        swift_env = {
            "CLOUDGATE_SWIFT_AUTH_URL": swift_auth_url,
            "CLOUDGATE_SWIFT_USER": SWIFT_ADMIN_USER,
            "CLOUDGATE_SWIFT_KEY": SWIFT_ADMIN_KEY,
        }
    return ServerProcess(
        directory / f"cloudgate-{object_store}", object_store=object_store, extra_env=swift_env
    ).start()


@contextmanager
def peer_stores(directory: Path) -> Iterator[list[Store]]:
    """Every system of the S3 comparison, started side by side (startup is not measured, and
    one at a time it is most of a smoke run); all stopped when the block ends."""
    aio_config = swift_aio_config()
    plain = SwiftProxy(aio_config, directory, "proxy-plain", None)
    acl_on = SwiftProxy(aio_config, directory, "proxy-s3api-acl-on", True)
    acl_off = SwiftProxy(aio_config, directory, "proxy-s3api-acl-off", False)
    moto = MotoServer(directory)
    with ExitStack() as stack:
        for peer in (plain, acl_on, acl_off, moto):
            stack.callback(peer.stop)
        with ThreadPoolExecutor(5) as pool:
            starting = [pool.submit(peer.start) for peer in (plain, acl_on, acl_off, moto)]
            server = pool.submit(cloudgate_server, directory, "swift", plain.auth_url)
        if server.exception() is None:
            stack.callback(server.result().stop)
        for future in [*starting, server]:
            future.result()  # raises the first failure, once everything started is in `stack`
        cloudgate = server.result()
        assert cloudgate.process is not None
        yield [
            S3Store(
                "cloudgate", cloudgate.s3_url, cloudgate.api_key, cloudgate.secret_key,
                "cloudgate", [cloudgate.process.pid],
            ),
            S3Store(
                "s3api (s3_acl on)", acl_on.url, S3API_USER, S3API_KEY, "us-east-1",
                [pid_of(acl_on.process)],
            ),
            S3Store(
                "s3api (s3_acl off)", acl_off.url, S3API_USER, S3API_KEY, "us-east-1",
                [pid_of(acl_off.process)],
            ),
            SwiftDirectStore(plain.auth_url, [pid_of(plain.process)]),
            S3Store("moto_server", moto.url, "bench", "bench", "us-east-1", [pid_of(moto.process)]),
        ]  # fmt: skip


def pid_of(process: subprocess.Popen[bytes] | None) -> int:
    assert process is not None
    return process.pid
