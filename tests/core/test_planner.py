"""The planner: host tags, storage tags, hosts and containers out of service, and a cost that
does not grow with the number of hosts; on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import infra, planner
from core.errors import InsufficientCapacity
from core.infra import Cluster, Host, Pod, StoragePool, Zone
from core.planner import Demand
from tests.core.conftest import CoreHarness

SMALL = Demand(cpu_mhz=500, memory_bytes=512 * 1024**2)


def _zone(session) -> Zone:
    return infra.list_zones(session)[0]


def _hosts(session, zone: Zone) -> list[Host]:
    return list(session.scalars(sa.select(Host).where(Host.zone_id == zone.id).order_by(Host.id)))


def test_tags_cover_matches_whole_tags_only(core: CoreHarness) -> None:
    with core.db.write() as session:
        zone = _zone(session)
        first, second, *_ = _hosts(session, zone)
        first.host_tags = "ssd2,gpu"
        second.host_tags = "x,ssd"
        session.flush()
        chosen = planner.reserve_host(session, zone_id=zone.id, demand=SMALL, host_tag="ssd")
        assert chosen.id == second.id
        chosen = planner.reserve_host(session, zone_id=zone.id, demand=SMALL, host_tag="gpu,ssd2")
        assert chosen.id == first.id
        with pytest.raises(InsufficientCapacity):
            planner.reserve_host(session, zone_id=zone.id, demand=SMALL, host_tag="ss%")
        with pytest.raises(InsufficientCapacity):
            planner.reserve_host(session, zone_id=zone.id, demand=SMALL, host_tag="ssd,gpu")


@pytest.mark.parametrize("what", ["host-maintenance", "host-disabled", "cluster", "pod", "zone"])
def test_out_of_service_is_never_chosen(core: CoreHarness, what: str) -> None:
    with core.db.write() as session:
        zone = _zone(session)
        hosts = _hosts(session, zone)
        if what == "host-maintenance":
            for host in hosts[:-1]:
                host.resource_state = infra.MAINTENANCE
            session.flush()
            assert planner.reserve_host(session, zone_id=zone.id, demand=SMALL).id == hosts[-1].id
            hosts[-1].resource_state = infra.ERROR_IN_MAINTENANCE
        elif what == "host-disabled":
            for host in hosts:
                host.resource_state = infra.DISABLED
        elif what == "cluster":
            for cluster in session.scalars(sa.select(Cluster).where(Cluster.zone_id == zone.id)):
                cluster.allocation_state = infra.DISABLED
        elif what == "pod":
            for pod in session.scalars(sa.select(Pod).where(Pod.zone_id == zone.id)):
                pod.allocation_state = infra.DISABLED
        else:
            zone.allocation_state = infra.DISABLED
        session.flush()
        with pytest.raises(InsufficientCapacity):
            planner.reserve_host(session, zone_id=zone.id, demand=SMALL)


def test_storage_tags_choose_the_pool(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        zone = _zone(session)
        cluster = session.scalars(sa.select(Cluster).where(Cluster.zone_id == zone.id)).first()
        fast = infra.create_primary_pool(
            session,
            admin,
            zone=zone,
            name="fast",
            url="nfs://h/fast",
            scope="CLUSTER",
            cluster=cluster,
            tags="ssd,fast",
            capacity_bytes=10 * 1024**3,
        )
        size = 1024**3
        assert (
            planner.reserve_pool(
                session, zone_id=zone.id, cluster_id=cluster.id, size_bytes=size, tags="ssd"
            ).id
            == fast.id
        )
        untagged = planner.reserve_pool(
            session, zone_id=zone.id, cluster_id=cluster.id, size_bytes=size
        )
        assert untagged.id != fast.id  # first fit by id: the demo pool
        with pytest.raises(InsufficientCapacity):
            planner.reserve_pool(
                session, zone_id=zone.id, cluster_id=cluster.id, size_bytes=size, tags="nvme"
            )
        session.flush()
        session.refresh(fast)
        assert fast.allocated_bytes == size


def test_service_offering_tags_steer_deploys(core: CoreHarness) -> None:
    from core import offerings
    from tests.core.test_vm_lifecycle import deploy, vm_row

    admin = core.admin_context()
    with core.db.write() as session:
        zone = _zone(session)
        target = _hosts(session, zone)[2]
        target.host_tags = "gpu"
        cluster = session.get_one(Cluster, target.cluster_id)
        pool = infra.create_primary_pool(
            session,
            admin,
            zone=zone,
            name="tagged",
            url="nfs://h/t",
            scope="CLUSTER",
            cluster=cluster,
            tags="gold",
            capacity_bytes=100 * 1024**3,
        )
        offerings.add_service_offering(
            session,
            admin,
            name="tagged",
            cpu_number=1,
            cpu_speed_mhz=100,
            memory_mb=64,
            host_tags="gpu",
            storage_tags="gold",
        )
        target_id, pool_id = target.id, pool.id
        offerings.add_service_offering(
            session,
            admin,
            name="nowhere",
            cpu_number=1,
            cpu_speed_mhz=100,
            memory_mb=64,
            host_tags="quantum",
        )
    vm_uuid, job_uuid = deploy(core, admin, offering="tagged")
    core.wait(job_uuid)
    assert vm_row(core, vm_uuid).host_id == target_id
    from core.volumes import Volume

    with core.db.read() as session:
        vm = vm_row(core, vm_uuid)
        root = session.scalars(sa.select(Volume).where(Volume.vm_id == vm.id)).first()
        assert root.pool_id == pool_id
    with pytest.raises(InsufficientCapacity):
        deploy(core, admin, offering="nowhere")


def _statements(core: CoreHarness, action) -> int:
    count = 0

    def before(*_args, **_kwargs) -> None:
        nonlocal count
        count += 1

    sa.event.listen(core.db.engine, "before_cursor_execute", before)
    try:
        action()
    finally:
        sa.event.remove(core.db.engine, "before_cursor_execute", before)
    return count


def test_placement_cost_does_not_grow_with_hosts(core: CoreHarness) -> None:
    admin = core.admin_context()

    def place() -> None:
        with core.db.write() as session:
            planner.reserve_host(session, zone_id=_zone(session).id, demand=SMALL)

    few = _statements(core, place)
    with core.db.write() as session:
        cluster = session.scalars(sa.select(Cluster)).first()
        for index in range(300):
            session.add(
                Host(
                    zone_id=cluster.zone_id,
                    pod_id=cluster.pod_id,
                    cluster_id=cluster.id,
                    name=f"bulk-{index}",
                    url=f"http://sim/bulk/{index}",
                    cpu_cores=8,
                    cpu_speed_mhz=2000,
                    memory_bytes=16 * 1024**3,
                    # full hosts come first in id order: first fit must skip them in SQL
                )
            )
        session.flush()
        session.execute(sa.update(Host).values(cpu_used_mhz=Host.cpu_cores * Host.cpu_speed_mhz))
        infra.register_host(
            session, admin, cluster=cluster, url="http://sim/bulk/free", hypervisor="Simulator"
        )
    many = _statements(core, place)
    assert many <= few + 1, (few, many)
    with core.db.read() as session:
        free = session.scalar(sa.select(Host).where(Host.url == "http://sim/bulk/free"))
        assert free.cpu_used_mhz == SMALL.cpu_mhz


def test_pool_signatures_stay_compatible(core: CoreHarness) -> None:
    with core.db.write() as session:
        zone = _zone(session)
        pool = planner.reserve_pool(session, zone_id=zone.id, cluster_id=None, size_bytes=1)
        planner.release_pool(session, pool.id, 1)
        host = planner.reserve_host(session, zone_id=zone.id, demand=SMALL)
        planner.release_host(session, host.id, SMALL)
        session.flush()
        assert session.get_one(StoragePool, pool.id, populate_existing=True).allocated_bytes == 0
