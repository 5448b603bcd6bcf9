"""Physical topology: zones ⊃ pods ⊃ clusters ⊃ hosts, primary storage pools, image stores.

Hosts carry their own allocated CPU and memory counters; the planner reserves capacity with
one conditional UPDATE on the host row, so concurrent deploys cannot over-commit it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext, Role
from core.db import Base, IdMixin, get_live, utcnow
from core.errors import InvalidParameter, InvalidState, ResourceInUse
from core.events import record_for_caller
from core.visibility import ensure_root_admin

ENABLED = "Enabled"
DISABLED = "Disabled"
HOST_UP = "Up"
# Host resource states (CloudStack's ResourceState).
PREPARE_FOR_MAINTENANCE = "PrepareForMaintenance"
MAINTENANCE = "Maintenance"
ERROR_IN_MAINTENANCE = "ErrorInMaintenance"
IN_MAINTENANCE = (PREPARE_FOR_MAINTENANCE, MAINTENANCE, ERROR_IN_MAINTENANCE)
SIMULATOR_DEFAULTS = {"cpunumber": 8, "cpuspeed": 2000, "memory": 16 * 1024}  # memory in MiB
GIB = 1024**3
MIB = 1024**2
# Called as hook(session, zone) after a zone is created, by families that give each account
# something in every zone (e.g. the default network); registered at import.
ZONE_CREATED_HOOKS: list[Callable[[Session, Any], None]] = []


class Zone(IdMixin, Base):
    __tablename__ = "zone"

    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str] = mapped_column(sa.String(1024), default="")
    network_type: Mapped[str] = mapped_column(sa.String(16), default="Advanced")
    dns1: Mapped[str] = mapped_column(sa.String(64), default="8.8.8.8")
    internal_dns1: Mapped[str] = mapped_column(sa.String(64), default="10.0.0.2")
    guest_cidr: Mapped[str] = mapped_column(sa.String(64), default="10.1.0.0/16")
    allocation_state: Mapped[str] = mapped_column(sa.String(16), default=ENABLED)
    local_storage_enabled: Mapped[bool] = mapped_column(default=False)
    removed: Mapped[dt.datetime | None]


class Pod(IdMixin, Base):
    __tablename__ = "pod"

    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    gateway: Mapped[str] = mapped_column(sa.String(64), default="")
    netmask: Mapped[str] = mapped_column(sa.String(64), default="")
    start_ip: Mapped[str] = mapped_column(sa.String(64), default="")
    end_ip: Mapped[str] = mapped_column(sa.String(64), default="")
    allocation_state: Mapped[str] = mapped_column(sa.String(16), default=ENABLED)
    removed: Mapped[dt.datetime | None]


class Cluster(IdMixin, Base):
    __tablename__ = "cluster"

    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    pod_id: Mapped[int] = mapped_column(sa.ForeignKey("pod.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    hypervisor: Mapped[str] = mapped_column(sa.String(32), default="Simulator")
    cluster_type: Mapped[str] = mapped_column(sa.String(32), default="CloudManaged")
    allocation_state: Mapped[str] = mapped_column(sa.String(16), default=ENABLED)
    removed: Mapped[dt.datetime | None]


class Host(IdMixin, Base):
    __tablename__ = "host"
    __table_args__ = (sa.Index("ix_host_placement", "zone_id", "state", "resource_state"),)

    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"))
    pod_id: Mapped[int] = mapped_column(sa.ForeignKey("pod.id"), index=True)
    cluster_id: Mapped[int] = mapped_column(sa.ForeignKey("cluster.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    url: Mapped[str] = mapped_column(sa.String(1024), default="")
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")
    hypervisor: Mapped[str] = mapped_column(sa.String(32), default="Simulator")
    host_type: Mapped[str] = mapped_column(sa.String(32), default="Routing")
    state: Mapped[str] = mapped_column(sa.String(16), default=HOST_UP)
    resource_state: Mapped[str] = mapped_column(sa.String(32), default=ENABLED)
    cpu_sockets: Mapped[int] = mapped_column(default=1)
    cpu_cores: Mapped[int] = mapped_column(default=1)
    cpu_speed_mhz: Mapped[int] = mapped_column(default=1000)
    memory_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=GIB)
    cpu_used_mhz: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    memory_used_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    host_tags: Mapped[str] = mapped_column(sa.String(1024), default="")
    version: Mapped[str] = mapped_column(sa.String(32), default="4.20.0")
    last_ping: Mapped[dt.datetime | None]
    removed: Mapped[dt.datetime | None]

    @property
    def cpu_total_mhz(self) -> int:
        return self.cpu_cores * self.cpu_speed_mhz


class StoragePool(IdMixin, Base):
    __tablename__ = "storage_pool"

    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    pod_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pod.id"))
    cluster_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cluster.id"))
    name: Mapped[str] = mapped_column(sa.String(255))
    url: Mapped[str] = mapped_column(sa.String(1024), default="")
    scope: Mapped[str] = mapped_column(sa.String(16), default="CLUSTER")
    pool_type: Mapped[str] = mapped_column(sa.String(32), default="NetworkFilesystem")
    capacity_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    allocated_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    state: Mapped[str] = mapped_column(sa.String(16), default=HOST_UP)
    tags: Mapped[str] = mapped_column(sa.String(1024), default="")
    removed: Mapped[dt.datetime | None]


class ImageStore(IdMixin, Base):
    __tablename__ = "image_store"

    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    url: Mapped[str] = mapped_column(sa.String(1024), default="")
    provider: Mapped[str] = mapped_column(sa.String(32), default="NFS")
    protocol: Mapped[str] = mapped_column(sa.String(16), default="nfs")
    scope: Mapped[str] = mapped_column(sa.String(16), default="ZONE")
    removed: Mapped[dt.datetime | None]


def create_zone(session: Session, *, name: str, **fields: object) -> Zone:
    if session.scalar(sa.select(Zone.id).where(Zone.name == name)):
        raise InvalidParameter(f"A zone with name {name} already exists", parameter="name")
    zone = Zone(name=name, **fields)
    session.add(zone)
    session.flush()
    for hook in ZONE_CREATED_HOOKS:
        hook(session, zone)
    return zone


def create_pod(session: Session, *, zone: Zone, name: str, **fields: object) -> Pod:
    pod = Pod(zone_id=zone.id, name=name, **fields)
    session.add(pod)
    session.flush()
    return pod


def create_cluster(session: Session, *, pod: Pod, name: str, hypervisor: str) -> Cluster:
    cluster = Cluster(zone_id=pod.zone_id, pod_id=pod.id, name=name, hypervisor=hypervisor)
    session.add(cluster)
    session.flush()
    return cluster


def add_host(session: Session, *, cluster: Cluster, name: str, **fields: object) -> Host:
    host = Host(
        zone_id=cluster.zone_id,
        pod_id=cluster.pod_id,
        cluster_id=cluster.id,
        name=name,
        hypervisor=cluster.hypervisor,
        **fields,
    )
    session.add(host)
    session.flush()
    return host


def add_storage_pool(
    session: Session, *, cluster: Cluster, name: str, **fields: object
) -> StoragePool:
    pool = StoragePool(
        zone_id=cluster.zone_id, pod_id=cluster.pod_id, cluster_id=cluster.id, name=name, **fields
    )
    session.add(pool)
    session.flush()
    return pool


def add_image_store(
    session: Session, *, zone: Zone | None, name: str, **fields: object
) -> ImageStore:
    store = ImageStore(zone_id=zone.id if zone else None, name=name, **fields)
    session.add(store)
    session.flush()
    return store


def list_zones(
    session: Session, *, zone_id: int | None = None, name: str | None = None
) -> list[Zone]:
    """Zones are visible to every caller (CloudStack hides only disabled ones from users)."""
    query = sa.select(Zone).where(Zone.removed.is_(None)).order_by(Zone.id)
    if zone_id is not None:
        query = query.where(Zone.id == zone_id)
    if name is not None:
        query = query.where(Zone.name == name)
    return list(session.scalars(query))


def get_zone(session: Session, zone_id: int) -> Zone:
    return get_live(session, Zone, "zone", ident=zone_id)


def zone_by_uuid(session: Session, uuid: str) -> Zone:
    return get_live(session, Zone, "zone", uuid=uuid)


# Administration use cases ---------------------------------------------------------------------
# Every one of them is for the root administrator only; the low-level constructors above are
# also what bootstrap uses to build the demo zone.


def tag_list(tags: str | Iterable[str] | None) -> list[str]:
    """CloudStack's comma-separated tag strings, normalised (trimmed, no empties, no dups)."""
    if tags is None:
        return []
    parts = tags.split(",") if isinstance(tags, str) else list(tags)
    seen: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in seen:
            seen.append(part)
    return seen


