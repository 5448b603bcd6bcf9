"""The action table: every EC2 action this endpoint answers, wire name → handler.

An explicit registry (never `getattr` on a wire name): an action not listed here is
`InvalidAction`. `writes` selects a write transaction; read-only actions run in a read one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ec2_api.actions import images, instance_types, instances, regions
from ec2_api.call import Call


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    handler: Callable[[Call], dict[str, Any] | None]
    writes: bool = False
    notes: str = ""


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            "DescribeRegions",
            regions.describe_regions,
            notes="one region, the configured `--region`",
        ),
        Action(
            "DescribeAvailabilityZones",
            regions.describe_availability_zones,
            notes="zones are availability zones; `available` while the zone is enabled",
        ),
        Action(
            "DescribeImages",
            images.describe_images,
            notes="AMIs are templates; Owners `amazon` = public system templates, `self`",
        ),
        Action(
            "DescribeInstanceTypes",
            instance_types.describe_instance_types,
            notes="generated from service offerings (t2.micro → Small Instance, …)",
        ),
        Action(
            "DescribeInstances",
            instances.describe_instances,
            notes="terminated instances stay listed for an hour; `tag:` filters match nothing yet",
        ),
        Action(
            "RunInstances",
            instances.run_instances,
            writes=True,
            notes="ClientToken idempotent; MinCount all-or-nothing; tags not applied yet",
        ),
        Action("StartInstances", instances.start_instances, writes=True),
        Action("StopInstances", instances.stop_instances, writes=True),
        Action("RebootInstances", instances.reboot_instances, writes=True),
        Action(
            "TerminateInstances",
            instances.terminate_instances,
            writes=True,
            notes="destroys and expunges the VM",
        ),
    )
}
