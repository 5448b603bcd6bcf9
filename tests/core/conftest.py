"""A bootstrapped core with a running job engine, the simulator and a local object store, on
each database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.bootstrap import AdminCredentials, bootstrap
from core.context import CallContext, Role
from core.db import Database
from core.identity import context_for, create_account, find_user, root_domain
from core.jobs import IN_PROGRESS, AsyncJob, JobEngine
from core.runtime import Runtime
from drivers.hypervisor.simulator import SimulatorDriver
from drivers.objectstore import load_object_store
from drivers.objectstore.base import ObjectStore
from drivers.objectstore.local import LocalObjectStore


@dataclass
class CoreHarness:
    db: Database
    runtime: Runtime
    jobs: JobEngine
    simulator: SimulatorDriver
    admin: AdminCredentials

    def admin_context(self) -> CallContext:
        with self.db.read() as session:
            return context_for(session, find_user(session, username="admin"))

    def new_tenant(self, name: str, role: Role = Role.USER) -> CallContext:
        with self.db.write() as session:
            _, user = create_account(
                session,
                name=name,
                domain=root_domain(session),
                role=role,
                username=name,
                password="pw",
            )
            return context_for(session, user)

    def wait(self, job_uuid: str, timeout: float = 20) -> AsyncJob:
        import sqlalchemy as sa

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.read() as session:
                job = session.scalar(sa.select(AsyncJob).where(AsyncJob.uuid == job_uuid))
                assert job is not None
                if job.status != IN_PROGRESS:
                    return job
            time.sleep(0.02)
        raise AssertionError(f"job {job_uuid} did not finish in {timeout}s")


@pytest.fixture
def core(database: Database, tmp_path) -> Iterator[CoreHarness]:
    simulator = SimulatorDriver(tmp_path / "simulator.db")
    # Secondary storage, as a server always has (snapshot backups are objects in it).
    runtime = Runtime(
        db=database,
        hypervisor=lambda _name: simulator,
        msid="test-ms",
        object_store=LocalObjectStore(tmp_path / "secondary-storage"),
    )
    with database.write() as session:
        admin = bootstrap(session)
    jobs = JobEngine(database, runtime, msid="test-ms", workers=8)
    jobs.start()
    yield CoreHarness(database, runtime, jobs, simulator, admin)
    jobs.stop()


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    """A bucket store for the S3 families' core tests (apart from secondary storage)."""
    return load_object_store("local", root=tmp_path / "objects")


@pytest.fixture
def alice(core: CoreHarness) -> CallContext:
    return core.new_tenant("alice")
