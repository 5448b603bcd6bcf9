"""AWS key pair fingerprints, checked against what ssh-keygen and openssl compute independently."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.keypairs import SSHKeyPair, generate_key
from translators import keypairs as aws_keys


def _keygen(tmp_path: Path, kind: str) -> tuple[Path, str]:
    key = tmp_path / kind
    command = ["ssh-keygen", "-q", "-N", "", "-t", kind, "-f", str(key)]
    if kind == "rsa":
        command += ["-b", "2048"]
    subprocess.run(command, check=True)
    return key, (tmp_path / f"{kind}.pub").read_text()


def _shell(command: str) -> str:
    return subprocess.run(
        ["sh", "-c", command], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_imported_rsa_is_the_md5_of_the_der_public_key(tmp_path: Path) -> None:
    key, public = _keygen(tmp_path, "rsa")
    expected = _shell(
        f"ssh-keygen -e -m PKCS8 -f {key}.pub | openssl pkey -pubin -outform DER | openssl md5 -c"
    ).split("= ")[1]
    assert aws_keys.public_key_fingerprint(public) == expected
    assert aws_keys.key_type(public) == "rsa"


def test_ed25519_is_the_base64_sha256_ssh_keygen_prints(tmp_path: Path) -> None:
    key, public = _keygen(tmp_path, "ed25519")
    printed = _shell(f"ssh-keygen -l -E sha256 -f {key}.pub").split()[1]
    assert printed.startswith("SHA256:")
    fingerprint = aws_keys.public_key_fingerprint(public)
    assert fingerprint.rstrip("=") == printed.removeprefix("SHA256:")
    assert len(base64.b64decode(fingerprint)) == 32
    assert aws_keys.key_type(public) == "ed25519"


def testgenerate_keyd_rsa_is_the_sha1_of_the_pkcs8_private_key(tmp_path: Path) -> None:
    private_pem, public, sha1 = generate_key("rsa")
    assert private_pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    (tmp_path / "key.pem").write_text(private_pem)
    expected = _shell(
        f"openssl pkcs8 -topk8 -nocrypt -in {tmp_path / 'key.pem'} -outform DER | openssl sha1 -c"
    ).split("= ")[1]
    assert sha1 == expected
    keypair = SSHKeyPair(name="k", public_key=public, fingerprint="", private_key_sha1=sha1)
    assert aws_keys.fingerprint(keypair) == expected
    # The public key alone would give the imported form: the stored one must win.
    assert aws_keys.public_key_fingerprint(public) != expected


def testgenerate_keyd_ed25519_has_no_stored_print_and_an_openssh_private_key() -> None:
    private_text, public, sha1 = generate_key("ed25519")
    assert sha1 is None
    assert private_text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    keypair = SSHKeyPair(name="k", public_key=public, fingerprint="", private_key_sha1=None)
    assert aws_keys.fingerprint(keypair) == aws_keys.public_key_fingerprint(public)


def test_import_accepts_openssh_text_or_its_base64(tmp_path: Path) -> None:
    _, public = _keygen(tmp_path, "ed25519")
    assert aws_keys.imported_public_key(public.encode()) == public.strip()
    assert aws_keys.imported_public_key(base64.b64encode(public.encode())) == public.strip()


@pytest.mark.parametrize("material", [b"", b"not a key", b"ssh-rsa AAAAB3NzaC1yc2E= x"])
def test_import_refuses_what_is_not_an_openssh_key(material: bytes) -> None:
    with pytest.raises(aws_keys.KeyFormatError):
        aws_keys.imported_public_key(material)


def test_import_refuses_key_types_ec2_does_not_take() -> None:
    public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    with pytest.raises(aws_keys.KeyFormatError):
        aws_keys.imported_public_key(public)
