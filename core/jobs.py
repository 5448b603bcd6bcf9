"""Asynchronous jobs: rows in `async_job` are the truth, a worker pool does the work.

A use case that needs slow driver work commits its state change and an `async_job` row in
the same transaction; the engine claims the row (an UPDATE that sets `owner_msid` only if it
is still unset, so two servers on one database never run the same job), runs the registered
handler in a worker thread, and records the outcome.

Handlers are idempotent and start from the resource's committed state, so a job interrupted
by a crash is simply run again: on start the engine releases every job it owned before (its
management-server id is kept in the data directory), and a peer server's jobs once its
heartbeat is stale. A job that keeps failing to finish (MAX_ATTEMPTS) is failed explicitly
and its handler puts the resource back into a valid, non-transitional state.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, orm
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base, Database, IdMixin, utcnow
from core.errors import CloudgateError, NotFound

log = logging.getLogger(__name__)

IN_PROGRESS = 0
SUCCEEDED = 1
FAILED = 2
MAX_ATTEMPTS = 3
HEARTBEAT_SECONDS = 10
STALE_AFTER_SECONDS = 60
CLAIM_BATCH = 16


class AsyncJob(IdMixin, Base):
    __tablename__ = "async_job"
    __table_args__ = (sa.Index("ix_async_job_pending", "status", "owner_msid"),)

    kind: Mapped[str] = mapped_column(sa.String(64))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    status: Mapped[int] = mapped_column(default=IN_PROGRESS)
    params: Mapped[str] = mapped_column(sa.Text, default="{}")
    result: Mapped[str] = mapped_column(sa.Text, default="{}")
    error_kind: Mapped[str] = mapped_column(sa.String(64), default="")
    error_text: Mapped[str] = mapped_column(sa.Text, default="")
    instance_type: Mapped[str] = mapped_column(sa.String(64), default="")
    instance_id: Mapped[int | None]
    owner_msid: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    completed: Mapped[dt.datetime | None]

    @property
    def arguments(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.params or "{}")
        return loaded


class ManagementServer(Base):
    """One row per server process sharing the database; its heartbeat proves it is alive."""

    __tablename__ = "management_server"

    msid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_heartbeat: Mapped[dt.datetime]


@dataclass(frozen=True, slots=True)
class JobHandler:
    """`run` does the work and returns a result dict; `fail` leaves the resource valid."""

    run: Callable[[Any, AsyncJob], dict[str, Any]]
    fail: Callable[[Any, AsyncJob, Exception], None]


HANDLERS: dict[str, JobHandler] = {}


def job_handler(
    kind: str, *, fail: Callable[[Any, AsyncJob, Exception], None]
) -> Callable[..., Any]:
    """Register the function below as the runner of jobs of `kind`."""

    def register(run: Callable[[Any, AsyncJob], dict[str, Any]]) -> Callable[..., Any]:
        HANDLERS[kind] = JobHandler(run=run, fail=fail)
        return run

    return register


def submit_job(
    session: Session,
    ctx: CallContext,
    kind: str,
    *,
    instance_type: str,
    instance_id: int | None,
    params: dict[str, Any] | None = None,
) -> AsyncJob:
    """Queue a job in the caller's transaction; workers see it once that commits."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind}")
    job = AsyncJob(
        kind=kind,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        user_id=ctx.user_id,
        instance_type=instance_type,
        instance_id=instance_id,
        params=json.dumps(params or {}),
    )
    session.add(job)
    session.flush()
    session.info.setdefault("jobs_submitted", True)
    return job


# Wake the engines as soon as a transaction that submitted jobs commits, instead of waiting
# for the next poll.
_engines: list[JobEngine] = []


@event.listens_for(Session, "after_commit")
def _wake_engines(session: Session) -> None:
    if session.info.pop("jobs_submitted", False):
        for engine in _engines:
            engine.wake()


def job_context(session: Session, job: AsyncJob) -> CallContext:
    """The context a handler acts in: the submitting user, with its account's role now."""
    from core.identity import owner_context

    return owner_context(session, job)


def get_job(session: Session, ctx: CallContext, uuid: str) -> AsyncJob:
    from core.visibility import can_access

    job = session.scalar(sa.select(AsyncJob).where(AsyncJob.uuid == uuid))
    if job is None or not can_access(session, ctx, job):
        raise NotFound("job", uuid)
    return job


