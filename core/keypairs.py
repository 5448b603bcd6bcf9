"""SSH key pairs: public keys an account registers (or has generated) to log in to its VMs.

Only the public key is kept. A generated key pair's private key is handed back once by
`create_keypair` and never stored, as in CloudStack. The fingerprint is CloudStack's: the MD5
of the decoded public key blob as colon-separated hex. A generated RSA key also keeps the SHA-1
of its DER (PKCS#8) private key, the fingerprint EC2 shows for keys it generated, which cannot
be computed again once the private key is gone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base, IdMixin
from core.errors import InvalidParameter, NotFound
from core.events import record_for_caller
from core.listing import Page, paginate
from core.tags import forget_resource
from core.visibility import ListScope, ensure_access, scope_filter

RESOURCE_TYPE = "SSHKeyPair"
KEY_TYPES = ("rsa", "ed25519")


class KeyPairNameTaken(InvalidParameter):
    """The account already has a key pair of that name (431 in CloudStack's API)."""


class SSHKeyPair(IdMixin, Base):
    __tablename__ = "ssh_keypair"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)

    name: Mapped[str] = mapped_column(sa.String(255))
    public_key: Mapped[str] = mapped_column(sa.Text)
    fingerprint: Mapped[str] = mapped_column(sa.String(128))
    # SHA-1 of the generated RSA private key (DER PKCS#8), colon hex; NULL for imported keys.
    private_key_sha1: Mapped[str | None] = mapped_column(sa.String(64))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)


def fingerprint(public_key: str) -> str:
    """CloudStack's fingerprint of an OpenSSH public key line (MD5 of the key blob)."""
    blob = _key_blob(public_key)
    return colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def colon_hex(digest: bytes) -> str:
    """`ab:cd:…`, the way SSH and EC2 print MD5 and SHA-1 fingerprints."""
    return ":".join(f"{byte:02x}" for byte in digest)


def _key_blob(public_key: str) -> bytes:
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise InvalidParameter("Public key is invalid", parameter="publickey")
    try:
        return base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter("Public key is invalid", parameter="publickey") from None


