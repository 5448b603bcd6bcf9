"""Physical topology: zones ⊃ pods ⊃ clusters ⊃ hosts, primary storage pools, image stores.

Hosts carry their own allocated CPU and memory counters; the planner reserves capacity with
one conditional UPDATE on the host row, so concurrent deploys cannot over-commit it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, IdMixin, get_live
from core.errors import InvalidParameter

ENABLED = "Enabled"
DISABLED = "Disabled"
HOST_UP = "Up"
GIB = 1024**3
MIB = 1024**2


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
