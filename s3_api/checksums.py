"""S3's additional checksums: the algorithms, their header names, and how they are kept.

A client sends `x-amz-checksum-<algorithm>` (in a header, or announced in `x-amz-trailer`
and sent after an aws-chunked body); `payload.DecodedBody` verifies it while the bytes pass.
What was verified is stored with the object as system metadata (`checksum-<algorithm>`,
never shown as user metadata) and returned by GET/HEAD with `x-amz-checksum-mode: ENABLED`,
by GetObjectAttributes and in PutObject/CopyObject results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from core import checksum_algorithms
from core.checksum_algorithms import Digest
from core.object_copy import CHECKSUM_PREFIX

HEADER_PREFIX = "x-amz-checksum-"
# Algorithm (lower case, as in header names) → digest factory and digest size in bytes.
ALGORITHMS: dict[str, tuple[Callable[[], Digest], int]] = {
    name.lower(): entry for name, entry in checksum_algorithms.ALGORITHMS.items()
}
# Header name → digest factory, for the request-body checks.
CHECKSUMS: dict[str, Callable[[], Digest]] = {
    HEADER_PREFIX + name: factory for name, (factory, _size) in ALGORITHMS.items()
}


def well_formed(header: str, value: str) -> bool:
    """Whether `value` is base64 of a digest of the right size for checksum `header`."""
    algorithm = header.removeprefix(HEADER_PREFIX).upper()
    return checksum_algorithms.decode(algorithm, value) is not None


def field_name(algorithm: str) -> str:
    """The output-shape member of an algorithm: `crc32c` → `ChecksumCRC32C`."""
    return "Checksum" + algorithm.upper()


class StoredChecksums(Mapping[str, str]):
    """System metadata for a new object, read from the body's verified checksums when the
    store commits it (trailing checksums are only known once the body has ended)."""

    def __init__(self, verified: Mapping[str, str]) -> None:
        self._verified = verified

    def _items(self) -> dict[str, str]:
        return {
            CHECKSUM_PREFIX + name.removeprefix(HEADER_PREFIX): value
            for name, value in self._verified.items()
        }

    def __getitem__(self, name: str) -> str:
        return self._items()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


def result_fields(system_metadata: Mapping[str, str]) -> dict[str, str]:
    """`{"ChecksumCRC32": …}` members of an output shape from an object's system metadata."""
    fields: dict[str, str] = {}
    for name, value in system_metadata.items():
        algorithm = name.removeprefix(CHECKSUM_PREFIX)
        if name.startswith(CHECKSUM_PREFIX) and algorithm in ALGORITHMS:
            fields[field_name(algorithm)] = value
    return fields


def checksum_type(system_metadata: Mapping[str, str]) -> str | None:
    """FULL_OBJECT or COMPOSITE (a multipart `…-N` checksum); None without a checksum."""
    values = [v for n, v in system_metadata.items() if n.startswith(CHECKSUM_PREFIX)]
    if not values:
        return None
    return "COMPOSITE" if any("-" in value for value in values) else "FULL_OBJECT"
