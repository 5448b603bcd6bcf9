"""The volume state machine, as data: every legal (state, event) → state is listed here."""

from __future__ import annotations

import enum

from core.state_machine import StateMachine


class VolumeState(enum.StrEnum):
    ALLOCATED = "Allocated"
    CREATING = "Creating"
    READY = "Ready"
    RESIZING = "Resizing"
    MIGRATING = "Migrating"
    REVERTING = "Reverting"
    UPLOADED = "Uploaded"
    DESTROY = "Destroy"
    EXPUNGING = "Expunging"
    EXPUNGED = "Expunged"
    ERROR = "Error"


class VolumeEvent(enum.StrEnum):
    CREATE_REQUESTED = "create requested"
    RESIZE_REQUESTED = "resize requested"
    MIGRATE_REQUESTED = "migrate requested"
    REVERT_REQUESTED = "revert requested"
    DESTROY_REQUESTED = "destroy requested"
    EXPUNGE_REQUESTED = "expunge requested"
    OPERATION_SUCCEEDED = "operation succeeded"
    OPERATION_FAILED = "operation failed"


_S, _E = VolumeState, VolumeEvent
TRANSITIONS: dict[tuple[VolumeState, VolumeEvent], VolumeState] = {
    (_S.ALLOCATED, _E.CREATE_REQUESTED): _S.CREATING,
    (_S.CREATING, _E.OPERATION_SUCCEEDED): _S.READY,
    (_S.CREATING, _E.OPERATION_FAILED): _S.ALLOCATED,
    (_S.ALLOCATED, _E.RESIZE_REQUESTED): _S.ALLOCATED,
    (_S.READY, _E.RESIZE_REQUESTED): _S.RESIZING,
    (_S.RESIZING, _E.OPERATION_SUCCEEDED): _S.READY,
    (_S.RESIZING, _E.OPERATION_FAILED): _S.READY,
    (_S.READY, _E.MIGRATE_REQUESTED): _S.MIGRATING,
    (_S.MIGRATING, _E.OPERATION_SUCCEEDED): _S.READY,
    (_S.MIGRATING, _E.OPERATION_FAILED): _S.READY,
    (_S.READY, _E.REVERT_REQUESTED): _S.REVERTING,
    (_S.REVERTING, _E.OPERATION_SUCCEEDED): _S.READY,
    (_S.REVERTING, _E.OPERATION_FAILED): _S.READY,
    (_S.ALLOCATED, _E.DESTROY_REQUESTED): _S.DESTROY,
    (_S.READY, _E.DESTROY_REQUESTED): _S.DESTROY,
    (_S.UPLOADED, _E.DESTROY_REQUESTED): _S.DESTROY,
    (_S.ERROR, _E.DESTROY_REQUESTED): _S.DESTROY,
    (_S.DESTROY, _E.EXPUNGE_REQUESTED): _S.EXPUNGING,
    (_S.EXPUNGING, _E.OPERATION_SUCCEEDED): _S.EXPUNGED,
    (_S.EXPUNGING, _E.OPERATION_FAILED): _S.DESTROY,
}

# Names kept for callers written before the state table.
READY = VolumeState.READY.value
ALLOCATED = VolumeState.ALLOCATED.value
DESTROYED = VolumeState.DESTROY.value
EXPUNGED = VolumeState.EXPUNGED.value
GONE = (VolumeState.EXPUNGING.value, EXPUNGED)  # deleted: no longer listed or found


MACHINE = StateMachine("Volume", VolumeState, TRANSITIONS)


def next_state(state: str, event: VolumeEvent, *, volume: object = "") -> VolumeState:
    """The state after `event`, or InvalidState when the table has no such transition."""
    return MACHINE.next_state(state, event, volume)
