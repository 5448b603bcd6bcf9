"""The VM state table itself."""

from __future__ import annotations

import pytest

from core.errors import InvalidState
from core.vms.states import TRANSITIONAL, TRANSITIONS, VmEvent, VmState, next_state


def test_every_transitional_state_has_a_way_out_on_success_and_failure() -> None:
    for state in TRANSITIONAL:
        assert (state, VmEvent.OPERATION_SUCCEEDED) in TRANSITIONS
        assert (state, VmEvent.OPERATION_FAILED) in TRANSITIONS
        assert TRANSITIONS[(state, VmEvent.OPERATION_FAILED)] not in TRANSITIONAL


def test_unknown_transition_raises_invalid_state() -> None:
    with pytest.raises(InvalidState) as caught:
        next_state(VmState.DESTROYED, VmEvent.START_REQUESTED, vm="v1")
    assert caught.value.state == "Destroyed"
    assert next_state("Stopped", VmEvent.START_REQUESTED) is VmState.STARTING