def _normalized_public_key(public_key: str) -> str:
    """The key line if `cryptography` can load it as an OpenSSH public key, else 431."""
    line = " ".join(public_key.strip().split())
    try:
        serialization.load_ssh_public_key(line.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidParameter("Public key is invalid", parameter="publickey") from None
    return line


def _ensure_name_free(session: Session, ctx: CallContext, name: str) -> None:
    if not name or len(name) > 255:
        raise InvalidParameter("Key pair name must be 1 to 255 characters", parameter="name")
    taken = session.scalar(
        sa.select(SSHKeyPair.id).where(
            SSHKeyPair.account_id == ctx.account_id, SSHKeyPair.name == name
        )
    )
    if taken:
        raise KeyPairNameTaken(f"A key pair with name '{name}' already exists.", parameter="name")


def _add(
    session: Session,
    ctx: CallContext,
    name: str,
    public_key: str,
    private_key_sha1: str | None = None,
) -> SSHKeyPair:
    keypair = SSHKeyPair(
        name=name,
        public_key=public_key,
        fingerprint=fingerprint(public_key),
        private_key_sha1=private_key_sha1,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
    )
    session.add(keypair)
    session.flush()
    return keypair


def register_keypair(
    session: Session, ctx: CallContext, *, name: str, public_key: str, unique_key: bool = True
) -> SSHKeyPair:
    """Register an existing OpenSSH public key under `name` for the account in `ctx`.

    CloudStack refuses a key the account registered already under another name; EC2 allows it
    (`unique_key=False`).
    """
    _ensure_name_free(session, ctx, name)
    line = _normalized_public_key(public_key)
    print_ = fingerprint(line)
    duplicate = unique_key and session.scalar(
        sa.select(SSHKeyPair.name).where(
            SSHKeyPair.account_id == ctx.account_id, SSHKeyPair.fingerprint == print_
        )
    )
    if duplicate:
        raise InvalidParameter(
            f"A key pair with key '{line}' already exists.", parameter="publickey"
        )
    keypair = _add(session, ctx, name, line)
    record_for_caller(
        session,
        ctx,
        "REGISTER.SSH.KEYPAIR",
        f"Registered SSH key pair {name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=keypair.uuid,
    )
    return keypair


def generate_key(key_type: str) -> tuple[str, str, str | None]:
    """(private key text, OpenSSH public key line, SHA-1 of the DER private key or None).

    RSA 2048 as PEM ("BEGIN RSA PRIVATE KEY"), ed25519 in OpenSSH's own private key format,
    which is what ssh and EC2 use for ed25519.
    """
    if key_type not in KEY_TYPES:
        raise InvalidParameter(f"Invalid key type {key_type}", parameter="keytype")
    private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if key_type == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        text_format = serialization.PrivateFormat.TraditionalOpenSSL
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        sha1: str | None = colon_hex(hashlib.sha1(der, usedforsecurity=False).digest())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
        text_format = serialization.PrivateFormat.OpenSSH
        sha1 = None
    private_text = private.private_bytes(
        serialization.Encoding.PEM, text_format, serialization.NoEncryption()
    ).decode()
    public_line = (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private_text, public_line, sha1


def create_keypair(
    session: Session, ctx: CallContext, *, name: str, key_type: str = "rsa"
) -> tuple[SSHKeyPair, str]:
    """Generate a key pair (RSA 2048 or ed25519); the private key is returned, never stored."""
    _ensure_name_free(session, ctx, name)
    private_text, public_line, sha1 = generate_key(key_type)
    keypair = _add(session, ctx, name, public_line, sha1)
    record_for_caller(
        session,
        ctx,
        "CREATE.SSH.KEYPAIR",
        f"Created SSH key pair {name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=keypair.uuid,
    )
    return keypair, private_text


def get_keypair(session: Session, ctx: CallContext, name: str) -> SSHKeyPair:
    """The key pair `name` of the account in `ctx`, or NotFound (431)."""
    keypair = session.scalar(
        sa.select(SSHKeyPair).where(
            SSHKeyPair.account_id == ctx.account_id, SSHKeyPair.name == name
        )
    )
    if keypair is None:
        raise NotFound(
            "key pair", name, f"A key pair with name '{name}' was not found for the account"
        )
    ensure_access(session, ctx, keypair, "key pair", name)
    return keypair


def delete_keypair(session: Session, ctx: CallContext, *, name: str) -> None:
    """Delete the key pair `name` of the account in `ctx` (VMs keep their copy of the key)."""
    keypair = session.scalar(
        sa.select(SSHKeyPair).where(
            SSHKeyPair.account_id == ctx.account_id, SSHKeyPair.name == name
        )
    )
    if keypair is None:
        raise NotFound(
            "key pair",
            name,
            f"A key pair with name '{name}' does not exist for account {ctx.account_name} "
            "in specified domain id",
        )
    record_for_caller(
        session,
        ctx,
        "DELETE.SSH.KEYPAIR",
        f"Deleted SSH key pair {name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=keypair.uuid,
    )
    forget_resource(session, RESOURCE_TYPE, keypair.id)
    session.delete(keypair)
    session.flush()


def list_keypairs(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    uuid: str | None = None,
    name: str | None = None,
    fingerprint: str | None = None,
    keyword: str | None = None,
    ids: Sequence[int] | None = None,
    page: Page = Page(),
) -> tuple[list[SSHKeyPair], int]:
    query = sa.select(SSHKeyPair).where(
        scope_filter(session, ctx, scope, SSHKeyPair.account_id, SSHKeyPair.domain_id)
    )
    if ids is not None:
        query = query.where(SSHKeyPair.id.in_(ids))
    if uuid:
        query = query.where(SSHKeyPair.uuid == uuid)
    if name:
        query = query.where(SSHKeyPair.name == name)
    if fingerprint:
        query = query.where(SSHKeyPair.fingerprint == fingerprint)
    if keyword:
        query = query.where(SSHKeyPair.name.contains(keyword, autoescape=True))
    return paginate(session, query.order_by(SSHKeyPair.id), page)
