"""Offerings through the core: service (fixed and customized), disk and network offerings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import offerings
from core.context import Role
from core.errors import InvalidParameter, PermissionDenied, ResourceInUse
from core.infra import list_zones
from core.jobs import SUCCEEDED
from core.offerings import NetworkOffering
from core.templates import list_templates
from core.vms import service as vms
from tests.core.conftest import CoreHarness


def test_fixed_and_custom_service_offerings(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        fixed = offerings.add_service_offering(
            session,
            admin,
            name="fixed",
            cpu_number=2,
            cpu_speed_mhz=1000,
            memory_mb=2048,
            host_tags="ssd",
            storage_tags="fast",
            offer_ha=True,
        )
        assert not fixed.is_customized and fixed.host_tag == "ssd" and fixed.storage_tags == "fast"
        custom = offerings.add_service_offering(
            session,
            admin,
            name="custom",
            min_cpu_number=1,
            max_cpu_number=4,
            min_memory_mb=512,
            max_memory_mb=4096,
        )
        assert custom.is_customized
        with pytest.raises(InvalidParameter):  # half a fixed offering
            offerings.add_service_offering(session, admin, name="half", cpu_number=1)
        with pytest.raises(InvalidParameter):
            offerings.add_service_offering(
                session, admin, name="bad", min_cpu_number=4, max_cpu_number=2
            )
        with pytest.raises(InvalidParameter):
            offerings.add_service_offering(
                session, admin, name="neg", cpu_number=-1, cpu_speed_mhz=1, memory_mb=1
            )
        with pytest.raises(InvalidParameter):
            offerings.add_service_offering(
                session, admin, name="st", customized=True, storage_type="tape"
            )


def _deploy_custom(core: CoreHarness, ctx, offering_name: str, cpu: int, memory: int) -> str:
    with core.db.write() as session:
        offering = offerings.list_service_offerings(session, name=offering_name)[0]
        _vm, job = vms.deploy_vm(
            session,
            ctx,
            vms.DeploySpec(
                zone=list_zones(session)[0],
                service_offering=offering,
                template=list_templates(session, ctx, template_filter="featured")[0],
                cpu_number=cpu,
                cpu_speed_mhz=500,
                memory_mb=memory,
            ),
        )
        return job.uuid


def test_custom_offering_constraints_apply_to_deploys(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        offerings.add_service_offering(
            session,
            admin,
            name="ranged",
            min_cpu_number=1,
            max_cpu_number=2,
            min_memory_mb=512,
            max_memory_mb=1024,
        )
    for cpu, memory in ((3, 512), (1, 256), (1, 2048)):
        with pytest.raises(InvalidParameter):
            _deploy_custom(core, admin, "ranged", cpu, memory)
    assert core.wait(_deploy_custom(core, admin, "ranged", 2, 1024)).status == SUCCEEDED


def test_update_delete_and_visibility(core: CoreHarness) -> None:
    admin = core.admin_context()
    user = core.new_tenant("offering-user")
    with core.db.write() as session:
        offering = offerings.add_service_offering(
            session, admin, name="temp", cpu_number=1, cpu_speed_mhz=100, memory_mb=128
        )
        with pytest.raises(PermissionDenied):
            offerings.update_offering(session, user, offering, name="mine")
        offerings.update_offering(session, admin, offering, name="renamed", host_tag="a, b")
        assert offering.name == "renamed" and offering.host_tag == "a,b"
        offerings.update_offering(session, admin, offering, state="Inactive")
        names = [o.name for o in offerings.list_service_offerings(session, ctx=user)]
        assert "renamed" not in names
        offerings.update_offering(session, admin, offering, state="Active")
        assert "renamed" in [o.name for o in offerings.list_service_offerings(session, ctx=user)]
        with pytest.raises(InvalidParameter):
            offerings.update_offering(session, admin, offering, state="Gone")
        offerings.delete_offering(session, admin, offering)
        assert "renamed" not in [o.name for o in offerings.list_service_offerings(session)]
        with pytest.raises(PermissionDenied):
            offerings.delete_offering(session, user, offerings.list_service_offerings(session)[0])


def test_domain_offerings_are_hidden_from_other_domains(core: CoreHarness) -> None:
    from core.identity import context_for, create_account, create_domain, root_domain

    admin = core.admin_context()
    with core.db.write() as session:
        sub = create_domain(session, name="sub", parent=root_domain(session))
        _, member = create_account(
            session, name="in-sub", domain=sub, role=Role.USER, username="in-sub", password="pw"
        )
        member_ctx = context_for(session, member)
        offerings.add_service_offering(
            session,
            admin,
            name="sub-only",
            cpu_number=1,
            cpu_speed_mhz=1,
            memory_mb=1,
            domain_id=sub.id,
        )
    outsider = core.new_tenant("outsider")
    with core.db.read() as session:
        assert "sub-only" in [
            o.name for o in offerings.list_service_offerings(session, ctx=member_ctx)
        ]
        assert "sub-only" not in [
            o.name for o in offerings.list_service_offerings(session, ctx=outsider)
        ]


def test_disk_offerings(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        fixed = offerings.add_disk_offering(session, admin, name="d10", disk_size_gb=10, tags="ssd")
        assert not fixed.is_customized and fixed.tags == "ssd"
        custom = offerings.add_disk_offering(
            session, admin, name="dc", customized=True, min_size_gb=5, max_size_gb=50
        )
        assert custom.is_customized and custom.disk_size_gb == 0
        with pytest.raises(InvalidParameter):
            offerings.add_disk_offering(
                session, admin, name="both", disk_size_gb=5, customized=True
            )
        with pytest.raises(InvalidParameter):
            offerings.add_disk_offering(session, admin, name="none", customized=False)
        with pytest.raises(InvalidParameter):
            offerings.add_disk_offering(
                session, admin, name="inv", customized=True, min_size_gb=9, max_size_gb=3
            )
        offerings.update_offering(session, admin, fixed, tags="nvme")
        assert fixed.tags == "nvme"
        offerings.delete_offering(session, admin, fixed)
        assert "d10" not in [o.name for o in offerings.list_disk_offerings(session)]


def test_network_offerings_seeded_created_and_listed(core: CoreHarness) -> None:
    admin, user = core.admin_context(), core.new_tenant("net-user")
    with core.db.write() as session:
        offerings.seed_network_offerings(session)
        offerings.seed_network_offerings(session)  # idempotent
        names = [o.name for o in offerings.list_network_offerings(session)]
        assert "DefaultIsolatedNetworkOfferingWithSourceNatService" in names
        assert "DefaultSharedNetworkOffering" in names
        assert len(names) == len(set(names))
        source_nat = offerings.list_network_offerings(
            session, name="DefaultIsolatedNetworkOfferingWithSourceNatService"
        )[0]
        assert "SourceNat" in source_nat.service_map()
        created = offerings.add_network_offering(
            session,
            admin,
            name="mine",
            display_text=None,
            guest_ip_type="isolated",
            services=["dhcp", "Dns"],
            providers={"dns": "VirtualRouter"},
        )
        assert created.guest_ip_type == "Isolated" and created.state == offerings.INACTIVE
        assert set(created.service_map()) == {"Dhcp", "Dns"}
        assert "mine" not in [o.name for o in offerings.list_network_offerings(session, ctx=user)]
        offerings.update_network_offering(session, admin, created, state="Enabled")
        assert "mine" in [o.name for o in offerings.list_network_offerings(session, ctx=user)]
        with pytest.raises(InvalidParameter):
            offerings.add_network_offering(
                session,
                admin,
                name="bad",
                display_text="",
                guest_ip_type="Isolated",
                services=["Teleport"],
            )
        with pytest.raises(InvalidParameter):
            offerings.add_network_offering(
                session, admin, name="mine", display_text="", guest_ip_type="Shared"
            )
        with pytest.raises(PermissionDenied):
            offerings.add_network_offering(
                session, user, name="u", display_text="", guest_ip_type="Shared"
            )
        with pytest.raises(ResourceInUse):
            offerings.delete_network_offering(session, admin, source_nat)
        offerings.delete_network_offering(session, admin, created)
        assert (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(NetworkOffering)
                .where(NetworkOffering.removed.is_(None), NetworkOffering.name == "mine")
            )
            == 0
        )
