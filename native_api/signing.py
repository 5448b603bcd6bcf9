"""CloudStack request signatures, verified the way the management server does.

The string to sign is every parameter except `signature`, sorted by name, joined as
`name=urlencode(value)` with `&`, then lowercased; the signature is base64(HMAC-SHA1(secret)).
Clients disagree at the edges — `cs` sorts names case-sensitively, libcloud lowercases them
before sorting, Go clients encode `*` differently from Java's URLEncoder — so every form that
a known client produces is accepted; each is a faithful canonicalisation, not a weakening.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote

# Characters each client family leaves unencoded in values: Java's URLEncoder (CloudStack
# itself, and then '+' becomes %20), `cs` (Python's quote with '*'), libcloud (also '[]'),
# RFC 3986 encoders, and Go's url.QueryEscape-based clients.
_JAVA_SAFE = "-_.*"
_VALUE_ENCODINGS = (_JAVA_SAFE, "-_.*~", "-_.*~[]", "-_.~", "-_.")


def _encode(value: str, safe: str) -> str:
    return quote(value, safe=safe).replace("%7e", "%7E")


def _string_to_sign(params: Iterable[tuple[str, str]], *, lower_keys: bool, safe: str) -> str:
    pairs = [(k.lower() if lower_keys else k, v) for k, v in params if k.lower() != "signature"]
    pairs.sort(key=lambda pair: pair[0])
    return "&".join(f"{k}={_encode(v, safe)}" for k, v in pairs).lower()


def sign(params: Iterable[tuple[str, str]], secret: str) -> str:
    """The signature CloudStack's own clients compute (used by tests and tools)."""
    message = _string_to_sign(list(params), lower_keys=False, safe=_JAVA_SAFE)
    return _hmac(message, secret)


def _hmac(message: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify(params: list[tuple[str, str]], signature: str, secret: str) -> bool:
    """True if `signature` matches one canonical form of `params` under `secret`."""
    for lower_keys in (False, True):
        for safe in _VALUE_ENCODINGS:
            expected = _hmac(_string_to_sign(params, lower_keys=lower_keys, safe=safe), secret)
            if hmac.compare_digest(expected, signature):
                return True
    return False


def parse_expires(value: str) -> dt.datetime | None:
    """CloudStack's `expires` (yyyy-MM-dd'T'HH:mm:ssZ, also with a colon in the offset)."""
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(value.strip().replace(" ", "+"), fmt)
        except ValueError:
            continue
    return None