class JobEngine:
    """Claims queued jobs and runs them on a bounded pool of worker threads."""

    def __init__(self, db: Database, runtime: Any, *, msid: str, workers: int = 16) -> None:
        self._db = db
        self._runtime = runtime
        self.msid = msid
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._slots = threading.Semaphore(workers)
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._running: set[int] = set()
        self._running_lock = threading.Lock()

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="job")
        self._thread = threading.Thread(
            target=self._dispatch_loop, name="job-dispatch", daemon=True
        )
        _engines.append(self)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Stop claiming; let running jobs finish (a job cut short is resumed on next start)."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread:
            self._thread.join(timeout)
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self in _engines:
            _engines.remove(self)

    def wake(self) -> None:
        self._wakeup.set()

    # recovery ----------------------------------------------------------------------------

    def recover(self) -> None:
        """Release the jobs this server owned before a crash, and those of dead peers."""
        now = utcnow()
        with self._db.write() as session:
            stale = now - dt.timedelta(seconds=STALE_AFTER_SECONDS)
            dead_peers = list(
                session.scalars(
                    sa.select(ManagementServer.msid).where(
                        ManagementServer.msid != self.msid, ManagementServer.last_heartbeat < stale
                    )
                )
            )
            released = session.execute(
                sa.update(AsyncJob)
                .where(
                    AsyncJob.status == IN_PROGRESS,
                    AsyncJob.owner_msid.in_([self.msid, *dead_peers]),
                )
                .values(owner_msid=None)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            session.merge(ManagementServer(msid=self.msid, last_heartbeat=now))
        if released:
            log.warning("resuming %d job(s) interrupted by a restart", released)

    def _heartbeat(self) -> None:
        with self._db.write() as session:
            session.merge(ManagementServer(msid=self.msid, last_heartbeat=utcnow()))

    # dispatch ----------------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        last_heartbeat = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_heartbeat > HEARTBEAT_SECONDS:
                    self._heartbeat()
                    self.recover_dead_peers()
                    last_heartbeat = time.monotonic()
                claimed = self._claim_and_run()
            except Exception:  # the loop must survive a database hiccup
                log.exception("job dispatcher error")
                claimed = 0
            if not claimed:
                self._wakeup.wait(1.0)
                self._wakeup.clear()

    def recover_dead_peers(self) -> None:
        stale = utcnow() - dt.timedelta(seconds=STALE_AFTER_SECONDS)
        with self._db.write() as session:
            dead = sa.select(ManagementServer.msid).where(ManagementServer.last_heartbeat < stale)
            session.execute(
                sa.update(AsyncJob)
                .where(AsyncJob.status == IN_PROGRESS, AsyncJob.owner_msid.in_(dead))
                .values(owner_msid=None)
                .execution_options(synchronize_session=False)
            )

    def _claim_and_run(self) -> int:
        """Claim as many queued jobs as there are free workers, CLAIM_BATCH per write
        transaction (one transaction per job made claiming a large part of a deploy burst's
        serial write time on SQLite), and hand them to the pool."""
        claimed = 0
        while not self._stopping.is_set():
            slots = 0
            while slots < CLAIM_BATCH and self._slots.acquire(blocking=False):
                slots += 1
            if not slots:
                break
            job_ids = self._claim(slots)
            for _ in range(slots - len(job_ids)):
                self._slots.release()
            assert self._pool is not None
            for job_id in job_ids:
                self._pool.submit(self._run_guarded, job_id)
            claimed += len(job_ids)
            if len(job_ids) < slots:
                break
        return claimed

    def _claim(self, wanted: int) -> list[int]:
        with self._db.write() as session:
            # Jobs on one resource run in order (CloudStack queues work per VM): a job waits
            # while an older job on the same instance is unfinished.
            older = orm.aliased(AsyncJob)
            earlier_unfinished = (
                sa.select(older.id)
                .where(
                    older.instance_type == AsyncJob.instance_type,
                    older.instance_id == AsyncJob.instance_id,
                    older.status == IN_PROGRESS,
                    older.id < AsyncJob.id,
                )
                .exists()
            )
            candidates = session.scalars(
                sa.select(AsyncJob.id)
                .where(
                    AsyncJob.status == IN_PROGRESS,
                    AsyncJob.owner_msid.is_(None),
                    sa.or_(AsyncJob.instance_id.is_(None), ~earlier_unfinished),
                )
                .order_by(AsyncJob.id)
                .limit(wanted + 8)  # a few spare, for those a peer server takes first
            ).all()
            taken: list[int] = []
            for job_id in candidates:
                if len(taken) == wanted:
                    break
                if session.execute(
                    sa.update(AsyncJob)
                    .where(AsyncJob.id == job_id, AsyncJob.owner_msid.is_(None))
                    .values(owner_msid=self.msid, attempts=AsyncJob.attempts + 1)
                    .execution_options(synchronize_session=False)
                ).rowcount:  # type: ignore[attr-defined]
                    taken.append(int(job_id))
            return taken

    def _run_guarded(self, job_id: int) -> None:
        try:
            self.run_job(job_id)
        except Exception:
            log.exception("job %s could not be recorded", job_id)
        finally:
            self._slots.release()
            self._wakeup.set()

    def run_job(self, job_id: int) -> None:
        with self._db.read() as session:
            job = session.get_one(AsyncJob, job_id)
            session.expunge(job)
        handler = HANDLERS[job.kind]
        if job.attempts > MAX_ATTEMPTS:
            self._finish_failed(
                job, handler, CloudgateError("The job was interrupted too many times")
            )
            return
        try:
            result = handler.run(self._runtime, job)
        except Exception as error:
            if not isinstance(error, CloudgateError):
                log.exception("job %s (%s) failed unexpectedly", job.uuid, job.kind)
            self._finish_failed(job, handler, error)
            return
        with self._db.write() as session:
            session.execute(
                sa.update(AsyncJob)
                .where(AsyncJob.id == job.id)
                .values(status=SUCCEEDED, result=json.dumps(result), completed=utcnow())
            )

    def _finish_failed(self, job: AsyncJob, handler: JobHandler, error: Exception) -> None:
        try:
            handler.fail(self._runtime, job, error)
        except Exception:
            log.exception("job %s: putting the resource back failed", job.uuid)
        kind = type(error).__name__ if isinstance(error, CloudgateError) else "InternalError"
        text = error.message if isinstance(error, CloudgateError) else _driver_message(error)
        with self._db.write() as session:
            session.execute(
                sa.update(AsyncJob)
                .where(AsyncJob.id == job.id)
                .values(status=FAILED, error_kind=kind, error_text=text, completed=utcnow())
            )


def _driver_message(error: Exception) -> str:
    """Driver errors carry a user-facing message; anything else stays in the log only."""
    message = getattr(error, "message", None)
    return str(message) if message else "Internal error executing the job"
