"""Periodic tasks (snapshot policies, usage, expunge of destroyed VMs …), run by each server.

A family registers `@periodic("name", every_seconds=N)` on a function taking the Runtime. The
job engine's scheduler thread calls each task when due. Every server of a cluster runs the
tasks, so a task must be safe to run concurrently: claim work with conditional UPDATEs (as
the job engine does) or submit jobs, never assume it is alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class PeriodicTask:
    name: str
    every_seconds: float
    run: Callable[[Any], None]
    next_due: float = field(default=0.0)


TASKS: dict[str, PeriodicTask] = {}


def periodic(
    name: str, *, every_seconds: float
) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    def register(run: Callable[[Any], None]) -> Callable[[Any], None]:
        TASKS[name] = PeriodicTask(name=name, every_seconds=every_seconds, run=run)
        return run

    return register


class Scheduler:
    """Runs the registered periodic tasks on one background thread."""

    def __init__(self, runtime: Any, *, tick_seconds: float = 1.0) -> None:
        self._runtime = runtime
        self._tick = tick_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        now = time.monotonic()
        for task in TASKS.values():
            task.next_due = now + task.every_seconds
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout)

    def run_due(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for task in list(TASKS.values()):
            if now >= task.next_due and not self._stopping.is_set():
                task.next_due = now + task.every_seconds
                try:
                    task.run(self._runtime)
                except Exception:  # one failing task must not stop the others
                    log.exception("periodic task %s failed", task.name)

    def _loop(self) -> None:
        while not self._stopping.wait(self._tick):
            self.run_due()
