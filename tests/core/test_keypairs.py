"""SSH key pair use cases on both databases: fingerprints, uniqueness, isolation."""

from __future__ import annotations

import base64
import hashlib

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from core import keypairs
from core.errors import InvalidParameter, NotFound
from core.events import Event
from core.visibility import ListScope
from tests.core.conftest import CoreHarness

# A fixed ed25519 public key; its fingerprint is recomputed independently below.
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILz9rtqOs8l9qTvMkkiQrFJfNkSkjsNpl80ZKJRiFxbM test@example"
)


def md5_fingerprint(line: str) -> str:
    digest = hashlib.md5(base64.b64decode(line.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def test_register_list_get_delete(core: CoreHarness) -> None:
    tenant = core.new_tenant("kp-a")
    with core.db.write() as session:
        keypair = keypairs.register_keypair(session, tenant, name="mine", public_key=PUBLIC_KEY)
        assert keypair.fingerprint == md5_fingerprint(PUBLIC_KEY)
    with core.db.read() as session:
        assert keypairs.get_keypair(session, tenant, "mine").public_key == PUBLIC_KEY
        rows, total = keypairs.list_keypairs(session, tenant, ListScope())
        assert total == 1 and rows[0].name == "mine"
        rows, _ = keypairs.list_keypairs(
            session, tenant, ListScope(), fingerprint=md5_fingerprint(PUBLIC_KEY)
        )
        assert [r.name for r in rows] == ["mine"]
    with core.db.write() as session:
        keypairs.delete_keypair(session, tenant, name="mine")
    with core.db.read() as session:
        with pytest.raises(NotFound):
            keypairs.get_keypair(session, tenant, "mine")
        types = set(session.scalars(sa.select(Event.event_type)))
        assert {"REGISTER.SSH.KEYPAIR", "DELETE.SSH.KEYPAIR"} <= types


def test_create_returns_private_key_once(core: CoreHarness) -> None:
    tenant = core.new_tenant("kp-b")
    with core.db.write() as session:
        keypair, private_pem = keypairs.create_keypair(session, tenant, name="gen")
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert private.key_size == 2048  # type: ignore[union-attr]
    derived = (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    assert keypair.public_key == derived
    assert keypair.fingerprint == md5_fingerprint(derived)
    with core.db.read() as session:
        columns = [c.name for c in keypairs.SSHKeyPair.__table__.columns]
        assert "private_key" not in columns
        stored = keypairs.get_keypair(session, tenant, "gen")
        assert "PRIVATE" not in stored.public_key


def test_names_unique_per_account_and_invalid_keys(core: CoreHarness) -> None:
    tenant = core.new_tenant("kp-c")
    other = core.new_tenant("kp-d")
    with core.db.write() as session:
        keypairs.register_keypair(session, tenant, name="k", public_key=PUBLIC_KEY)
    with pytest.raises(InvalidParameter, match="already exists"), core.db.write() as session:
        keypairs.create_keypair(session, tenant, name="k")
    with core.db.write() as session:  # the same name in another account is fine
        keypairs.register_keypair(session, other, name="k", public_key=PUBLIC_KEY)
    for bad in ("not a key", "ssh-rsa AAAA!!!", "ssh-rsa QUJDRA=="):
        with pytest.raises(InvalidParameter), core.db.write() as session:
            keypairs.register_keypair(session, tenant, name="bad", public_key=bad)


def test_tenants_are_isolated(core: CoreHarness) -> None:
    tenant = core.new_tenant("kp-e")
    other = core.new_tenant("kp-f")
    with core.db.write() as session:
        keypairs.register_keypair(session, tenant, name="private", public_key=PUBLIC_KEY)
    with core.db.read() as session:
        assert keypairs.list_keypairs(session, other, ListScope(list_all=True))[1] == 0
        with pytest.raises(NotFound):
            keypairs.get_keypair(session, other, "private")
        admin = core.admin_context()
        assert keypairs.list_keypairs(session, admin, ListScope(list_all=True))[1] == 1
    with pytest.raises(NotFound), core.db.write() as session:
        keypairs.delete_keypair(session, other, name="private")


def test_generated_key_types_and_the_private_key_sha1(core: CoreHarness) -> None:
    tenant = core.new_tenant("kp-f")
    with core.db.write() as session:
        rsa_pair, rsa_pem = keypairs.create_keypair(session, tenant, name="r")
        ed_pair, ed_text = keypairs.create_keypair(session, tenant, name="e", key_type="ed25519")
        with pytest.raises(InvalidParameter):
            keypairs.create_keypair(session, tenant, name="d", key_type="dsa")
        rsa_id, ed_id = rsa_pair.id, ed_pair.id
    private = serialization.load_pem_private_key(rsa_pem.encode(), None)
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert ed_text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    with core.db.read() as session:
        rows, _ = keypairs.list_keypairs(session, tenant, ListScope(), ids=[rsa_id, ed_id])
        by_name = {row.name: row for row in rows}
    assert by_name["r"].private_key_sha1 == keypairs.colon_hex(hashlib.sha1(der).digest())
    assert by_name["e"].private_key_sha1 is None
    assert by_name["e"].public_key.startswith("ssh-ed25519 ")


def test_the_same_key_under_two_names_only_when_asked(core: CoreHarness) -> None:
    tenant = core.new_tenant("kp-g")
    with core.db.write() as session:
        keypairs.register_keypair(session, tenant, name="one", public_key=PUBLIC_KEY)
        with pytest.raises(InvalidParameter):
            keypairs.register_keypair(session, tenant, name="two", public_key=PUBLIC_KEY)
        keypairs.register_keypair(
            session, tenant, name="two", public_key=PUBLIC_KEY, unique_key=False
        )
        with pytest.raises(keypairs.KeyPairNameTaken):
            keypairs.register_keypair(
                session, tenant, name="two", public_key=PUBLIC_KEY, unique_key=False
            )
        assert len(keypairs.list_keypairs(session, tenant, ListScope())[0]) == 2
