"""Capacity of the cloud by CloudStack's capacity types (listCapacity), computed on demand.

CloudStack's capacity checker writes an `op_host_capacity` table every few minutes; here the
counters the planner keeps on hosts and pools are the truth, so each figure is one aggregate
query grouped by zone (or pod, or cluster) — always current, no table to keep in step.

Types: 0 memory (bytes), 1 CPU (MHz), 2 primary storage used, 3 primary storage allocated,
4 public IPs (when the public-IP family is present), 5 private (pod) IPs, 6 secondary storage,
90 CPU cores. Totals include the over-provisioning factors, as in CloudStack.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.configuration import get_float
from core.context import CallContext
from core.errors import InvalidParameter
from core.infra import Cluster, Host, ImageStore, Pod, StoragePool, Zone
from core.visibility import ensure_root_admin

MEMORY, CPU, STORAGE, STORAGE_ALLOCATED = 0, 1, 2, 3
PUBLIC_IP, PRIVATE_IP, SECONDARY_STORAGE, CPU_CORE = 4, 5, 6, 90
NAMES = {
    MEMORY: "MEMORY",
    CPU: "CPU",
    STORAGE: "STORAGE",
    STORAGE_ALLOCATED: "STORAGE_ALLOCATED",
    PUBLIC_IP: "VIRTUAL_NETWORK_PUBLIC_IP",
    PRIVATE_IP: "PRIVATE_IP",
    SECONDARY_STORAGE: "SECONDARY_STORAGE",
    CPU_CORE: "CPU_CORE",
}


@dataclass(frozen=True, slots=True)
class Capacity:
    type: int
    zone: Zone
    pod: Pod | None
    cluster: Cluster | None
    used: int
    total: int

    @property
    def name(self) -> str:
        return NAMES[self.type]

    @property
    def percent_used(self) -> float:
        return round(self.used * 100 / self.total, 2) if self.total else 0.0


@dataclass(frozen=True, slots=True)
class CapacityFilter:
    zone_id: int | None = None
    pod_id: int | None = None
    cluster_id: int | None = None
    capacity_type: int | None = None
    sort_by_usage: bool = False


def _level(f: CapacityFilter) -> str:
    """Zone-wide figures unless a pod or cluster is asked for (CloudStack groups the same)."""
    if f.cluster_id is not None:
        return "cluster"
    if f.pod_id is not None:
        return "pod"
    return "zone"


def _host_capacity(session: Session, f: CapacityFilter, kind: int) -> list[tuple[Any, ...]]:
    factor = {
        MEMORY: get_float(session, "mem.overprovisioning.factor"),
        CPU: get_float(session, "cpu.overprovisioning.factor"),
        CPU_CORE: 1.0,
    }[kind]
    used, total = {
        MEMORY: (Host.memory_used_bytes, Host.memory_bytes),
        CPU: (Host.cpu_used_mhz, Host.cpu_cores * Host.cpu_speed_mhz),
        CPU_CORE: (sa.literal(0), Host.cpu_cores),
    }[kind]
    return _grouped(session, f, Host, used, total, factor)


def _grouped(
    session: Session,
    f: CapacityFilter,
    model: Any,
    used: Any,
    total: Any,
    factor: float,
) -> list[tuple[Any, ...]]:
    level = _level(f)
    keys = [model.zone_id]
    if level in ("pod", "cluster"):
        keys.append(model.pod_id)
    if level == "cluster":
        keys.append(model.cluster_id)
    query = (
        sa.select(*keys, sa.func.coalesce(sa.func.sum(used), 0), sa.func.sum(total))
        .where(model.removed.is_(None))
        .group_by(*keys)
    )
    if model is StoragePool:
        query = query.where(StoragePool.state != "Removed")
    for column, value in (
        ("zone_id", f.zone_id),
        ("pod_id", f.pod_id),
        ("cluster_id", f.cluster_id),
    ):
        if value is not None:
            query = query.where(getattr(model, column) == value)
    rows = []
    for row in session.execute(query):
        *ids, used_sum, total_sum = row
        ids += [None] * (3 - len(ids))
        rows.append((*ids, int(used_sum or 0), int(int(total_sum or 0) * factor)))
    return rows


def _cpu_cores_used(session: Session, f: CapacityFilter) -> dict[tuple[Any, ...], int]:
    from core.vms.models import VirtualMachine

    level = _level(f)
    keys = [Host.zone_id]
    if level in ("pod", "cluster"):
        keys.append(Host.pod_id)
    if level == "cluster":
        keys.append(Host.cluster_id)
    query = (
        sa.select(*keys, sa.func.sum(VirtualMachine.cpu_number))
        .join(Host, Host.id == VirtualMachine.host_id)
        .where(VirtualMachine.removed.is_(None))
        .group_by(*keys)
    )
    result = {}
    for row in session.execute(query):
        *ids, cores = row
        result[tuple(ids) + (None,) * (3 - len(ids))] = int(cores or 0)
    return result


def _public_ips(session: Session, f: CapacityFilter) -> list[tuple[Any, ...]]:
    try:
        from core.public_ips import FREE, PublicIpAddress
    except ImportError:  # the public-IP family is optional
        return []
    if f.pod_id is not None or f.cluster_id is not None:
        return []
    query = sa.select(
        PublicIpAddress.zone_id,
        sa.func.sum(sa.case((PublicIpAddress.state != FREE, 1), else_=0)),
        sa.func.count(),
    ).group_by(PublicIpAddress.zone_id)
    if f.zone_id is not None:
        query = query.where(PublicIpAddress.zone_id == f.zone_id)
    return [(z, None, None, int(u or 0), int(t or 0)) for z, u, t in session.execute(query)]


def _private_ips(session: Session, f: CapacityFilter) -> list[tuple[Any, ...]]:
    """A pod's management range, used by its hosts (CloudStack counts hosts and system VMs)."""
    if f.cluster_id is not None:
        return []
    pods = session.scalars(sa.select(Pod).where(Pod.removed.is_(None)).order_by(Pod.id)).all()
    hosts = dict(
        session.execute(
            sa.select(Host.pod_id, sa.func.count())
            .where(Host.removed.is_(None))
            .group_by(Host.pod_id)
        ).all()
    )
    totals: dict[tuple[Any, ...], list[int]] = {}
    for pod in pods:
        if (f.zone_id is not None and pod.zone_id != f.zone_id) or (
            f.pod_id is not None and pod.id != f.pod_id
        ):
            continue
        try:
            size = (
                int(ipaddress.ip_address(pod.end_ip)) - int(ipaddress.ip_address(pod.start_ip)) + 1
            )
        except ValueError:
            size = 0
        key = (pod.zone_id, pod.id if f.pod_id is not None else None, None)
        entry = totals.setdefault(key, [0, 0])
        entry[0] += int(hosts.get(pod.id, 0))
        entry[1] += max(size, 0)
    return [(*key, used, total) for key, (used, total) in totals.items()]


