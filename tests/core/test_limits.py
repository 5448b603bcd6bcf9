"""Resource limits: account and domain limits, reservations that count nothing on failure,
recounting from the real tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import limits
from core.context import Role
from core.errors import LimitExceeded
from core.identity import Account, context_for, create_account, create_domain, root_domain
from core.limits import ResourceCount, ResourceType
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy


def _used(core: CoreHarness, account_id: int, resource: ResourceType) -> int:
    with core.db.read() as session:
        return session.get_one(ResourceCount, (account_id, resource.value)).used


def _tenant_in_domain(core: CoreHarness, domain_name: str, account: str, parent=None):
    with core.db.write() as session:
        parent_domain = parent and session.get(type(root_domain(session)), parent)
        domain = create_domain(
            session, name=domain_name, parent=parent_domain or root_domain(session)
        )
        _, user = create_account(
            session, name=account, domain=domain, role=Role.USER, username=account, password="pw"
        )
        return context_for(session, user), domain.id


def test_account_limit_is_enforced_and_counts_nothing_on_failure(core: CoreHarness) -> None:
    ctx = core.new_tenant("limited")
    with core.db.write() as session:
        limits.set_limit(session, ctx.account_id, ResourceType.CPU, 2)
        limits.reserve(session, ctx.account_id, {ResourceType.USER_VM: 1, ResourceType.CPU: 2})
    with core.db.write() as session, pytest.raises(LimitExceeded):
        limits.reserve(session, ctx.account_id, {ResourceType.USER_VM: 1, ResourceType.CPU: 1})
    assert _used(core, ctx.account_id, ResourceType.USER_VM) == 1
    assert _used(core, ctx.account_id, ResourceType.CPU) == 2


def test_domain_limit_counts_every_account_below_it(core: CoreHarness) -> None:
    first, domain_id = _tenant_in_domain(core, "dept", "dept-a")
    with core.db.write() as session:
        _, user = create_account(
            session,
            name="dept-b",
            domain=session.get_one(type(root_domain(session)), domain_id),
            role=Role.USER,
            username="dept-b",
            password="pw",
        )
        second = context_for(session, user)
        limits.set_domain_limit(session, domain_id, ResourceType.USER_VM, 3)
    with core.db.write() as session:
        limits.reserve(session, first.account_id, {ResourceType.USER_VM: 2})
        limits.reserve(session, second.account_id, {ResourceType.USER_VM: 1})
    with core.db.write() as session, pytest.raises(LimitExceeded, match="domain"):
        limits.reserve(session, second.account_id, {ResourceType.USER_VM: 1})
    assert _used(core, second.account_id, ResourceType.USER_VM) == 1
    with core.db.read() as session:
        path = session.scalar(sa.text("SELECT path FROM domain WHERE id = :i"), {"i": domain_id})
        assert limits.domain_usage(session, path, ResourceType.USER_VM) == 3


def test_parent_domain_limit_applies_to_subdomains(core: CoreHarness) -> None:
    _, parent_id = _tenant_in_domain(core, "parent", "parent-a")
    child, _ = _tenant_in_domain(core, "child", "child-a", parent=parent_id)
    with core.db.write() as session:
        limits.set_domain_limit(session, parent_id, ResourceType.VOLUME, 1)
        limits.reserve(session, child.account_id, {ResourceType.VOLUME: 1})
    with core.db.write() as session, pytest.raises(LimitExceeded):
        limits.reserve(session, child.account_id, {ResourceType.VOLUME: 1})


def test_recount_corrects_counters_from_the_tables(core: CoreHarness) -> None:
    ctx = core.new_tenant("recount")
    _, job = deploy(core, ctx, start=False)
    core.wait(job)
    with core.db.write() as session:
        row = session.get_one(ResourceCount, (ctx.account_id, ResourceType.USER_VM.value))
        row.used = 17  # drifted
    with core.db.write() as session:
        counted = limits.recount(session, ctx.account_id)
    assert counted[ResourceType.USER_VM] == 1
    assert counted[ResourceType.CPU] == 1 and counted[ResourceType.MEMORY] == 512
    assert _used(core, ctx.account_id, ResourceType.USER_VM) == 1


def test_resource_type_lookup() -> None:
    assert limits.resource_type_by_code(9) is ResourceType.MEMORY
    assert limits.resource_type_by_name("PRIMARY_STORAGE") is ResourceType.PRIMARY_STORAGE
    with pytest.raises(Exception, match="valid resource type"):
        limits.resource_type_by_code(99)


def test_accounts_exist_for_every_type(core: CoreHarness) -> None:
    with core.db.read() as session:
        account = session.scalar(sa.select(Account).where(Account.name == "admin"))
        assert account is not None
