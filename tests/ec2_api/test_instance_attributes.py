"""Instance attributes, protection, status, console, password and credit specifications
through boto3 — the calls Terraform's aws provider makes to refresh an instance."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cs import CloudStack, CloudStackApiException

from tests.ec2_api.conftest import FAST_WAITER, error_code, instance_ids

Launch = Callable[..., dict[str, Any]]


def running(ec2: Any, launch: Launch, **params: Any) -> str:
    [instance_id] = instance_ids(launch(**params))
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    return instance_id


def stopped(ec2: Any, launch: Launch, **params: Any) -> str:
    instance_id = running(ec2, launch, **params)
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    return instance_id


def attribute(ec2: Any, instance_id: str, name: str) -> dict[str, Any]:
    answer = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute=name)
    assert answer["InstanceId"] == instance_id
    return dict(answer)


def test_every_attribute_terraform_reads(ec2: Any, launch: Launch) -> None:
    instance_id = running(ec2, launch, InstanceType="t2.small")
    assert attribute(ec2, instance_id, "instanceType")["InstanceType"] == {"Value": "t2.small"}
    assert attribute(ec2, instance_id, "disableApiTermination")["DisableApiTermination"] == {
        "Value": False
    }
    assert attribute(ec2, instance_id, "disableApiStop")["DisableApiStop"] == {"Value": False}
    assert attribute(ec2, instance_id, "instanceInitiatedShutdownBehavior")[
        "InstanceInitiatedShutdownBehavior"
    ] == {"Value": "stop"}
    assert attribute(ec2, instance_id, "userData").get("UserData", {}) == {}
    assert attribute(ec2, instance_id, "rootDeviceName")["RootDeviceName"] == {"Value": "/dev/sda1"}
    [root] = attribute(ec2, instance_id, "blockDeviceMapping")["BlockDeviceMappings"]
    assert root["DeviceName"] == "/dev/sda1" and root["Ebs"]["VolumeId"].startswith("vol-")
    [group] = attribute(ec2, instance_id, "groupSet")["Groups"]
    assert group["GroupName"] == "default"
    assert attribute(ec2, instance_id, "sourceDestCheck")["SourceDestCheck"] == {"Value": True}
    assert attribute(ec2, instance_id, "ebsOptimized")["EbsOptimized"] == {"Value": False}
    assert attribute(ec2, instance_id, "enaSupport")["EnaSupport"] == {"Value": False}
    assert attribute(ec2, instance_id, "productCodes")["ProductCodes"] == []
    for name in ("kernel", "ramdisk", "sriovNetSupport", "enclaveOptions"):
        attribute(ec2, instance_id, name)


def test_protection_and_shutdown_behavior_at_launch(ec2: Any, launch: Launch) -> None:
    instance_id = running(
        ec2,
        launch,
        DisableApiTermination=True,
        DisableApiStop=True,
        InstanceInitiatedShutdownBehavior="terminate",
    )
    assert attribute(ec2, instance_id, "disableApiTermination")["DisableApiTermination"] == {
        "Value": True
    }
    assert attribute(ec2, instance_id, "instanceInitiatedShutdownBehavior")[
        "InstanceInitiatedShutdownBehavior"
    ] == {"Value": "terminate"}
    with pytest.raises(ClientError) as raised:
        ec2.terminate_instances(InstanceIds=[instance_id])
    assert error_code(raised) == "OperationNotPermitted"
    assert raised.value.response["Error"]["Message"] == (
        f"The instance '{instance_id}' may not be terminated. Modify its "
        "'disableApiTermination' instance attribute and try again."
    )
    with pytest.raises(ClientError) as raised:
        ec2.stop_instances(InstanceIds=[instance_id])
    assert error_code(raised) == "OperationNotPermitted"
    assert "'disableApiStop'" in raised.value.response["Error"]["Message"]
    [instance] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    assert instance["State"]["Name"] == "running"

    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": False})
    ec2.modify_instance_attribute(InstanceId=instance_id, Attribute="disableApiStop", Value="false")
    # the teardown of `launch` terminates it now


def test_modify_protection_guards_terminate(ec2: Any, launch: Launch) -> None:
    instance_id = running(ec2, launch)
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": True})
    with pytest.raises(ClientError) as raised:
        ec2.terminate_instances(InstanceIds=[instance_id])
    assert error_code(raised) == "OperationNotPermitted"
    ec2.modify_instance_attribute(
        InstanceId=instance_id, InstanceInitiatedShutdownBehavior={"Value": "terminate"}
    )
    assert attribute(ec2, instance_id, "instanceInitiatedShutdownBehavior")[
        "InstanceInitiatedShutdownBehavior"
    ] == {"Value": "terminate"}
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(
            InstanceId=instance_id, InstanceInitiatedShutdownBehavior={"Value": "hibernate"}
        )
    assert error_code(raised) == "InvalidParameterValue"
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": False})
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)


def test_delete_protection_is_termination_protection(
    ec2: Any, cloudstack_admin: CloudStack, launch: Launch
) -> None:
    """CloudStack's deleteprotection and EC2's disableApiTermination are one flag of one VM."""
    case = uuid.uuid4().hex
    instance_id = running(
        ec2,
        launch,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "case", "Value": case}]}],
    )
    [vm] = cloudstack_admin.listVirtualMachines(
        listall=True, tags=[{"key": "case", "value": case}]
    )["virtualmachine"]
    assert vm["deleteprotection"] is False
    updated = cloudstack_admin.updateVirtualMachine(id=vm["id"], deleteprotection=True)
    assert updated["virtualmachine"]["deleteprotection"] is True
    assert attribute(ec2, instance_id, "disableApiTermination")["DisableApiTermination"] == {
        "Value": True
    }
    with pytest.raises(ClientError) as raised:
        ec2.terminate_instances(InstanceIds=[instance_id])
    assert error_code(raised) == "OperationNotPermitted"
    with pytest.raises(CloudStackApiException) as refused:
        cloudstack_admin.destroyVirtualMachine(id=vm["id"])
    assert refused.value.error["errorcode"] == 431
    assert refused.value.error["cserrorcode"] == 4350
    assert refused.value.error["errortext"] == (
        f"Instance [id = {vm['id']}, name = {vm['name']}] has delete protection enabled and "
        "cannot be deleted."
    )
    # The other way round: EC2 lifts it, CloudStack sees it lifted and may destroy.
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": False})
    [shown] = cloudstack_admin.listVirtualMachines(id=vm["id"], listall=True)["virtualmachine"]
    assert shown["deleteprotection"] is False and shown["state"] == "Running"
    cloudstack_admin.updateVirtualMachine(id=vm["id"], deleteprotection=True)
    cloudstack_admin.updateVirtualMachine(id=vm["id"], deleteprotection=False)
    destroyed = cloudstack_admin.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert destroyed["virtualmachine"]["id"] == vm["id"]
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)


def test_instance_type_changes_only_when_stopped(
    ec2: Any, cloudstack_admin: CloudStack, launch: Launch
) -> None:
    instance_id = running(ec2, launch, InstanceType="t2.micro")
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t2.small"})
    assert error_code(raised) == "IncorrectInstanceState"
    assert raised.value.response["Error"]["Message"] == (
        f"The instance '{instance_id}' is not in the 'stopped' state."
    )
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t2.small"})
    assert attribute(ec2, instance_id, "instanceType")["InstanceType"] == {"Value": "t2.small"}
    [instance] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    assert instance["InstanceType"] == "t2.small"
    # One VM: CloudStack sees the new offering.
    address = instance["PrivateIpAddress"]
    vms = cloudstack_admin.listVirtualMachines(listall=True)["virtualmachine"]
    [vm] = [vm for vm in vms if vm["nic"][0]["ipaddress"] == address]
    assert vm["serviceofferingname"] == "Medium Instance"
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "x9.huge"})
    assert error_code(raised) == "InvalidParameterValue"
    ec2.start_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)


def test_user_data_changes_only_when_stopped(ec2: Any, launch: Launch) -> None:
    instance_id = running(ec2, launch, UserData="first")
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(InstanceId=instance_id, UserData={"Value": b"second"})
    assert error_code(raised) == "IncorrectInstanceState"
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    ec2.modify_instance_attribute(InstanceId=instance_id, UserData={"Value": b"#!/bin/sh\nsecond"})
    value = attribute(ec2, instance_id, "userData")["UserData"]["Value"]
    assert base64.b64decode(value) == b"#!/bin/sh\nsecond"


def test_modify_security_groups_and_delete_on_termination(ec2: Any, launch: Launch) -> None:
    name = f"swap-{uuid.uuid4().hex[:8]}"
    group = ec2.create_security_group(GroupName=name, Description="swap")["GroupId"]
    instance_id = running(
        ec2, launch, BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 1}}]
    )
    ec2.modify_instance_attribute(InstanceId=instance_id, Groups=[group])
    assert [g["GroupId"] for g in attribute(ec2, instance_id, "groupSet")["Groups"]] == [group]
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(InstanceId=instance_id, Groups=["sg-0123456789abcdef0"])
    assert error_code(raised) == "InvalidGroup.NotFound"

    ec2.modify_instance_attribute(
        InstanceId=instance_id,
        BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"DeleteOnTermination": False}}],
    )
    mappings = attribute(ec2, instance_id, "blockDeviceMapping")["BlockDeviceMappings"]
    [data] = [m for m in mappings if m["DeviceName"] == "/dev/sdf"]
    assert data["Ebs"]["DeleteOnTermination"] is False
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAITER)
    [kept] = ec2.describe_volumes(VolumeIds=[data["Ebs"]["VolumeId"]])["Volumes"]
    assert kept["State"] == "available"
    ec2.delete_volume(VolumeId=kept["VolumeId"])


def test_attribute_errors(ec2: Any, launch: Launch) -> None:
    instance_id = running(ec2, launch)
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(InstanceId=instance_id, SourceDestCheck={"Value": False})
    assert error_code(raised) == "UnsupportedOperation"
    ec2.modify_instance_attribute(InstanceId=instance_id, SourceDestCheck={"Value": True})
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_attribute(
            InstanceId=instance_id,
            DisableApiTermination={"Value": True},
            DisableApiStop={"Value": True},
        )
    assert error_code(raised) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_attribute(InstanceId="i-0123456789abcdef0", Attribute="userData")
    assert error_code(raised) == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_attribute(InstanceId="i-zz", Attribute="userData")
    assert error_code(raised) == "InvalidInstanceID.Malformed"


def test_instance_status(ec2: Any, launch: Launch) -> None:
    up = running(ec2, launch)
    down = stopped(ec2, launch)
    statuses = ec2.describe_instance_status(InstanceIds=[up, down])["InstanceStatuses"]
    [status] = statuses  # only running instances without IncludeAllInstances
    assert status["InstanceId"] == up
    assert status["InstanceState"] == {"Code": 16, "Name": "running"}
    assert status["InstanceStatus"]["Status"] == status["SystemStatus"]["Status"] == "ok"
    assert status["InstanceStatus"]["Details"] == [{"Name": "reachability", "Status": "passed"}]
    everything = ec2.describe_instance_status(InstanceIds=[up, down], IncludeAllInstances=True)
    by_id = {s["InstanceId"]: s for s in everything["InstanceStatuses"]}
    assert by_id[down]["InstanceState"]["Name"] == "stopped"
    assert by_id[down]["InstanceStatus"]["Status"] == "not-applicable"
    filtered = ec2.describe_instance_status(
        IncludeAllInstances=True,
        Filters=[
            {"Name": "instance-state-name", "Values": ["stopped"]},
            {"Name": "availability-zone", "Values": [status["AvailabilityZone"]]},
        ],
    )["InstanceStatuses"]
    assert down in [s["InstanceId"] for s in filtered] and up not in [
        s["InstanceId"] for s in filtered
    ]
    ec2.get_waiter("instance_status_ok").wait(InstanceIds=[up], WaiterConfig=FAST_WAITER)
    paginator = ec2.get_paginator("describe_instance_status")
    pages = list(paginator.paginate(IncludeAllInstances=True, PaginationConfig={"PageSize": 5}))
    listed = [s["InstanceId"] for p in pages for s in p["InstanceStatuses"]]
    assert {up, down} <= set(listed) and len(listed) == len(set(listed))
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_status(InstanceIds=["i-0123456789abcdef0"])
    assert error_code(raised) == "InvalidInstanceID.NotFound"


def test_console_output(ec2: Any, launch: Launch) -> None:
    key_name = f"console-{uuid.uuid4().hex[:8]}"
    ec2.create_key_pair(KeyName=key_name)
    instance_id = running(ec2, launch, KeyName=key_name)
    console = ec2.get_console_output(InstanceId=instance_id)
    assert console["InstanceId"] == instance_id
    output = console["Output"]  # botocore decodes the base64 AWS sends
    assert "Cloud-init" in output and "SSH HOST KEY FINGERPRINTS" in output
    assert f"| {key_name} |" in output  # the authorized key, by its comment
    [instance] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    assert instance["PrivateIpAddress"] in output


def test_password_data(
    ec2: Any, cloudstack_admin: CloudStack, launch: Launch, image_id: str
) -> None:
    instance_id = running(ec2, launch)
    # The demo template is not password-enabled: no password, as AWS answers before Windows
    # has made one.
    data = ec2.get_password_data(InstanceId=instance_id)
    assert data["InstanceId"] == instance_id and data["PasswordData"] == ""

    key_name = f"pw-{uuid.uuid4().hex[:8]}"
    private_pem = ec2.create_key_pair(KeyName=key_name)["KeyMaterial"]
    [image] = ec2.describe_images(ImageIds=[image_id])["Images"]
    templates = cloudstack_admin.listTemplates(templatefilter="all", name=image["Name"])
    [template] = templates["template"]
    cloudstack_admin.updateTemplate(id=template["id"], passwordenabled=True)
    try:
        instance_id = running(ec2, launch, KeyName=key_name)
    finally:
        cloudstack_admin.updateTemplate(id=template["id"], passwordenabled=False)
    encrypted = base64.b64decode(ec2.get_password_data(InstanceId=instance_id)["PasswordData"])
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    password = key.decrypt(encrypted, padding.PKCS1v15()).decode()  # type: ignore[union-attr]
    assert len(password) >= 6 and password.isalnum()


def test_credit_specifications(ec2: Any, launch: Launch) -> None:
    micro = running(ec2, launch, InstanceType="t2.micro")
    answer = ec2.describe_instance_credit_specifications(InstanceIds=[micro])
    assert answer["InstanceCreditSpecifications"] == [
        {"InstanceId": micro, "CpuCredits": "standard"}
    ]
    # Without ids AWS lists the instances running unlimited: T2 ones run standard.
    listed = ec2.describe_instance_credit_specifications()["InstanceCreditSpecifications"]
    assert micro not in [spec["InstanceId"] for spec in listed]
    with pytest.raises(ClientError) as raised:
        ec2.describe_instance_credit_specifications(InstanceIds=["i-0123456789abcdef0"])
    assert error_code(raised) == "InvalidInstanceID.NotFound"
