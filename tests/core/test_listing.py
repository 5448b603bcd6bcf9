"""The shared list helpers (core/listing.py, visibility.owned_rows), through list_volumes."""

from __future__ import annotations

from core import volumes
from core.infra import list_zones
from core.listing import among, given, keyword_in
from core.offerings import list_disk_offerings
from core.tags import create_tags
from core.volumes import VolumeFilter
from tests.core.conftest import CoreHarness


def test_absent_filters_are_no_condition() -> None:
    assert given(volumes.Volume.name, None) is None
    assert among(volumes.Volume.uuid, None) is None
    assert keyword_in("", volumes.Volume.name) is None
    assert keyword_in(None, volumes.Volume.name) is None


def _volumes(core: CoreHarness, ctx, *names: str) -> list[str]:
    with core.db.write() as session:
        zone_id = list_zones(session)[0].id
        offering = list_disk_offerings(session, name="Small")[0]
        return [
            volumes.create_data_volume(
                session, ctx, zone_id=zone_id, disk_offering=offering, size_gb=None, name=name
            ).uuid
            for name in names
        ]


def _names(core: CoreHarness, ctx, **filters) -> list[str]:
    with core.db.read() as session:
        rows, total = volumes.list_volumes(session, ctx, volume_filter=VolumeFilter(**filters))
        assert total == len(rows)
        return sorted(row.name for row in rows)


def test_each_given_filter_narrows_and_only_the_callers_rows_are_listed(
    core: CoreHarness,
) -> None:
    owner = core.new_tenant("lister")
    other = core.new_tenant("lister-other")
    alpha, _beta, _gamma = _volumes(core, owner, "alpha", "beta", "alphabet")
    _volumes(core, other, "alpha")
    with core.db.write() as session:
        create_tags(
            session, owner, resource_type="Volume", resource_uuids=[alpha], tags={"tier": "gold"}
        )
    assert _names(core, owner) == ["alpha", "alphabet", "beta"]
    assert _names(core, owner, name="alpha") == ["alpha"]
    assert _names(core, owner, keyword="lph") == ["alpha", "alphabet"]
    assert _names(core, owner, ids=(alpha,)) == ["alpha"]
    assert _names(core, owner, ids=()) == []  # ids asked for, none matching
    assert _names(core, owner, volume_type="datadisk") == ["alpha", "alphabet", "beta"]
    assert _names(core, owner, volume_type="ROOT") == []
    assert _names(core, owner, tags=(("tier", "gold"),)) == ["alpha"]
    assert _names(core, owner, keyword="lph", name="beta") == []
    assert _names(core, other) == ["alpha"]
