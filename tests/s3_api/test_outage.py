"""A Swift outage: S3 answers 503 ServiceUnavailable in S3's XML, and nothing that was
acknowledged before it is lost.

The shared Swift all-in-one must keep running for everyone else, so the outage is made on
the way to it: this server reaches Swift through a TCP relay that the test cuts and restores.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, error_of, swift_environment
from tests.support.server import ServerProcess, free_port

pytestmark = pytest.mark.swift


class Relay:
    """Forwards 127.0.0.1:port to a target address until `cut()`; `restore()` listens again."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and break every open connection (Swift "goes away")."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[S3Server, Relay]]:
    swift_env = swift_environment()
    auth = urlparse(swift_env["CLOUDGATE_SWIFT_AUTH_URL"])
    relay = Relay(free_port(), (auth.hostname or "127.0.0.1", auth.port or 80))
    relay.restore()
    env = {
        **swift_env,
        "CLOUDGATE_SWIFT_AUTH_URL": auth._replace(netloc=f"127.0.0.1:{relay.port}").geturl(),
    }
    process = ServerProcess(
        tmp_path_factory.mktemp("s3-outage"), object_store="swift", extra_env=env
    )
    process.start()
    admin = Credentials(process.api_key, process.secret_key)
    try:
        yield S3Server(process, "swift", admin, env), relay
    finally:
        process.stop()
        relay.cut()
        output = "".join(process.output)
        assert "Traceback" not in output, output[-5000:]  # an outage is no internal error


def test_an_outage_answers_503_and_loses_nothing(relayed: tuple[S3Server, Relay]) -> None:
    server, relay = relayed
    s3 = server.client()
    bucket = f"outage-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    acknowledged = {f"k{index}": b"kept %d" % index for index in range(5)}
    for key, body in acknowledged.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    relay.cut()
    calls = {
        "get": lambda: s3.get_object(Bucket=bucket, Key="k0"),
        "put": lambda: s3.put_object(Bucket=bucket, Key="during", Body=b"lost?"),
        "list": lambda: s3.list_objects_v2(Bucket=bucket),
        "delete": lambda: s3.delete_object(Bucket=bucket, Key="k1"),
        "copy": lambda: s3.copy_object(
            Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k0"}
        ),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("ServiceUnavailable", 503), name
        assert raised.value.response["ResponseMetadata"]["RequestId"]

    relay.restore()
    for key, body in acknowledged.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(acknowledged)  # the refused PUT and DELETE changed nothing
    for key in acknowledged:
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)
