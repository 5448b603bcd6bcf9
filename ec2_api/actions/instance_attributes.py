"""One instance's attributes: Describe/ModifyInstanceAttribute, GetConsoleOutput,
GetPasswordData and DescribeInstanceCreditSpecifications.

The attributes live on the core VM (core/vms/attributes.py), so CloudStack sees the same VM:
the instance type is its service offering (changed only while stopped, through the core's
change of service offering), user data its user data, the protections and the shutdown
behaviour columns of its own. Attributes the core has no notion of (kernel, ramdisk, SR-IOV,
ENA, EBS optimisation, source/dest check) read as AWS's defaults and cannot be changed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from core import errors, keypairs
from core.db import utcnow
from core.vms import access, attributes, lifecycle
from core.vms.models import VirtualMachine
from ec2_api.action import Action
from ec2_api.actions.instance_launch import groups_found, security_groups_named
from ec2_api.actions.instance_views import InstanceRenderer
from ec2_api.actions.instances import vms_by_instance_ids, vms_for_describe
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from ec2_api.paging import page
from translators.filters import FilterSet, parse_filters
from translators.instance_types import load_catalogue
from translators.volumes import ROOT_DEVICE_NAME, parse_device

Reader = Callable[[InstanceRenderer, VirtualMachine], dict[str, Any]]


def _value(value: Any) -> dict[str, Any]:
    return {"Value": value}


def _user_data(vm: VirtualMachine) -> dict[str, Any]:
    encoded = access.user_data_base64(vm)
    return _value(encoded) if encoded else {}


# attribute name → how DescribeInstanceAttribute reads it
READERS: dict[str, Reader] = {
    "instanceType": lambda r, vm: {"InstanceType": _value(r.instance_type(vm))},
    "kernel": lambda r, vm: {"KernelId": {}},
    "ramdisk": lambda r, vm: {"RamdiskId": {}},
    "userData": lambda r, vm: {"UserData": _user_data(vm)},
    "disableApiTermination": lambda r, vm: {
        "DisableApiTermination": _value(vm.disable_api_termination)
    },
    "disableApiStop": lambda r, vm: {"DisableApiStop": _value(vm.disable_api_stop)},
    "instanceInitiatedShutdownBehavior": lambda r, vm: {
        "InstanceInitiatedShutdownBehavior": _value(vm.shutdown_behavior)
    },
    "rootDeviceName": lambda r, vm: {"RootDeviceName": _value(ROOT_DEVICE_NAME)},
    "blockDeviceMapping": lambda r, vm: {
        "BlockDeviceMappings": r.instance(vm)["BlockDeviceMappings"]
    },
    "productCodes": lambda r, vm: {"ProductCodes": []},
    "sourceDestCheck": lambda r, vm: {"SourceDestCheck": _value(True)},
    "groupSet": lambda r, vm: {"Groups": r.instance(vm)["SecurityGroups"]},
    "ebsOptimized": lambda r, vm: {"EbsOptimized": _value(False)},
    "sriovNetSupport": lambda r, vm: {"SriovNetSupport": {}},
    "enaSupport": lambda r, vm: {"EnaSupport": _value(False)},
    "enclaveOptions": lambda r, vm: {"EnclaveOptions": {"Enabled": False}},
}


def _unknown_attribute(name: str) -> Ec2Error:
    return invalid_value(f"Value ({name}) for parameter attribute is invalid. Unknown attribute.")


def _one_vm(call: Call) -> tuple[str, VirtualMachine]:
    instance_id = call.get("InstanceId")
    if not instance_id:
        raise missing_parameter("InstanceId")
    [found] = vms_by_instance_ids(call, [instance_id])
    return found


def describe_instance_attribute(call: Call) -> dict[str, Any]:
    name = call.get("Attribute")
    reader = READERS.get(name)
    if reader is None:
        raise invalid_value(
            f"Value ({name}) for parameter attribute is invalid. Unknown attribute."
        )
    instance_id, vm = _one_vm(call)
    renderer = InstanceRenderer(call).prepare([vm])
    return {"InstanceId": instance_id, **reader(renderer, vm)}


# ModifyInstanceAttribute ------------------------------------------------------------------

# Attributes the core does not model: the only value accepted is the one always shown.
FIXED = {"SourceDestCheck": True, "EbsOptimized": False, "EnaSupport": False}
# Attribute=/Value= spelling → the structured parameter it stands for
ATTRIBUTE_PARAMETERS = {
    "instanceType": "InstanceType",
    "userData": "UserData",
    "disableApiTermination": "DisableApiTermination",
    "disableApiStop": "DisableApiStop",
    "instanceInitiatedShutdownBehavior": "InstanceInitiatedShutdownBehavior",
    "sourceDestCheck": "SourceDestCheck",
    "ebsOptimized": "EbsOptimized",
    "enaSupport": "EnaSupport",
    "kernel": "Kernel",
    "ramdisk": "Ramdisk",
    "sriovNetSupport": "SriovNetSupport",
}
BOOLEANS = {"DisableApiTermination", "DisableApiStop", *FIXED}


def _requested_change(call: Call) -> tuple[str, Any]:
    """(parameter, value) of the one attribute this request changes."""
    changes = [
        (name, call.get(name))
        for name in (*ATTRIBUTE_PARAMETERS.values(), "Groups", "BlockDeviceMappings")
        if call.get(name) is not None
    ]
    attribute = call.get("Attribute")
    if attribute is not None:
        parameter = ATTRIBUTE_PARAMETERS.get(attribute)
        if parameter is None:
            raise _unknown_attribute(attribute)
        value = call.get("Value")
        if parameter in BOOLEANS and value is not None:
            value = value.lower() == "true"
        changes.append((parameter, {"Value": value}))
    if len(changes) != 1:
        raise Ec2Error(
            "InvalidParameterCombination",
            "Exactly one attribute must be modified per ModifyInstanceAttribute request",
        )
    parameter, value = changes[0]
    if isinstance(value, dict) and value.get("Value") is None:
        raise missing_parameter("Value")
    return parameter, value


@contextmanager
def _as_modification(instance_id: str) -> Iterator[None]:
    try:
        yield
    except errors.InvalidState:
        raise Ec2Error(
            "IncorrectInstanceState", f"The instance '{instance_id}' is not in the 'stopped' state."
        ) from None


def _change_instance_type(call: Call, vm: VirtualMachine, name: str) -> None:
    offering = load_catalogue(call.session).offering_for(name)
    if offering.id != vm.service_offering_id:
        lifecycle.change_service_offering(call.session, call.ctx, vm, offering)


def _change_groups(call: Call, vm: VirtualMachine, group_ids: list[str]) -> None:
    named = security_groups_named(call, group_ids, [])
    with groups_found(named):
        attributes.set_security_groups(call.session, call.ctx, vm, list(named))


def _change_disks(call: Call, vm: VirtualMachine, mappings: list[dict[str, Any]]) -> None:
    for mapping in mappings:
        delete = (mapping.get("Ebs") or {}).get("DeleteOnTermination")
        if delete is None:
            continue
        try:
            device = parse_device(mapping.get("DeviceName") or "")
            attributes.set_delete_on_termination(call.session, vm, device, delete)
        except (errors.InvalidParameter, errors.NotFound) as error:
            raise Ec2Error("InvalidInstanceAttributeValue", error.message) from None


def _set_user_data(call: Call, vm: VirtualMachine, given: Any) -> None:
    text = given.decode() if isinstance(given, bytes) else str(given)
    attributes.set_user_data(call.session, call.ctx, vm, text)


def _protect(field: str) -> Callable[[Call, VirtualMachine, Any], None]:
    def change(call: Call, vm: VirtualMachine, given: Any) -> None:
        protection = attributes.Protection(**{field: given})
        attributes.set_protection(call.session, call.ctx, vm, protection)

    return change


# parameter → how ModifyInstanceAttribute changes it
MODIFIERS: dict[str, Callable[[Call, VirtualMachine, Any], None]] = {
    "InstanceType": _change_instance_type,
    "UserData": _set_user_data,
    "DisableApiTermination": _protect("disable_api_termination"),
    "DisableApiStop": _protect("disable_api_stop"),
    "InstanceInitiatedShutdownBehavior": _protect("shutdown_behavior"),
    "Groups": _change_groups,
    "BlockDeviceMappings": _change_disks,
}


def modify_instance_attribute(call: Call) -> None:
    parameter, value = _requested_change(call)
    instance_id, vm = _one_vm(call)
    given = value.get("Value") if isinstance(value, dict) else value
    modify = MODIFIERS.get(parameter)
    if modify is None:
        if FIXED.get(parameter) != given:
            raise Ec2Error(
                "UnsupportedOperation", f"The instance attribute '{parameter}' cannot be changed"
            )
        return
    with _as_modification(instance_id):
        modify(call, vm, given)


# console and password ---------------------------------------------------------------------


def get_console_output(call: Call) -> dict[str, Any]:
    instance_id, vm = _one_vm(call)
    keys = []
    for name in filter(None, vm.keypair.split(",")):
        try:
            keys.append((name, keypairs.get_keypair(call.session, call.ctx, name).fingerprint))
        except errors.NotFound:
            continue  # deleted since: the VM keeps its copy, the console says nothing of it
    log = attributes.boot_log(vm, keys)
    result: dict[str, Any] = {"InstanceId": instance_id, "Timestamp": vm.state_changed or utcnow()}
    if log:
        result["Output"] = base64.b64encode(log.encode()).decode()
    return result


def get_password_data(call: Call) -> dict[str, Any]:
    """The VM's password encrypted with its key pair (as CloudStack's getVMPassword); empty
    when it has none, as AWS answers for an instance that has not made one yet."""
    instance_id, vm = _one_vm(call)
    try:
        password = access.encrypted_password(call.session, call.ctx, vm)
    except errors.InvalidParameter:
        password = ""
    return {
        "InstanceId": instance_id,
        "Timestamp": vm.state_changed or utcnow(),
        "PasswordData": password,
    }


# credit specifications --------------------------------------------------------------------

# AWS's default credit option per burstable family (T2 launches standard, later ones unlimited)
CREDIT_DEFAULTS = {"t2": "standard", "t3": "unlimited", "t3a": "unlimited", "t4g": "unlimited"}
CREDIT_FILTERS: FilterSet[dict[str, Any]] = FilterSet({"instance-id": lambda s: s["InstanceId"]})


def _credits(instance_type: str) -> str | None:
    return CREDIT_DEFAULTS.get(instance_type.split(".")[0])


def describe_instance_credit_specifications(call: Call) -> dict[str, Any]:
    vms = vms_for_describe(call)
    renderer = InstanceRenderer(call).prepare(vms)
    specs = []
    for vm in vms:
        instance_id = renderer.instance_id(vm)
        credits = _credits(renderer.instance_type(vm))
        if credits is None and call.get("InstanceIds"):
            raise Ec2Error(
                "UnsupportedOperation",
                f"The instance '{instance_id}' is not a burstable performance instance.",
            )
        if credits == "unlimited" or (credits and call.get("InstanceIds")):
            specs.append({"InstanceId": instance_id, "CpuCredits": credits})
    specs = CREDIT_FILTERS.select(specs, parse_filters(call.get("Filters")))
    shown, next_token = page(specs, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {"InstanceCreditSpecifications": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


ACTIONS = (
    Action(
        "DescribeInstanceAttribute",
        describe_instance_attribute,
        notes="kernel, ramdisk, SR-IOV, ENA, EBS optimisation and source/dest check read as "
        "AWS's defaults",
    ),
    Action(
        "ModifyInstanceAttribute",
        modify_instance_attribute,
        writes=True,
        notes="instanceType and userData only while stopped; one attribute per request; "
        "kernel, ramdisk, SR-IOV, ENA, EBS optimisation and source/dest check cannot change",
    ),
    Action(
        "GetConsoleOutput",
        get_console_output,
        notes="a boot log made from the VM's facts (the simulator has no real console)",
    ),
    Action("GetPasswordData", get_password_data),
    Action(
        "DescribeInstanceCreditSpecifications",
        describe_instance_credit_specifications,
        notes="AWS's defaults (T2 standard, T3/T3a/T4g unlimited); not modifiable",
    ),
)
