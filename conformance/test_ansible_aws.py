"""Ansible's amazon.aws modules, unchanged, against a real cloudgate server's EC2 endpoint: a
playbook (conformance/ansible/aws_playbook.yml) declares, for one tenant, a key pair, two
security groups (ingress by CIDR and by group), a t2.micro instance from the featured image and
an attached data volume, and checks them with ec2_instance_info / ec2_vol_info. The first run
creates them, the second must change nothing; aws_teardown.yml then removes them, twice."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.test_ansible_cloudstack import ansible_env, public_key, run_ansible
from tests.ec2_api.conftest import REGION, Keys, create_user, ec2_client
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def changed_tasks(output: str) -> list[str]:
    """The names of the tasks that reported `changed:` (the default callback's lines)."""
    changed, task = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[6 : line.rindex("]")]
        elif line.startswith("changed:"):
            changed.append(task)
    return changed


def hermetic_env(tmp_path: Path, keys: Keys) -> dict[str, str]:
    """No user ansible.cfg, ~/.aws, profile or collections path: only what the test sets."""
    env = ansible_env(tmp_path, prefixes=("AWS_", "EC2_", "BOTO"))
    env.update(
        {
            "AWS_ACCESS_KEY_ID": keys.access_key,
            "AWS_SECRET_ACCESS_KEY": keys.secret_key,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    # One database is enough: what is proved here is the client's compatibility, and the core
    # under it runs on SQLite and MariaDB in tests/ (and test_boto3_ec2.py, through EC2).
    process = ServerProcess(tmp_path / "data").start()
    try:
        yield process
    finally:
        process.stop()


def test_playbook_converges_and_is_idempotent(server: ServerProcess, tmp_path: Path) -> None:
    keys = create_user(server, "ansible-aws")
    ec2 = ec2_client(server, keys)
    image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    env = hermetic_env(tmp_path, keys)
    extra = {"ec2_endpoint": server.ec2_url, "image_id": image_id, "public_key": public_key()}

    first, output = run_ansible(env, tmp_path, "aws_playbook.yml", extra)
    assert first["failed"] == 0 and first["unreachable"] == 0, output
    # key pair, the two groups, instance, volume
    assert changed_tasks(output) == [
        "Key pair",
        "Load balancer security group",
        "Web security group, ingress by CIDR and by group",
        "Instance",
        "Data volume, attached",
    ], output

    second, output = run_ansible(env, tmp_path, "aws_playbook.yml", extra)
    assert second["failed"] == 0 and second["unreachable"] == 0, output
    assert second["changed"] == 0, changed_tasks(output)
    assert second["ok"] == first["ok"], output

    instance = check_resources(ec2, image_id, extra["public_key"])
    check_cloudstack_side(server, keys, instance)

    down, output = run_ansible(env, tmp_path, "aws_teardown.yml", extra)
    assert down["failed"] == 0, output
    assert down["changed"] == 5, output
    again, output = run_ansible(env, tmp_path, "aws_teardown.yml", extra)
    assert again["failed"] == 0, output
    assert again["changed"] == 0, changed_tasks(output)

    check_gone(ec2)


def ed25519_fingerprint(openssh_key: str) -> str:
    """AWS's fingerprint of an imported ed25519 key: padded base64 SHA-256 of the blob."""
    digest = hashlib.sha256(base64.b64decode(openssh_key.split()[1])).digest()
    return base64.b64encode(digest).decode()


def check_resources(ec2: Any, image_id: str, key: str) -> dict[str, Any]:
    """What the playbook declared, seen through boto3 as the same tenant; the instance."""
    pairs = ec2.describe_key_pairs(KeyNames=["ansible-ec2-key"])["KeyPairs"]
    assert [(p["KeyName"], p["KeyFingerprint"]) for p in pairs] == [
        ("ansible-ec2-key", ed25519_fingerprint(key))
    ]

    groups = {
        g["GroupName"]: g
        for g in ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["ansible-ec2-web", "ansible-ec2-lb"]}]
        )["SecurityGroups"]
    }
    assert set(groups) == {"ansible-ec2-web", "ansible-ec2-lb"}
    web = groups["ansible-ec2-web"]
    lb_id = groups["ansible-ec2-lb"]["GroupId"]
    assert web["Description"] == "web servers"
    assert {t["Key"]: t["Value"] for t in web["Tags"]} == {"tier": "web"}
    rules = sorted(
        (
            p["IpProtocol"],
            p["FromPort"],
            p["ToPort"],
            tuple(r["CidrIp"] for r in p["IpRanges"]),
            tuple(u["GroupId"] for u in p["UserIdGroupPairs"]),
        )
        for p in web["IpPermissions"]
    )
    assert rules == [("tcp", 22, 22, ("10.0.0.0/8",), ()), ("tcp", 8080, 8081, (), (lb_id,))]

    reservations = ec2.describe_instances(
        Filters=[
            {"Name": "tag:Name", "Values": ["ansible-ec2-web-1"]},
            {"Name": "instance-state-name", "Values": ["running"]},
        ]
    )["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert len(instances) == 1
    instance = instances[0]
    assert instance["ImageId"] == image_id
    assert instance["InstanceType"] == "t2.micro"
    assert instance["KeyName"] == "ansible-ec2-key"
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [web["GroupId"]]
    assert {t["Key"]: t["Value"] for t in instance["Tags"]} == {
        "Name": "ansible-ec2-web-1",
        "tier": "web",
    }
    # ec2_instance launched it into the default subnet, where it finds it again
    subnet = ec2.describe_subnets(SubnetIds=[instance["SubnetId"]])["Subnets"][0]
    assert subnet["DefaultForAz"] is True and subnet["VpcId"] == web["VpcId"]

    volumes = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": ["ansible-ec2-data"]}])[
        "Volumes"
    ]
    assert len(volumes) == 1
    volume = volumes[0]
    assert volume["Size"] == 1
    assert [(a["InstanceId"], a["Device"], a["State"]) for a in volume["Attachments"]] == [
        (instance["InstanceId"], "/dev/sdf", "attached")
    ]
    return dict(instance)


def check_cloudstack_side(server: ServerProcess, keys: Keys, instance: dict[str, Any]) -> None:
    """One core: the same VM, key pair, group and volume through the CloudStack API."""
    api = NativeCaller(server.native_url, keys.access_key, keys.secret_key)
    vms = api.call("listVirtualMachines")["virtualmachine"]
    assert len(vms) == 1
    vm = vms[0]
    assert vm["state"] == "Running"
    assert vm["nic"][0]["ipaddress"] == instance["PrivateIpAddress"]
    assert vm["keypairs"] == "ansible-ec2-key"
    assert [g["name"] for g in vm["securitygroup"]] == ["ansible-ec2-web"]
    volumes = api.call("listVolumes", virtualmachineid=vm["id"])["volume"]
    assert sorted((v["type"], v["size"]) for v in volumes)[0] == ("DATADISK", 1024**3)


def check_gone(ec2: Any) -> None:
    assert ec2.describe_key_pairs()["KeyPairs"] == []
    names = {g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert names.isdisjoint({"ansible-ec2-web", "ansible-ec2-lb"})
    states = {
        i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
    }
    assert states <= {"terminated"}
    assert ec2.describe_volumes()["Volumes"] == []
