"""Volume jobs: the driver half of each operation, idempotent, each starting from the
committed volume row (a job interrupted by a crash is simply run again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core import limits
from core.db import utcnow
from core.infra import Cluster, Host, StoragePool
from core.jobs import AsyncJob, job_handler
from core.planner import release_pool
from core.runtime import Runtime, driver_call
from core.tags import forget_resource
from core.volumes.models import GIB, TAG_TYPE, Volume
from core.volumes.service import _vm_of, reserve_on_pool, transition, volume_by_id
from core.volumes.states import READY, VolumeEvent, VolumeState
from drivers.hypervisor.base import HostRef, HypervisorDriver

_driver_call = driver_call  # the name the family's modules import


def hypervisor_of(session: Session, volume: Volume) -> str:
    """The hypervisor kind whose driver handles the volume's storage."""
    if volume.vm_id is not None:
        return _vm_of(session, volume.vm_id).hypervisor
    if volume.pool_id is not None:
        cluster_id = session.get_one(StoragePool, volume.pool_id).cluster_id
        if cluster_id is not None:
            return session.get_one(Cluster, cluster_id).hypervisor
    return "Simulator"


def pool_uuid(session: Session, pool_id: int | None) -> str:
    return session.get_one(StoragePool, pool_id).uuid if pool_id is not None else ""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a job needs from the database, read before the (slow) driver call."""

    driver: HypervisorDriver
    pool: str
    path: str
    size_bytes: int
    host: HostRef | None
    instance_name: str
    device_id: int


def _plan(runtime: Runtime, session: Session, volume: Volume, vm_id: int | None) -> _Plan:
    host = None
    instance_name = ""
    if vm_id is not None:
        vm = _vm_of(session, vm_id)
        instance_name = vm.instance_name
        if vm.state == "Running" and vm.host_id is not None:
            row = session.get_one(Host, vm.host_id)
            host = HostRef(uuid=row.uuid, name=row.name, url=row.url)
    return _Plan(
        driver=runtime.hypervisor(hypervisor_of(session, volume)),
        pool=pool_uuid(session, volume.pool_id),
        path=volume.path,
        size_bytes=volume.size_bytes,
        host=host,
        instance_name=instance_name,
        device_id=volume.device_id or 0,
    )


def _ensure_on_pool_and_plugged(plan: _Plan) -> None:
    if plan.pool:
        _driver_call(lambda: plan.driver.create_volume(plan.pool, plan.path, plan.size_bytes))
    if plan.pool and plan.host is not None:
        host = plan.host
        _driver_call(
            lambda: plan.driver.attach_volume(host, plan.instance_name, plan.path, plan.device_id)
        )


def _load(session: Session, job: AsyncJob) -> Volume:
    assert job.instance_id is not None
    return volume_by_id(session, job.instance_id)


def _result(volume: Volume) -> dict[str, Any]:
    return {"volume_id": volume.id}


def _fail_attach(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        volume = _load(session, job)
        if volume.vm_id is not None and volume.vm_id == job.arguments.get("vm_id"):
            volume.vm_id = None
            volume.device_id = None
            volume.attached = None


def _run_attach(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        volume = _load(session, job)
        plan = _plan(runtime, session, volume, volume.vm_id)
    _ensure_on_pool_and_plugged(plan)
    return _result(volume)


job_handler("volume.create", fail=_fail_attach)(_run_attach)
job_handler("volume.attach", fail=_fail_attach)(_run_attach)


def _fail_detach(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """The hypervisor still has the disk: the volume stays attached."""
    with runtime.db.write() as session:
        volume = _load(session, job)
        if volume.vm_id is None and volume.state == READY:
            volume.vm_id = job.arguments["vm_id"]
            volume.device_id = job.arguments.get("device_id")
            volume.attached = utcnow()


@job_handler("volume.detach", fail=_fail_detach)
def run_detach(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        volume = _load(session, job)
        plan = _plan(runtime, session, volume, job.arguments["vm_id"])
    if plan.host is not None:
        host = plan.host
        _driver_call(lambda: plan.driver.detach_volume(host, plan.instance_name, plan.path))
    return _result(volume)


def _fail_resize(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    """Give back what the request took: size, pool space, account count."""
    old_bytes, new_bytes = job.arguments["old_bytes"], job.arguments["new_bytes"]
    with runtime.db.write() as session:
        volume = _load(session, job)
        if volume.state != VolumeState.RESIZING or volume.size_bytes != new_bytes:
            return
        delta = new_bytes - old_bytes
        if volume.pool_id is not None:
            if delta > 0:
                release_pool(session, volume.pool_id, delta)
            else:
                reserve_on_pool(session, volume.pool_id, -delta)
        delta_gb = -(-new_bytes // GIB) - (-(-old_bytes // GIB))
        if delta_gb > 0:
            limits.release(
                session, volume.account_id, {limits.ResourceType.PRIMARY_STORAGE: delta_gb}
            )
        elif delta_gb < 0:
            limits.reserve(
                session, volume.account_id, {limits.ResourceType.PRIMARY_STORAGE: -delta_gb}
            )
        volume.size_bytes = old_bytes
        transition(session, volume, VolumeEvent.OPERATION_FAILED)


@job_handler("volume.resize", fail=_fail_resize)
def run_resize(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        volume = _load(session, job)
        plan = _plan(runtime, session, volume, None)
    if volume.state == VolumeState.RESIZING and plan.pool:
        _driver_call(lambda: plan.driver.create_volume(plan.pool, plan.path, plan.size_bytes))
        _driver_call(lambda: plan.driver.resize_volume(plan.pool, plan.path, plan.size_bytes))
    with runtime.db.write() as session:
        volume = _load(session, job)
        if volume.state == VolumeState.RESIZING:
            transition(session, volume, VolumeEvent.OPERATION_SUCCEEDED)
    return _result(volume)


def _fail_migrate(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        volume = _load(session, job)
        if volume.state != VolumeState.MIGRATING:
            return
        release_pool(session, job.arguments["target"], volume.size_bytes)
        transition(session, volume, VolumeEvent.OPERATION_FAILED)


@job_handler("volume.migrate", fail=_fail_migrate)
def run_migrate(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    source_id, target_id = job.arguments["source_pool_id"], job.arguments["target"]
    with runtime.db.read() as session:
        volume = _load(session, job)
        plan = _plan(runtime, session, volume, None)
        target = pool_uuid(session, target_id)
        source = pool_uuid(session, source_id)
    if volume.state == VolumeState.MIGRATING and volume.pool_id == source_id:
        _driver_call(lambda: plan.driver.create_volume(source, plan.path, plan.size_bytes))
        _driver_call(lambda: plan.driver.migrate_volume(source, target, plan.path))
        with runtime.db.write() as session:
            volume = _load(session, job)
            release_pool(session, source_id, volume.size_bytes)
            volume.pool_id = target_id
            transition(session, volume, VolumeEvent.OPERATION_SUCCEEDED)
    return _result(volume)


def _fail_delete(runtime: Runtime, job: AsyncJob, error: Exception) -> None:
    with runtime.db.write() as session:
        volume = _load(session, job)
        if volume.state == VolumeState.EXPUNGING:
            transition(session, volume, VolumeEvent.OPERATION_FAILED)


@job_handler("volume.delete", fail=_fail_delete)
def run_delete(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.read() as session:
        volume = _load(session, job)
        plan = _plan(runtime, session, volume, None)
    if volume.state != VolumeState.EXPUNGING:
        return _result(volume)
    if plan.pool:
        _driver_call(lambda: plan.driver.delete_volume(plan.pool, plan.path))
    with runtime.db.write() as session:
        volume = _load(session, job)
        if volume.state == VolumeState.EXPUNGING:
            if volume.pool_id is not None:
                release_pool(session, volume.pool_id, volume.size_bytes)
            transition(session, volume, VolumeEvent.OPERATION_SUCCEEDED)
            volume.removed = utcnow()
            forget_resource(session, TAG_TYPE, volume.id)
    return _result(volume)
