"""The VM state machine, as data: every legal (state, event) → state is listed here."""

from __future__ import annotations

import enum

from core.db import utcnow
from core.state_machine import StateMachine


class VmState(enum.StrEnum):
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    DESTROYED = "Destroyed"
    EXPUNGING = "Expunging"
    EXPUNGED = "Expunged"
    MIGRATING = "Migrating"
    ERROR = "Error"
    UNKNOWN = "Unknown"
    SHUTDOWN = "Shutdown"


class VmEvent(enum.StrEnum):
    START_REQUESTED = "start requested"
    STOP_REQUESTED = "stop requested"
    REBOOT_REQUESTED = "reboot requested"
    DESTROY_REQUESTED = "destroy requested"
    EXPUNGE_REQUESTED = "expunge requested"
    RECOVER_REQUESTED = "recover requested"
    OPERATION_SUCCEEDED = "operation succeeded"
    OPERATION_FAILED = "operation failed"
    DEPLOY_FAILED = "deploy failed"
    MIGRATE_REQUESTED = "migrate requested"
    # Requests that keep the power state: the table only says in which states they are legal.
    SCALE_REQUESTED = "scale requested"
    CHANGE_OFFERING_REQUESTED = "change service offering requested"
    RESET_PASSWORD_REQUESTED = "reset password requested"
    RESET_SSH_KEY_REQUESTED = "reset SSH key requested"
    UPDATE_REQUESTED = "update requested"
    SNAPSHOT_REQUESTED = "snapshot requested"
    REVERT_REQUESTED = "revert to snapshot requested"


S, E = VmState, VmEvent

TRANSITIONS: dict[tuple[VmState, VmEvent], VmState] = {
    (S.STOPPED, E.START_REQUESTED): S.STARTING,
    (S.STARTING, E.OPERATION_SUCCEEDED): S.RUNNING,
    (S.STARTING, E.OPERATION_FAILED): S.STOPPED,
    (S.STARTING, E.DEPLOY_FAILED): S.ERROR,
    (S.RUNNING, E.STOP_REQUESTED): S.STOPPING,
    (S.RUNNING, E.REBOOT_REQUESTED): S.RUNNING,
    (S.STOPPING, E.OPERATION_SUCCEEDED): S.STOPPED,
    (S.STOPPING, E.OPERATION_FAILED): S.RUNNING,
    (S.STOPPED, E.STOP_REQUESTED): S.STOPPED,
    (S.STOPPED, E.DESTROY_REQUESTED): S.DESTROYED,
    (S.ERROR, E.DESTROY_REQUESTED): S.DESTROYED,
    (S.SHUTDOWN, E.DESTROY_REQUESTED): S.DESTROYED,
    (S.DESTROYED, E.RECOVER_REQUESTED): S.STOPPED,
    (S.DESTROYED, E.EXPUNGE_REQUESTED): S.EXPUNGING,
    (S.ERROR, E.EXPUNGE_REQUESTED): S.EXPUNGING,
    (S.EXPUNGING, E.OPERATION_SUCCEEDED): S.EXPUNGED,
    (S.EXPUNGING, E.OPERATION_FAILED): S.DESTROYED,
    (S.RUNNING, E.MIGRATE_REQUESTED): S.MIGRATING,
    (S.MIGRATING, E.OPERATION_SUCCEEDED): S.RUNNING,
    (S.MIGRATING, E.OPERATION_FAILED): S.RUNNING,
    (S.RUNNING, E.SCALE_REQUESTED): S.RUNNING,
    (S.STOPPED, E.SCALE_REQUESTED): S.STOPPED,
    (S.STOPPED, E.CHANGE_OFFERING_REQUESTED): S.STOPPED,
    (S.RUNNING, E.RESET_PASSWORD_REQUESTED): S.RUNNING,
    (S.STOPPED, E.RESET_PASSWORD_REQUESTED): S.STOPPED,
    (S.STOPPED, E.RESET_SSH_KEY_REQUESTED): S.STOPPED,
    (S.RUNNING, E.UPDATE_REQUESTED): S.RUNNING,
    (S.STOPPED, E.UPDATE_REQUESTED): S.STOPPED,
    (S.STARTING, E.UPDATE_REQUESTED): S.STARTING,
    (S.STOPPING, E.UPDATE_REQUESTED): S.STOPPING,
    (S.ERROR, E.UPDATE_REQUESTED): S.ERROR,
    (S.SHUTDOWN, E.UPDATE_REQUESTED): S.SHUTDOWN,
    (S.RUNNING, E.SNAPSHOT_REQUESTED): S.RUNNING,
    (S.STOPPED, E.SNAPSHOT_REQUESTED): S.STOPPED,
    (S.RUNNING, E.REVERT_REQUESTED): S.RUNNING,
    (S.STOPPED, E.REVERT_REQUESTED): S.STOPPED,
}

TRANSITIONAL = frozenset({S.STARTING, S.STOPPING, S.EXPUNGING, S.MIGRATING})


MACHINE = StateMachine("VM", VmState, TRANSITIONS, stamp=lambda: {"state_changed": utcnow()})


def next_state(state: VmState | str, event: VmEvent, *, vm: object = "") -> VmState:
    """The state after `event`, or InvalidState when the table has no such transition."""
    return MACHINE.next_state(state, event, vm)
