"""Ansible's ngine_io.cloudstack modules, unchanged, against a real cloudgate server: a playbook
(conformance/ansible/) declares a key pair, a security group with two ingress rules, an instance
and an attached data volume. The first run creates them, the second must change nothing;
teardown.yml then removes them."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.support.native import NativeCaller
from tests.support.server import ServerProcess

HERE = Path(__file__).resolve().parent / "ansible"


def ansible_playbook() -> str:
    beside = Path(sys.executable).with_name("ansible-playbook")
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if not found:
        pytest.fail("ansible-playbook is not installed (pip install ansible)")
    return found


def public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    blob = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return blob.decode() + " ansible@cloudgate"


def md5_fingerprint(openssh_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(openssh_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def play_recap(output: str) -> dict[str, int]:
    """The counters of the `localhost` line under PLAY RECAP."""
    recap = output.rsplit("PLAY RECAP", 1)[1]
    match = re.search(r"^localhost\s*:\s*(.+)$", recap, re.M)
    assert match, output
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def ansible_env(tmp_path: Path, prefixes: tuple[str, ...] = ("CLOUDSTACK_",)) -> dict[str, str]:
    """The environment without the user's ANSIBLE_* (and `prefixes`) settings: a hermetic run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ANSIBLE_") and not k.startswith(prefixes)
    }
    env.update(
        {
            "ANSIBLE_CONFIG": str(tmp_path / "no-ansible.cfg"),
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOWS": "1",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
        }
    )
    return env


def run_ansible(
    env: dict[str, str], tmp_path: Path, playbook: str, extra: dict[str, str]
) -> tuple[dict[str, int], str]:
    """ansible-playbook PLAYBOOK (from conformance/ansible/) with `extra` vars: recap, output."""
    result = subprocess.run(
        [
            ansible_playbook(),
            "-i",
            str(HERE / "inventory.ini"),
            str(HERE / playbook),
            "-e",
            json.dumps(extra),
        ],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert "PLAY RECAP" in output, output
    return play_recap(output), output


def run_playbook(
    server: ServerProcess, tmp_path: Path, key: str, playbook: str = "playbook.yml"
) -> tuple[dict[str, int], str]:
    env = ansible_env(tmp_path)
    env.update(
        {
            "CLOUDSTACK_ENDPOINT": server.native_url,
            "CLOUDSTACK_KEY": server.api_key,
            "CLOUDSTACK_SECRET": server.secret_key,
            "CLOUDSTACK_TIMEOUT": "60",
        }
    )
    return run_ansible(env, tmp_path, playbook, {"public_key": key})


def test_playbook_converges_and_is_idempotent(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        key = public_key()

        first, output = run_playbook(server, tmp_path, key)
        assert first["failed"] == 0 and first["unreachable"] == 0, output
        # key pair, security group, the rules (one looped task), instance, volume
        assert first["changed"] == 5, output

        # cs_instance (ngine_io.cloudstack 2.5.0) compares the instance's `keypair`, which
        # CloudStack >= 4.17 (like cloudgate) no longer renders (`keypairs` instead): it warns
        # "Changes won't be applied to running instances" and, the instance running, does nothing.
        second, output = run_playbook(server, tmp_path, key)
        assert second["changed"] == 0, output
        assert second["failed"] == 0 and second["unreachable"] == 0, output
        assert second["ok"] == 5, output

        api = NativeCaller(server.native_url, server.api_key, server.secret_key)

        pairs = api.call("listSSHKeyPairs", name="ansible-key")
        assert pairs["count"] == 1
        assert pairs["sshkeypair"][0]["fingerprint"] == md5_fingerprint(key)

        groups = api.call("listSecurityGroups", securitygroupname="ansible-web")
        assert groups["count"] == 1
        group = groups["securitygroup"][0]
        assert group["description"] == "web servers"
        rules = {
            (r["protocol"], r["startport"], r["endport"], r["cidr"]) for r in group["ingressrule"]
        }
        assert rules == {("tcp", 22, 22, "10.0.0.0/8"), ("tcp", 80, 80, "0.0.0.0/0")}
        assert len(group["ingressrule"]) == 2

        vms = api.call("listVirtualMachines", name="ansible-web-1")
        assert vms["count"] == 1
        vm = vms["virtualmachine"][0]
        assert vm["state"] == "Running"
        assert vm["zonename"] == "Sandbox-simulator"
        assert vm["templatename"] == "CentOS 5.6(64-bit) no GUI (Simulator)"
        assert vm["serviceofferingname"] == "Small Instance"
        assert vm["keypairs"] == "ansible-key"
        assert [g["name"] for g in vm["securitygroup"]] == ["ansible-web"]

        volumes = api.call("listVolumes", name="ansible-data")
        assert volumes["count"] == 1
        volume = volumes["volume"][0]
        assert volume["type"] == "DATADISK"
        assert volume["state"] == "Ready"
        assert volume["diskofferingname"] == "Small"
        assert volume["virtualmachineid"] == vm["id"]
        assert volume["zonename"] == "Sandbox-simulator"
        # nothing else was created along the way: the instance's root disk and the data disk
        assert api.call("listVolumes", virtualmachineid=vm["id"])["count"] == 2

        # teardown.yml: force-detach and delete the volume, expunge the instance, revoke both
        # rules, delete the group and the key pair (cs_securitygroup_rule fails on a missing
        # group, as against CloudStack, so this one is not re-run)
        down, output = run_playbook(server, tmp_path, key, "teardown.yml")
        assert down["failed"] == 0 and down["changed"] == 5, output
        assert "sshkeypair" not in api.call("listSSHKeyPairs", name="ansible-key")
        assert "securitygroup" not in api.call(
            "listSecurityGroups", securitygroupname="ansible-web"
        )
        assert "virtualmachine" not in api.call("listVirtualMachines", name="ansible-web-1")
        assert "volume" not in api.call("listVolumes", name="ansible-data")
    finally:
        server.stop()
