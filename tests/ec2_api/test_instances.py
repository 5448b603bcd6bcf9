"""Instance life cycle through boto3: run, describe, waiters, start/stop/reboot/terminate."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.ec2_api.conftest import FAST_WAITER, instance_ids, signed_post, terminate_and_wait
from tests.support.server import ServerProcess

Launch = Callable[..., dict[str, Any]]


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def describe(ec2: Any, ids: list[str]) -> list[dict[str, Any]]:
    reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return [i for r in reservations for i in r["Instances"]]


def state_of(ec2: Any, instance_id: str) -> str:
    return str(describe(ec2, [instance_id])[0]["State"]["Name"])


def test_run_instances_answers_pending_then_running(ec2: Any, launch: Launch) -> None:
    key_name = f"demo-{uuid.uuid4().hex[:8]}"
    ec2.create_key_pair(KeyName=key_name)
    reservation = launch(InstanceType="t2.micro", KeyName=key_name, UserData="#!/bin/sh\necho hi")
    assert re.fullmatch(r"r-[0-9a-f]{17}", reservation["ReservationId"])
    assert re.fullmatch(r"\d{12}", reservation["OwnerId"])
    [instance] = reservation["Instances"]
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance["InstanceId"])
    assert instance["State"] == {"Code": 0, "Name": "pending"}
    assert instance["InstanceType"] == "t2.micro"
    assert instance["KeyName"] == key_name
    assert instance["Placement"]["AvailabilityZone"] == "Sandbox-simulator"
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[instance["InstanceId"]], WaiterConfig=FAST_WAITER
    )
    [described] = describe(ec2, [instance["InstanceId"]])
    assert described["State"] == {"Code": 16, "Name": "running"}
    assert described["ImageId"] == instance["ImageId"]
    assert described["PrivateIpAddress"]
    [found] = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"]
    assert found["ReservationId"] == reservation["ReservationId"]


def test_default_instance_type_is_t2_micro(launch: Launch) -> None:
    [instance] = launch()["Instances"]
    assert instance["InstanceType"] == "t2.micro"


def test_derived_instance_type_names_launch(launch: Launch) -> None:
    [instance] = launch(InstanceType="cg.medium-instance")["Instances"]
    # Shown by its canonical name: the first default-table name of Medium Instance.
    assert instance["InstanceType"] == "t2.small"


def test_stop_start_reboot_terminate_with_waiters(ec2: Any, launch: Launch) -> None:
    [instance_id] = instance_ids(launch())
    ids = [instance_id]
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)

    [stopping] = ec2.stop_instances(InstanceIds=ids)["StoppingInstances"]
    assert stopping["InstanceId"] == instance_id
    assert stopping["PreviousState"]["Name"] == "running"
    assert stopping["CurrentState"]["Name"] in ("stopping", "stopped")
    ec2.get_waiter("instance_stopped").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)

    with pytest.raises(ClientError) as raised:
        ec2.reboot_instances(InstanceIds=ids)
    assert error_code(raised) == "IncorrectInstanceState"

    [starting] = ec2.start_instances(InstanceIds=ids)["StartingInstances"]
    assert starting["PreviousState"] == {"Code": 80, "Name": "stopped"}
    assert starting["CurrentState"] == {"Code": 0, "Name": "pending"}
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)

    # Starting a running instance succeeds and changes nothing, as on AWS.
    [again] = ec2.start_instances(InstanceIds=ids)["StartingInstances"]
    assert again["PreviousState"]["Name"] == again["CurrentState"]["Name"] == "running"

    ec2.reboot_instances(InstanceIds=ids)
    assert state_of(ec2, instance_id) == "running"

    [terminating] = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
    assert terminating["PreviousState"]["Name"] == "running"
    assert terminating["CurrentState"]["Name"] in ("shutting-down", "terminated")
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)

    # Terminated instances stay visible, and terminating again is a no-op.
    [terminated] = describe(ec2, ids)
    assert terminated["State"] == {"Code": 48, "Name": "terminated"}
    [again] = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
    assert again["CurrentState"]["Name"] == "terminated"
    with pytest.raises(ClientError) as raised:
        ec2.start_instances(InstanceIds=ids)
    assert error_code(raised) == "IncorrectInstanceState"


def test_terminate_stopped_instance(ec2: Any, launch: Launch) -> None:
    ids = instance_ids(launch())
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    ec2.stop_instances(InstanceIds=ids)
    ec2.get_waiter("instance_stopped").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    [terminating] = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
    assert terminating["PreviousState"]["Name"] == "stopped"
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)


def test_terminate_while_pending(ec2: Any, launch: Launch, server: ServerProcess) -> None:
    server.simulator("configure", "--operation", "start", "--latency-ms", "1500")
    try:
        ids = instance_ids(launch())
        terminated = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"][0]
    finally:
        server.simulator("reset")
    assert terminated["PreviousState"]["Name"] == "pending"
    assert terminated["CurrentState"]["Name"] == "shutting-down"
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)


def test_min_and_max_count_share_one_reservation(ec2: Any, launch: Launch) -> None:
    reservation = launch(MinCount=2, MaxCount=3)
    ids = instance_ids(reservation)
    assert len(ids) == 3
    assert [i["AmiLaunchIndex"] for i in reservation["Instances"]] == [0, 1, 2]
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    by_reservation = ec2.describe_instances(
        Filters=[{"Name": "reservation-id", "Values": [reservation["ReservationId"]]}]
    )["Reservations"]
    assert len(by_reservation) == 1
    assert sorted(instance_ids(by_reservation[0])) == sorted(ids)


def test_client_token_makes_run_instances_idempotent(ec2: Any, launch: Launch) -> None:
    token = uuid.uuid4().hex
    first = launch(ClientToken=token, MinCount=2, MaxCount=2)
    second = launch(ClientToken=token, MinCount=2, MaxCount=2)
    assert second["ReservationId"] == first["ReservationId"]
    assert instance_ids(second) == instance_ids(first)
    tokened = ec2.describe_instances(Filters=[{"Name": "client-token", "Values": [token]}])
    assert sorted(i for r in tokened["Reservations"] for i in instance_ids(r)) == sorted(
        instance_ids(first)
    )


def test_boto3_fills_client_token_for_each_call(ec2: Any, launch: Launch) -> None:
    first, second = launch(), launch()
    assert first["ReservationId"] != second["ReservationId"]
    [instance] = describe(ec2, instance_ids(first))
    assert instance["ClientToken"]


def test_capacity_is_all_or_nothing_for_min_count(ec2: Any, image_id: str) -> None:
    """Four hosts of 8 × 2000 MHz, 16 GiB, 85 % usable: 108 Small Instances at most."""
    before = ec2.describe_instances()["Reservations"]
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=500, MaxCount=500)
    assert error_code(raised) == "InsufficientInstanceCapacity"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert ec2.describe_instances()["Reservations"] == before  # nothing was launched

    reservation = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=500)
    ids = instance_ids(reservation)
    try:
        assert 50 < len(ids) < 500  # as many as fit, and no more
        with pytest.raises(ClientError) as raised:
            ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
        assert error_code(raised) == "InsufficientInstanceCapacity"
    finally:
        terminate_and_wait(ec2, ids)
    # Capacity comes back once the instances are gone.
    again = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
    terminate_and_wait(ec2, instance_ids(again))


def test_instance_limit_of_a_user_account(ec2_other: Any, image_id: str) -> None:
    """A User account may run 20 VMs (max.account.user.vms)."""
    with pytest.raises(ClientError) as raised:
        ec2_other.run_instances(ImageId=image_id, MinCount=21, MaxCount=21)
    assert error_code(raised) == "InstanceLimitExceeded"
    reservation = ec2_other.run_instances(ImageId=image_id, MinCount=1, MaxCount=25)
    try:
        assert len(reservation["Instances"]) == 20
    finally:
        terminate_and_wait(ec2_other, instance_ids(reservation))


def test_describe_filters_and_pagination(ec2: Any, launch: Launch) -> None:
    reservation = launch(MinCount=6, MaxCount=6, InstanceType="t2.small")
    ids = instance_ids(reservation)
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    filters = [
        {"Name": "instance-type", "Values": ["t2.small"]},
        {"Name": "instance-state-name", "Values": ["running", "pending"]},
        {"Name": "reservation-id", "Values": [reservation["ReservationId"]]},
    ]
    found = [
        i for r in ec2.describe_instances(Filters=filters)["Reservations"] for i in r["Instances"]
    ]
    assert sorted(i["InstanceId"] for i in found) == sorted(ids)
    none = ec2.describe_instances(
        Filters=[*filters, {"Name": "instance-state-name", "Values": ["stopped"]}]
    )
    assert none["Reservations"] == []
    untagged = ec2.describe_instances(Filters=[*filters, {"Name": "tag:Name", "Values": ["*"]}])
    assert untagged["Reservations"] == []

    paginator = ec2.get_paginator("describe_instances")
    pages = list(paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 5}))
    assert len(pages) == 2
    paged = [i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]]
    assert sorted(paged) == sorted(ids)


def test_malformed_and_unknown_instance_ids(ec2: Any) -> None:
    for call in (ec2.describe_instances, ec2.stop_instances, ec2.terminate_instances):
        with pytest.raises(ClientError) as raised:
            call(InstanceIds=["i-nothex"])
        assert error_code(raised) == "InvalidInstanceID.Malformed"
        with pytest.raises(ClientError) as raised:
            call(InstanceIds=["i-0123456789abcdef0"])
        assert error_code(raised) == "InvalidInstanceID.NotFound"
        assert "i-0123456789abcdef0" in raised.value.response["Error"]["Message"]


def test_run_instances_parameter_errors(ec2: Any, image_id: str) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"InstanceType": "x9.huge"}, "InvalidParameterValue"),
        ({"ImageId": "ami-bogus"}, "InvalidAMIID.Malformed"),
        ({"ImageId": "ami-0123456789abcdef0"}, "InvalidAMIID.NotFound"),
        ({"Placement": {"AvailabilityZone": "nowhere-1a"}}, "InvalidParameterValue"),
        ({"MinCount": 3, "MaxCount": 2}, "InvalidParameterValue"),
    ]
    for params, code in cases:
        request = {"ImageId": image_id, "MinCount": 1, "MaxCount": 1, **params}
        with pytest.raises(ClientError) as raised:
            ec2.run_instances(**request)
        assert error_code(raised) == code, params
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="x9.huge")
    assert raised.value.response["Error"]["Message"] == "Invalid value 'x9.huge' for InstanceType"


def test_dry_run(ec2: Any, image_id: str, launch: Launch) -> None:
    before = ec2.describe_instances()["Reservations"]
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, DryRun=True)
    assert error_code(raised) == "DryRunOperation"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert raised.value.response["Error"]["Message"] == (
        "Request would have succeeded, but DryRun flag is set."
    )
    assert ec2.describe_instances()["Reservations"] == before

    # A dry run meets the error the real request would meet.
    with pytest.raises(ClientError) as raised:
        ec2.run_instances(ImageId=image_id, MinCount=500, MaxCount=500, DryRun=True)
    assert error_code(raised) == "InsufficientInstanceCapacity"

    ids = instance_ids(launch())
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    with pytest.raises(ClientError) as raised:
        ec2.stop_instances(InstanceIds=ids, DryRun=True)
    assert error_code(raised) == "DryRunOperation"
    assert state_of(ec2, ids[0]) == "running"
    with pytest.raises(ClientError) as raised:
        ec2.describe_instances(DryRun=True)
    assert error_code(raised) == "DryRunOperation"


def test_user_data_must_be_base64(ec2: Any, image_id: str) -> None:
    # boto3 base64-encodes UserData itself; a raw request with broken base64 is refused.
    response = signed_post(
        ec2,
        {
            "Action": "RunInstances",
            "Version": "2016-11-15",
            "ImageId": image_id,
            "MinCount": "1",
            "MaxCount": "1",
            "UserData": "not base64!",
        },
    )
    assert response.status_code == 400
    assert "<Code>InvalidParameterValue</Code>" in response.text
