"""EBS volumes and snapshots ⇄ core volumes and snapshots.

Device names. A core attachment is a device id (0 the root disk, 3 CloudStack's CD-ROM);
its EC2 device name is the letter at that position: 1 → `/dev/sdb`, 5 → `/dev/sdf`, and the
root disk is `/dev/sda1`. `/dev/sdX`, `/dev/xvdX`, `/dev/vdX` and `xvdX` all name device X,
so scripts written for either naming work; the name given at attach is echoed back while it
still names the volume's device.

States. Volume (core state, attached?) → EC2 state:
    Allocated, Ready, Resizing, Migrating, Reverting, Uploaded → available, or in-use when
        attached to an instance
    Creating → creating (and any volume whose create job is still running)
    Destroy, Expunging, Expunged → deleting / deleted      Error → error
An attachment is `attaching` while its attach job runs, `detaching` while its detach job
runs (the volume stays in-use until the job is done), else `attached`.
Snapshot: Allocated, Creating, CreatedOnPrimary, BackingUp → pending; BackedUp → completed;
Error → error; Destroying, Destroyed are deleted (not shown).

Volume types. Every EC2 type is a size-customizable disk offering: the offering named like
the type if the operator created one (`gp3`, `io1` …), else the first customizable offering
(CloudStack's "Custom"). The type a volume was created with is kept as a detail and shown
again; a volume made through CloudStack reads as `standard`. Iops and Throughput are what
AWS reports for the type and size (gp2 3 IOPS/GiB, gp3 3000/125 by default, io1/io2 as
asked); the core has no QoS, so they are echoed, not enforced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.context import CallContext
from core.errors import InvalidParameter
from core.offerings import DiskOffering, list_disk_offerings
from core.snapshots import SnapshotState
from core.volumes import VolumeState

ROOT_DEVICE_NAME = "/dev/sda1"
_DEVICE = re.compile(r"(?:/dev/)?(?:sd|xvd|vd|hd)([a-z])(\d*)")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"

DEFAULT_VOLUME_TYPE = "gp2"  # CreateVolume without VolumeType, as on AWS
UNMAPPED_VOLUME_TYPE = "standard"  # a volume created through CloudStack
VOLUME_TYPES = ("standard", "gp2", "gp3", "io1", "io2", "st1", "sc1")
MIN_SIZE_GIB = {"io1": 4, "io2": 4, "st1": 125, "sc1": 125}

# Details kept on volumes and snapshots (core.resource_details), under these names.
TYPE_DETAIL = "ec2:volume-type"
IOPS_DETAIL = "ec2:iops"
THROUGHPUT_DETAIL = "ec2:throughput"
DEVICE_DETAIL = "ec2:device"
TOKEN_DETAIL = "ec2:client-token"
DESCRIPTION_DETAIL = "ec2:description"
MODIFICATION_DETAIL = "ec2:modification"


# device names --------------------------------------------------------------------------------


def device_name(device_id: int, asked: str | None = None) -> str:
    """The EC2 device name of a core device id (`asked`, if it names the same device)."""
    if asked and parse_device(asked, strict=False) == device_id:
        return asked
    if device_id == 0:
        return ROOT_DEVICE_NAME
    return f"/dev/sd{_LETTERS[device_id]}" if device_id < len(_LETTERS) else f"/dev/sd{device_id}"


def parse_device(name: str, *, strict: bool = True) -> int | None:
    """The core device id an EC2 device name stands for (InvalidParameter if none)."""
    match = _DEVICE.fullmatch(name or "")
    if match is None or (match.group(2) and match.group(1) != "a"):
        if not strict:
            return None
        raise InvalidParameter(
            f"Value ({name}) for parameter device is invalid. {name} is not a valid EBS "
            "device name.",
            parameter="Device",
        )
    return _LETTERS.index(match.group(1))


# states --------------------------------------------------------------------------------------

_S = VolumeState
_GONE = {_S.DESTROY: "deleting", _S.EXPUNGING: "deleting", _S.EXPUNGED: "deleted"}


def volume_state(core_state: str, *, attached: bool, creating: bool = False) -> str:
    """EC2's state of a volume (see the table in the module docstring)."""
    if core_state == _S.CREATING or creating:
        return "creating"
    if core_state == _S.ERROR:
        return "error"
    if core_state in _GONE:
        return _GONE[VolumeState(core_state)]
    return "in-use" if attached else "available"


