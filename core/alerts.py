"""Alerts for operators (CloudStack's `alert` table): capacity past the disable thresholds,
hosts that went down, jobs that failed for an infrastructure reason.

Checks run as a periodic task on every server of a cluster; an open (unarchived) alert of one
type about one thing is kept unique by `dedupe_key`, so concurrent checks raise it once.
Archiving an alert clears the key: the next check may raise it again if the condition holds.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.configuration import get_float
from core.context import CallContext
from core.db import Base, IdMixin, changed_rows, utcnow
from core.listing import Page, given, paginate, picked
from core.scheduler import periodic
from core.visibility import ensure_root_admin

log = logging.getLogger(__name__)

# CloudStack's AlertManager.AlertType: number → name.
ALERT_TYPES: dict[int, str] = {
    0: "ALERT.MEMORY",
    1: "ALERT.CPU",
    2: "ALERT.STORAGE",
    3: "ALERT.STORAGE.ALLOCATED",
    4: "ALERT.NETWORK.PUBLICIP",
    5: "ALERT.NETWORK.PRIVATEIP",
    6: "ALERT.STORAGE.SECONDARY",
    7: "ALERT.COMPUTE.HOST",
    8: "ALERT.USERVM",
    9: "ALERT.SERVICE.DOMAINROUTER",
    10: "ALERT.SERVICE.CONSOLEPROXY",
    11: "ALERT.NETWORK.ROUTING",
    12: "ALERT.STORAGE.MISC",
    13: "ALERT.USAGE",
    14: "ALERT.MANAGEMENT",
    15: "ALERT.NETWORK.DOMAINROUTERMIGRATE",
    16: "ALERT.SERVICE.CONSOLEPROXYMIGRATE",
    17: "ALERT.USERVM.MIGRATE",
    18: "ALERT.NETWORK.VLAN",
    19: "ALERT.SERVICE.SSVM",
    20: "ALERT.USAGE.RESULT",
    21: "ALERT.STORAGE.DELETE",
    22: "ALERT.RESOURCE.COUNT",
    23: "ALERT.USAGE.SANITY",
    24: "ALERT.NETWORK.DIRECTPUBLICIP",
    25: "ALERT.STORAGE.LOCAL",
    26: "ALERT.RESOURCE.EXCEED",
    27: "ALERT.TYPE.SYNC",
    28: "ALERT.UPLOAD.FAILED",
    29: "ALERT.OOBM.AUTHERROR",
    30: "ALERT.HA.ACTION",
    31: "ALERT.CA.CERT",
}
MEMORY, CPU, STORAGE_ALLOCATED, HOST, USERVM, STORAGE_MISC = 0, 1, 3, 7, 8, 12
# Job failures that point at the infrastructure rather than at the request.
INFRASTRUCTURE_ERRORS = ("InsufficientCapacity", "ResourceUnavailable", "OperationFailed",
                         "InternalError")  # fmt: skip


class Alert(IdMixin, Base):
    __tablename__ = "alert"

    alert_type: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    subject: Mapped[str] = mapped_column(sa.String(999), default="")
    zone_id: Mapped[int | None]
    pod_id: Mapped[int | None]
    cluster_id: Mapped[int | None]
    sent_count: Mapped[int] = mapped_column(default=1)
    last_sent: Mapped[dt.datetime] = mapped_column(default=utcnow)
    archived: Mapped[bool] = mapped_column(default=False)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)


def raise_alert(
    session: Session,
    alert_type: int,
    subject: str,
    *,
    key: str | None = None,
    zone_id: int | None = None,
    pod_id: int | None = None,
    cluster_id: int | None = None,
) -> Alert | None:
    """Record an alert; with `key`, only when no open alert with that key exists (None then)."""
    dedupe = f"{alert_type}:{key}" if key else None
    if dedupe and session.scalar(sa.select(Alert.id).where(Alert.dedupe_key == dedupe)):
        return None
    alert = Alert(
        alert_type=alert_type,
        name=ALERT_TYPES.get(alert_type, f"ALERT.{alert_type}"),
        subject=subject[:999],
        zone_id=zone_id,
        pod_id=pod_id,
        cluster_id=cluster_id,
        dedupe_key=dedupe,
    )
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:  # another server raised it at the same moment
        return None
    log.warning("alert %s: %s", alert.name, subject)
    return alert


# --- the checks ------------------------------------------------------------------------------


def check_capacity(session: Session) -> list[Alert]:
    """Alerts for clusters and pools allocated past CloudStack's disable thresholds."""
    from core.infra import Cluster, Host, StoragePool

    raised: list[Alert] = []
    cpu_factor = get_float(session, "cpu.overprovisioning.factor")
    memory_factor = get_float(session, "mem.overprovisioning.factor")
    storage_factor = get_float(session, "storage.overprovisioning.factor")
    cpu_threshold = get_float(session, "cluster.cpu.allocated.capacity.disablethreshold")
    memory_threshold = get_float(session, "cluster.memory.allocated.capacity.disablethreshold")
    pool_threshold = get_float(session, "pool.storage.allocated.capacity.disablethreshold")
    per_cluster = session.execute(
        sa.select(
            Host.cluster_id,
            sa.func.sum(Host.cpu_cores * Host.cpu_speed_mhz),
            sa.func.sum(Host.cpu_used_mhz),
            sa.func.sum(Host.memory_bytes),
            sa.func.sum(Host.memory_used_bytes),
        )
        .where(Host.removed.is_(None), Host.host_type == "Routing")
        .group_by(Host.cluster_id)
    ).all()
    for cluster_id, cpu_total, cpu_used, memory_total, memory_used in per_cluster:
        cluster = session.get(Cluster, cluster_id)
        name = cluster.name if cluster else str(cluster_id)
        checks = (
            (CPU, "CPU", cpu_used, float(cpu_total or 0) * cpu_factor, cpu_threshold),
            (
                MEMORY,
                "memory",
                memory_used,
                float(memory_total or 0) * memory_factor,
                memory_threshold,
            ),
        )
        for alert_type, what, used_raw, total_raw, threshold in checks:
            used, total = float(used_raw or 0), float(total_raw or 0)  # MariaDB: Decimals
            if total and used / total > threshold:
                alert = raise_alert(
                    session,
                    alert_type,
                    f"System Alert: Low Available {what} in cluster {name}: "
                    f"{used / total:.0%} allocated, threshold {threshold:.0%}",
                    key=f"cluster:{cluster_id}",
                    cluster_id=cluster_id,
                    zone_id=getattr(cluster, "zone_id", None),
                )
                if alert:
                    raised.append(alert)
    for pool in session.scalars(sa.select(StoragePool).where(StoragePool.removed.is_(None))):
        total = pool.capacity_bytes * storage_factor
        if total and pool.allocated_bytes / total > pool_threshold:
            alert = raise_alert(
                session,
                STORAGE_ALLOCATED,
                f"System Alert: Remaining unallocated Storage is low in pool {pool.name}: "
                f"{pool.allocated_bytes / total:.0%} allocated, threshold {pool_threshold:.0%}",
                key=f"pool:{pool.id}",
                zone_id=pool.zone_id,
                cluster_id=pool.cluster_id,
            )
            if alert:
                raised.append(alert)
    return raised


