"""SSH key pair commands through the real server: cs for behaviour, NativeCaller for wire."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cs import CloudStackApiException

from tests.native_api.conftest import create_tenant
from tests.support.native import NativeCaller, cs_client
from tests.support.server import ServerProcess


def openssh_public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def md5_fingerprint(line: str) -> str:
    digest = hashlib.md5(base64.b64decode(line.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


@pytest.fixture(scope="module")
def keys_a(server: ServerProcess) -> dict[str, str]:
    return create_tenant(server, "kp-api-a")


def test_create_register_list_delete_with_cs(server: ServerProcess, keys_a) -> None:
    cs = cs_client(server, keys_a)
    created = cs.createSSHKeyPair(name="generated")["keypair"]
    assert created["name"] == "generated"
    assert created["privatekey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    private = serialization.load_pem_private_key(created["privatekey"].encode(), password=None)
    public_line = (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    assert created["fingerprint"] == md5_fingerprint(public_line)

    public_key = openssh_public_key()
    registered = cs.registerSSHKeyPair(name="registered", publickey=public_key)["keypair"]
    assert registered["fingerprint"] == md5_fingerprint(public_key)
    assert "privatekey" not in registered

    listed = cs.listSSHKeyPairs()
    assert listed["count"] == 2
    assert {k["name"] for k in listed["sshkeypair"]} == {"generated", "registered"}
    assert all("privatekey" not in k for k in listed["sshkeypair"])
    by_print = cs.listSSHKeyPairs(fingerprint=registered["fingerprint"])["sshkeypair"]
    assert [k["name"] for k in by_print] == ["registered"]
    assert cs.listSSHKeyPairs(keyword="gener")["count"] == 1

    assert cs.deleteSSHKeyPair(name="registered")["success"] in (True, "true")
    assert cs.listSSHKeyPairs(name="registered") == {}


def test_wire_errors(server: ServerProcess, keys_a) -> None:
    caller = NativeCaller(server.native_url, keys_a["apikey"], keys_a["secretkey"])
    caller.call("createSSHKeyPair", name="dup")
    reply = caller.request("createSSHKeyPair", name="dup")
    body = reply.json()["createsshkeypairresponse"]
    assert reply.status_code == 431 and body["errorcode"] == 431
    assert "A key pair with name 'dup' already exists" in body["errortext"]
    reply = caller.request("registerSSHKeyPair", name="bad", publickey="ssh-rsa not-base64!")
    assert reply.status_code == 431
    reply = caller.request("deleteSSHKeyPair", name="missing")
    assert reply.status_code == 431
    reply = caller.request("createSSHKeyPair")
    assert reply.status_code == 431  # missing name


def test_tenant_isolation_and_admin_view(server: ServerProcess, admin: NativeCaller) -> None:
    owner = cs_client(server, create_tenant(server, "kp-api-b"))
    other_keys = create_tenant(server, "kp-api-c")
    other = cs_client(server, other_keys)
    owner.createSSHKeyPair(name="secret-key")
    assert other.listSSHKeyPairs(listall=True) == {}
    with pytest.raises(CloudStackApiException):
        other.deleteSSHKeyPair(name="secret-key")
    # the same name is free in another account
    other.createSSHKeyPair(name="secret-key")
    everything = admin.call("listSSHKeyPairs", listall=True, name="secret-key")
    assert everything["count"] == 2
    assert admin.call("listSSHKeyPairs", name="secret-key") == {}  # admin's own account only
    # an admin acts for an account with account+domainid
    domain = owner.listSSHKeyPairs()["sshkeypair"][0]["domainid"]
    made = admin.call("createSSHKeyPair", name="for-b", account="kp-api-b", domainid=domain)
    assert made["keypair"]["account"] == "kp-api-b"
    assert {k["name"] for k in owner.listSSHKeyPairs()["sshkeypair"]} == {"secret-key", "for-b"}
    keys = create_tenant(server, "kp-api-d", role="domain-admin")
    domain_admin = NativeCaller(server.native_url, keys["apikey"], keys["secretkey"])
    assert domain_admin.call("listSSHKeyPairs", listall=True)["count"] >= 3
