"""The hypervisor driver contract: the few things the core asks of a hypervisor.

Placement, capacity and VM state live in the core, so every driver is exercised by the same
core code paths. Drivers translate their library's exceptions (libvirt, XenAPI, vSphere)
into this tree inside the adapter:

    HypervisorError
     ├── HostUnreachable      the host did not answer; the operation may be retried
     └── OperationFailed      the host answered and refused or failed the operation

Every operation is idempotent: starting a running VM or destroying a missing one succeeds,
which is what lets the core resume interrupted jobs after a restart.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


class HypervisorError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HostUnreachable(HypervisorError):
    pass


class OperationFailed(HypervisorError):
    pass


class PowerState(enum.StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class HostRef:
    uuid: str
    name: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class VmSpec:
    """What a host needs to define and boot a VM."""

    instance_name: str
    uuid: str
    cpu_number: int
    cpu_speed_mhz: int
    memory_mb: int
    root_disk_bytes: int
    template_url: str = ""
    user_data: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HostStats:
    cpu_cores: int
    cpu_speed_mhz: int
    memory_bytes: int
    vm_count: int


class HypervisorDriver(Protocol):
    """A connection to one kind of hypervisor; one instance serves all hosts of that kind."""

    def start_vm(self, host: HostRef, spec: VmSpec) -> None:
        """Define (if needed) and boot the VM; succeed if it is already running."""

    def stop_vm(self, host: HostRef, instance_name: str, *, force: bool = False) -> None:
        """Shut the VM down; succeed if it is already stopped."""

    def reboot_vm(self, host: HostRef, instance_name: str) -> None:
        """Reboot a running VM."""

    def destroy_vm(self, host: HostRef, instance_name: str) -> None:
        """Remove the VM and its disks from the host; succeed if it is absent."""

    def power_state(self, host: HostRef, instance_name: str) -> PowerState:
        """What the host says the VM is doing now."""

    def host_stats(self, host: HostRef) -> HostStats:
        """The host's capacity and load as it reports them."""

    def migrate_vm(self, source: HostRef, destination: HostRef, instance_name: str) -> None:
        """Live-migrate a running VM; succeed if it already runs on `destination`."""

    def scale_vm(
        self,
        host: HostRef,
        instance_name: str,
        *,
        cpu_number: int,
        cpu_speed_mhz: int,
        memory_mb: int,
    ) -> None:
        """Give a running VM more CPU and memory (hot-plug); succeed if it already has them."""

    def create_vm_snapshot(
        self, host: HostRef, instance_name: str, snapshot_name: str, *, memory: bool
    ) -> None:
        """Snapshot the VM's disks (and memory); succeed if the snapshot already exists."""

    def revert_vm_snapshot(self, host: HostRef, instance_name: str, snapshot_name: str) -> None:
        """Return the VM to the snapshot; it is left running if the snapshot holds memory."""

    def delete_vm_snapshot(self, host: HostRef, instance_name: str, snapshot_name: str) -> None:
        """Remove the snapshot; succeed if it is absent."""

    # volumes (pool: the primary storage pool's uuid; path: the volume's path on it) -------

    def create_volume(self, pool: str, path: str, size_bytes: int) -> None:
        """Create an empty volume on the pool; succeed if it exists already."""

    def delete_volume(self, pool: str, path: str) -> None:
        """Remove the volume from the pool; succeed if it is absent."""

    def resize_volume(self, pool: str, path: str, size_bytes: int) -> None:
        """Grow or shrink the volume to `size_bytes`."""

    def migrate_volume(self, source_pool: str, target_pool: str, path: str) -> None:
        """Copy the volume to `target_pool` and remove it from `source_pool`."""

    def attach_volume(self, host: HostRef, instance_name: str, path: str, device_id: int) -> None:
        """Hot-plug the volume into a running VM; succeed if it is attached already."""

    def detach_volume(self, host: HostRef, instance_name: str, path: str) -> None:
        """Unplug the volume from a running VM; succeed if it is not attached."""

    # Volume snapshots: taken on the pool, then backed up by the core, which streams
    # `read_snapshot` into secondary storage (the object store) and removes the pool's copy;
    # reverting and new volumes stream the stored object back through `restore_volume`.

    def snapshot_volume(self, pool: str, path: str, snapshot_path: str) -> None:
        """Take a point-in-time snapshot of the volume on its pool; succeed if it exists."""

    def read_snapshot(self, pool: str, snapshot_path: str) -> Iterator[bytes]:
        """The snapshot's data, as chunks, to be backed up to secondary storage."""

    def delete_snapshot(self, pool: str, snapshot_path: str) -> None:
        """Remove the snapshot from the pool; succeed if it is absent."""

    def restore_volume(self, pool: str, path: str, data: Iterable[bytes]) -> None:
        """Replace the volume's content with snapshot data read back from secondary storage.

        Reading `data` may raise (the store failed, or the data did not match its recorded
        checksum); the volume must then be left as it was."""
