"""Instances: RunInstances, DescribeInstances and Start/Stop/Reboot/TerminateInstances.

Every rule — permissions, limits, capacity, which state allows what — is the core's; this
module translates requests (and instance_views translates VMs and states back), adding only
EC2's idempotency: starting a running instance, stopping a stopping one or terminating a
terminated one succeeds and changes nothing. Terminated instances stay visible for an hour
after they are expunged, as on AWS. EC2 callers act for their own account, admins included,
as every AWS caller does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from core import errors
from core.db import new_uuid, utcnow
from core.infra import Zone
from core.templates import template_for_launch
from core.visibility import ListScope
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.vms.states import VmState
from ec2_api.actions.instance_views import (
    GONE,
    SHUTTING_DOWN,
    STOPPING,
    InstanceRenderer,
)
from ec2_api.call import Call
from ec2_api.errors import (
    SERVER_ERROR,
    Ec2Error,
    instances_not_found,
    invalid_value,
    missing_parameter,
)
from ec2_api.paging import page
from translators import images, zones
from translators.filters import FilterSet, parse_filters
from translators.ids import INSTANCE
from translators.instance_types import DEFAULT_INSTANCE_TYPE, load_catalogue

TERMINATED_VISIBLE_FOR = dt.timedelta(hours=1)
MAX_CLIENT_TOKEN = 64
# finding instances ------------------------------------------------------------------------


def _visible_vms(call: Call, core_ids: tuple[int, ...] | None) -> list[VirtualMachine]:
    """The caller's VMs (its own account's, as on AWS), terminated ones for an hour."""
    vm_filter = vms.VmFilter(ids=core_ids, include_expunged_since=utcnow() - TERMINATED_VISIBLE_FOR)
    rows, _ = vms.list_vms(call.session, call.ctx, ListScope(), vm_filter)
    return rows


def _vms_by_instance_ids(call: Call, instance_ids: list[str]) -> list[tuple[str, VirtualMachine]]:
    """(instance id, VM) for every id, in order; InvalidInstanceID.* if any is not visible."""
    wanted = {iid: call.ids.decode(INSTANCE, iid) for iid in dict.fromkeys(instance_ids)}
    core_ids = tuple(core_id for core_id in wanted.values() if core_id is not None)
    by_id = {vm.id: vm for vm in _visible_vms(call, core_ids)} if core_ids else {}
    missing = [iid for iid, core_id in wanted.items() if core_id not in by_id]
    if missing:
        raise instances_not_found(missing)
    return [(iid, by_id[core_id]) for iid, core_id in wanted.items() if core_id is not None]


# DescribeInstances ------------------------------------------------------------------------

Row = tuple[dict[str, Any], dict[str, Any]]  # (reservation without instances, instance)
NO_TAGS: list[str] = []  # tags arrive with issue 4; until then no instance has any


def _i(read: Callable[[dict[str, Any]], Any]) -> Callable[[Row], Any]:
    return lambda row: read(row[1])


INSTANCE_FILTERS: FilterSet[Row] = FilterSet(
    {
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
        "tag-key": lambda row: NO_TAGS,
        "tag-value": lambda row: NO_TAGS,
    },
    prefixes={"tag:": lambda row, key: NO_TAGS},
)


def describe_instances(call: Call) -> dict[str, Any]:
    instance_ids = call.get("InstanceIds")
    if instance_ids and call.get("MaxResults") is not None:
        raise Ec2Error(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        )
    if instance_ids:
        rows = [vm for _, vm in _vms_by_instance_ids(call, instance_ids)]
    else:
        rows = _visible_vms(call, None)
    renderer = InstanceRenderer(call).prepare(rows)
    pairs: list[Row] = [
        (
            {
                "ReservationId": renderer.reservation_id(vm),
                "OwnerId": call.ids.account_number(vm.account_id),
            },
            renderer.instance(vm),
        )
        for vm in rows
    ]
    pairs = INSTANCE_FILTERS.select(pairs, parse_filters(call.get("Filters")))
    shown, next_token = page(pairs, call.get("MaxResults"), call.get("NextToken"))
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


# RunInstances -----------------------------------------------------------------------------


def _counts(call: Call) -> tuple[int, int]:
    min_count, max_count = call.get("MinCount"), call.get("MaxCount")
    if min_count < 1:
        raise invalid_value(f"Invalid value '{min_count}' for minCount. Must be at least 1")
    if max_count < min_count:
        raise invalid_value(
            f"Invalid value '{max_count}' for maxCount. Must be at least minCount ({min_count})"
        )
    return min_count, max_count


def _too_few(error: errors.CloudgateError, launched: int, wanted: int, zone: Zone) -> Ec2Error:
    if isinstance(error, errors.LimitExceeded):
        return Ec2Error(
            "InstanceLimitExceeded",
            f"You have requested more instances ({wanted}) than your current instance limit "
            f"allows ({error.resource} limit {error.limit}; {launched} more would fit).",
        )
    return Ec2Error(
        "InsufficientInstanceCapacity",
        f"We currently do not have sufficient capacity in the Availability Zone you requested "
        f"({zone.name}): {launched} of the minimum {wanted} instances could be placed.",
        SERVER_ERROR,
    )


def _replay(call: Call, token: str, image_core_id: int | None) -> dict[str, Any] | None:
    """The reservation an earlier request with this ClientToken launched, if any."""
    earlier = vms.vms_by_launch_token(call.session, call.ctx, token)
    if not earlier:
        return None
    if image_core_id is not None and earlier[0].template_id != image_core_id:
        raise Ec2Error(
            "IdempotentParameterMismatch",
            f"Arguments on this idempotent request are inconsistent with arguments used in "
            f"previous request(s) with the client token '{token}'.",
        )
    return InstanceRenderer(call).prepare(earlier).reservation(earlier)


def run_instances(call: Call) -> dict[str, Any]:
    session, ctx = call.session, call.ctx
    ami_id = call.get("ImageId")
    if not ami_id:
        raise missing_parameter("ImageId")
    image_core_id = images.template_id(call.ids, ami_id)
    token = call.get("ClientToken") or None
    if token is not None:
        if len(token) > MAX_CLIENT_TOKEN:
            raise invalid_value(f"Invalid value for ClientToken: longer than {MAX_CLIENT_TOKEN}")
        replayed = _replay(call, token, image_core_id)
        if replayed is not None:
            return replayed
    min_count, max_count = _counts(call)
    template = template_for_launch(session, ctx, ident=image_core_id)
    offering = load_catalogue(session).offering_for(
        call.get("InstanceType") or DEFAULT_INSTANCE_TYPE
    )
    zone_name = (call.get("Placement") or {}).get("AvailabilityZone")
    zone = zones.zone_by_name(session, zone_name) if zone_name else zones.default_zone(session)
    user_data = vms.decode_user_data(call.get("UserData"))
    launch_group = new_uuid()
    launched: list[VirtualMachine] = []
    for index in range(max_count):
        spec = vms.DeploySpec(
            zone=zone,
            service_offering=offering,
            template=template,
            user_data=user_data,
            keypair=call.get("KeyName") or "",
            launch_group=launch_group,
            launch_token=token,
            launch_index=index,
        )
        try:
            # A savepoint per instance: one that does not fit leaves nothing behind, while
            # the ones before it stay in the request's transaction.
            with session.begin_nested():
                vm, _ = vms.deploy_vm(session, ctx, spec)
        except (errors.LimitExceeded, errors.InsufficientCapacity) as error:
            if len(launched) < min_count:
                raise _too_few(error, len(launched), min_count, zone) from None
            break
        launched.append(vm)
    return InstanceRenderer(call).prepare(launched).reservation(launched)


# Start / Stop / Reboot / Terminate --------------------------------------------------------


@contextmanager
def _as_instance(instance_id: str, verb: str, zone: Zone | None = None) -> Iterator[None]:
    """Core refusals about one VM, told in EC2's words about that instance."""
    try:
        yield
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
    targets = _vms_by_instance_ids(call, call.get("InstanceIds"))
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
            vms.stop_vm(call.session, call.ctx, vm, force=force)

    return _change_states(call, "StoppingInstances", "stopped", stop)


def terminate_instances(call: Call) -> dict[str, Any]:
    def terminate(renderer: InstanceRenderer, vm: VirtualMachine) -> None:
        already = renderer.state(vm) is SHUTTING_DOWN or vm.state in GONE or vm.removed
        if not already:
            vms.destroy_vm(call.session, call.ctx, vm, expunge=True)

    return _change_states(call, "TerminatingInstances", "terminated", terminate)


def reboot_instances(call: Call) -> None:
    for instance_id, vm in _vms_by_instance_ids(call, call.get("InstanceIds")):
        with _as_instance(instance_id, "rebooted"):
            vms.reboot_vm(call.session, call.ctx, vm)
