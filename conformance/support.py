"""Helpers the conformance scenarios share: what a user of any client would also need."""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def public_key() -> str:
    """A fresh OpenSSH RSA public key, as `ssh-keygen` would have made for the user."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return key.decode() + " conformance@example"


def wait_for(predicate: Callable[[], bool], timeout: float = 60) -> None:
    """Poll as a script polls a client that has no waiter of its own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")