def _secondary_storage(session: Session, f: CapacityFilter) -> list[tuple[Any, ...]]:
    """Image stores report no size here; their used bytes are the templates' sizes."""
    if f.pod_id is not None or f.cluster_id is not None:
        return []
    from core.templates import Template

    query = sa.select(ImageStore.zone_id).where(
        ImageStore.removed.is_(None), ImageStore.zone_id.is_not(None)
    )
    if f.zone_id is not None:
        query = query.where(ImageStore.zone_id == f.zone_id)
    rows = []
    for zone_id in sorted({z for z in session.scalars(query) if z is not None}):
        used = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Template.size_bytes), 0)).where(
                sa.or_(Template.zone_id == zone_id, Template.zone_id.is_(None))
            )
        )
        rows.append((zone_id, None, None, int(used or 0), 0))
    return rows


def list_capacity(session: Session, ctx: CallContext, f: CapacityFilter) -> list[Capacity]:
    """listCapacity (root administrators)."""
    ensure_root_admin(ctx)
    if f.capacity_type is not None and f.capacity_type not in NAMES:
        raise InvalidParameter(f"Unknown capacity type {f.capacity_type}", parameter="type")
    storage_factor = get_float(session, "storage.overprovisioning.factor")
    computed: dict[int, list[tuple[Any, ...]]] = {}
    wanted = [f.capacity_type] if f.capacity_type is not None else sorted(NAMES)
    for kind in wanted:
        if kind in (MEMORY, CPU):
            computed[kind] = _host_capacity(session, f, kind)
        elif kind == CPU_CORE:
            used = _cpu_cores_used(session, f)
            computed[kind] = [
                (*row[:3], used.get(tuple(row[:3]), 0), row[4])
                for row in _host_capacity(session, f, kind)
            ]
        elif kind == STORAGE:
            computed[kind] = _grouped(
                session,
                f,
                StoragePool,
                StoragePool.allocated_bytes,
                StoragePool.capacity_bytes,
                1.0,
            )
        elif kind == STORAGE_ALLOCATED:
            computed[kind] = _grouped(
                session,
                f,
                StoragePool,
                StoragePool.allocated_bytes,
                StoragePool.capacity_bytes,
                storage_factor,
            )
        elif kind == PUBLIC_IP:
            computed[kind] = _public_ips(session, f)
        elif kind == PRIVATE_IP:
            computed[kind] = _private_ips(session, f)
        elif kind == SECONDARY_STORAGE:
            computed[kind] = _secondary_storage(session, f)
    zones = {z.id: z for z in session.scalars(sa.select(Zone).where(Zone.removed.is_(None)))}
    result = []
    for kind, rows in computed.items():
        for zone_id, pod_id, cluster_id, used, total in rows:
            if zone_id not in zones:
                continue
            result.append(
                Capacity(
                    type=kind,
                    zone=zones[zone_id],
                    pod=session.get(Pod, pod_id) if pod_id else None,
                    cluster=session.get(Cluster, cluster_id) if cluster_id else None,
                    used=used,
                    total=total,
                )
            )
    if f.sort_by_usage:
        result.sort(key=lambda c: c.percent_used, reverse=True)
    return result
