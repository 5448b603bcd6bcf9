"""A 5 GiB object up and down through multipart, with the server's memory watched.

Marked `large`: it moves 10 GiB over loopback and needs ~10 GiB of disk, so it runs only
with `pytest --run-large` (both backends, like every S3 test). The test's own side never
holds the object either: the body is generated as it is read and hashed as it arrives.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.client import BaseClient

from tests.s3_api.conftest import S3Server

pytestmark = [pytest.mark.large, pytest.mark.timeout(3600)]

MiB = 1024 * 1024
SIZE = 5 * 1024 * MiB
PART = 64 * MiB
# The server's peak resident memory may grow by at most this much during the transfer.
RSS_BUDGET = 512 * MiB


class GeneratedBody:
    """`size` bytes made as they are read: a random MiB, rotated by a different amount
    for every MiB, so that no two parts are alike."""

    def __init__(self, size: int) -> None:
        self._block = os.urandom(MiB)
        self._size = size
        self._offset = 0
        self._pending = b""

    def read(self, amount: int = -1) -> bytes:
        if amount < 0:
            amount = self._size - self._offset
        out = bytearray()
        while len(out) < amount and (self._pending or self._offset < self._size):
            if not self._pending:
                index = self._offset // MiB
                turn = (index * 7919) % MiB
                self._pending = (self._block[turn:] + self._block[:turn])[
                    : min(MiB, self._size - self._offset)
                ]
                self._offset += len(self._pending)
            take = min(amount - len(out), len(self._pending))
            out += self._pending[:take]
            self._pending = self._pending[take:]
        return bytes(out)


class HashingSink:
    """A write-only file that keeps the md5 and size of what was written to it."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, data: bytes) -> int:
        self.md5.update(data)
        self.size += len(data)
        return len(data)


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_five_gib_up_and_down_with_flat_server_memory(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    pid = s3_server.process.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak (VmHWM)
    before = peak_rss(pid)
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)
    source = GeneratedBody(SIZE)
    part_md5s = []
    digest = hashlib.md5(usedforsecurity=False)

    class Recording:
        """The body as boto3 reads it, hashed per part for the expected ETag."""

        def __init__(self) -> None:
            self._part = hashlib.md5(usedforsecurity=False)
            self._in_part = 0

        def read(self, amount: int = -1) -> bytes:
            data = source.read(amount)
            digest.update(data)
            view = memoryview(data)
            while view:
                take = min(PART - self._in_part, len(view))
                self._part.update(view[:take])
                self._in_part += take
                view = view[take:]
                if self._in_part == PART:
                    part_md5s.append(self._part.digest())
                    self._part, self._in_part = hashlib.md5(usedforsecurity=False), 0
            if not data and self._in_part:
                part_md5s.append(self._part.digest())
                self._in_part = 0
            return data

    s3.upload_fileobj(Recording(), bucket, "five-gib", Config=config)
    joined = hashlib.md5(b"".join(part_md5s), usedforsecurity=False).hexdigest()
    head = s3.head_object(Bucket=bucket, Key="five-gib")
    assert head["ContentLength"] == SIZE
    assert head["ETag"] == f'"{joined}-{len(part_md5s)}"'
    sink = HashingSink()
    s3.download_fileobj(bucket, "five-gib", sink, Config=config)
    assert (sink.size, sink.md5.hexdigest()) == (SIZE, digest.hexdigest())
    grown = peak_rss(pid) - before
    print(f"server peak RSS grew by {grown / MiB:.0f} MiB ({s3_server.backend})")
    assert grown < RSS_BUDGET
    s3.delete_object(Bucket=bucket, Key="five-gib")
