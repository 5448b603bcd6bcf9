"""How core volumes look as EBS volumes, with the per-request lookups done in bulk.

The state of a volume and of its attachment is the core's row plus the job running on it
(translators.volumes has the table): a detach is answered at once by the core, which unlinks
the VM and queues the driver work, so while that job runs the volume is still shown in-use
with its attachment `detaching`, as AWS shows it. Which snapshot a volume was created from
is read from its creation job, which the core keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from core import errors, resource_details
from core.infra import Zone
from core.jobs import IN_PROGRESS, AsyncJob
from core.offerings import DiskOffering
from core.visibility import ListScope
from core.volumes import INSTANCE_TYPE, ROOT, Volume, VolumeFilter, list_volumes
from ec2_api import tagging
from ec2_api.actions.selection import by_ec2_ids
from ec2_api.call import Call
from ec2_api.errors import SERVER_ERROR, Ec2Error, missing_parameter
from ec2_api.paging import page
from translators import volumes as tv
from translators.filters import FilterSet
from translators.ids import INSTANCE, SNAPSHOT, VOLUME
from translators.zones import zone_id as ec2_zone_id

FROM_SNAPSHOT_JOB = "volume.fromsnapshot"
CREATE_JOBS = ("volume.create", FROM_SNAPSHOT_JOB)
DETAIL_TYPE = INSTANCE_TYPE  # details are kept under the core's resource type


def own_volumes(call: Call) -> list[Volume]:
    """The caller's own volumes (EC2 callers act for their account, admins included)."""
    rows, _ = list_volumes(call.session, call.ctx, ListScope(), VolumeFilter())
    return rows


def pick_by_ids(
    call: Call, prefix: str, noun: str, ec2_ids: list[str], rows: list[Any]
) -> list[Any]:
    """The rows (core models with an `id`) these EC2 ids name, in order, each once.

    Ids naming nothing among `rows` are `Invalid<Noun>.NotFound`, all in one message as AWS
    words it; a malformed id is the prefix's Malformed error (raised by the decoder).
    """

    def not_found(missing: list[str]) -> Ec2Error:
        if len(missing) == 1:
            message = f"The {noun} '{missing[0]}' does not exist."
        else:
            message = f"The {noun}s '{', '.join(missing)}' do not exist."
        return Ec2Error(f"Invalid{noun.capitalize()}.NotFound", message)

    return list(by_ec2_ids(call, prefix, ec2_ids, lambda _core_ids: rows, not_found).values())


def volumes_by_ids(call: Call, volume_ids: list[str]) -> list[Volume]:
    """The caller's volumes with these ids, in order; InvalidVolume* if any is not theirs."""
    return pick_by_ids(call, VOLUME, "volume", volume_ids, own_volumes(call))


def volume_param(call: Call) -> Volume:
    """The volume named by the request's VolumeId."""
    volume_id = call.get("VolumeId")
    if not volume_id:
        raise missing_parameter("VolumeId")
    return volumes_by_ids(call, [volume_id])[0]


@contextmanager
def volume_errors(volume_id: str, limit_code: str = "VolumeLimitExceeded") -> Iterator[None]:
    """Core refusals about one volume, in EC2's codes."""
    try:
        yield
    except errors.InvalidState as error:
        if error.kind != "Volume":
            raise Ec2Error("IncorrectState", error.message) from None
        state = tv.volume_state(error.state, attached=False)
        raise Ec2Error(
            "IncorrectState", f"Volume '{volume_id}' is in the '{state}' state."
        ) from None
    except errors.LimitExceeded as error:
        raise Ec2Error(
            limit_code,
            f"You have exceeded your maximum {error.resource} limit ({error.limit}).",
        ) from None
    except errors.InsufficientCapacity as error:
        raise Ec2Error("InsufficientVolumeCapacity", error.message, SERVER_ERROR) from None


def paged(call: Call, items: list[Any], key: str, maximum: int = 1000) -> dict[str, Any]:
    """`{key: one page, NextToken: …}` by MaxResults/NextToken."""
    shown, next_token = page(items, call.get("MaxResults"), call.get("NextToken"), maximum=maximum)
    result: dict[str, Any] = {key: shown}
    if next_token:
        result["NextToken"] = next_token
    return result


