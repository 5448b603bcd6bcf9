"""Domain, account and user use cases, and login sessions, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import identity, identity_admin, sessions
from core.context import Role
from core.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied
from core.events import Event
from core.identity import Account, Domain, User
from core.infra import list_zones
from core.jobs import FAILED, SUCCEEDED, AsyncJob
from core.offerings import list_service_offerings
from core.templates import list_templates
from core.vms import service as vms
from core.vms.models import VirtualMachine
from tests.core.conftest import CoreHarness


def _domain(core: CoreHarness, name: str, parent_uuid: str | None = None) -> Domain:
    with core.db.write() as session:
        return identity_admin.create_domain_for(
            session, core.admin_context(), name=name, parent_uuid=parent_uuid
        )


def _account(core: CoreHarness, name: str, domain: Domain | None = None, role=Role.USER):
    with core.db.write() as session:
        return identity_admin.create_account_for(
            session,
            core.admin_context(),
            name=name,
            domain_uuid=domain.uuid if domain else None,
            role=role,
            role_uuid=None,
            username=name,
            password="pw",
        )


def test_domain_rename_moves_the_subtree(core: CoreHarness) -> None:
    top = _domain(core, "top")
    mid = _domain(core, "mid", top.uuid)
    leaf = _domain(core, "leaf", mid.uuid)
    with core.db.write() as session:
        identity_admin.update_domain(session, core.admin_context(), session.merge(top), name="peak")
    with core.db.read() as session:
        assert session.get_one(Domain, leaf.id).path == "/peak/mid/leaf/"
        assert session.get_one(Domain, mid.id).path == "/peak/mid/"
    with core.db.write() as session, pytest.raises(Conflict):
        identity_admin.create_domain_for(
            session, core.admin_context(), name="mid", parent_uuid=top.uuid
        )


def test_delete_domain_needs_cleanup_when_not_empty(core: CoreHarness) -> None:
    top = _domain(core, "corp")
    _domain(core, "child", top.uuid)
    account, _ = _account(core, "worker", top)
    with core.db.write() as session:
        job = identity_admin.delete_domain(
            session, core.admin_context(), session.merge(top), cleanup=False
        )
    assert core.wait(job.uuid).status == FAILED
    with core.db.write() as session:
        job = identity_admin.delete_domain(
            session, core.admin_context(), session.merge(top), cleanup=True
        )
    assert core.wait(job.uuid).status == SUCCEEDED
    with core.db.read() as session:
        assert session.get_one(Domain, top.id).removed is not None
        assert session.get_one(Account, account.id).removed is not None
        assert (
            session.scalar(
                sa.select(sa.func.count()).where(
                    Domain.path.startswith("/corp/"), Domain.removed.is_(None)
                )
            )
            == 0
        )


def test_account_delete_destroys_vms_and_users(core: CoreHarness) -> None:
    account, user = _account(core, "leaver")
    with core.db.read() as session:
        ctx = identity.context_for(session, session.get_one(User, user.id))
    with core.db.write() as session:
        vm, job = vms.deploy_vm(
            session,
            ctx,
            vms.DeploySpec(
                zone=list_zones(session)[0],
                service_offering=list_service_offerings(session, name="Small Instance")[0],
                template=list_templates(session, ctx, template_filter="featured")[0],
            ),
        )
    core.wait(job.uuid)
    with core.db.write() as session:
        job = identity_admin.delete_account(session, core.admin_context(), session.merge(account))
    assert core.wait(job.uuid).status == SUCCEEDED
    with core.db.read() as session:
        assert session.get_one(Account, account.id).removed is not None
        assert session.get_one(User, user.id).api_key is None
    # the VM goes by a vm.destroy job of its own, queued by the account's job
    with core.db.read() as session:
        destroy = session.scalar(
            sa.select(AsyncJob)
            .where(AsyncJob.kind == "vm.destroy", AsyncJob.instance_id == vm.id)
            .order_by(AsyncJob.id.desc())
        )
        assert destroy is not None and destroy.arguments == {"expunge": True}
    assert core.wait(destroy.uuid).status == SUCCEEDED
    with core.db.read() as session:
        assert session.get_one(VirtualMachine, vm.id).state in (
            "Destroyed",
            "Expunging",
            "Expunged",
        )
    # the name can be used again
    _account(core, "leaver")


def test_disable_and_lock_block_authentication(core: CoreHarness) -> None:
    account, user = _account(core, "flaky")
    with core.db.write() as session:
        identity.register_keys(session, session.merge(user))
        key = session.merge(user).api_key
    admin = core.admin_context()
    with core.db.write() as session:
        identity_admin.lock_account(session, admin, session.merge(account))
    with core.db.read() as session, pytest.raises(AuthenticationFailed):
        identity.user_by_api_key(session, key)
    with core.db.write() as session:
        identity_admin.enable_account(session, admin, session.merge(account))
        identity_admin.lock_user(session, admin, session.merge(user))
    with core.db.read() as session, pytest.raises(AuthenticationFailed):
        identity.authenticate_password(session, username="flaky", password="pw", domain_path="/")
    with core.db.write() as session:
        identity_admin.enable_user(session, admin, session.merge(user))
    with core.db.read() as session:
        assert identity.user_by_api_key(session, key).id == user.id


def test_domain_admin_manages_only_its_subtree(core: CoreHarness) -> None:
    realm = _domain(core, "realm")
    _, boss = _account(core, "boss", realm, Role.DOMAIN_ADMIN)
    outsider, _ = _account(core, "outsider")
    insider, _ = _account(core, "insider", realm)
    with core.db.read() as session:
        ctx = identity.context_for(session, session.get_one(User, boss.id))
    with core.db.write() as session:
        with pytest.raises(NotFound):
            identity_admin.visible_account(session, ctx, outsider.uuid)
        assert identity_admin.visible_account(session, ctx, insider.uuid).id == insider.id
        with pytest.raises(PermissionDenied):
            identity_admin.create_account_for(
                session,
                ctx,
                name="root2",
                domain_uuid=None,
                role=Role.ADMIN,
                role_uuid=None,
                username="root2",
                password="pw",
            )
        listed = session.scalars(
            identity_admin.list_accounts(session, ctx, domain=None, recursive=False, list_all=True)
        ).all()
        assert {a.id for a in listed} == {insider.id, session.merge(boss).account_id}


def test_sessions_expire_and_end(core: CoreHarness) -> None:
    _, user = _account(core, "visitor")
    with core.db.write() as session:
        login = sessions.start_session(session, session.merge(user))
    with core.db.write() as session:
        assert sessions.resume_session(session, login.session_id, login.session_key).id == user.id
        with pytest.raises(AuthenticationFailed):
            sessions.resume_session(session, login.session_id, "wrong-key")
    with core.db.write() as session:
        row = session.get_one(sessions.LoginSession, login.id)
        row.last_access = row.last_access - dt.timedelta(seconds=sessions.IDLE_TIMEOUT_SECONDS + 1)
    with core.db.write() as session, pytest.raises(AuthenticationFailed):
        sessions.resume_session(session, login.session_id, login.session_key)
    with core.db.write() as session:
        assert sessions.purge_expired(session) == 1
        assert session.get(sessions.LoginSession, login.id) is None
    with core.db.write() as session:
        again = sessions.start_session(session, session.merge(user))
        sessions.end_session(session, again.session_id)
    with core.db.write() as session, pytest.raises(AuthenticationFailed):
        sessions.resume_session(session, again.session_id, again.session_key)
    with core.db.read() as session:
        kinds = session.scalars(
            sa.select(Event.event_type).where(Event.user_id == user.id).order_by(Event.id)
        ).all()
        assert kinds[-3:] == ["USER.LOGIN", "USER.LOGIN", "USER.LOGOUT"]