SNAPSHOT_STATES: dict[str, str] = {
    SnapshotState.ALLOCATED: "pending",
    SnapshotState.CREATING: "pending",
    SnapshotState.CREATED_ON_PRIMARY: "pending",
    SnapshotState.BACKING_UP: "pending",
    SnapshotState.BACKED_UP: "completed",
    SnapshotState.ERROR: "error",
}
HIDDEN_SNAPSHOT_STATES = (SnapshotState.DESTROYING.value, SnapshotState.DESTROYED.value)


def snapshot_state(core_state: str) -> str:
    return SNAPSHOT_STATES.get(core_state, "error")


# volume types --------------------------------------------------------------------------------


def check_volume_type(volume_type: str) -> str:
    if volume_type not in VOLUME_TYPES:
        raise InvalidParameter(
            f"Value ({volume_type}) for parameter volumeType is invalid. Valid types: "
            f"{', '.join(VOLUME_TYPES)}",
            parameter="VolumeType",
        )
    return volume_type


def disk_offering_for(
    session: Session, ctx: CallContext, volume_type: str, zone_id: int
) -> DiskOffering:
    """The size-customizable disk offering an EC2 volume type stands for in a zone."""
    check_volume_type(volume_type)
    offered = list_disk_offerings(session, ctx=ctx, zone_id=zone_id)
    customizable = [o for o in offered if o.is_customized]
    for offering in customizable:
        if offering.name == volume_type:
            return offering
    if not customizable:
        raise InvalidParameter(
            "No customizable disk offering exists for EBS volumes", parameter="VolumeType"
        )
    return customizable[0]


def volume_type_of(offering: DiskOffering | None, recorded: str | None) -> str:
    """The type a volume shows: the one it was created with, its offering's name, or standard."""
    if recorded in VOLUME_TYPES:
        return recorded
    if offering is not None and offering.name in VOLUME_TYPES:
        return offering.name
    return UNMAPPED_VOLUME_TYPE


@dataclass(frozen=True, slots=True)
class Performance:
    iops: int | None = None
    throughput: int | None = None


_IOPS_RANGE = {"gp3": (3000, 16000), "io1": (100, 64000), "io2": (100, 256000)}


def _not_supported(parameter: str, volume_type: str) -> InvalidParameter:
    return InvalidParameter(
        f"The parameter {parameter} is not supported for {volume_type} volumes.",
        parameter=parameter,
    )


def requested_performance(
    volume_type: str, iops: int | None, throughput: int | None
) -> Performance:
    """Check Iops/Throughput against the type, as AWS does; what to record."""
    if iops is not None:
        if volume_type not in _IOPS_RANGE:
            raise _not_supported("iops", volume_type)
        low, high = _IOPS_RANGE[volume_type]
        if not low <= iops <= high:
            raise InvalidParameter(
                f"Volume iops of {iops} is out of range for {volume_type}: {low} to {high}.",
                parameter="Iops",
            )
    if throughput is not None:
        if volume_type != "gp3":
            raise _not_supported("throughput", volume_type)
        if not 125 <= throughput <= 1000:
            raise InvalidParameter(
                f"Throughput of {throughput} MiB/s is out of range: 125 to 1000.",
                parameter="Throughput",
            )
    return Performance(iops, throughput)


def check_size(volume_type: str, size_gib: int) -> None:
    minimum = MIN_SIZE_GIB.get(volume_type, 1)
    if size_gib < minimum:
        raise InvalidParameter(
            f"Volume of {size_gib}GiB is too small; minimum is {minimum}GiB.", parameter="Size"
        )


def reported_performance(volume_type: str, size_gib: int, recorded: Performance) -> Performance:
    """Iops/Throughput as AWS reports them for a volume of this type and size."""
    if volume_type == "gp2":
        return Performance(iops=min(16000, max(100, 3 * size_gib)))
    if volume_type == "gp3":
        return Performance(iops=recorded.iops or 3000, throughput=recorded.throughput or 125)
    if volume_type in ("io1", "io2"):
        return Performance(iops=recorded.iops)
    return Performance()
