"""ISOs through the core: registered like templates, attached to at most one per VM."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import isos
from core.errors import InvalidParameter, InvalidState, NotFound
from core.jobs import SUCCEEDED
from core.templates import Template, TemplateSpec, get_template, list_template_rows
from core.vms import service as vms
from core.vms.states import VmState
from tests.core.conftest import CoreHarness
from tests.core.test_templates import IMAGE, ImageServer, images, store  # noqa: F401 (fixtures)
from tests.core.test_vm_lifecycle import deploy


def register_iso(core: CoreHarness, ctx, url: str, name: str = "rescue") -> tuple[str, str]:
    from core.infra import list_zones

    with core.db.write() as session:
        spec = TemplateSpec(
            name=name, display_text=name, url=url, format="ignored", zones=list_zones(session)
        )
        iso, jobs = isos.register_iso(session, ctx, spec)
        return iso.uuid, jobs[0].uuid


@pytest.mark.usefixtures("store")
def test_register_attach_detach(core: CoreHarness, request: pytest.FixtureRequest) -> None:
    server: ImageServer = request.getfixturevalue("images")
    ctx = core.new_tenant("iso-user")
    iso_uuid, job = register_iso(core, ctx, server.add("/rescue.iso", IMAGE))
    assert core.wait(job).status == SUCCEEDED
    with core.db.read() as session:
        iso = session.scalar(sa.select(Template).where(Template.uuid == iso_uuid))
        assert iso.format == "ISO" and iso.is_ready
        listed = list_template_rows(session, ctx, template_filter="self", is_iso=True)
        assert [r.template.uuid for r in listed] == [iso_uuid]
        # ISOs are not templates
        assert iso_uuid not in {
            r.template.uuid for r in list_template_rows(session, ctx, template_filter="self")
        }
        with pytest.raises(NotFound):
            get_template(session, ctx, iso_uuid, is_iso=False)

    vm_uuid, deploy_job = deploy(core, ctx, name="cd-vm")
    assert core.wait(deploy_job).status == SUCCEEDED
    with core.db.write() as session:
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        with pytest.raises(InvalidParameter, match="does not have an ISO"):
            isos.detach_iso(session, ctx, vm)
        attach = isos.attach_iso(session, ctx, get_template(session, ctx, iso_uuid), vm).uuid
    assert core.wait(attach).status == SUCCEEDED
    with core.db.read() as session:
        assert isos.iso_of_vm(session, vms.get_vm(session, ctx, uuid=vm_uuid).id).uuid == iso_uuid
    with core.db.write() as session:
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        with pytest.raises(InvalidParameter, match="only one ISO"):
            isos.attach_iso(session, ctx, get_template(session, ctx, iso_uuid), vm)
        detach = isos.detach_iso(session, ctx, vm).uuid
    assert core.wait(detach).status == SUCCEEDED
    with core.db.read() as session:
        assert isos.iso_of_vm(session, vms.get_vm(session, ctx, uuid=vm_uuid).id) is None


@pytest.mark.usefixtures("store")
def test_attach_needs_a_ready_iso_and_a_settled_vm(core: CoreHarness) -> None:
    ctx = core.new_tenant("iso-user2")
    iso_uuid, _job = register_iso(core, ctx, "http://127.0.0.1:9/never.iso")
    vm_uuid, deploy_job = deploy(core, ctx, name="cd-vm2")
    with core.db.write() as session:
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        iso = get_template(session, ctx, iso_uuid)
        if vm.state == VmState.STARTING:
            with pytest.raises(InvalidState):
                isos.attach_iso(session, ctx, iso, vm)
    core.wait(deploy_job)
    core.wait(_job)
    with core.db.write() as session:
        vm = vms.get_vm(session, ctx, uuid=vm_uuid)
        with pytest.raises(InvalidParameter, match="not ready"):
            isos.attach_iso(session, ctx, get_template(session, ctx, iso_uuid), vm)


@pytest.mark.usefixtures("store")
def test_other_tenants_iso_is_not_found(core: CoreHarness) -> None:
    owner = core.new_tenant("iso-owner")
    other = core.new_tenant("iso-other")
    iso_uuid, _job = register_iso(core, owner, "http://127.0.0.1:9/private.iso")
    with core.db.read() as session, pytest.raises(NotFound):
        get_template(session, other, iso_uuid, is_iso=True)
