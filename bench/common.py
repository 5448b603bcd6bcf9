"""What every benchmark suite shares: the result document, timing, percentiles, peak memory.

A suite is a module `bench/<suite>.py` with `main()` that calls `run_suite(...)`; it runs
cloudgate and its peers in ONE process tree on ONE machine and records ratios, because
absolute times on shared machines are noise while ratios taken in the same run are not.

The result document (JSON, one per suite, written to `bench/results/<suite>.json`) is what
`python -m bench` renders into docs/benchmarks.md tables and PNG plots:

    {"suite": "ec2", "title": "...", "mode": "quick"|"full", "command": "...",
     "started": "2026-11-22T01:02:03Z", "seconds": 81.5, "machine": {...},
     "tables":  [{"title", "columns": [...], "rows": [[...], ...], "note"}],
     "curves":  [{"title", "x_label", "y_label", "log_x", "log_y",
                  "series": {"cloudgate": [[x, y], ...], "moto_server": [[x, y], ...]}}],
     "targets": [{"name", "target", "measured", "met": bool, "cause"}]}
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# smoke: minimal sizes, so a test can run a suite end to end in seconds (tests/bench/).
MODES = ("smoke", "quick", "full")


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)
    note: str = ""


@dataclass
class Curve:
    """Cost against size, one series per system, so growth (flat, linear, worse) shows."""

    title: str
    x_label: str
    y_label: str
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    log_x: bool = False
    log_y: bool = False

    def add(self, system: str, x: float, y: float) -> None:
        self.series.setdefault(system, []).append((x, y))


@dataclass
class Target:
    name: str
    target: str
    measured: str
    met: bool
    cause: str = ""  # why it is not met (or what bounds it), in a sentence


@dataclass
class SuiteResult:
    suite: str
    title: str
    mode: str
    command: str
    tables: list[Table] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    seconds: float = 0.0
    machine: dict[str, object] = field(default_factory=lambda: machine())

    def save(self, directory: Path = RESULTS_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.suite}.json"
        path.write_text(json.dumps(asdict(self), indent=1, default=str) + "\n")
        return path


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "commit": _commit(),  # the code measured: results outlive the tree they came from
    }


def _commit() -> str:
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation, as numpy's default does."""
    if not values:
        raise ValueError("no samples")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(p) - 1))]


def ratio(ours: float, theirs: float) -> float:
    """ours / theirs, rounded for tables (∞ when the peer measured zero)."""
    return round(ours / theirs, 2) if theirs else float("inf")


def timed(function: Callable[[], object]) -> float:
    """Seconds one call takes (perf_counter)."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total = 0
    for member in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def descendants(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            children.extend(int(child) for child in text)
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [*children, *(grand for child in children for grand in descendants(child))]


@contextmanager
def peak_rss(pids: list[int], every: float = 0.05) -> Iterator[dict[str, int]]:
    """Samples the summed RSS of `pids` (and descendants) while the block runs.

    Yields a dict whose "peak" and "start" keys hold bytes once the block ends.
    """
    seen = {"start": sum(rss_bytes(pid) for pid in pids), "peak": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen["peak"] = max(seen["peak"], sum(rss_bytes(pid) for pid in pids))
            stop.wait(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()
        seen["peak"] = max(seen["peak"], sum(rss_bytes(pid) for pid in pids))


def run_suite(
    suite: str,
    title: str,
    body: Callable[[SuiteResult], None],
    argv: list[str] | None = None,
) -> SuiteResult:
    """Parses `--mode quick|full` and `--out DIR`, runs BODY, saves and prints the result."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{suite}", description=title)
    parser.add_argument("--mode", choices=MODES, default="quick")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    options = parser.parse_args(argv)
    result = SuiteResult(
        suite=suite, title=title, mode=options.mode,
        command=f"python -m bench {suite} --mode {options.mode}",
    )  # fmt: skip
    started = time.perf_counter()
    body(result)
    result.seconds = round(time.perf_counter() - started, 1)
    path = result.save(options.out)
    print_result(result)
    print(f"saved {path}")
    return result


def print_result(result: SuiteResult) -> None:
    print(f"\n== {result.title} ({result.mode}, {result.seconds} s) ==")
    for table in result.tables:
        print(f"\n{table.title}")
        widths = [
            max(len(str(cell)) for cell in [column, *(row[i] for row in table.rows)])
            for i, column in enumerate(table.columns)
        ]
        for row in [table.columns, *table.rows]:
            print(
                "  "
                + "  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True))
            )
        if table.note:
            print(f"  ({table.note})")
    for target in result.targets:
        verdict = "met" if target.met else "NOT met"
        print(f"target {target.name}: {target.target}; measured {target.measured} — {verdict}")
        if target.cause:
            print(f"  cause: {target.cause}")
