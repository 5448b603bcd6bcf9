"""Request bodies of object uploads: aws-chunked decoding and integrity checks, streamed.

An upload arrives as raw pieces (whatever the HTTP server hands over). `DecodedBody` turns
them into the object's bytes, one piece at a time, so memory stays flat whatever the size:

- `Content-Encoding: aws-chunked` framing (`x-amz-content-sha256: STREAMING-…`) is removed,
  never stored; signed chunks are verified along the chain of chunk signatures, and the
  trailing headers (boto3 ≥ 1.36 sends `x-amz-checksum-crc32` there) are read and verified.
- a signed payload hash, `Content-MD5` and `x-amz-checksum-{crc32,crc32c,sha1,sha256}` are computed
  while the bytes pass and compared at the end.

A failed check raises from the iterator before it hands over the last piece, so the object
store never receives a complete body it could commit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterator, Mapping

from s3_api.checksums import CHECKSUMS, well_formed
from s3_api.errors import (
    BadDigest,
    IncompleteBody,
    InvalidDigest,
    InvalidRequest,
    XAmzContentSHA256Mismatch,
)
from translators.aws_auth import AuthResult
from translators.sigv4 import ChunkVerifier

MAX_FRAMING_LINE = 4096


class AwsChunkedDecoder:
    """Removes aws-chunked framing: `hex-size[;chunk-signature=…]\\r\\n data \\r\\n` … `0…`,
    then optional trailing headers and an empty line."""

    def __init__(self, pieces: Iterator[bytes], verifier: ChunkVerifier | None) -> None:
        self._pieces = pieces
        self._buffer = bytearray()
        self._verifier = verifier
        self.trailers: dict[str, str] = {}

    def __iter__(self) -> Iterator[bytes]:
        while True:
            size, signature = self._chunk_header()
            digest = hashlib.sha256()
            remaining = size
            while remaining:
                data = self._take(remaining)
                digest.update(data)
                remaining -= len(data)
                yield data
            if size:
                self._expect_crlf()
            if self._verifier is not None:
                if signature is None:
                    raise InvalidRequest("aws-chunked chunk without chunk-signature")
                self._verifier.chunk(digest.hexdigest(), signature)
            if size == 0:
                self._read_trailers()
                return

    def _chunk_header(self) -> tuple[int, str | None]:
        line = self._line()
        size_text, _, extensions = line.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise InvalidRequest(f"Malformed aws-chunked chunk size {size_text[:20]!r}") from None
        signature = None
        for extension in extensions.split(";"):
            name, _, value = extension.partition("=")
            if name.strip() == "chunk-signature":
                signature = value.strip()
        return size, signature

    def _read_trailers(self) -> None:
        signature = None
        while line := self._line(allow_eof=True):
            name, sep, value = line.partition(":")
            if not sep:
                raise InvalidRequest(f"Malformed aws-chunked trailer {line[:40]!r}")
            name = name.strip().lower()
            if name == "x-amz-trailer-signature":
                signature = value.strip()
            else:
                self.trailers[name] = value.strip()
        if self._verifier is not None and self.trailers:
            if signature is None:
                raise InvalidRequest("aws-chunked trailer without x-amz-trailer-signature")
            self._verifier.trailer(self.trailers.items(), signature)

    def _fill(self) -> bool:
        piece = next(self._pieces, None)
        if piece is None:
            return False
        self._buffer += piece
        return True

    def _line(self, *, allow_eof: bool = False) -> str:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > MAX_FRAMING_LINE:
                raise InvalidRequest("aws-chunked framing line too long")
            if not self._fill():
                if allow_eof and not self._buffer.strip():
                    return ""
                raise IncompleteBody()
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line.decode("latin-1")

    def _take(self, limit: int) -> bytes:
        if not self._buffer and not self._fill():
            raise IncompleteBody()
        data = bytes(self._buffer[:limit])
        del self._buffer[:limit]
        return data

    def _expect_crlf(self) -> None:
        if self._line() != "":
            raise InvalidRequest("aws-chunked chunk data longer than its declared size")


class DecodedBody:
    """The object's bytes from the raw request pieces, verified as described above; after
    iteration, `verified` holds the checksums that were checked (name → base64 value)."""

    def __init__(
        self, pieces: Iterator[bytes], auth: AuthResult, headers: Mapping[str, str]
    ) -> None:
        self._decoder = None
        if auth.payload.aws_chunked:
            verifier = ChunkVerifier(auth.chunk_signing) if auth.chunk_signing else None
            self._decoder = AwsChunkedDecoder(pieces, verifier)
        self._pieces = pieces
        self._checks = _Checks(
            headers, auth.expected_content_sha256, expect_trailer=self._decoder is not None
        )

    @property
    def verified(self) -> dict[str, str]:
        return self._checks.verified

    def __iter__(self) -> Iterator[bytes]:
        pieces = iter(self._decoder) if self._decoder is not None else self._pieces
        # The last piece is held back until every check has passed: a store that has been
        # sent all the bytes it was promised (Swift, given a Content-Length) commits the
        # object even if the sender fails afterwards.
        held = b""
        for piece in pieces:
            if piece:
                self._checks.update(piece)
                if held:
                    yield held
                held = piece
        self._checks.finish(self._decoder.trailers if self._decoder is not None else {})
        if held:
            yield held


class _Checks:
    """Digests computed as bytes pass, compared once the body has ended."""

    def __init__(
        self, headers: Mapping[str, str], signed_sha256: str | None, *, expect_trailer: bool
    ) -> None:
        self.size = 0
        self._signed_sha256 = signed_sha256
        self._sha256 = hashlib.sha256() if signed_sha256 else None
        self._content_md5 = _b64_digest(headers.get("content-md5"), 16)
        self._md5 = hashlib.md5(usedforsecurity=False) if self._content_md5 else None
        self._declared_size = (
            headers.get("x-amz-decoded-content-length") if expect_trailer else None
        )
        # A checksum announced in x-amz-trailer arrives at the end; one in a header, up front.
        announced = (headers.get("x-amz-trailer") or "").strip().lower()
        names = [name for name in CHECKSUMS if name in headers or name == announced]
        if len(names) > 1:
            raise InvalidRequest(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not"
                " allowed."
            )
        self._checksums = {name: CHECKSUMS[name]() for name in names}
        self._header_values = {name: headers[name] for name in names if name in headers}
        for name, value in self._header_values.items():
            if not well_formed(name, value):
                raise InvalidRequest(f"Value for {name} header is invalid.")
        self.verified: dict[str, str] = {}

    def update(self, data: bytes) -> None:
        self.size += len(data)
        for digest in (self._sha256, self._md5, *self._checksums.values()):
            if digest is not None:
                digest.update(data)

    def finish(self, trailers: Mapping[str, str]) -> None:
        if self._declared_size is not None and str(self.size) != self._declared_size.strip():
            raise IncompleteBody()
        if self._sha256 is not None and self._signed_sha256 is not None:
            computed = self._sha256.hexdigest()
            if not hmac.compare_digest(computed, self._signed_sha256):
                raise XAmzContentSHA256Mismatch(
                    ClientComputedContentSHA256=self._signed_sha256,
                    S3ComputedContentSHA256=computed,
                )
        if self._md5 is not None and self._md5.digest() != self._content_md5:
            raise BadDigest("The Content-MD5 you specified did not match what we received.")
        for name, digest in self._checksums.items():
            declared = self._header_values.get(name) or trailers.get(name)
            if declared is None:
                continue
            if not well_formed(name, declared):
                raise InvalidRequest(f"Value for {name} trailing header is invalid.")
            actual = base64.b64encode(digest.digest()).decode()
            if actual != declared.strip():
                algorithm = name.removeprefix("x-amz-checksum-").upper()
                raise BadDigest(
                    f"The {algorithm} you specified did not match the calculated checksum."
                )
            self.verified[name] = actual


def _b64_digest(value: str | None, size: int) -> bytes | None:
    if value is None:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidDigest() from None
    if len(digest) != size:
        raise InvalidDigest()
    return digest
