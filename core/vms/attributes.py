"""VM attributes EC2 has and CloudStack lacks, kept on the one VM row both APIs show.

- Termination protection (`disable_api_termination`) and stop protection
  (`disable_api_stop`): while set, an API request to terminate (stop) the VM is refused with
  VmProtected. They guard requests of the VM's users only: the account's deletion and the
  periodic expunge still remove the VM, as closing an AWS account does.
- The shutdown behaviour (`stop` or `terminate`): what a shutdown from inside the guest means.
- A boot log for GetConsoleOutput, in the shape a Linux guest with cloud-init prints.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.context import CallContext
from core.errors import InvalidParameter, InvalidState, NotFound, PermissionDenied
from core.vms.access import VmUpdate, update_vm
from core.vms.models import VirtualMachine
from core.vms.service import check_shutdown_behavior
from core.vms.states import VmEvent, VmState, next_state

TERMINATION = "disableApiTermination"
STOP = "disableApiStop"


class VmProtected(PermissionDenied):
    """The VM's protection attribute forbids the operation until it is switched off."""

    def __init__(self, vm: VirtualMachine, operation: str, attribute: str) -> None:
        super().__init__(
            f"The VM {vm.uuid} may not be {operation}; its {attribute} attribute is set"
        )
        self.vm = vm
        self.operation = operation
        self.attribute = attribute


@dataclass(frozen=True, slots=True)
class Protection:
    """What a request changes; None leaves an attribute as it is."""

    disable_api_termination: bool | None = None
    disable_api_stop: bool | None = None
    shutdown_behavior: str | None = None


def set_protection(
    session: Session, ctx: CallContext, vm: VirtualMachine, change: Protection
) -> VirtualMachine:
    """Switch the VM's protection attributes or shutdown behaviour (any live state)."""
    if change.shutdown_behavior is not None:
        check_shutdown_behavior(change.shutdown_behavior)
    update_vm(session, ctx, vm, VmUpdate())  # the state check and the VM.UPDATE event
    if change.shutdown_behavior is not None:
        vm.shutdown_behavior = change.shutdown_behavior
    if change.disable_api_termination is not None:
        vm.disable_api_termination = change.disable_api_termination
    if change.disable_api_stop is not None:
        vm.disable_api_stop = change.disable_api_stop
    session.flush()
    return vm


def ensure_may_terminate(vm: VirtualMachine) -> None:
    if vm.disable_api_termination:
        raise VmProtected(vm, "terminated", TERMINATION)


def ensure_may_stop(vm: VirtualMachine) -> None:
    if vm.disable_api_stop:
        raise VmProtected(vm, "stopped", STOP)


def set_user_data(session: Session, ctx: CallContext, vm: VirtualMachine, text: str) -> None:
    """New user data for a stopped VM (EC2 reads it at the next boot, so it must be stopped)."""
    if vm.state != VmState.STOPPED:
        raise InvalidState("VM", vm.uuid, vm.state, "change its user data")
    update_vm(session, ctx, vm, VmUpdate(user_data=text))


def set_security_groups(
    session: Session, ctx: CallContext, vm: VirtualMachine, group_uuids: list[str]
) -> None:
    """Replace the VM's security groups by `group_uuids` (the owner's groups)."""
    from core import security_groups

    if not group_uuids:
        raise InvalidParameter("At least one security group is required", parameter="groups")
    next_state(vm.state, VmEvent.UPDATE_REQUESTED, vm=vm.uuid)
    owner = CallContext(
        user_id=vm.user_id, account_id=vm.account_id, domain_id=vm.domain_id, role=ctx.role
    )
    groups = security_groups.resolve_for_deploy(session, owner, ids=group_uuids, names=[])
    security_groups.detach_from_vm(session, vm.id)
    security_groups.attach_to_vm(session, vm.id, groups)


def set_delete_on_termination(
    session: Session, vm: VirtualMachine, device_id: int, delete: bool
) -> None:
    """Whether the data disk at `device_id` goes when the VM is expunged (the root disk does,
    always)."""
    from core.volumes import DATADISK, volumes_of_vm

    disk = next((v for v in volumes_of_vm(session, vm.id) if v.device_id == device_id), None)
    if disk is None:
        raise NotFound("volume", device_id, f"No disk is attached at device {device_id}")
    if disk.volume_type != DATADISK:
        if not delete:
            raise InvalidParameter(
                "The root disk is always deleted with its VM", parameter="deleteOnTermination"
            )
        return
    disk.delete_on_termination = delete
    session.flush()


# console -----------------------------------------------------------------------------------

NEVER_BOOTED = frozenset({VmState.ERROR})


def boot_log(vm: VirtualMachine, keys: list[tuple[str, str]]) -> str:
    """The console of a VM's last boot: kernel, cloud-init and its SSH host keys.

    `keys` are (name, fingerprint) of the authorized key pairs; empty for a VM that never
    booted (a VM created stopped, or one whose first start failed).
    """
    if vm.state_changed is None or (vm.host_id is None and vm.last_host_id is None):
        return ""
    if vm.state in NEVER_BOOTED:
        return ""
    seed = hashlib.sha256(vm.uuid.encode()).hexdigest()
    host_key = ":".join(seed[i : i + 2] for i in range(0, 32, 2))
    lines = [
        "[    0.000000] Linux version 6.1.0-cloud-amd64 (gcc 12.2.0) #1 SMP PREEMPT_DYNAMIC",
        f"[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=UUID={vm.uuid} ro console=ttyS0",
        f"[    0.000000] Memory: {vm.memory_mb * 1024}K available",
        f"[    0.012000] smpboot: Allowing {vm.cpu_number} CPUs, 0 hotplug CPUs",
        "[    1.204000] EXT4-fs (vda1): mounted filesystem with ordered data mode.",
        "[    2.310000] systemd[1]: Started Initial cloud-init job (pre-networking).",
        f"cloud-init[412]: Cloud-init v. 23.1 running 'init' for instance {vm.instance_name}",
        f"cloud-init[412]: ci-info: | eth0 | True | {vm.private_ip} | {vm.mac_address} |",
    ]
    if vm.user_data:
        lines.append("cloud-init[412]: user data: processed")
    if keys:
        lines.append(
            "ci-info: Authorized keys for user cloud-user (Keytype | Fingerprint | Comment)"
        )
    for name, fingerprint in keys:
        lines.append(f"ci-info: | ssh-rsa | {fingerprint} | - | {name} |")
    lines += [
        "-----BEGIN SSH HOST KEY FINGERPRINTS-----",
        f"256 SHA256:{host_key} root@{vm.name} (ED25519)",
        "-----END SSH HOST KEY FINGERPRINTS-----",
        f"cloud-init[530]: Cloud-init v. 23.1 finished. Datasource DataSourceEc2. Up {vm.id}.0 s",
        "",
    ]
    return "\r\n".join(lines)
