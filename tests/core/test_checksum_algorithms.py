"""S3's checksum algorithms and the checksum of a multipart object, against botocore's own
implementations (the reference clients verify with) and hashlib."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from botocore.httpchecksum import CrtCrc32cChecksum, CrtCrc32Checksum, CrtCrc64NvmeChecksum

from core import checksum_algorithms as algorithms
from core import object_parts

BOTOCORE = {
    "CRC32": CrtCrc32Checksum,
    "CRC32C": CrtCrc32cChecksum,
    "CRC64NVME": CrtCrc64NvmeChecksum,
}
PARTS = [os.urandom(70_001), os.urandom(3), b"", os.urandom(1024)]


def ours(algorithm: str, data: bytes) -> str:
    digest = algorithms.new_digest(algorithm)
    for start in range(0, len(data), 4096):  # fed in pieces, as a stream is
        digest.update(data[start : start + 4096])
    return base64.b64encode(digest.digest()).decode()


def theirs(algorithm: str, data: bytes) -> str:
    checksum = BOTOCORE[algorithm]()
    checksum.update(data)
    return checksum.b64digest()


@pytest.mark.parametrize("algorithm", sorted(BOTOCORE))
def test_crcs_match_botocore(algorithm: str) -> None:
    data = b"".join(PARTS)
    assert ours(algorithm, data) == theirs(algorithm, data)
    assert ours(algorithm, b"") == theirs(algorithm, b"")


@pytest.mark.parametrize("algorithm", sorted(BOTOCORE))
def test_full_object_checksum_is_the_crc_of_the_joined_parts(algorithm: str) -> None:
    summed = [(ours(algorithm, part), len(part)) for part in PARTS]
    full = algorithms.multipart_checksum(algorithm, algorithms.FULL_OBJECT, summed)
    assert full == theirs(algorithm, b"".join(PARTS))


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_composite_checksum_is_over_the_binary_part_checksums(algorithm: str) -> None:
    summed = [(ours(algorithm, part), len(part)) for part in PARTS]
    joined = b"".join(base64.b64decode(checksum) for checksum, _size in summed)
    expected = f"{ours(algorithm, joined)}-{len(PARTS)}"
    assert algorithms.multipart_checksum(algorithm, algorithms.COMPOSITE, summed) == expected
    if algorithm == "SHA256":
        inner = hashlib.sha256(joined).digest()
        assert expected == base64.b64encode(inner).decode() + "-4"


def test_malformed_part_checksums_give_no_object_checksum() -> None:
    summed = [("not base64!", 3), (ours("CRC32", b"abc"), 3)]
    assert algorithms.multipart_checksum("CRC32", algorithms.COMPOSITE, summed) is None
    too_short = [(base64.b64encode(b"\x00\x01").decode(), 2)]
    assert algorithms.multipart_checksum("CRC64NVME", algorithms.FULL_OBJECT, too_short) is None


def test_which_types_each_algorithm_takes() -> None:
    assert algorithms.default_type("CRC64NVME") == algorithms.FULL_OBJECT
    assert algorithms.default_type("CRC32") == algorithms.COMPOSITE
    assert not algorithms.allows("CRC64NVME", algorithms.COMPOSITE)
    assert not algorithms.allows("SHA256", algorithms.FULL_OBJECT)
    assert algorithms.allows("CRC32C", algorithms.FULL_OBJECT)
    assert algorithms.allows("SHA1", algorithms.COMPOSITE)


def test_part_spans() -> None:
    sizes = [5, 5, 2]
    spans = [object_parts.span(sizes, number) for number in (1, 2, 3)]
    assert [(s.first, s.last, s.count) for s in spans if s] == [(0, 4, 3), (5, 9, 3), (10, 11, 3)]
    assert object_parts.span(sizes, 0) is None
    assert object_parts.span(sizes, 4) is None
