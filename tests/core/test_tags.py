"""Resource tags through the core: registry, ownership, duplicate keys, listing, deletion."""

from __future__ import annotations

import pytest

from core import tags
from core.errors import Conflict, InvalidParameter, NotFound
from core.visibility import ListScope
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy


def test_tag_a_vm_list_and_delete(core: CoreHarness) -> None:
    owner = core.new_tenant("tagger")
    vm_uuid, _ = deploy(core, owner, start=False)
    with core.db.write() as session:
        written = tags.create_tags(
            session,
            owner,
            resource_type="uservm",  # CloudStack matches type names case-insensitively
            resource_uuids=[vm_uuid],
            tags={"env": "prod", "team": "web"},
        )
        assert {t.resource_type for t in written} == {"UserVm"}
    with core.db.read() as session:
        rows, total = tags.list_tags(session, owner, ListScope(), resource_uuid=vm_uuid)
        assert total == 2 and {(t.key, t.value) for t in rows} == {("env", "prod"), ("team", "web")}
        rows, total = tags.list_tags(session, owner, ListScope(), key="env", value="prod")
        assert total == 1
    with core.db.write() as session:
        removed = tags.remove_tags(
            session, owner, resource_type="UserVm", resource_uuids=[vm_uuid], tags={"env": None}
        )
        assert removed == 1
    with core.db.write() as session:
        removed = tags.remove_tags(
            session, owner, resource_type="UserVm", resource_uuids=[vm_uuid], tags={}
        )
        assert removed == 1


def test_reusing_a_key_is_refused(core: CoreHarness) -> None:
    owner = core.new_tenant("dupkey")
    vm_uuid, _ = deploy(core, owner, start=False)
    with core.db.write() as session:
        tags.create_tags(
            session, owner, resource_type="UserVm", resource_uuids=[vm_uuid], tags={"k": "1"}
        )
    with core.db.write() as session, pytest.raises(Conflict, match="already exists"):
        tags.create_tags(
            session, owner, resource_type="UserVm", resource_uuids=[vm_uuid], tags={"k": "2"}
        )


def test_others_resources_are_not_found(core: CoreHarness) -> None:
    owner = core.new_tenant("owner-t")
    intruder = core.new_tenant("intruder-t")
    vm_uuid, _ = deploy(core, owner, start=False)
    with core.db.write() as session, pytest.raises(NotFound):
        tags.create_tags(
            session, intruder, resource_type="UserVm", resource_uuids=[vm_uuid], tags={"a": "b"}
        )
    with core.db.write() as session:
        tags.create_tags(
            session, owner, resource_type="UserVm", resource_uuids=[vm_uuid], tags={"a": "b"}
        )
    with core.db.read() as session:
        assert tags.list_tags(session, intruder, ListScope(list_all=True))[1] == 0
    with core.db.write() as session, pytest.raises(NotFound):
        tags.remove_tags(
            session, intruder, resource_type="UserVm", resource_uuids=[vm_uuid], tags={}
        )


def test_unknown_and_unavailable_types_are_unsupported(core: CoreHarness, monkeypatch) -> None:
    owner = core.new_tenant("types-t")
    with core.db.write() as session, pytest.raises(InvalidParameter, match="Unsupported"):
        tags.create_tags(
            session, owner, resource_type="Spaceship", resource_uuids=["x"], tags={"a": "b"}
        )
    monkeypatch.setitem(tags.TAGGABLE, "Vpc", ("core.not_written_yet:Vpc",))
    with pytest.raises(InvalidParameter, match="Unsupported"):
        tags.resolve_model("Vpc")


def test_zone_tags_are_for_root_admins(core: CoreHarness) -> None:
    from core.infra import list_zones

    tenant = core.new_tenant("zone-t")
    with core.db.read() as session:
        zone_uuid = list_zones(session)[0].uuid
    with core.db.write() as session, pytest.raises(NotFound):
        tags.create_tags(
            session, tenant, resource_type="Zone", resource_uuids=[zone_uuid], tags={"a": "b"}
        )
    with core.db.write() as session:
        tags.create_tags(
            session,
            core.admin_context(),
            resource_type="Zone",
            resource_uuids=[zone_uuid],
            tags={"region": "eu"},
        )
