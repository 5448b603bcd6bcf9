"""One core, one truth: EC2 and the CloudStack API show the same VMs in the same states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, instance_ids, terminate_and_wait

# EC2 state name → the CloudStack states it may stand for
SAME_STATE = {"running": {"Running"}, "stopped": {"Stopped"}, "terminated": {"Destroyed"}}


@pytest.fixture(scope="module")
def cloudstack(server: Any, admin_keys: Any) -> CloudStack:
    return CloudStack(
        endpoint=server.native_url,
        key=admin_keys.access_key,
        secret=admin_keys.secret_key,
        fetch_result=True,  # wait for async jobs, as cloudmonkey does
        poll_interval=0.2,
        job_timeout=60,
    )


def native_vm_at(cloudstack: CloudStack, private_ip: str) -> dict[str, Any]:
    """The listVirtualMachines entry whose NIC has this address (both derive it from one row)."""
    vms = cloudstack.listVirtualMachines(listall=True).get("virtualmachine", [])
    matches = [vm for vm in vms if vm["nic"][0]["ipaddress"] == private_ip]
    assert len(matches) == 1, matches
    return dict(matches[0])


def test_instance_run_via_ec2_is_listed_by_cloudstack(
    ec2: Any, cloudstack: CloudStack, launch: Callable[..., dict[str, Any]]
) -> None:
    ids = instance_ids(launch(InstanceType="t2.small"))
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    [instance] = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
    vm = native_vm_at(cloudstack, instance["PrivateIpAddress"])
    assert vm["state"] == "Running"
    assert vm["serviceofferingname"] == "Medium Instance"
    assert vm["zonename"] == instance["Placement"]["AvailabilityZone"]

    ec2.stop_instances(InstanceIds=ids)
    ec2.get_waiter("instance_stopped").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    assert cloudstack.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Stopped"

    # …and the other way round: started through CloudStack, running in EC2.
    cloudstack.startVirtualMachine(id=vm["id"])
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)


def test_vm_deployed_via_cloudstack_is_an_ec2_instance(
    ec2: Any, cloudstack: CloudStack, image_id: str
) -> None:
    zone = cloudstack.listZones()["zone"][0]
    offering = next(
        o
        for o in cloudstack.listServiceOfferings()["serviceoffering"]
        if o["name"] == "Small Instance"
    )
    template = cloudstack.listTemplates(templatefilter="executable")["template"][0]
    result = cloudstack.deployVirtualMachine(
        zoneid=zone["id"], serviceofferingid=offering["id"], templateid=template["id"]
    )
    vm = result["virtualmachine"]
    address = vm["nic"][0]["ipaddress"]
    found = ec2.describe_instances(Filters=[{"Name": "private-ip-address", "Values": [address]}])[
        "Reservations"
    ]
    assert len(found) == 1
    [instance] = found[0]["Instances"]
    ids = [instance["InstanceId"]]
    try:
        assert instance["State"]["Name"] == "running"
        assert vm["state"] == "Running"
        assert instance["ImageId"] == image_id
        assert instance["InstanceType"] == "t2.micro"  # Small Instance's canonical name
        assert instance["Placement"]["AvailabilityZone"] == zone["name"]

        # Destroyed through CloudStack: terminated in EC2.
        cloudstack.destroyVirtualMachine(id=vm["id"], expunge=True)
        ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    finally:
        terminate_and_wait(ec2, ids)


def test_states_agree_while_instances_change(
    ec2: Any, cloudstack: CloudStack, launch: Callable[..., dict[str, Any]]
) -> None:
    ids = instance_ids(launch(MinCount=2, MaxCount=2))
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST_WAITER)
    ec2.stop_instances(InstanceIds=ids[:1])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=ids[:1], WaiterConfig=FAST_WAITER)
    instances = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
    for instance in instances:
        vm = native_vm_at(cloudstack, instance["PrivateIpAddress"])
        assert vm["state"] in SAME_STATE[instance["State"]["Name"]]