def _event(session: Session, ctx: CallContext, event_type: str, text: str, kind: str, uuid: str):
    record_for_caller(session, ctx, event_type, text, resource_type=kind, resource_uuid=uuid)


def _allocation_state(value: str | None, *, host: bool = False) -> str | None:
    if value is None:
        return None
    if host:  # updateHost speaks Enable/Disable
        mapping = {"enable": ENABLED, "disable": DISABLED}
    else:
        mapping = {"enabled": ENABLED, "disabled": DISABLED}
    state = mapping.get(value.lower())
    if state is None:
        raise InvalidParameter(f"Invalid allocation state {value}", parameter="allocationstate")
    return state


def _apply(row: Any, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is not None:
            setattr(row, name, value)


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def _update_allocatable(
    session: Session, ctx: CallContext, row: Any, changes: dict[str, Any], event_type: str
) -> Any:
    """updateZone / updatePod / updateCluster: the given fields and the allocation state."""
    changes["allocation_state"] = _allocation_state(changes.get("allocation_state"))
    _apply(row, changes)
    kind = type(row).__name__
    _event(session, ctx, event_type, f"{kind} {row.name} updated", kind, row.uuid)
    return row


def _ensure_empty(kind: str, name: str, holds: Iterable[tuple[str, int]]) -> None:
    """ResourceInUse naming the first thing a zone, pod or cluster to delete still holds."""
    for what, count in holds:
        if count:
            raise ResourceInUse(f"The {kind} {name} is not deletable because it has {what}")


def _vm_count(session: Session, *where: Any) -> int:
    from core.vms.models import VirtualMachine

    return _count(session, VirtualMachine, VirtualMachine.removed.is_(None), *where)


# zones


def add_zone(session: Session, ctx: CallContext, *, name: str, **fields: Any) -> Zone:
    """createZone."""
    ensure_root_admin(ctx)
    network_type = fields.get("network_type") or "Advanced"
    if network_type.lower() not in ("basic", "advanced"):
        raise InvalidParameter("networktype must be Basic or Advanced", parameter="networktype")
    fields["network_type"] = network_type.capitalize()
    fields["allocation_state"] = _allocation_state(fields.get("allocation_state")) or ENABLED
    zone = create_zone(session, name=name, **{k: v for k, v in fields.items() if v is not None})
    _event(session, ctx, "ZONE.CREATE", f"Zone {name} created", "Zone", zone.uuid)
    return zone


def update_zone(session: Session, ctx: CallContext, zone: Zone, **changes: Any) -> Zone:
    ensure_root_admin(ctx)
    name = changes.get("name")
    if (
        name
        and name != zone.name
        and session.scalar(sa.select(Zone.id).where(Zone.name == name, Zone.removed.is_(None)))
    ):
        raise InvalidParameter(f"A zone with name {name} already exists", parameter="name")
    return _update_allocatable(session, ctx, zone, changes, "ZONE.EDIT")


def delete_zone(session: Session, ctx: CallContext, zone: Zone) -> None:
    ensure_root_admin(ctx)
    holds = (
        ("pods", _count(session, Pod, Pod.zone_id == zone.id, _live(Pod))),
        ("hosts", _count(session, Host, Host.zone_id == zone.id, _live(Host))),
        ("VMs", _zone_vm_count(session, zone.id)),
    )
    _ensure_empty("zone", zone.name, holds)
    zone.removed = utcnow()
    zone.name = f"{zone.name}-removed-{zone.id}"  # frees the unique name
    _event(session, ctx, "ZONE.DELETE", f"Zone {zone.uuid} deleted", "Zone", zone.uuid)


def _zone_vm_count(session: Session, zone_id: int) -> int:
    from core.vms.models import VirtualMachine

    return _vm_count(session, VirtualMachine.zone_id == zone_id)


# pods


def add_pod(session: Session, ctx: CallContext, *, zone: Zone, name: str, **fields: Any) -> Pod:
    ensure_root_admin(ctx)
    if _count(session, Pod, Pod.zone_id == zone.id, Pod.name == name, Pod.removed.is_(None)):
        raise InvalidParameter(
            f"A pod with name {name} already exists in the zone", parameter="name"
        )
    fields["allocation_state"] = _allocation_state(fields.get("allocation_state")) or ENABLED
    pod = create_pod(
        session, zone=zone, name=name, **{k: v for k, v in fields.items() if v is not None}
    )
    _event(session, ctx, "POD.CREATE", f"Pod {name} created", "Pod", pod.uuid)
    return pod


def update_pod(session: Session, ctx: CallContext, pod: Pod, **changes: Any) -> Pod:
    ensure_root_admin(ctx)
    return _update_allocatable(session, ctx, pod, changes, "POD.EDIT")


def delete_pod(session: Session, ctx: CallContext, pod: Pod) -> None:
    ensure_root_admin(ctx)
    holds = (
        ("clusters", _count(session, Cluster, Cluster.pod_id == pod.id, _live(Cluster))),
        ("hosts", _count(session, Host, Host.pod_id == pod.id, _live(Host))),
    )
    _ensure_empty("pod", pod.name, holds)
    pod.removed = utcnow()
    _event(session, ctx, "POD.DELETE", f"Pod {pod.uuid} deleted", "Pod", pod.uuid)


# clusters


def add_cluster(
    session: Session, ctx: CallContext, *, pod: Pod, name: str, hypervisor: str, **fields: Any
) -> Cluster:
    ensure_root_admin(ctx)
    if _count(
        session, Cluster, Cluster.pod_id == pod.id, Cluster.name == name, Cluster.removed.is_(None)
    ):
        raise InvalidParameter(
            f"A cluster with name {name} already exists", parameter="clustername"
        )
    cluster = create_cluster(session, pod=pod, name=name, hypervisor=hypervisor)
    cluster.cluster_type = fields.get("cluster_type") or "CloudManaged"
    cluster.allocation_state = _allocation_state(fields.get("allocation_state")) or ENABLED
    _event(session, ctx, "CLUSTER.CREATE", f"Cluster {name} created", "Cluster", cluster.uuid)
    return cluster


def update_cluster(session: Session, ctx: CallContext, cluster: Cluster, **changes: Any) -> Cluster:
    ensure_root_admin(ctx)
    return _update_allocatable(session, ctx, cluster, changes, "CLUSTER.EDIT")


def delete_cluster(session: Session, ctx: CallContext, cluster: Cluster) -> None:
    ensure_root_admin(ctx)
    pools = (StoragePool.cluster_id == cluster.id, StoragePool.scope == "CLUSTER")
    holds = (
        ("hosts", _count(session, Host, Host.cluster_id == cluster.id, _live(Host))),
        ("primary storage", _count(session, StoragePool, *pools, _live(StoragePool))),
    )
    _ensure_empty("cluster", cluster.name, holds)
    cluster.removed = utcnow()
    _event(
        session, ctx, "CLUSTER.DELETE", f"Cluster {cluster.uuid} deleted", "Cluster", cluster.uuid
    )


# hosts


def simulator_capacity(url: str, details: dict[str, str] | None = None) -> dict[str, int]:
    """A simulated host's size: CloudStack takes it from the simulator's mock configuration;
    here `cpunumber`, `cpuspeed` and `memory` (MiB) come from the URL query or the details."""
    values: dict[str, Any] = dict(SIMULATOR_DEFAULTS)
    sources = [
        dict(parse_qsl(urlsplit(url).query)),
        {k.lower(): v for k, v in (details or {}).items()},
    ]
    for source in sources:
        for key in SIMULATOR_DEFAULTS:
            if key in source:
                try:
                    values[key] = int(source[key])
                except ValueError:
                    raise InvalidParameter(
                        f"Invalid {key}: {source[key]}", parameter="url"
                    ) from None
                if values[key] <= 0:
                    raise InvalidParameter(f"{key} must be positive", parameter="url")
    return {
        "cpu_cores": values["cpunumber"],
        "cpu_speed_mhz": values["cpuspeed"],
        "memory_bytes": values["memory"] * MIB,
    }


def register_host(
    session: Session,
    ctx: CallContext,
    *,
    cluster: Cluster,
    url: str,
    hypervisor: str,
    host_tags: str | None = None,
    details: dict[str, str] | None = None,
) -> Host:
    """addHost: a simulator URL like http://sim/c1/h1 names a simulated host."""
    ensure_root_admin(ctx)
    if hypervisor.lower() != cluster.hypervisor.lower():
        raise InvalidParameter(
            f"Cannot add a {hypervisor} host to a {cluster.hypervisor} cluster",
            parameter="hypervisor",
        )
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise InvalidParameter(f"Invalid host url {url}", parameter="url")
    if _count(session, Host, Host.url == url, Host.removed.is_(None)):
        raise InvalidParameter(f"A host with url {url} already exists", parameter="url")
    count = _count(session, Host)
    host = add_host(
        session,
        cluster=cluster,
        name=f"SimulatedAgent.{parts.path.strip('/').replace('/', '.') or count + 1}",
        url=url,
        ip_address=f"172.16.{(count // 250) % 250}.{count % 250 + 2}",
        host_tags=",".join(tag_list(host_tags)),
        last_ping=utcnow(),
        **simulator_capacity(url, details),
    )
    _event(session, ctx, "HOST.CREATE", f"Host {host.name} added", "Host", host.uuid)
    return host


def update_host(
    session: Session,
    ctx: CallContext,
    host: Host,
    *,
    host_tags: str | None = None,
    allocation_state: str | None = None,
    name: str | None = None,
) -> Host:
    ensure_root_admin(ctx)
    state = _allocation_state(allocation_state, host=True)
    if state is not None:
        if host.resource_state in IN_MAINTENANCE:
            raise InvalidState("host", host.uuid, host.resource_state, "change allocation state")
        host.resource_state = state
    if host_tags is not None:
        host.host_tags = ",".join(tag_list(host_tags))
    if name:
        host.name = name
    _event(session, ctx, "HOST.UPDATE", f"Host {host.name} updated", "Host", host.uuid)
    return host


def delete_host(session: Session, ctx: CallContext, host: Host, *, forced: bool = False) -> None:
    """deleteHost: a host with VMs on it goes only in maintenance or when forced, and never
    while a VM still runs on it."""
    from core.vms.models import VirtualMachine

    ensure_root_admin(ctx)
    if host.resource_state != MAINTENANCE and not forced:
        raise InvalidState("host", host.uuid, host.resource_state, "delete (not in maintenance)")
    if _vm_count(session, VirtualMachine.host_id == host.id):
        raise ResourceInUse(f"Host {host.name} still has virtual machines on it")
    host.removed = utcnow()
    host.state = "Removed"
    _event(session, ctx, "HOST.DELETE", f"Host {host.uuid} deleted", "Host", host.uuid)


# primary storage


def create_primary_pool(
    session: Session,
    ctx: CallContext,
    *,
    zone: Zone,
    name: str,
    url: str,
    scope: str = "CLUSTER",
    pod: Pod | None = None,
    cluster: Cluster | None = None,
    tags: str | None = None,
    capacity_bytes: int | None = None,
) -> StoragePool:
    """createStoragePool (primary storage, cluster- or zone-wide)."""
    ensure_root_admin(ctx)
    scope = (scope or "CLUSTER").upper()
    if scope not in ("CLUSTER", "ZONE"):
        raise InvalidParameter("scope must be CLUSTER or ZONE", parameter="scope")
    if scope == "CLUSTER" and cluster is None:
        raise InvalidParameter(
            "A cluster-wide pool needs clusterid and podid", parameter="clusterid"
        )
    parts = urlsplit(url)
    if not parts.scheme:
        raise InvalidParameter(f"Invalid storage pool url {url}", parameter="url")
    pool = StoragePool(
        zone_id=zone.id,
        pod_id=(cluster.pod_id if cluster else pod.id if pod else None)
        if scope == "CLUSTER"
        else None,
        cluster_id=cluster.id if scope == "CLUSTER" and cluster else None,
        name=name,
        url=url,
        scope=scope,
        pool_type={"nfs": "NetworkFilesystem", "rbd": "RBD", "iscsi": "IscsiLUN"}.get(
            parts.scheme.lower(), "Filesystem"
        ),
        capacity_bytes=capacity_bytes if capacity_bytes else 2048 * GIB,
        tags=",".join(tag_list(tags)),
    )
    session.add(pool)
    session.flush()
    _event(session, ctx, "PRIMARY.STORAGE.CREATE", f"Pool {name} created", "StoragePool", pool.uuid)
    return pool


def update_primary_pool(
    session: Session,
    ctx: CallContext,
    pool: StoragePool,
    *,
    tags: str | None = None,
    capacity_bytes: int | None = None,
    enabled: bool | None = None,
    name: str | None = None,
) -> StoragePool:
    ensure_root_admin(ctx)
    if tags is not None:
        pool.tags = ",".join(tag_list(tags))
    if capacity_bytes is not None:
        if capacity_bytes < pool.allocated_bytes:
            raise InvalidParameter(
                "capacitybytes is smaller than the space already allocated",
                parameter="capacitybytes",
            )
        pool.capacity_bytes = capacity_bytes
    if enabled is not None:
        pool.state = HOST_UP if enabled else DISABLED
    if name:
        pool.name = name
    _event(
        session,
        ctx,
        "PRIMARY.STORAGE.UPDATE",
        f"Pool {pool.name} updated",
        "StoragePool",
        pool.uuid,
    )
    return pool


def delete_primary_pool(
    session: Session, ctx: CallContext, pool: StoragePool, *, forced: bool = False
) -> None:
    from core.volumes import Volume

    ensure_root_admin(ctx)
    if _count(session, Volume, Volume.pool_id == pool.id, Volume.removed.is_(None)):
        raise ResourceInUse(f"Storage pool {pool.name} still holds volumes")
    pool.removed = utcnow()
    pool.state = "Removed"
    _event(
        session,
        ctx,
        "PRIMARY.STORAGE.DELETE",
        f"Pool {pool.uuid} deleted",
        "StoragePool",
        pool.uuid,
    )


# image stores


def create_image_store(
    session: Session,
    ctx: CallContext,
    *,
    name: str | None,
    url: str,
    provider: str,
    zone: Zone | None,
) -> ImageStore:
    """addImageStore."""
    ensure_root_admin(ctx)
    if provider.upper() not in ("NFS", "SWIFT", "S3", "LOCAL"):
        raise InvalidParameter(f"Unknown image store provider {provider}", parameter="provider")
    protocol = urlsplit(url).scheme or "nfs"
    store = add_image_store(
        session,
        zone=zone,
        name=name or url,
        url=url,
        provider=provider if provider.upper() != "NFS" else "NFS",
        protocol=protocol,
        scope="ZONE" if zone else "REGION",
    )
    _event(
        session,
        ctx,
        "IMAGE.STORE.CREATE",
        f"Image store {store.name} added",
        "ImageStore",
        store.uuid,
    )
    return store


def delete_image_store(session: Session, ctx: CallContext, store: ImageStore) -> None:
    ensure_root_admin(ctx)
    store.removed = utcnow()
    _event(
        session,
        ctx,
        "IMAGE.STORE.DELETE",
        f"Image store {store.uuid} deleted",
        "ImageStore",
        store.uuid,
    )


# reads


def _live(model: Any) -> Any:
    return model.removed.is_(None)


def visible_zones(
    session: Session,
    ctx: CallContext,
    *,
    zone_id: int | None = None,
    name: str | None = None,
    network_type: str | None = None,
) -> list[Zone]:
    """listZones: users and domain admins see enabled zones only."""
    query = sa.select(Zone).where(_live(Zone)).order_by(Zone.id)
    if ctx.role is not Role.ADMIN:
        query = query.where(Zone.allocation_state == ENABLED)
    if zone_id is not None:
        query = query.where(Zone.id == zone_id)
    if name is not None:
        query = query.where(Zone.name == name)
    if network_type:
        query = query.where(Zone.network_type == network_type.capitalize())
    return list(session.scalars(query))


def search(
    session: Session, model: Any, *, keyword: str | None = None, **equal: Any
) -> sa.Select[Any]:
    """A query for live rows of `model` matching every non-None `equal` (column → value)."""
    query = sa.select(model).where(_live(model)).order_by(model.id)
    for column, value in equal.items():
        if value is not None:
            query = query.where(getattr(model, column) == value)
    if keyword:
        query = query.where(model.name.like(f"%{keyword}%"))
    return query


def get_pod(session: Session, uuid: str) -> Pod:
    return get_live(session, Pod, "pod", uuid=uuid)


def get_cluster(session: Session, uuid: str) -> Cluster:
    return get_live(session, Cluster, "cluster", uuid=uuid)


def get_host(session: Session, uuid: str) -> Host:
    return get_live(session, Host, "host", uuid=uuid)


def get_pool(session: Session, uuid: str) -> StoragePool:
    return get_live(session, StoragePool, "storage pool", uuid=uuid)


def get_image_store(session: Session, uuid: str) -> ImageStore:
    return get_live(session, ImageStore, "image store", uuid=uuid)
