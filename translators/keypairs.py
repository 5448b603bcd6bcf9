"""Key pairs as EC2 shows them: key types and AWS's fingerprints, over core SSH key pairs.

AWS prints a different fingerprint depending on where the key came from and its type:

    generated RSA   SHA-1 of the DER (PKCS#8) private key, colon hex (kept by the core at
                    creation, as the private key itself is never stored)
    imported RSA    MD5 of the DER public key (SubjectPublicKeyInfo), colon hex: what
                    `openssl rsa -pubout -outform DER | openssl md5 -c` prints and AWS shows,
                    although the API reference calls it "RFC4716 section 4"
    ed25519         base64 (padded) SHA-256 of the OpenSSH public key blob, either origin

CloudStack's own fingerprint (MD5 of the OpenSSH blob) stays what `listSSHKeyPairs` shows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from core.errors import InvalidParameter
from core.keypairs import SSHKeyPair, colon_hex

RSA = "rsa"
ED25519 = "ed25519"
_KEY_TYPES = {"ssh-rsa": RSA, "ssh-ed25519": ED25519}


class KeyFormatError(InvalidParameter):
    """Public key material EC2 cannot import (InvalidKeyPair.Format on the wire)."""

    def __init__(self) -> None:
        super().__init__("Key is not in valid OpenSSH public key format", parameter="publickey")


def key_type(public_key: str) -> str:
    """`rsa` or `ed25519`, from the OpenSSH key line's algorithm name."""
    algorithm = public_key.split(maxsplit=1)[0] if public_key.strip() else ""
    return _KEY_TYPES.get(algorithm, algorithm)


def _blob(public_key: str) -> bytes:
    return base64.b64decode(public_key.split()[1])


def fingerprint(keypair: SSHKeyPair) -> str:
    """The KeyFingerprint AWS would show for this key pair."""
    if keypair.private_key_sha1:
        return keypair.private_key_sha1
    return public_key_fingerprint(keypair.public_key)


def public_key_fingerprint(public_key: str) -> str:
    """The fingerprint of an imported OpenSSH public key line, as AWS computes it."""
    if key_type(public_key) == ED25519:
        return base64.b64encode(hashlib.sha256(_blob(public_key)).digest()).decode()
    loaded = serialization.load_ssh_public_key(public_key.encode())
    der = loaded.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return colon_hex(hashlib.md5(der, usedforsecurity=False).digest())


def imported_public_key(material: bytes | str) -> str:
    """The OpenSSH key line of ImportKeyPair's PublicKeyMaterial (RSA or ed25519 only).

    botocore base64-encodes the blob on the wire and the parser decodes it, so `material` is
    the key text itself; a client that base64-encoded it once more is accepted as well.
    """
    text = material.decode(errors="replace") if isinstance(material, bytes) else material
    text = text.strip()
    if not text.startswith("ssh-"):
        try:
            text = base64.b64decode(text, validate=True).decode().strip()
        except (binascii.Error, ValueError):
            raise KeyFormatError() from None
    try:
        loaded = serialization.load_ssh_public_key(text.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFormatError() from None
    if not isinstance(loaded, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise KeyFormatError()
    return " ".join(text.split()[:3])
