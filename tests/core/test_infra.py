"""Infrastructure administration through the core: zones, pods, clusters, hosts, storage,
capacity; on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import capacity, infra
from core.errors import InvalidParameter, InvalidState, PermissionDenied, ResourceInUse
from core.infra import Host, Pod, StoragePool, Zone
from tests.core.conftest import CoreHarness


def demo(session) -> tuple[Zone, Pod, infra.Cluster]:
    zone = infra.list_zones(session)[0]
    pod = session.scalars(sa.select(Pod).where(Pod.zone_id == zone.id)).first()
    cluster = session.scalars(
        sa.select(infra.Cluster).where(infra.Cluster.pod_id == pod.id)
    ).first()
    return zone, pod, cluster


def test_zone_pod_cluster_host_lifecycle(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        zone = infra.add_zone(session, admin, name="z2", network_type="advanced", dns1="1.1.1.1")
        assert zone.network_type == "Advanced" and zone.allocation_state == infra.ENABLED
        pod = infra.add_pod(
            session,
            admin,
            zone=zone,
            name="p1",
            start_ip="10.0.0.2",
            end_ip="10.0.0.20",
            gateway="10.0.0.1",
            netmask="255.255.255.0",
        )
        cluster = infra.add_cluster(session, admin, pod=pod, name="c1", hypervisor="Simulator")
        host = infra.register_host(
            session,
            admin,
            cluster=cluster,
            url="http://sim/c1/h1?cpunumber=4&memory=8192",
            hypervisor="Simulator",
            host_tags="ssd, gpu ,ssd",
        )
        assert (host.cpu_cores, host.cpu_speed_mhz, host.memory_bytes) == (4, 2000, 8 * 1024**3)
        assert host.host_tags == "ssd,gpu"
        with pytest.raises(InvalidParameter):  # same URL twice
            infra.register_host(
                session,
                admin,
                cluster=cluster,
                url="http://sim/c1/h1?cpunumber=4&memory=8192",
                hypervisor="Simulator",
            )
        with pytest.raises(ResourceInUse):
            infra.delete_zone(session, admin, zone)
        with pytest.raises(ResourceInUse):
            infra.delete_cluster(session, admin, cluster)
        with pytest.raises(InvalidState):  # not in maintenance and not forced
            infra.delete_host(session, admin, host)
        infra.delete_host(session, admin, host, forced=True)
        infra.delete_cluster(session, admin, cluster)
        with pytest.raises(ResourceInUse):
            infra.delete_zone(session, admin, zone)
        infra.delete_pod(session, admin, pod)
        infra.delete_zone(session, admin, zone)
        assert zone.removed is not None
        # the name is free again
        infra.add_zone(session, admin, name="z2")


def test_simulator_capacity_from_details_and_defaults() -> None:
    assert infra.simulator_capacity("http://sim/c/h") == {
        "cpu_cores": 8,
        "cpu_speed_mhz": 2000,
        "memory_bytes": 16 * 1024**3,
    }
    assert infra.simulator_capacity("http://sim/c/h", {"CpuSpeed": "3000"})["cpu_speed_mhz"] == 3000
    with pytest.raises(InvalidParameter):
        infra.simulator_capacity("http://sim/c/h?memory=-1")


def test_only_root_admins_administer(core: CoreHarness) -> None:
    user = core.new_tenant("infra-user")
    with core.db.write() as session:
        zone, _pod, _ = demo(session)
        with pytest.raises(PermissionDenied):
            infra.add_zone(session, user, name="nope")
        with pytest.raises(PermissionDenied):
            infra.update_zone(session, user, zone, allocation_state="Disabled")
        with pytest.raises(PermissionDenied):
            infra.add_pod(session, user, zone=zone, name="nope")
        with pytest.raises(PermissionDenied):
            capacity.list_capacity(session, user, capacity.CapacityFilter())


def test_users_see_enabled_zones_only(core: CoreHarness) -> None:
    admin, user = core.admin_context(), core.new_tenant("zone-viewer")
    with core.db.write() as session:
        infra.add_zone(session, admin, name="dark", allocation_state="Disabled")
    with core.db.read() as session:
        assert "dark" in [z.name for z in infra.visible_zones(session, admin)]
        assert "dark" not in [z.name for z in infra.visible_zones(session, user)]


def test_storage_pool_and_image_store(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        zone, _pod, cluster = demo(session)
        pool = infra.create_primary_pool(
            session,
            admin,
            zone=zone,
            name="fast",
            url="nfs://10.0.0.9/fast",
            scope="cluster",
            cluster=cluster,
            tags="ssd",
            capacity_bytes=100 * 1024**3,
        )
        assert (pool.scope, pool.pool_id if False else pool.cluster_id) == ("CLUSTER", cluster.id)
        wide = infra.create_primary_pool(
            session, admin, zone=zone, name="wide", url="rbd://ceph/pool", scope="ZONE"
        )
        assert wide.cluster_id is None and wide.pool_type == "RBD"
        with pytest.raises(InvalidParameter):
            infra.create_primary_pool(
                session, admin, zone=zone, name="x", url="nfs://a/b", scope="CLUSTER"
            )
        infra.update_primary_pool(session, admin, pool, enabled=False, tags="ssd,nvme")
        assert pool.state == infra.DISABLED and pool.tags == "ssd,nvme"
        infra.delete_primary_pool(session, admin, pool)
        store = infra.create_image_store(
            session, admin, name="s3", url="nfs://x/y", provider="NFS", zone=zone
        )
        infra.delete_image_store(session, admin, store)
        with pytest.raises(InvalidParameter):
            infra.create_image_store(session, admin, name="s", url="x", provider="Tape", zone=zone)


def test_pool_with_volumes_cannot_be_deleted(core: CoreHarness) -> None:
    from tests.core.test_vm_lifecycle import deploy

    admin = core.admin_context()
    deploy(core, admin, name="holder")
    with core.db.write() as session:
        pool = session.scalars(
            sa.select(StoragePool).where(StoragePool.allocated_bytes > 0)
        ).first()
        with pytest.raises(ResourceInUse):
            infra.delete_primary_pool(session, admin, pool)


def test_capacity_follows_the_planner(core: CoreHarness) -> None:
    from tests.core.test_vm_lifecycle import deploy

    admin = core.admin_context()
    core.wait(deploy(core, admin, name="cap-1")[1])
    with core.db.read() as session:
        zone, _pod, cluster = demo(session)
        rows = capacity.list_capacity(session, admin, capacity.CapacityFilter(zone_id=zone.id))
        by_type = {c.type: c for c in rows}
        hosts = session.scalars(sa.select(Host).where(Host.zone_id == zone.id)).all()
        assert by_type[capacity.MEMORY].used == 512 * 1024**2
        assert by_type[capacity.MEMORY].total == sum(h.memory_bytes for h in hosts)
        assert by_type[capacity.CPU].used == 500
        assert by_type[capacity.CPU_CORE].used == 1
        assert by_type[capacity.STORAGE_ALLOCATED].total == 2 * by_type[capacity.STORAGE].total
        assert by_type[capacity.PRIVATE_IP].used == len(hosts)
        per_cluster = capacity.list_capacity(
            session, admin, capacity.CapacityFilter(cluster_id=cluster.id, capacity_type=0)
        )
        assert [c.cluster.id for c in per_cluster] == [cluster.id]
        ordered = capacity.list_capacity(
            session, admin, capacity.CapacityFilter(sort_by_usage=True)
        )
        assert [c.percent_used for c in ordered] == sorted(
            (c.percent_used for c in ordered), reverse=True
        )
        with pytest.raises(InvalidParameter):
            capacity.list_capacity(session, admin, capacity.CapacityFilter(capacity_type=77))


def test_simulator_reports_the_size_given_at_add_host(core: CoreHarness) -> None:
    from drivers.hypervisor.base import HostRef

    admin = core.admin_context()
    with core.db.write() as session:
        _zone, _pod, cluster = demo(session)
        host = infra.register_host(
            session,
            admin,
            cluster=cluster,
            hypervisor="Simulator",
            url="http://sim/sized/h1?cpunumber=2&cpuspeed=1500&memory=3072",
        )
        ref = HostRef(uuid=host.uuid, name=host.name, url=host.url)
        stats = core.simulator.host_stats(ref)
        assert (
            (stats.cpu_cores, stats.cpu_speed_mhz, stats.memory_bytes)
            == (host.cpu_cores, host.cpu_speed_mhz, host.memory_bytes)
            == (2, 1500, 3072 * 1024**2)
        )
