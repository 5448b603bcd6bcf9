"""The generic state-machine mechanism (core/state_machine.py) every family's table uses."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import host_maintenance
from core.errors import InvalidState
from core.infra import ENABLED, MAINTENANCE, PREPARE_FOR_MAINTENANCE, Host
from core.volumes import VolumeEvent, VolumeState
from core.volumes.states import MACHINE as VOLUMES
from tests.core.conftest import CoreHarness


def test_a_pair_missing_from_the_table_or_an_unknown_state_is_invalid_state() -> None:
    assert VOLUMES.next_state("Ready", VolumeEvent.RESIZE_REQUESTED) == "Resizing"
    with pytest.raises(InvalidState) as caught:
        VOLUMES.next_state(VolumeState.EXPUNGED, VolumeEvent.DESTROY_REQUESTED, "v1")
    assert (caught.value.kind, caught.value.ident) == ("Volume", "v1")
    assert (caught.value.state, caught.value.operation) == ("Expunged", "destroy")
    with pytest.raises(InvalidState):
        VOLUMES.next_state("NoSuchState", VolumeEvent.DESTROY_REQUESTED)


def _a_host(session: sa.orm.Session) -> Host:
    host = session.scalar(sa.select(Host).where(Host.removed.is_(None)).order_by(Host.id))
    assert host is not None and host.resource_state == ENABLED
    return host


def test_move_writes_the_state_column_it_is_given(core: CoreHarness) -> None:
    with core.db.write() as session:
        host = _a_host(session)
        host_maintenance.MACHINE.move(session, host, "prepare")
        assert host.resource_state == PREPARE_FOR_MAINTENANCE
        host_id = host.id
    with core.db.read() as session:
        assert session.get_one(Host, host_id).resource_state == PREPARE_FOR_MAINTENANCE


def test_the_loser_of_a_race_gets_invalid_state_for_the_winners_state(core: CoreHarness) -> None:
    with core.db.write() as session:
        host = _a_host(session)
        # Another request moves the row after this one read it.
        session.execute(
            sa.update(Host)
            .where(Host.id == host.id)
            .values(resource_state=MAINTENANCE)
            .execution_options(synchronize_session=False)
        )
        assert host.resource_state == ENABLED  # the stale copy
        with pytest.raises(InvalidState) as caught:
            host_maintenance.MACHINE.move(session, host, "prepare")
        assert caught.value.state == MAINTENANCE
        assert host.resource_state == MAINTENANCE  # reloaded, not overwritten