def check_hosts(session: Session) -> list[Alert]:
    """An alert per host that is not Up (and not in maintenance)."""
    from core.infra import HOST_UP, IN_MAINTENANCE, Host

    raised = []
    for host in session.scalars(
        sa.select(Host).where(
            Host.removed.is_(None),
            Host.state != HOST_UP,
            Host.resource_state.notin_(IN_MAINTENANCE),
        )
    ):
        alert = raise_alert(
            session,
            HOST,
            f"Host is down, name: {host.name} (id:{host.uuid}), state: {host.state}",
            key=f"host:{host.id}:{host.state}",
            zone_id=host.zone_id,
            pod_id=host.pod_id,
            cluster_id=host.cluster_id,
        )
        if alert:
            raised.append(alert)
    return raised


def check_failed_jobs(
    session: Session, *, since: dt.timedelta = dt.timedelta(minutes=3)
) -> list[Alert]:
    """An alert per recently failed job whose error points at the infrastructure (the check
    runs every minute; `since` overlaps runs, the open alert's key keeps it single)."""
    from core.jobs import FAILED, AsyncJob

    raised = []
    for job in session.scalars(
        sa.select(AsyncJob).where(
            AsyncJob.status == FAILED,
            AsyncJob.error_kind.in_(INFRASTRUCTURE_ERRORS),
            AsyncJob.completed >= utcnow() - since,
        )
    ):
        alert_type = USERVM if job.kind.startswith("vm.") else STORAGE_MISC
        alert = raise_alert(
            session,
            alert_type,
            f"Job {job.uuid} ({job.kind}) failed: {job.error_text}",
            key=f"job:{job.id}",
        )
        if alert:
            raised.append(alert)
    return raised


@periodic("alerts.check", every_seconds=60)
def run_checks(runtime: Any) -> None:
    """The periodic check: capacity, hosts, failed jobs."""
    with runtime.db.write() as session:
        check_capacity(session)
        check_hosts(session)
        check_failed_jobs(session)


# --- use cases of the alert commands ----------------------------------------------------------


def list_alerts(
    session: Session,
    ctx: CallContext,
    *,
    uuid: str | None = None,
    alert_type: int | None = None,
    name: str | None = None,
    keyword: str | None = None,
    archived: bool = False,
    page: Page = Page(),
) -> tuple[list[Alert], int]:
    """listAlerts (root admin): newest first; archived alerts are not listed."""
    ensure_root_admin(ctx)
    query = sa.select(Alert).where(Alert.archived.is_(archived))
    if uuid:
        query = query.where(Alert.uuid == uuid)
    if alert_type is not None:
        query = query.where(Alert.alert_type == alert_type)
    if name:
        query = query.where(Alert.name == name)
    if keyword:
        query = query.where(Alert.subject.like(f"%{keyword}%"))
    return paginate(session, query.order_by(Alert.id.desc()), page)


def _selection(
    uuids: list[str] | None,
    alert_type: int | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> sa.ColumnElement[bool]:
    return sa.and_(
        sa.true(), *picked(Alert, uuids, given(Alert.alert_type, alert_type), start, end)
    )


def archive_alerts(
    session: Session,
    ctx: CallContext,
    *,
    uuids: list[str] | None = None,
    alert_type: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> int:
    ensure_root_admin(ctx)
    return changed_rows(
        session,
        sa.update(Alert)
        .where(_selection(uuids, alert_type, start, end), Alert.archived.is_(False))
        .values(archived=True, dedupe_key=None),
    )


def delete_alerts(
    session: Session,
    ctx: CallContext,
    *,
    uuids: list[str] | None = None,
    alert_type: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> int:
    ensure_root_admin(ctx)
    return changed_rows(session, sa.delete(Alert).where(_selection(uuids, alert_type, start, end)))
