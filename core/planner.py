"""Deployment planning: choose a host for a VM and a pool for its disk, and reserve capacity.

First fit, as CloudStack's default planner: candidate hosts in enabled pods and clusters of
the zone are tried in order, and each reservation is one conditional UPDATE that adds the VM's
CPU and memory only if the host still has room. Room means: allocated ≤ total ×
over-provisioning factor × disable threshold (CloudStack applies the threshold per cluster;
applying it per host keeps every cluster under it too, and needs no cluster-wide lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.configuration import get_float
from core.errors import InsufficientCapacity
from core.infra import ENABLED, HOST_UP, Cluster, Host, Pod, StoragePool, Zone, tag_list

CANDIDATES_PER_ROUND = 8
ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Demand:
    cpu_mhz: int
    memory_bytes: int


@dataclass(frozen=True, slots=True)
class Factors:
    cpu: float
    memory: float

    @classmethod
    def load(cls, session: Session) -> Factors:
        return cls(
            cpu=get_float(session, "cpu.overprovisioning.factor")
            * get_float(session, "cluster.cpu.allocated.capacity.disablethreshold"),
            memory=get_float(session, "mem.overprovisioning.factor")
            * get_float(session, "cluster.memory.allocated.capacity.disablethreshold"),
        )


def _has_room(demand: Demand, factors: Factors) -> sa.ColumnElement[bool]:
    return sa.and_(
        Host.cpu_used_mhz + demand.cpu_mhz
        <= Host.cpu_cores * Host.cpu_speed_mhz * sa.literal(factors.cpu),
        Host.memory_used_bytes + demand.memory_bytes
        <= Host.memory_bytes * sa.literal(factors.memory),
    )


def _usable() -> sa.ColumnElement[bool]:
    return sa.and_(
        Host.state == HOST_UP,
        Host.resource_state == ENABLED,
        Host.removed.is_(None),
        Host.host_type == "Routing",
    )


def tags_cover(column: sa.ColumnElement[str] | Any, tags: str) -> sa.ColumnElement[bool]:
    """The comma-separated tag column carries every one of `tags` (CloudStack's host and
    storage tag matching), evaluated by the database."""
    bracketed = sa.literal(",") + column + sa.literal(",")
    conditions = [bracketed.like(f"%,{_escape(tag)},%", escape="/") for tag in tag_list(tags)]
    return sa.and_(sa.true(), *conditions)


def _escape(tag: str) -> str:
    return tag.replace("/", "//").replace("%", "/%").replace("_", "/_")


def placement_filter(
    session: Session, demand: Demand, *, host_tag: str = ""
) -> sa.ColumnElement[bool]:
    """Whether a host (joined with its cluster, pod and zone) can take `demand` now: the
    condition reserve_host applies, for listing suitable hosts (findHostsForMigration)."""
    return sa.and_(
        _usable(),
        _has_room(demand, Factors.load(session)),
        Cluster.allocation_state == ENABLED,
        Pod.allocation_state == ENABLED,
        Zone.allocation_state == ENABLED,
        tags_cover(Host.host_tags, host_tag),
    )


def reserve_host(
    session: Session,
    *,
    zone_id: int,
    demand: Demand,
    hypervisor: str | None = None,
    host_tag: str = "",
    host_id: int | None = None,
    avoid: frozenset[int] = frozenset(),
) -> Host:
    """Reserve `demand` on the first host that fits; InsufficientCapacity if none does."""
    factors = Factors.load(session)
    candidates = (
        sa.select(Host.id)
        .join(Cluster, Cluster.id == Host.cluster_id)
        .join(Pod, Pod.id == Host.pod_id)
        .join(Zone, Zone.id == Host.zone_id)
        .where(
            Host.zone_id == zone_id,
            _usable(),
            _has_room(demand, factors),
            Cluster.allocation_state == ENABLED,
            Pod.allocation_state == ENABLED,
            Zone.allocation_state == ENABLED,
        )
        .order_by(Host.id)
        .limit(CANDIDATES_PER_ROUND)
    )
    if hypervisor:
        candidates = candidates.where(Host.hypervisor == hypervisor)
    if host_id is not None:
        candidates = candidates.where(Host.id == host_id)
    if host_tag:
        candidates = candidates.where(tags_cover(Host.host_tags, host_tag))
    if avoid:
        candidates = candidates.where(Host.id.not_in(avoid))
    for _ in range(ROUNDS):
        ids = session.scalars(candidates).all()
        if not ids:
            break
        for candidate in ids:
            if _try_reserve(session, candidate, demand, factors):
                return session.get_one(Host, candidate, populate_existing=True)
    raise InsufficientCapacity(
        f"Unable to create a deployment for the VM: no host in zone {zone_id} has "
        f"{demand.cpu_mhz} MHz CPU and {demand.memory_bytes // 1024**2} MiB memory free",
        scope="zone",
        scope_id=zone_id,
    )


def _try_reserve(session: Session, host_id: int, demand: Demand, factors: Factors) -> bool:
    result = session.execute(
        sa.update(Host)
        .where(Host.id == host_id, _usable(), _has_room(demand, factors))
        .values(
            cpu_used_mhz=Host.cpu_used_mhz + demand.cpu_mhz,
            memory_used_bytes=Host.memory_used_bytes + demand.memory_bytes,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_host(session: Session, host_id: int, demand: Demand) -> None:
    session.execute(
        sa.update(Host)
        .where(Host.id == host_id)
        .values(
            cpu_used_mhz=sa.case(
                (Host.cpu_used_mhz >= demand.cpu_mhz, Host.cpu_used_mhz - demand.cpu_mhz), else_=0
            ),
            memory_used_bytes=sa.case(
                (
                    Host.memory_used_bytes >= demand.memory_bytes,
                    Host.memory_used_bytes - demand.memory_bytes,
                ),
                else_=0,
            ),
        )
        .execution_options(synchronize_session=False)
    )


def reserve_pool(
    session: Session,
    *,
    zone_id: int,
    cluster_id: int | None,
    size_bytes: int,
    tags: str = "",
    avoid: frozenset[int] = frozenset(),
) -> StoragePool:
    """Reserve space for a volume on a primary storage pool of the cluster (or the zone)
    whose storage tags include every one of `tags` (a disk or service offering's)."""
    factor = get_float(session, "storage.overprovisioning.factor") * get_float(
        session, "pool.storage.allocated.capacity.disablethreshold"
    )
    has_room = StoragePool.allocated_bytes + size_bytes <= StoragePool.capacity_bytes * sa.literal(
        factor
    )
    scope = StoragePool.zone_id == zone_id
    if cluster_id is not None:
        scope = sa.and_(
            scope, sa.or_(StoragePool.cluster_id == cluster_id, StoragePool.scope == "ZONE")
        )
    candidates = sa.select(StoragePool.id).where(
        scope, StoragePool.state == HOST_UP, StoragePool.removed.is_(None), has_room
    )
    if tags:
        candidates = candidates.where(tags_cover(StoragePool.tags, tags))
    if avoid:
        candidates = candidates.where(StoragePool.id.not_in(avoid))
    ids = session.scalars(candidates.order_by(StoragePool.id).limit(CANDIDATES_PER_ROUND)).all()
    for pool_id in ids:
        result = session.execute(
            sa.update(StoragePool)
            .where(StoragePool.id == pool_id, has_room)
            .values(allocated_bytes=StoragePool.allocated_bytes + size_bytes)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return session.get_one(StoragePool, pool_id, populate_existing=True)
    raise InsufficientCapacity(
        f"No primary storage pool{' tagged ' + tags if tags else ''} has "
        f"{size_bytes // 1024**3} GiB free",
        scope="cluster",
        scope_id=cluster_id,
    )


def release_pool(session: Session, pool_id: int, size_bytes: int) -> None:
    session.execute(
        sa.update(StoragePool)
        .where(StoragePool.id == pool_id)
        .values(
            allocated_bytes=sa.case(
                (
                    StoragePool.allocated_bytes >= size_bytes,
                    StoragePool.allocated_bytes - size_bytes,
                ),
                else_=0,
            )
        )
        .execution_options(synchronize_session=False)
    )
