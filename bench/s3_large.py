"""A 5 GiB object up and down through multipart, with cloudgate's memory watched.

On each object store (local and the Swift all-in-one) a fresh cloudgate server takes a
multipart upload (boto3's transfer manager: 64 MiB parts, 4 at a time) and serves it back;
the benchmark checks the ETag S3 defines for a multipart object (md5 of the parts' md5s,
"-N") and the content's md5, and records the throughput and how far the server's resident
memory rose above its level before the transfer: it must stay flat, whatever the object size.

The client never holds the object either: the body is generated as it is read and hashed as
it arrives. Moving 2 × 5 GiB per store takes minutes, so 5 GiB is the full mode only.

    python -m bench --full s3_large        (or: python -m bench.s3_large --mode smoke|quick|full)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from boto3.s3.transfer import TransferConfig

from bench.common import SuiteResult, Table, Target, peak_rss, run_suite
from bench.s3_peers import S3Store, SwiftProxy, cloudgate_server, swift_aio_config

MiB = 1024 * 1024
# The server's resident memory may rise by at most this much during the transfer.
RSS_BUDGET = 512 * MiB


@dataclass(frozen=True)
class Sizes:
    size: int
    part: int


SIZES = {
    "smoke": Sizes(24 * MiB, 8 * MiB),
    "quick": Sizes(512 * MiB, 64 * MiB),
    "full": Sizes(5 * 1024 * MiB, 64 * MiB),
}


def main(argv: list[str] | None = None) -> None:
    run_suite("s3_large", "S3: a multipart object up and down, with flat server memory", body, argv)


def body(result: SuiteResult) -> None:
    sizes = SIZES[result.mode]
    table = Table(
        f"{sizes.size // MiB} MiB multipart upload and download through cloudgate",
        ["object store", "upload MB/s", "download MB/s", "ETag", "server RSS before MiB",
         "peak RSS growth MiB"],
        note=f"{sizes.part // MiB} MiB parts, 4 concurrent part uploads / ranged reads"
        " (boto3's transfer manager); RSS of the cloudgate server process",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-s3-large-") as directory:
        for store in ("local", "swift"):
            table.rows.append(transfer(Path(directory), store, sizes))
    result.tables.append(table)
    for row in table.rows:
        grown = int(row[-1])
        result.targets.append(
            Target(
                f"flat server memory ({row[0]})",
                f"peak RSS growth < {RSS_BUDGET // MiB} MiB while moving "
                f"{2 * sizes.size // MiB} MiB",
                f"{grown} MiB",
                grown * MiB < RSS_BUDGET,
                ""
                if grown * MiB < RSS_BUDGET
                else "the server buffers request or response bodies instead of streaming them",
            )
        )


def transfer(directory: Path, object_store: str, sizes: Sizes) -> list[object]:
    """One upload and one download on a fresh server; the table row."""
    with ExitStack() as stack:
        swift_auth_url = ""
        if object_store == "swift":
            proxy = SwiftProxy(swift_aio_config(), directory, "proxy", None)
            stack.callback(proxy.stop)
            swift_auth_url = proxy.start().auth_url
        server = cloudgate_server(directory, object_store, swift_auth_url)
        stack.callback(server.stop)
        assert server.process is not None
        pid = server.process.pid
        store = S3Store("cloudgate", server.s3_url, server.api_key, server.secret_key,
                        "cloudgate", [pid])  # fmt: skip
        store.open(1)
        client, bucket = store.clients[0], store.bucket
        config = TransferConfig(
            multipart_threshold=sizes.part, multipart_chunksize=sizes.part, max_concurrency=4
        )
        source = RecordingBody(sizes.size, sizes.part)
        sink = HashingSink()
        with peak_rss([pid]) as memory:
            started = time.perf_counter()
            client.upload_fileobj(source, bucket, "large", Config=config)
            uploaded = time.perf_counter() - started
            head = client.head_object(Bucket=bucket, Key="large")
            started = time.perf_counter()
            client.download_fileobj(bucket, "large", sink, Config=config)
            downloaded = time.perf_counter() - started
        client.delete_object(Bucket=bucket, Key="large")
        stored, etag = head["ContentLength"], head["ETag"]
        if (stored, etag) != (sizes.size, source.etag()):
            raise RuntimeError(
                f"{object_store}: stored {stored} bytes with ETag {etag},"
                f" sent {sizes.size} with {source.etag()}"
            )
        if (sink.size, sink.md5.hexdigest()) != (sizes.size, source.md5.hexdigest()):
            raise RuntimeError(f"{object_store}: downloaded {sink.size} bytes, not what was sent")
        return [
            object_store,
            round(sizes.size / uploaded / 1e6, 1),
            round(sizes.size / downloaded / 1e6, 1),
            head["ETag"].strip('"'),
            round(memory["start"] / MiB),
            max(0, round((memory["peak"] - memory["start"]) / MiB)),
        ]


class RecordingBody:
    """`size` bytes made as they are read (a random MiB, rotated by a different amount for
    every MiB, so that no two parts are alike), hashed whole and per part of `part` bytes,
    for the expected content md5 and multipart ETag."""

    def __init__(self, size: int, part: int) -> None:
        self._block = os.urandom(MiB)
        self._size = size
        self._offset = 0
        self._pending = b""
        self._part = part
        self._in_part = 0
        self._part_md5 = hashlib.md5(usedforsecurity=False)
        self.part_md5s: list[bytes] = []
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, amount: int = -1) -> bytes:
        if amount < 0:
            amount = self._size - self._offset + len(self._pending)
        out = bytearray()
        while len(out) < amount and (self._pending or self._offset < self._size):
            if not self._pending:
                turn = (self._offset // MiB * 7919) % MiB
                rotated = self._block[turn:] + self._block[:turn]
                self._pending = rotated[: min(MiB, self._size - self._offset)]
                self._offset += len(self._pending)
            take = min(amount - len(out), len(self._pending))
            out += self._pending[:take]
            self._pending = self._pending[take:]
        data = bytes(out)
        self._record(data)
        return data

    def _record(self, data: bytes) -> None:
        self.md5.update(data)
        view = memoryview(data)
        while view:
            take = min(self._part - self._in_part, len(view))
            self._part_md5.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == self._part:
                self._close_part()
        if not data and self._in_part:
            self._close_part()

    def _close_part(self) -> None:
        self.part_md5s.append(self._part_md5.digest())
        self._part_md5, self._in_part = hashlib.md5(usedforsecurity=False), 0

    def etag(self) -> str:
        if self._in_part:
            self._close_part()
        joined = hashlib.md5(b"".join(self.part_md5s), usedforsecurity=False).hexdigest()
        return f'"{joined}-{len(self.part_md5s)}"'


class HashingSink:
    """A write-only file that keeps the md5 and size of what was written to it (boto3 writes
    the parts of a download in order to a non-seekable file)."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, data: bytes) -> int:
        self.md5.update(data)
        self.size += len(data)
        return len(data)


if __name__ == "__main__":
    main()