def _timestamp(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value is not None else ""


class VolumeRenderer:
    """Turns volumes into EC2 Volume structures (zones, offerings, jobs, tags in bulk)."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self._zones: dict[int, Zone] = {}
        self._offerings: dict[int, DiskOffering] = {}
        self._busy: dict[int, AsyncJob] = {}
        self._sources: dict[int, int] = {}
        self._details: dict[int, dict[str, str]] = {}
        self._tags: dict[int, list[dict[str, str]]] = {}

    def prepare(self, rows: list[Volume]) -> VolumeRenderer:
        session, ids = self.call.session, [v.id for v in rows]
        jobs = session.scalars(
            sa.select(AsyncJob)
            .where(
                AsyncJob.instance_type == INSTANCE_TYPE,
                AsyncJob.instance_id.in_(ids),
                sa.or_(AsyncJob.status == IN_PROGRESS, AsyncJob.kind == FROM_SNAPSHOT_JOB),
            )
            .order_by(AsyncJob.id)
        )
        self._busy, self._sources = {}, {}
        for job in jobs:
            assert job.instance_id is not None
            if job.status == IN_PROGRESS:
                self._busy[job.instance_id] = job
            if job.kind == FROM_SNAPSHOT_JOB:
                self._sources[job.instance_id] = job.arguments["snapshot_id"]
        self._details = resource_details.details_of(session, DETAIL_TYPE, ids)
        self._tags = tagging.tags_by_id(self.call, "volume", ids)
        return self

    def details(self, volume: Volume) -> dict[str, str]:
        return self._details.get(volume.id, {})

    def _zone(self, zone_id: int) -> Zone:
        if zone_id not in self._zones:
            self._zones[zone_id] = self.call.session.get_one(Zone, zone_id)
        return self._zones[zone_id]

    def _offering(self, offering_id: int | None) -> DiskOffering | None:
        if offering_id is None:
            return None
        if offering_id not in self._offerings:
            self._offerings[offering_id] = self.call.session.get_one(DiskOffering, offering_id)
        return self._offerings[offering_id]

    def _job(self, volume: Volume, *kinds: str) -> AsyncJob | None:
        job = self._busy.get(volume.id)
        return job if job is not None and job.kind in kinds else None

    def attachments(self, volume: Volume) -> list[dict[str, Any]]:
        ids, volume_id = self.call.ids, self.call.ids.encode(VOLUME, volume.id)
        asked = self.details(volume).get(tv.DEVICE_DETAIL)
        if volume.vm_id is not None and volume.device_id is not None:
            state = "attaching" if self._job(volume, "volume.attach", *CREATE_JOBS) else "attached"
            vm_id, device_id, attached = volume.vm_id, volume.device_id, volume.attached
        elif (job := self._job(volume, "volume.detach")) is not None:
            state = "detaching"
            vm_id, device_id = job.arguments["vm_id"], job.arguments.get("device_id") or 0
            attached = None
        else:
            return []
        attachment: dict[str, Any] = {
            "VolumeId": volume_id,
            "InstanceId": ids.encode(INSTANCE, vm_id),
            "Device": tv.device_name(device_id, asked),
            "State": state,
            "DeleteOnTermination": volume.volume_type == ROOT or volume.delete_on_termination,
        }
        if attached is not None:
            attachment["AttachTime"] = attached
        return [attachment]

    def state(self, volume: Volume) -> str:
        creating = self._job(volume, *CREATE_JOBS) is not None and volume.vm_id is None
        attached = volume.vm_id is not None or self._job(volume, "volume.detach") is not None
        return tv.volume_state(volume.state, attached=attached, creating=creating)

    def volume_type(self, volume: Volume) -> str:
        offering = self._offering(volume.disk_offering_id)
        return tv.volume_type_of(offering, self.details(volume).get(tv.TYPE_DETAIL))

    def performance(self, volume: Volume) -> tv.Performance:
        details = self.details(volume)
        recorded = tv.Performance(
            iops=int(details[tv.IOPS_DETAIL]) if tv.IOPS_DETAIL in details else None,
            throughput=(
                int(details[tv.THROUGHPUT_DETAIL]) if tv.THROUGHPUT_DETAIL in details else None
            ),
        )
        return tv.reported_performance(self.volume_type(volume), volume.size_gb, recorded)

    def volume(self, volume: Volume) -> dict[str, Any]:
        """DescribeVolumes' Volume (also CreateVolume's answer) for one volume."""
        zone = self._zone(volume.zone_id)
        source = self._sources.get(volume.id)
        view: dict[str, Any] = {
            "VolumeId": self.call.ids.encode(VOLUME, volume.id),
            "Size": volume.size_gb,
            "SnapshotId": self.call.ids.encode(SNAPSHOT, source) if source else "",
            "AvailabilityZone": zone.name,
            "AvailabilityZoneId": ec2_zone_id(self.call.region, zone),
            "State": self.state(volume),
            "CreateTime": volume.created,
            "Attachments": self.attachments(volume),
            "VolumeType": self.volume_type(volume),
            "Encrypted": False,
            "MultiAttachEnabled": False,
            "Tags": self._tags.get(volume.id, []),
        }
        performance = self.performance(volume)
        if performance.iops is not None:
            view["Iops"] = performance.iops
        if performance.throughput is not None:
            view["Throughput"] = performance.throughput
        return view


def _a(key: str) -> Any:
    return lambda v: [a[key] for a in v["Attachments"]]


VOLUME_FILTERS: FilterSet[dict[str, Any]] = tagging.filter_set(
    {
        "volume-id": lambda v: v["VolumeId"],
        "status": lambda v: v["State"],
        "size": lambda v: v["Size"],
        "availability-zone": lambda v: v["AvailabilityZone"],
        "availability-zone-id": lambda v: v["AvailabilityZoneId"],
        "volume-type": lambda v: v["VolumeType"],
        "snapshot-id": lambda v: v["SnapshotId"],
        "create-time": lambda v: _timestamp(v["CreateTime"]),
        "encrypted": lambda v: v["Encrypted"],
        "multi-attach-enabled": lambda v: v["MultiAttachEnabled"],
        "fast-restored": lambda v: False,
        "attachment.instance-id": _a("InstanceId"),
        "attachment.device": _a("Device"),
        "attachment.status": _a("State"),
        "attachment.delete-on-termination": _a("DeleteOnTermination"),
        "attachment.attach-time": lambda v: [
            _timestamp(a.get("AttachTime")) for a in v["Attachments"]
        ],
    },
    lambda v: v["Tags"],
)
