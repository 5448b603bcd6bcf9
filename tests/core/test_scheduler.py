"""Periodic tasks run when due, and one failing task does not stop the others."""

from __future__ import annotations

from core import scheduler


def test_due_tasks_run_and_failures_are_contained(monkeypatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(scheduler, "TASKS", {})

    @scheduler.periodic("often", every_seconds=10)
    def often(runtime: object) -> None:
        ran.append("often")

    @scheduler.periodic("broken", every_seconds=10)
    def broken(runtime: object) -> None:
        raise RuntimeError("boom")

    runner = scheduler.Scheduler(runtime=None)
    for task in scheduler.TASKS.values():
        task.next_due = 100.0
    runner.run_due(now=50.0)
    assert ran == []
    runner.run_due(now=100.0)
    assert ran == ["often"]
    runner.run_due(now=105.0)  # not due again for 10 s
    assert ran == ["often"]
    runner.run_due(now=111.0)
    assert ran == ["often", "often"]
