"""DescribeInstanceStatus: the health checks of instances, as AWS reports them.

The core knows whether a VM runs, not how healthy its guest is: a running instance passes
both checks (`ok`), a pending one is `initializing`, any other is `not-applicable`. Without
IncludeAllInstances only running instances are listed, as on AWS. There are no scheduled
events, so the `event.*` filters match nothing.
"""

from __future__ import annotations

from typing import Any

from ec2_api.action import Action
from ec2_api.actions.instance_views import PENDING, RUNNING, InstanceRenderer
from ec2_api.actions.instances import vms_for_describe
from ec2_api.call import Call
from ec2_api.paging import page
from translators.filters import FilterSet, parse_filters


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    if state is RUNNING:
        return {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]}
    if state is PENDING:
        return {
            "Status": "initializing",
            "Details": [{"Name": "reachability", "Status": "initializing"}],
        }
    return {"Status": "not-applicable"}


def _reachability(summary: dict[str, Any]) -> list[str]:
    return [detail["Status"] for detail in summary.get("Details", [])]


def _nothing(status: dict[str, Any]) -> list[str]:
    return []


STATUS_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "availability-zone": lambda s: s["AvailabilityZone"],
        "instance-state-name": lambda s: s["InstanceState"]["Name"],
        "instance-state-code": lambda s: s["InstanceState"]["Code"],
        "instance-status.status": lambda s: s["InstanceStatus"]["Status"],
        "instance-status.reachability": lambda s: _reachability(s["InstanceStatus"]),
        "system-status.status": lambda s: s["SystemStatus"]["Status"],
        "system-status.reachability": lambda s: _reachability(s["SystemStatus"]),
        "event.code": _nothing,
        "event.description": _nothing,
        "event.instance-event-id": _nothing,
        "event.not-after": _nothing,
        "event.not-before": _nothing,
        "event.not-before-deadline": _nothing,
    }
)


def describe_instance_status(call: Call) -> dict[str, Any]:
    vms = vms_for_describe(call)
    renderer = InstanceRenderer(call).prepare(vms)
    everything = bool(call.get("IncludeAllInstances"))
    statuses = []
    for vm in vms:
        state = renderer.state(vm)
        if state is not RUNNING and not everything:
            continue
        statuses.append(
            {
                "InstanceId": renderer.instance_id(vm),
                "AvailabilityZone": renderer.zone(vm.zone_id).name,
                "InstanceState": state,
                "InstanceStatus": _summary(state),
                "SystemStatus": _summary(state),
                "Events": [],
            }
        )
    statuses = STATUS_FILTERS.select(statuses, parse_filters(call.get("Filters")))
    shown, next_token = page(statuses, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {"InstanceStatuses": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


ACTIONS = (
    Action(
        "DescribeInstanceStatus",
        describe_instance_status,
        notes="running instances pass both checks; no scheduled events",
    ),
)
