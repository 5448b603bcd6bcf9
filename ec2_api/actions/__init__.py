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


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("DescribeRegions", regions.describe_regions),
        Action("DescribeAvailabilityZones", regions.describe_availability_zones),
        Action("DescribeImages", images.describe_images),
        Action("DescribeInstanceTypes", instance_types.describe_instance_types),
        Action("DescribeInstances", instances.describe_instances),
        Action("RunInstances", instances.run_instances, writes=True),
        Action("StartInstances", instances.start_instances, writes=True),
        Action("StopInstances", instances.stop_instances, writes=True),
        Action("RebootInstances", instances.reboot_instances, writes=True),
        Action("TerminateInstances", instances.terminate_instances, writes=True),
    )
}
