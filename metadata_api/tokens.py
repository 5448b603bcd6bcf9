"""IMDSv2 session tokens: stateless, HMAC-signed, bound to one VM.

A token carries the VM's id and its expiry, signed with the server's token secret (a random
key kept in the data directory, or the `metadata_token_secret` setting that the servers of a
cluster share), so that a restart keeps tokens valid and nothing is stored per token. Binding
the token to the VM follows AWS, where a token fetched on one instance is useless on another.

Wire: base64 of `expiry in ms (8 bytes) ‖ HMAC-SHA256(vm id ‖ expiry)[:20]`. The VM's id is
signed but not carried: the service knows which VM asks, and the token reveals nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import struct

MIN_TTL_SECONDS = 1
MAX_TTL_SECONDS = 21600  # six hours, as on AWS
_EXPIRY = struct.Struct(">Q")
_SIGNED = struct.Struct(">QQ")
_MAC_BYTES = 20


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"cloudgate/imds-token/v1", "sha256").digest()

    def _mac(self, vm_id: int, expires_ms: int) -> bytes:
        signed = _SIGNED.pack(vm_id, expires_ms)
        return hmac.new(self._key, signed, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, vm_id: int, ttl_seconds: int, now: float) -> str:
        """A token for `vm_id` valid `ttl_seconds` from `now` (a time.time() value)."""
        expires_ms = int(now * 1000) + ttl_seconds * 1000
        return base64.b64encode(_EXPIRY.pack(expires_ms) + self._mac(vm_id, expires_ms)).decode()

    def remaining(self, token: str, vm_id: int, now: float) -> int | None:
        """Whole seconds the token stays valid for `vm_id` (rounded up); None if it is not
        a token of ours, is another VM's, or has expired."""
        try:
            raw = base64.b64decode(token.encode(), validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _EXPIRY.size + _MAC_BYTES:
            return None
        (expires_ms,) = _EXPIRY.unpack(raw[: _EXPIRY.size])
        if not hmac.compare_digest(raw[_EXPIRY.size :], self._mac(vm_id, expires_ms)):
            return None
        left_ms = expires_ms - now * 1000
        return math.ceil(left_ms / 1000) if left_ms > 0 else None


def parse_ttl(value: str | None) -> int | None:
    """The TTL header's value if it is a whole number of seconds in 1…21600, else None."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    ttl = int(text)
    return ttl if MIN_TTL_SECONDS <= ttl <= MAX_TTL_SECONDS else None
