"""S3's checksum algorithms: digests of a byte stream, and the checksum of a multipart object.

An algorithm is named as S3 names it (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`);
digests are big-endian bytes, shown base64-encoded on the wire. A multipart object's checksum
is of one of two types:

- COMPOSITE: the algorithm applied to the concatenated binary part checksums, shown as
  `<base64>-<number of parts>` (every algorithm but CRC64NVME);
- FULL_OBJECT: the checksum of the whole object's bytes, as if uploaded in one piece, only
  for the CRCs: a CRC of concatenated data follows from the parts' CRCs and lengths, so it
  is combined from the part checksums without reading the object again.

CRC64NVME and the CRC combinations come from `awscrt` (the AWS Common Runtime, the library
botocore itself computes CRC64NVME with), CRC32C from `google_crc32c`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import google_crc32c
from awscrt import checksums as crt

COMPOSITE = "COMPOSITE"
FULL_OBJECT = "FULL_OBJECT"


class Digest(Protocol):
    def update(self, data: bytes, /) -> Any: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A running CRC behind hashlib's update/digest interface."""

    def __init__(self, step: Callable[[bytes, int], int], size: int) -> None:
        self._step = step
        self._size = size
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = self._step(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._size, "big")


def _crc32() -> Digest:
    return _Crc(zlib.crc32, 4)


def _crc64nvme() -> Digest:
    return _Crc(crt.crc64nvme, 8)


# Algorithm → (digest factory, digest size in bytes).
ALGORITHMS: dict[str, tuple[Callable[[], Digest], int]] = {
    "CRC32": (_crc32, 4),
    "CRC32C": (google_crc32c.Checksum, 4),
    "CRC64NVME": (_crc64nvme, 8),
    "SHA1": (hashlib.sha1, 20),
    "SHA256": (hashlib.sha256, 32),
}
# The CRCs: (combine(crc1, crc2, length of the data of crc2), digest size).
_COMBINE: dict[str, tuple[Callable[[int, int, int], int], int]] = {
    "CRC32": (crt.combine_crc32, 4),
    "CRC32C": (crt.combine_crc32c, 4),
    "CRC64NVME": (crt.combine_crc64nvme, 8),
}
FULL_OBJECT_ALGORITHMS = frozenset(_COMBINE)
COMPOSITE_ALGORITHMS = frozenset(ALGORITHMS) - {"CRC64NVME"}


def new_digest(algorithm: str) -> Digest:
    return ALGORITHMS[algorithm][0]()


def decode(algorithm: str, value: str) -> bytes | None:
    """The binary digest of a base64 `value`; None unless it is one of `algorithm`'s size."""
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == ALGORITHMS[algorithm][1] else None


def allows(algorithm: str, checksum_type: str) -> bool:
    """Whether a multipart upload may use this algorithm with this checksum type."""
    allowed = FULL_OBJECT_ALGORITHMS if checksum_type == FULL_OBJECT else COMPOSITE_ALGORITHMS
    return algorithm in allowed


def default_type(algorithm: str) -> str:
    """The checksum type of an upload that names only its algorithm (S3's default)."""
    return FULL_OBJECT if algorithm not in COMPOSITE_ALGORITHMS else COMPOSITE


def multipart_checksum(
    algorithm: str, checksum_type: str, parts: Sequence[tuple[str, int]]
) -> str | None:
    """The object's checksum from its parts' (base64 checksum, size), in order; None if a
    checksum is malformed."""
    digests = [decode(algorithm, checksum) for checksum, _size in parts]
    if any(digest is None for digest in digests):
        return None
    if checksum_type == FULL_OBJECT:
        combine, size = _COMBINE[algorithm]
        value = 0
        for digest, (_checksum, length) in zip(digests, parts, strict=True):
            value = combine(value, int.from_bytes(digest or b"", "big"), length)
        return base64.b64encode(value.to_bytes(size, "big")).decode()
    joined = new_digest(algorithm)
    for digest in digests:
        joined.update(digest or b"")
    return f"{base64.b64encode(joined.digest()).decode()}-{len(parts)}"
