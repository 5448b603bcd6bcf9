"""One boto3 EC2 scenario, run unchanged against any EC2 endpoint, and the shape of its answers.

The differential test (`test_moto_differential.py`) runs `run_scenario` against `moto_server`
and against cloudgate and compares the *shapes* of the parsed responses: the set of key paths
present (`Reservations[].Instances[].State.Name`), with the elements of a list merged and
values ignored. The scenario only uses what both endpoints must have: the image, zone and
subnet come from the endpoint's own Describe calls, and `t2.micro` exists on both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

WAIT = {"Delay": 0.5, "MaxAttempts": 120}
# What Terraform's aws provider reads when it refreshes an instance (NOTES.md).
ATTRIBUTES = (
    "instanceType", "userData", "disableApiTermination", "disableApiStop",
    "instanceInitiatedShutdownBehavior",
)  # fmt: skip
IGNORED_KEYS = frozenset({"ResponseMetadata"})


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a parsed response; list elements merged under `name[]`."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in IGNORED_KEYS:
                continue
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, prefix + "[]")
    return paths


@dataclass
class Recorder:
    """Calls boto3 operations and keeps each answer under a label (the operation, or a variant)."""

    ec2: Any
    sts: Any
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __call__(self, label: str, operation: str, client: Any = None, **params: Any) -> Any:
        answer = getattr(client or self.ec2, operation)(**params)
        self.answers[label] = answer
        return answer

    def wait(self, waiter: str, **params: Any) -> None:
        self.ec2.get_waiter(waiter).wait(WaiterConfig=WAIT, **params)

    def until(self, label: str, operation: str, done: Callable[[Any], bool], **params: Any) -> Any:
        """Repeat a call (boto3 has no waiter for it) until `done(answer)`; keep the last."""
        for _ in range(WAIT["MaxAttempts"]):
            answer = self(label, operation, **params)
            if done(answer):
                return answer
            time.sleep(WAIT["Delay"])
        raise AssertionError(f"{label} did not reach the state the scenario waits for")


def run_scenario(ec2: Any, sts: Any, public_key: str) -> dict[str, dict[str, Any]]:
    """The whole scenario; returns every answer by label (see `Recorder`)."""
    call = Recorder(ec2, sts)
    for step in _steps(call, public_key):
        step()
    return call.answers


def _steps(call: Recorder, public_key: str) -> Iterator[Callable[[], None]]:
    """Each step is a closure, so that the scenario reads top to bottom."""
    state: dict[str, Any] = {}

    def catalogue() -> None:
        call("DescribeRegions", "describe_regions")
        zones = call("DescribeAvailabilityZones", "describe_availability_zones")
        state["zone"] = zones["AvailabilityZones"][0]["ZoneName"]
        call("DescribeAccountAttributes", "describe_account_attributes")
        call("GetCallerIdentity", "get_caller_identity", client=call.sts)
        call("DescribeInstanceTypes", "describe_instance_types", InstanceTypes=["t2.micro"])
        call("DescribeInstanceTypeOfferings", "describe_instance_type_offerings",
             LocationType="availability-zone",
             Filters=[{"Name": "instance-type", "Values": ["t2.micro"]}])  # fmt: skip
        call("DescribeVpcs", "describe_vpcs")
        subnets = call("DescribeSubnets", "describe_subnets",
                       Filters=[{"Name": "availability-zone", "Values": [state["zone"]]},
                                {"Name": "default-for-az", "Values": ["true"]}])  # fmt: skip
        state["subnet"] = subnets["Subnets"][0]["SubnetId"]
        images = call.ec2.describe_images(Owners=["amazon"])["Images"]
        image = sorted(images, key=lambda image: image["ImageId"])[0]["ImageId"]
        call("DescribeImages(amazon)", "describe_images", ImageIds=[image])
        state["image"] = image

    def vpcs() -> None:
        vpc = call("CreateVpc", "create_vpc", CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        call("DescribeVpcAttribute", "describe_vpc_attribute", VpcId=vpc,
             Attribute="enableDnsSupport")  # fmt: skip
        subnet = call("CreateSubnet", "create_subnet", VpcId=vpc, CidrBlock="10.20.1.0/24",
                      AvailabilityZone=state["zone"])["Subnet"]["SubnetId"]  # fmt: skip
        call("DescribeSubnets(created)", "describe_subnets", SubnetIds=[subnet])
        call("DeleteSubnet", "delete_subnet", SubnetId=subnet)
        call("DeleteVpc", "delete_vpc", VpcId=vpc)

    def key_pairs() -> None:
        call("CreateKeyPair", "create_key_pair", KeyName="diff-key")
        call("ImportKeyPair", "import_key_pair", KeyName="diff-imported",
             PublicKeyMaterial=public_key.encode())  # fmt: skip
        call("DescribeKeyPairs", "describe_key_pairs", KeyNames=["diff-key", "diff-imported"],
             IncludePublicKey=True)  # fmt: skip

    def security_groups() -> None:
        group = call("CreateSecurityGroup", "create_security_group",
                     GroupName="diff-web", Description="differential test")  # fmt: skip
        state["group"] = group["GroupId"]
        call("AuthorizeSecurityGroupIngress", "authorize_security_group_ingress",
             GroupId=group["GroupId"],
             IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                             "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}])  # fmt: skip
        call("AuthorizeSecurityGroupEgress", "authorize_security_group_egress",
             GroupId=group["GroupId"],
             IpPermissions=[{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
                             "UserIdGroupPairs": [{"GroupId": group["GroupId"]}]}])  # fmt: skip
        call("DescribeSecurityGroups", "describe_security_groups", GroupIds=[group["GroupId"]])
        call("DescribeSecurityGroupRules", "describe_security_group_rules",
             Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}])  # fmt: skip
        call("RevokeSecurityGroupEgress", "revoke_security_group_egress",
             GroupId=group["GroupId"],
             IpPermissions=[{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
                             "UserIdGroupPairs": [{"GroupId": group["GroupId"]}]}])  # fmt: skip

    def instances() -> None:
        reservation = call(
            "RunInstances", "run_instances",
            ImageId=state["image"], InstanceType="t2.micro", MinCount=1, MaxCount=1,
            KeyName="diff-key", SecurityGroupIds=[state["group"]], SubnetId=state["subnet"],
            Placement={"AvailabilityZone": state["zone"]},
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "Name", "Value": "diff-1"}]}],
        )  # fmt: skip
        instance = reservation["Instances"][0]["InstanceId"]
        state["instance"] = instance
        call.wait("instance_running", InstanceIds=[instance])
        call("DescribeInstances", "describe_instances", InstanceIds=[instance])
        call("DescribeInstances(filters)", "describe_instances",
             Filters=[{"Name": "instance-state-name", "Values": ["running"]},
                      {"Name": "tag:Name", "Values": ["diff-*"]}])  # fmt: skip
        call("DescribeInstanceStatus", "describe_instance_status",
             InstanceIds=[instance], IncludeAllInstances=True)  # fmt: skip
        for attribute in ATTRIBUTES:
            call(f"DescribeInstanceAttribute({attribute})", "describe_instance_attribute",
                 InstanceId=instance, Attribute=attribute)  # fmt: skip
        call("DescribeInstanceCreditSpecifications", "describe_instance_credit_specifications",
             InstanceIds=[instance])  # fmt: skip
        call("GetConsoleOutput", "get_console_output", InstanceId=instance)
        call("RebootInstances", "reboot_instances", InstanceIds=[instance])

    def volumes() -> None:
        tags = [{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "diff-vol"}]}]
        volume = call("CreateVolume", "create_volume", AvailabilityZone=state["zone"], Size=1,
                      TagSpecifications=tags)  # fmt: skip
        state["volume"] = volume["VolumeId"]
        call.wait("volume_available", VolumeIds=[volume["VolumeId"]])
        call("AttachVolume", "attach_volume", VolumeId=volume["VolumeId"],
             InstanceId=state["instance"], Device="/dev/sdf")  # fmt: skip
        call.wait("volume_in_use", VolumeIds=[volume["VolumeId"]])
        call("DescribeVolumes(attached)", "describe_volumes", VolumeIds=[volume["VolumeId"]])
        call("DetachVolume", "detach_volume", VolumeId=volume["VolumeId"],
             InstanceId=state["instance"])  # fmt: skip
        call.wait("volume_available", VolumeIds=[volume["VolumeId"]])
        call("DescribeVolumes", "describe_volumes", VolumeIds=[volume["VolumeId"]])
        call("ModifyVolume", "modify_volume", VolumeId=volume["VolumeId"], Size=2)
        call.until("DescribeVolumesModifications", "describe_volumes_modifications",
                   lambda answer: answer["VolumesModifications"][0]["ModificationState"]
                   == "completed", VolumeIds=[volume["VolumeId"]])  # fmt: skip

    def snapshots() -> None:
        snapshot = call("CreateSnapshot", "create_snapshot", VolumeId=state["volume"],
                        Description="differential test")  # fmt: skip
        state["snapshot"] = snapshot["SnapshotId"]
        call.wait("snapshot_completed", SnapshotIds=[snapshot["SnapshotId"]])
        call("DescribeSnapshots", "describe_snapshots", SnapshotIds=[snapshot["SnapshotId"]])
        call("DescribeSnapshotAttribute", "describe_snapshot_attribute",
             SnapshotId=snapshot["SnapshotId"], Attribute="createVolumePermission")  # fmt: skip
        copy = call("CopySnapshot", "copy_snapshot", SourceSnapshotId=snapshot["SnapshotId"],
                    SourceRegion=call.ec2.meta.region_name)  # fmt: skip
        call.wait("snapshot_completed", SnapshotIds=[copy["SnapshotId"]])
        call("DeleteSnapshot(copy)", "delete_snapshot", SnapshotId=copy["SnapshotId"])

    def images() -> None:
        """cloudgate images stopped instances only (AWS reboots a running one first)."""
        call("StopInstances", "stop_instances", InstanceIds=[state["instance"]])
        call.wait("instance_stopped", InstanceIds=[state["instance"]])
        call("DescribeInstances(stopped)", "describe_instances", InstanceIds=[state["instance"]])
        image = call("CreateImage", "create_image", InstanceId=state["instance"],
                     Name="diff-image", Description="differential test")  # fmt: skip
        state["own_image"] = image["ImageId"]
        call.wait("image_available", ImageIds=[image["ImageId"]])
        call("DescribeImages", "describe_images", ImageIds=[image["ImageId"]])
        for attribute in ("launchPermission", "description"):
            call(f"DescribeImageAttribute({attribute})", "describe_image_attribute",
                 ImageId=image["ImageId"], Attribute=attribute)  # fmt: skip
        call("StartInstances", "start_instances", InstanceIds=[state["instance"]])
        call.wait("instance_running", InstanceIds=[state["instance"]])

    def addresses() -> None:
        address = call("AllocateAddress", "allocate_address", Domain="vpc")
        state["allocation"] = address["AllocationId"]
        association = call("AssociateAddress", "associate_address",
                           AllocationId=address["AllocationId"],
                           InstanceId=state["instance"])  # fmt: skip
        call("DescribeAddresses", "describe_addresses", AllocationIds=[address["AllocationId"]])
        call("DescribeInstances(associated)", "describe_instances",
             InstanceIds=[state["instance"]])  # fmt: skip
        call("DisassociateAddress", "disassociate_address",
             AssociationId=association["AssociationId"])  # fmt: skip
        call("ReleaseAddress", "release_address", AllocationId=address["AllocationId"])

    def tags() -> None:
        call("CreateTags", "create_tags", Resources=[state["instance"]],
             Tags=[{"Key": "team", "Value": "diff"}])  # fmt: skip
        call("DescribeTags", "describe_tags",
             Filters=[{"Name": "resource-id", "Values": [state["instance"]]}])  # fmt: skip

    def teardown() -> None:
        call("TerminateInstances", "terminate_instances", InstanceIds=[state["instance"]])
        call.wait("instance_terminated", InstanceIds=[state["instance"]])
        call("DeregisterImage", "deregister_image", ImageId=state["own_image"])
        call("DeleteSnapshot", "delete_snapshot", SnapshotId=state["snapshot"])
        call("DeleteVolume", "delete_volume", VolumeId=state["volume"])
        call("DeleteSecurityGroup", "delete_security_group", GroupId=state["group"])
        call("DeleteKeyPair", "delete_key_pair", KeyName="diff-key")

    yield from (catalogue, vpcs, key_pairs, security_groups, instances, volumes, snapshots,
                addresses, tags, images, teardown)  # fmt: skip
