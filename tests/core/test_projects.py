"""Projects: a project account owns the resources, members see and act on them."""

from __future__ import annotations

import pytest

from core import projects
from core.errors import InvalidParameter, InvalidState, NotFound, PermissionDenied
from core.identity import Account
from core.infra import list_zones
from core.offerings import list_service_offerings
from core.templates import list_templates
from core.visibility import ListScope
from core.vms import service as vms
from tests.core.conftest import CoreHarness


def test_members_share_the_project_resources(core: CoreHarness) -> None:
    owner = core.new_tenant("owner")
    member = core.new_tenant("member")
    outsider = core.new_tenant("outsider")
    with core.db.write() as session:
        project, job = projects.create_project(session, owner, owner, name="apollo")
    core.wait(job.uuid)
    with core.db.write() as session:
        project = session.merge(project)
        job = projects.add_account(session, owner, project, "member")
        with pytest.raises(NotFound):
            projects.get_project(session, outsider, project.uuid)
        with pytest.raises(PermissionDenied):
            projects.add_account(session, member, project, "outsider")
    with core.db.write() as session:
        as_project = projects.owner_context(session, member, project.uuid)
        assert as_project.account_id == project.account_id
        vm, job = vms.deploy_vm(
            session,
            as_project,
            vms.DeploySpec(
                zone=list_zones(session)[0],
                service_offering=list_service_offerings(session, name="Small Instance")[0],
                template=list_templates(session, as_project, template_filter="featured")[0],
            ),
        )
    core.wait(job.uuid)
    with core.db.read() as session:
        ids = tuple(projects.scope_account_ids(session, owner, project.uuid))
        listed, _ = vms.list_vms(session, owner, ListScope(account_ids=ids))
        assert [v.id for v in listed] == [vm.id]
        all_mine = tuple(projects.scope_account_ids(session, member, "-1"))
        assert all_mine == ids
        assert vms.get_vm(session, member, uuid=vm.uuid).id == vm.id  # members act on it
        with pytest.raises(NotFound):
            vms.get_vm(session, outsider, uuid=vm.uuid)
        assert vms.list_vms(session, owner, ListScope())[0] == []
        assert projects.scope_account_ids(session, outsider, "-1") == []


def test_suspend_and_delete(core: CoreHarness) -> None:
    owner = core.new_tenant("lead")
    with core.db.write() as session:
        project, _ = projects.create_project(session, owner, owner, name="gemini")
        projects.set_project_state(session, owner, project, projects.SUSPENDED)
        with pytest.raises(InvalidState):
            projects.owner_context(session, owner, project.uuid)
        with pytest.raises(InvalidParameter):
            projects.remove_member(session, owner, project, "lead")
        job = projects.delete_project(session, owner, project)
    core.wait(job.uuid)
    with core.db.read() as session:
        assert session.get_one(projects.Project, project.id).removed is not None
        assert session.get_one(Account, project.account_id).removed is not None
        with pytest.raises(NotFound):
            projects.get_project(session, owner, project.uuid)
