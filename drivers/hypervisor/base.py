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
