"""Key pairs through boto3: AWS fingerprints, errors, filters, tags, tenants, one core."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, error_code


def _shell(command: str) -> str:
    done = subprocess.run(["sh", "-c", command], check=True, capture_output=True, text=True)
    return done.stdout.strip().split("= ")[-1]


def _ssh_key(tmp_path: Path, kind: str) -> str:
    key = tmp_path / kind
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", kind, "-f", str(key)], check=True)
    return (tmp_path / f"{kind}.pub").read_text()


def test_create_rsa_key_pair_shows_the_sha1_of_its_private_key(ec2: Any, tmp_path: Path) -> None:
    created = ec2.create_key_pair(KeyName="kp-rsa")
    try:
        assert created["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----")
        (tmp_path / "key.pem").write_text(created["KeyMaterial"])
        expected = _shell(
            f"openssl pkcs8 -topk8 -nocrypt -in {tmp_path / 'key.pem'} -outform DER"
            " | openssl sha1 -c"
        )
        assert created["KeyFingerprint"] == expected
        assert created["KeyPairId"].startswith("key-") and len(created["KeyPairId"]) == 21

        ec2.get_waiter("key_pair_exists").wait(KeyNames=["kp-rsa"], WaiterConfig=FAST_WAITER)
        [described] = ec2.describe_key_pairs(KeyNames=["kp-rsa"])["KeyPairs"]
        assert described["KeyPairId"] == created["KeyPairId"]
        assert described["KeyFingerprint"] == expected
        assert described["KeyType"] == "rsa"
        assert "PublicKey" not in described and "KeyMaterial" not in described
        age = dt.datetime.now(dt.UTC) - described["CreateTime"]
        assert dt.timedelta(0) <= age < dt.timedelta(minutes=5)

        with pytest.raises(ClientError) as raised:
            ec2.create_key_pair(KeyName="kp-rsa")
        assert error_code(raised) == "InvalidKeyPair.Duplicate"
        assert raised.value.response["Error"]["Message"] == "The keypair 'kp-rsa' already exists."
    finally:
        ec2.delete_key_pair(KeyName="kp-rsa")
    with pytest.raises(ClientError) as raised:
        ec2.describe_key_pairs(KeyNames=["kp-rsa"])
    assert error_code(raised) == "InvalidKeyPair.NotFound"
    # Deleting again succeeds, as on AWS.
    assert ec2.delete_key_pair(KeyName="kp-rsa")["Return"] is True


def test_create_ed25519_key_pair(ec2: Any, tmp_path: Path) -> None:
    created = ec2.create_key_pair(
        KeyName="kp-ed",
        KeyType="ed25519",
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "team", "Value": "a"}]}],
    )
    try:
        assert created["KeyMaterial"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
        assert created["Tags"] == [{"Key": "team", "Value": "a"}]
        (tmp_path / "key").write_text(created["KeyMaterial"])
        (tmp_path / "key").chmod(0o600)
        public = subprocess.run(
            ["ssh-keygen", "-y", "-f", str(tmp_path / "key")],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        digest = base64.b64encode(
            hashlib.sha256(base64.b64decode(public.split()[1])).digest()
        ).decode()
        assert created["KeyFingerprint"] == digest
        [described] = ec2.describe_key_pairs(
            KeyPairIds=[created["KeyPairId"]], IncludePublicKey=True
        )["KeyPairs"]
        assert described["KeyType"] == "ed25519"
        assert described["PublicKey"].split()[:2] == public.split()[:2]
        assert described["Tags"] == [{"Key": "team", "Value": "a"}]
    finally:
        ec2.delete_key_pair(KeyPairId=created["KeyPairId"])
    assert (
        ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["kp-ed"]}])["KeyPairs"]
        == []
    )


def test_import_key_pair_fingerprints_and_filters(ec2: Any, tmp_path: Path) -> None:
    rsa_public = _ssh_key(tmp_path, "rsa")
    rsa_md5 = _shell(
        f"ssh-keygen -e -m PKCS8 -f {tmp_path / 'rsa.pub'} | openssl pkey -pubin -outform DER"
        " | openssl md5 -c"
    )
    imported = ec2.import_key_pair(KeyName="imp-rsa", PublicKeyMaterial=rsa_public.encode())
    # The same public key under a second name is allowed on AWS.
    again = ec2.import_key_pair(
        KeyName="imp-rsa-2",
        PublicKeyMaterial=rsa_public.encode(),
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "env", "Value": "x"}]}],
    )
    try:
        assert imported["KeyFingerprint"] == rsa_md5 == again["KeyFingerprint"]
        assert "KeyMaterial" not in imported

        def names(*filters: dict[str, Any]) -> list[str]:
            found = ec2.describe_key_pairs(Filters=list(filters))["KeyPairs"]
            return sorted(k["KeyName"] for k in found)

        assert names({"Name": "key-name", "Values": ["imp-*"]}) == ["imp-rsa", "imp-rsa-2"]
        assert names({"Name": "fingerprint", "Values": [rsa_md5]}) == ["imp-rsa", "imp-rsa-2"]
        assert names({"Name": "key-pair-id", "Values": [again["KeyPairId"]]}) == ["imp-rsa-2"]
        assert names({"Name": "tag:env", "Values": ["x"]}) == ["imp-rsa-2"]
        both = ({"Name": "tag-key", "Values": ["env"]}, {"Name": "key-name", "Values": ["imp-rsa"]})
        assert names(*both) == []  # filters are AND'ed

        with pytest.raises(ClientError) as raised:
            ec2.import_key_pair(KeyName="imp-rsa", PublicKeyMaterial=rsa_public.encode())
        assert error_code(raised) == "InvalidKeyPair.Duplicate"
        with pytest.raises(ClientError) as raised:
            ec2.import_key_pair(KeyName="bad", PublicKeyMaterial=b"ssh-rsa nonsense")
        assert error_code(raised) == "InvalidKeyPair.Format"
        with pytest.raises(ClientError) as raised:
            ec2.describe_key_pairs(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
        assert error_code(raised) == "InvalidParameterValue"
    finally:
        ec2.delete_key_pair(KeyName="imp-rsa")
        ec2.delete_key_pair(KeyPairId=again["KeyPairId"])


def test_unknown_key_pair_ids_are_not_found(ec2: Any) -> None:
    for ask in ({"KeyPairIds": ["key-0123456789abcdef0"]}, {"KeyNames": ["nope"]}):
        with pytest.raises(ClientError) as raised:
            ec2.describe_key_pairs(**ask)
        assert error_code(raised) == "InvalidKeyPair.NotFound"


def test_other_tenant_cannot_see_or_delete_a_key_pair(ec2: Any, ec2_other: Any) -> None:
    mine = ec2.create_key_pair(KeyName="tenant-key")
    try:
        assert "tenant-key" not in {
            k["KeyName"] for k in ec2_other.describe_key_pairs()["KeyPairs"]
        }
        with pytest.raises(ClientError) as raised:
            ec2_other.describe_key_pairs(KeyPairIds=[mine["KeyPairId"]])
        assert error_code(raised) == "InvalidKeyPair.NotFound"
        # Deleting someone else's key pair "succeeds" and changes nothing, as for a missing one.
        ec2_other.delete_key_pair(KeyPairId=mine["KeyPairId"])
        ec2_other.delete_key_pair(KeyName="tenant-key")
        assert ec2.describe_key_pairs(KeyNames=["tenant-key"])["KeyPairs"]
        # Names are per account.
        theirs = ec2_other.create_key_pair(KeyName="tenant-key")
        assert theirs["KeyPairId"] != mine["KeyPairId"]
        ec2_other.delete_key_pair(KeyName="tenant-key")
    finally:
        ec2.delete_key_pair(KeyName="tenant-key")


def test_one_core_key_pairs(ec2: Any, cloudstack_admin: CloudStack, tmp_path: Path) -> None:
    created = ec2.create_key_pair(KeyName="both-ways")
    public = _ssh_key(tmp_path, "ed25519")
    cloudstack_admin.registerSSHKeyPair(name="from-cloudstack", publickey=public)
    try:
        listed = cloudstack_admin.listSSHKeyPairs(name="both-ways")["sshkeypair"]
        assert [k["name"] for k in listed] == ["both-ways"]
        [seen] = ec2.describe_key_pairs(KeyNames=["from-cloudstack"], IncludePublicKey=True)[
            "KeyPairs"
        ]
        assert seen["KeyType"] == "ed25519"
        assert seen["PublicKey"].split()[1] == public.split()[1]
    finally:
        ec2.delete_key_pair(KeyName="from-cloudstack")
        cloudstack_admin.deleteSSHKeyPair(name="both-ways")
    assert cloudstack_admin.listSSHKeyPairs(name="from-cloudstack") == {}
    assert (
        ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["both-ways"]}])["KeyPairs"]
        == []
    )
    assert created["KeyName"] == "both-ways"
