"""Instances: DescribeInstances and Start/Stop/Reboot/TerminateInstances (RunInstances is in
instance_launch, the attributes in instance_attributes, DescribeInstanceStatus in
instance_status).

Every rule — permissions, limits, capacity, which state allows what, termination and stop
protection — is the core's; this module translates requests (and instance_views translates
VMs and states back), adding only EC2's idempotency: starting a running instance, stopping a
stopping one or terminating a terminated one succeeds and changes nothing. Terminated
instances stay visible for an hour after they are expunged, as on AWS. EC2 callers act for
their own account, admins included, as every AWS caller does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from core import errors
from core.db import utcnow
from core.infra import Zone
from core.visibility import ListScope
from core.vms import attributes
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.vms.states import VmState
from ec2_api import tagging
from ec2_api.action import Action
from ec2_api.actions import instance_interfaces, instance_options
from ec2_api.actions.instance_views import (
    GONE,
    SHUTTING_DOWN,
    STOPPING,
    InstanceRenderer,
)
from ec2_api.actions.selection import by_ec2_ids
from ec2_api.call import Call
from ec2_api.errors import SERVER_ERROR, Ec2Error, instances_not_found
from ec2_api.paging import page
from translators.filters import Attribute, FilterSet, parse_filters
from translators.ids import INSTANCE

TERMINATED_VISIBLE_FOR = dt.timedelta(hours=1)
# finding instances ------------------------------------------------------------------------


def visible_vms(call: Call, core_ids: tuple[int, ...] | None) -> list[VirtualMachine]:
    """The caller's VMs (its own account's, as on AWS), terminated ones for an hour."""
    vm_filter = vms.VmFilter(ids=core_ids, include_expunged_since=utcnow() - TERMINATED_VISIBLE_FOR)
    rows, _ = vms.list_vms(call.session, call.ctx, ListScope(), vm_filter)
    return rows


def vms_by_instance_ids(call: Call, instance_ids: list[str]) -> list[tuple[str, VirtualMachine]]:
    """(instance id, VM) for every id, in order; InvalidInstanceID.* if any is not visible."""
    lookup = partial(visible_vms, call)
    return list(by_ec2_ids(call, INSTANCE, instance_ids, lookup, instances_not_found).items())


def vms_for_describe(call: Call) -> list[VirtualMachine]:
    """The VMs a Describe call with `InstanceIds` (or all the caller's) reads; the ids and
    MaxResults exclude each other, as on AWS."""
    instance_ids = call.get("InstanceIds")
    if instance_ids and call.get("MaxResults") is not None:
        raise Ec2Error(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        )
    if instance_ids:
        return [vm for _, vm in vms_by_instance_ids(call, instance_ids)]
    return visible_vms(call, None)


_visible_vms = visible_vms  # the names before issue 4
_vms_by_instance_ids = vms_by_instance_ids


# DescribeInstances ------------------------------------------------------------------------

Row = tuple[dict[str, Any], dict[str, Any]]  # (reservation without instances, instance)


def _i(read: Callable[[dict[str, Any]], Any]) -> Callable[[Row], Any]:
    return lambda row: read(row[1])


def _groups(read: Callable[[dict[str, Any]], Any]) -> Callable[[Row], list[Any]]:
    return lambda row: [read(group) for group in row[1]["SecurityGroups"]]


def _disks(read: Callable[[dict[str, Any]], Any]) -> Callable[[Row], list[Any]]:
    return lambda row: [read(mapping) for mapping in row[1]["BlockDeviceMappings"]]


def _attach_time(mapping: dict[str, Any]) -> str:
    return str(mapping["Ebs"]["AttachTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z"))


BASE_FILTERS: dict[str, Attribute[Row]] = {
    "instance-id": _i(lambda i: i["InstanceId"]),
    "image-id": _i(lambda i: i["ImageId"]),
    "instance-state-name": _i(lambda i: i["State"]["Name"]),
    "instance-state-code": _i(lambda i: i["State"]["Code"]),
    "instance-type": _i(lambda i: i["InstanceType"]),
    "availability-zone": _i(lambda i: i["Placement"]["AvailabilityZone"]),
    "tenancy": _i(lambda i: i["Placement"]["Tenancy"]),
    "key-name": _i(lambda i: i.get("KeyName")),
    "private-ip-address": _i(lambda i: i.get("PrivateIpAddress")),
    "private-dns-name": _i(lambda i: i["PrivateDnsName"] or None),
    "dns-name": _i(lambda i: i["PublicDnsName"] or None),
    "launch-index": _i(lambda i: i["AmiLaunchIndex"]),
    "client-token": _i(lambda i: i["ClientToken"] or None),
    "architecture": _i(lambda i: i["Architecture"]),
    "root-device-type": _i(lambda i: i["RootDeviceType"]),
    "root-device-name": _i(lambda i: i["RootDeviceName"]),
    "virtualization-type": _i(lambda i: i["VirtualizationType"]),
    "hypervisor": _i(lambda i: i["Hypervisor"]),
    "monitoring-state": _i(lambda i: i["Monitoring"]["State"]),
    "platform-details": _i(lambda i: i["PlatformDetails"]),
    "state-reason-code": _i(lambda i: i.get("StateReason", {}).get("Code")),
    "reservation-id": lambda row: row[0]["ReservationId"],
    "owner-id": lambda row: row[0]["OwnerId"],
    "instance.group-id": _groups(lambda g: g["GroupId"]),
    "instance.group-name": _groups(lambda g: g["GroupName"]),
    "group-id": _groups(lambda g: g["GroupId"]),
    "group-name": _groups(lambda g: g["GroupName"]),
    "block-device-mapping.volume-id": _disks(lambda m: m["Ebs"]["VolumeId"]),
    "block-device-mapping.device-name": _disks(lambda m: m["DeviceName"]),
    "block-device-mapping.status": _disks(lambda m: m["Ebs"]["Status"]),
    "block-device-mapping.delete-on-termination": _disks(lambda m: m["Ebs"]["DeleteOnTermination"]),
    "block-device-mapping.attach-time": _disks(_attach_time),
}
# The network fields' filters (instance_interfaces) and the option blocks' (instance_options).
INSTANCE_FILTERS: dict[str, Attribute[Row]] = {
    **BASE_FILTERS,
    **{name: _i(read) for name, read in instance_interfaces.FILTERS.items()},
    **{name: _i(read) for name, read in instance_options.FILTERS.items()},
}


def instance_filters() -> FilterSet[Row]:
    return tagging.filter_set(INSTANCE_FILTERS, read_tags=lambda row: row[1]["Tags"])


# Filters that read only what InstanceRenderer.preview holds. Rendering an instance in full
# (disks, security groups, NICs) is most of DescribeInstances' cost, so these filters run on
# previews first, and when no other filter is given only the page shown is rendered: at 10k
# instances a filtered or paged call no longer renders all of them.
PREVIEW_FILTERS = frozenset(
    {
        "instance-id",
        "instance-state-name",
        "instance-state-code",
        "instance-type",
        "tag-key",
        "tag-value",
    }  # and every tag:<key>
)


def _previewable(name: str) -> bool:
    return name in PREVIEW_FILTERS or name.startswith("tag:")


def _rows(renderer: InstanceRenderer, vms: list[VirtualMachine]) -> list[Row]:
    renderer.prepare(vms)
    return [
        (
            {
                "ReservationId": renderer.reservation_id(vm),
                "OwnerId": renderer.call.ids.account_number(vm.account_id),
            },
            renderer.instance(vm),
        )
        for vm in vms
    ]


def describe_instances(call: Call) -> dict[str, Any]:
    rows = vms_for_describe(call)
    filters = parse_filters(call.get("Filters"))
    instance_filters().predicate(filters)  # every filter name checked before any work
    cheap = [f for f in filters if _previewable(f.name)]
    rest = [f for f in filters if not _previewable(f.name)]
    renderer = InstanceRenderer(call)
    if cheap:
        renderer.prepare_preview(rows)
        matches = instance_filters().predicate(cheap)
        rows = [vm for vm in rows if matches(({}, renderer.preview(vm)))]
    max_results, token = call.get("MaxResults"), call.get("NextToken")
    if rest:  # filters on the full instance: render every candidate, then page
        matching = instance_filters().select(_rows(renderer, rows), rest)
        shown, next_token = page(matching, max_results, token)
    else:
        rows, next_token = page(rows, max_results, token)
        shown = _rows(renderer, rows)
    reservations: dict[str, dict[str, Any]] = {}
    for head, instance in shown:
        reservation = reservations.setdefault(
            head["ReservationId"], {**head, "Groups": [], "Instances": []}
        )
        reservation["Instances"].append(instance)
    result: dict[str, Any] = {"Reservations": list(reservations.values())}
    if next_token:
        result["NextToken"] = next_token
    return result


# Start / Stop / Reboot / Terminate --------------------------------------------------------


@contextmanager
def _as_instance(instance_id: str, verb: str, zone: Zone | None = None) -> Iterator[None]:
    """Core refusals about one VM, told in EC2's words about that instance."""
    try:
        yield
    except attributes.VmProtected as error:
        raise Ec2Error(
            "OperationNotPermitted",
            f"The instance '{instance_id}' may not be {error.operation}. Modify its "
            f"'{error.attribute}' instance attribute and try again.",
        ) from None
    except errors.InvalidState:
        raise Ec2Error(
            "IncorrectInstanceState",
            f"The instance '{instance_id}' is not in a state from which it can be {verb}.",
        ) from None
    except errors.InsufficientCapacity:
        where = f" in the Availability Zone {zone.name}" if zone else ""
        raise Ec2Error(
            "InsufficientInstanceCapacity",
            f"Insufficient capacity to start instance '{instance_id}'{where}.",
            SERVER_ERROR,
        ) from None


def _change_states(
    call: Call,
    result_key: str,
    verb: str,
    change: Callable[[InstanceRenderer, VirtualMachine], None],
) -> dict[str, Any]:
    targets = vms_by_instance_ids(call, call.get("InstanceIds"))
    rows = [vm for _, vm in targets]
    renderer = InstanceRenderer(call).prepare(rows)
    before = {vm.id: renderer.state(vm) for vm in rows}
    for instance_id, vm in targets:
        with _as_instance(instance_id, verb, _zone_of(call, vm)):
            change(renderer, vm)
    renderer.prepare(rows)  # a terminate just queued its job: shutting-down from now on
    return {
        result_key: [
            {
                "InstanceId": instance_id,
                "PreviousState": before[vm.id],
                "CurrentState": renderer.state(vm),
            }
            for instance_id, vm in targets
        ]
    }


def _zone_of(call: Call, vm: VirtualMachine) -> Zone | None:
    return call.session.get(Zone, vm.zone_id)


def start_instances(call: Call) -> dict[str, Any]:
    def start(renderer: InstanceRenderer, vm: VirtualMachine) -> None:
        if vm.state not in (VmState.RUNNING, VmState.STARTING):
            vms.start_vm(call.session, call.ctx, vm)

    return _change_states(call, "StartingInstances", "started", start)


def stop_instances(call: Call) -> dict[str, Any]:
    force = bool(call.get("Force"))

    def stop(renderer: InstanceRenderer, vm: VirtualMachine) -> None:
        if renderer.state(vm) is not STOPPING:
            attributes.ensure_may_stop(vm)
            vms.stop_vm(call.session, call.ctx, vm, force=force)

    return _change_states(call, "StoppingInstances", "stopped", stop)


def terminate_instances(call: Call) -> dict[str, Any]:
    def terminate(renderer: InstanceRenderer, vm: VirtualMachine) -> None:
        already = renderer.state(vm) is SHUTTING_DOWN or vm.state in GONE or vm.removed
        if not already:
            attributes.ensure_may_terminate(vm)
            vms.destroy_vm(call.session, call.ctx, vm, expunge=True)

    return _change_states(call, "TerminatingInstances", "terminated", terminate)


def reboot_instances(call: Call) -> None:
    for instance_id, vm in vms_by_instance_ids(call, call.get("InstanceIds")):
        with _as_instance(instance_id, "rebooted"):
            vms.reboot_vm(call.session, call.ctx, vm)


ACTIONS = (
    Action(
        "DescribeInstances",
        describe_instances,
        notes="terminated instances stay listed for an hour; the one network interface is the "
        "VM's NIC in its subnet (DescribeNetworkInterfaces shows the same, read-only); "
        "PublicIpAddress and PublicDnsName only from an Elastic IP",
    ),
    Action("StartInstances", start_instances, writes=True),
    Action(
        "StopInstances", stop_instances, writes=True, notes="Hibernate is not supported (ignored)"
    ),
    Action("RebootInstances", reboot_instances, writes=True),
    Action(
        "TerminateInstances",
        terminate_instances,
        writes=True,
        notes="destroys and expunges the VM; data disks launched with DeleteOnTermination go too",
    ),
)
