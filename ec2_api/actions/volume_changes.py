"""ModifyVolume and DescribeVolumesModifications.

A size change is the core's resize (its job grows the disk); the modification is recorded
as a detail of the volume — what it was, what it becomes, when, and the core job doing it —
and its state is that job's: modifying while it runs, then completed (or failed). A change
of type, Iops or Throughput alone is recorded and completes at once: the core has no QoS.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from core import resource_details
from core import volumes as core_volumes
from core.db import utcnow
from core.jobs import FAILED, IN_PROGRESS, AsyncJob
from core.volumes import Volume, VolumeState
from ec2_api.action import Action
from ec2_api.actions.volume_views import (
    DETAIL_TYPE,
    VolumeRenderer,
    own_volumes,
    paged,
    volume_errors,
    volume_param,
    volumes_by_ids,
)
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value, missing_parameter
from translators import volumes as tv
from translators.filters import FilterSet, parse_filters
from translators.ids import VOLUME

_CHANGES = ("Size", "VolumeType", "Iops", "Throughput")


def _settings(volume_type: str, size: int, performance: tv.Performance) -> dict[str, Any]:
    return {
        "size": size,
        "type": volume_type,
        "iops": performance.iops,
        "throughput": performance.throughput,
    }


def _target(call: Call, renderer: VolumeRenderer, volume: Volume) -> dict[str, Any]:
    """The volume's settings after the change, checked as AWS checks them."""
    current_type = renderer.volume_type(volume)
    new_type = tv.check_volume_type(call.get("VolumeType") or current_type)
    iops, throughput = call.get("Iops"), call.get("Throughput")
    if new_type == current_type:
        kept = renderer.performance(volume)
        iops = iops if iops is not None or new_type not in ("io1", "io2", "gp3") else kept.iops
        if throughput is None and new_type == "gp3":
            throughput = kept.throughput
    elif new_type in ("io1", "io2") and iops is None:
        raise missing_parameter("iops")
    requested = tv.requested_performance(new_type, iops, throughput)
    size = call.get("Size")
    if size is None:
        size = volume.size_gb
    elif size < volume.size_gb:
        raise invalid_value(
            f"Invalid value '{size}' for size. New size cannot be smaller than existing size."
        )
    tv.check_size(new_type, size)
    return _settings(new_type, size, requested)


def _busy(call: Call, volume: Volume, recorded: dict[str, Any] | None) -> bool:
    if volume.state == VolumeState.RESIZING:
        return True
    return recorded is not None and _job_state(call, recorded)[0] == "modifying"


def _job_state(call: Call, recorded: dict[str, Any]) -> tuple[str, dt.datetime | None]:
    """(ModificationState, EndTime) from the core job that carries the change, if any."""
    if not recorded.get("job"):
        return "completed", dt.datetime.fromisoformat(recorded["start"])
    job = call.session.scalar(sa.select(AsyncJob).where(AsyncJob.uuid == recorded["job"]))
    if job is None or job.status == IN_PROGRESS:
        return "modifying", None
    return ("failed" if job.status == FAILED else "completed"), job.completed


def modification_view(call: Call, volume: Volume, recorded: dict[str, Any]) -> dict[str, Any]:
    state, ended = _job_state(call, recorded)
    original, target = recorded["original"], recorded["target"]
    view: dict[str, Any] = {
        "VolumeId": call.ids.encode(VOLUME, volume.id),
        "ModificationState": state,
        "TargetSize": target["size"],
        "TargetVolumeType": target["type"],
        "TargetMultiAttachEnabled": False,
        "OriginalSize": original["size"],
        "OriginalVolumeType": original["type"],
        "OriginalMultiAttachEnabled": False,
        "Progress": 0 if state == "modifying" else 100,
        "StartTime": dt.datetime.fromisoformat(recorded["start"]),
    }
    for key, name in (("iops", "Iops"), ("throughput", "Throughput")):
        if target[key] is not None:
            view[f"Target{name}"] = target[key]
        if original[key] is not None:
            view[f"Original{name}"] = original[key]
    if ended is not None:
        view["EndTime"] = ended
    return view


def modify_volume(call: Call) -> dict[str, Any]:
    volume = volume_param(call)
    if call.get("MultiAttachEnabled"):
        raise Ec2Error("UnsupportedOperation", "Multi-attach volumes are not supported.")
    if all(call.get(name) is None for name in _CHANGES):
        raise missing_parameter("size, volumeType, iops or throughput")
    renderer = VolumeRenderer(call).prepare([volume])
    details = renderer.details(volume)
    recorded = (
        json.loads(details[tv.MODIFICATION_DETAIL]) if details.get(tv.MODIFICATION_DETAIL) else None
    )
    if _busy(call, volume, recorded):
        raise Ec2Error(
            "IncorrectModificationState",
            f"Cannot modify volume {call.get('VolumeId')} as it is already being modified.",
        )
    original = _settings(renderer.volume_type(volume), volume.size_gb, renderer.performance(volume))
    target = _target(call, renderer, volume)
    job = None
    if target["size"] > volume.size_gb:
        with volume_errors(call.get("VolumeId")):
            job = core_volumes.resize_volume(call.session, call.ctx, volume, size_gb=target["size"])
    recorded = {
        "original": original,
        "target": target,
        "start": utcnow().isoformat(),
        "job": job.uuid if job is not None else None,
    }
    resource_details.set_details(
        call.session,
        DETAIL_TYPE,
        volume.id,
        {
            tv.TYPE_DETAIL: target["type"],
            tv.IOPS_DETAIL: None if target["iops"] is None else str(target["iops"]),
            tv.THROUGHPUT_DETAIL: None
            if target["throughput"] is None
            else str(target["throughput"]),
            tv.MODIFICATION_DETAIL: json.dumps(recorded),
        },
    )
    return {"VolumeModification": modification_view(call, volume, recorded)}


MODIFICATION_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "volume-id": lambda m: m["VolumeId"],
        "modification-state": lambda m: m["ModificationState"],
        "target-size": lambda m: m["TargetSize"],
        "target-iops": lambda m: m.get("TargetIops"),
        "target-volume-type": lambda m: m["TargetVolumeType"],
        "target-throughput": lambda m: m.get("TargetThroughput"),
        "original-size": lambda m: m["OriginalSize"],
        "original-iops": lambda m: m.get("OriginalIops"),
        "original-volume-type": lambda m: m["OriginalVolumeType"],
        "original-throughput": lambda m: m.get("OriginalThroughput"),
        "start-time": lambda m: m["StartTime"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
)


def describe_volumes_modifications(call: Call) -> dict[str, Any]:
    volume_ids = call.get("VolumeIds")
    volumes = volumes_by_ids(call, volume_ids) if volume_ids else own_volumes(call)
    details = resource_details.details_of(call.session, DETAIL_TYPE, [v.id for v in volumes])
    views = [
        modification_view(call, volume, json.loads(details[volume.id][tv.MODIFICATION_DETAIL]))
        for volume in volumes
        if tv.MODIFICATION_DETAIL in details[volume.id]
    ]
    views = MODIFICATION_FILTERS.select(views, parse_filters(call.get("Filters")))
    return paged(call, views, "VolumesModifications", 500)


ACTIONS = (
    Action(
        "ModifyVolume",
        modify_volume,
        writes=True,
        notes="Size grows the core volume (resizeVolume); VolumeType/Iops/Throughput are "
        "recorded only (no QoS in the core)",
    ),
    Action("DescribeVolumesModifications", describe_volumes_modifications),
)
