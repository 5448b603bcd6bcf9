"""The simulator: a deterministic in-process hypervisor, like CloudStack's own.

Its VMs and its configured behaviour live in a small SQLite file of its own, so that
simulated hosts outlive a restart of the management server (as real hosts do) and so that a
test, or `cloudgate simulator`, can change the behaviour of a running server from outside:

    behaviour(operation, latency_ms, fail_next, fail_always)

`fail_next` makes the next N calls of that operation fail, `fail_always` every call;
`latency_ms` delays each call. Operations: start, stop, reboot, destroy.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from drivers.hypervisor.base import (
    HostRef,
    HostStats,
    OperationFailed,
    PowerState,
    VmSpec,
)

OPERATIONS = ("start", "stop", "reboot", "destroy")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sim_vm (
    host_uuid TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    power_state TEXT NOT NULL,
    cpu_number INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    boots INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (host_uuid, instance_name)
);
CREATE TABLE IF NOT EXISTS sim_behaviour (
    operation TEXT PRIMARY KEY,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    fail_next INTEGER NOT NULL DEFAULT 0,
    fail_always INTEGER NOT NULL DEFAULT 0
);
"""


class SimulatorDriver:
    """Simulated hosts: 8 × 2000 MHz, 16 GiB unless the host record says otherwise."""

    def __init__(self, state_path: str | Path = ":memory:") -> None:
        self._path = str(state_path)
        self._local = threading.local()
        self._memory_conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        if self._path == ":memory:":
            if self._memory_conn is None:
                self._memory_conn = sqlite3.connect(":memory:", check_same_thread=False)
            return self._memory_conn
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    # behaviour -----------------------------------------------------------------------------

    def configure(
        self,
        operation: str,
        *,
        latency_ms: int = 0,
        fail_next: int = 0,
        fail_always: bool = False,
    ) -> None:
        """Set the latency and failures of one operation (replacing what was set before)."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown simulator operation {operation!r}")
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO sim_behaviour VALUES (?, ?, ?, ?)",
                (operation, latency_ms, fail_next, int(fail_always)),
            )

    def reset(self) -> None:
        with self._lock:
            self._connect().execute("DELETE FROM sim_behaviour")

    def _apply_behaviour(self, operation: str, instance_name: str) -> None:
        with self._lock:
            conn = self._connect()
            row = conn.execute(
                "SELECT latency_ms, fail_next, fail_always FROM sim_behaviour WHERE operation = ?",
                (operation,),
            ).fetchone()
            fail = False
            if row is not None and row[1] > 0:
                fail = True
                conn.execute(
                    "UPDATE sim_behaviour SET fail_next = fail_next - 1 WHERE operation = ?",
                    (operation,),
                )
        if row is None:
            return
        latency_ms, _, fail_always = row
        if latency_ms:
            time.sleep(latency_ms / 1000)
        if fail or fail_always:
            raise OperationFailed(f"Simulated failure of {operation} for {instance_name}")

    # the driver contract -------------------------------------------------------------------

    def start_vm(self, host: HostRef, spec: VmSpec) -> None:
        self._apply_behaviour("start", spec.instance_name)
        with self._lock:
            self._connect().execute(
                "INSERT INTO sim_vm VALUES (?, ?, 'running', ?, ?, 1)"
                " ON CONFLICT (host_uuid, instance_name) DO UPDATE SET"
                " power_state = 'running', boots = boots + 1",
                (host.uuid, spec.instance_name, spec.cpu_number, spec.memory_mb),
            )

    def stop_vm(self, host: HostRef, instance_name: str, *, force: bool = False) -> None:
        self._apply_behaviour("stop", instance_name)
        self._set_power(host, instance_name, PowerState.STOPPED)

    def reboot_vm(self, host: HostRef, instance_name: str) -> None:
        self._apply_behaviour("reboot", instance_name)
        if self.power_state(host, instance_name) is not PowerState.RUNNING:
            raise OperationFailed(f"VM {instance_name} is not running on {host.name}")
        with self._lock:
            self._connect().execute(
                "UPDATE sim_vm SET boots = boots + 1 WHERE host_uuid = ? AND instance_name = ?",
                (host.uuid, instance_name),
            )

    def destroy_vm(self, host: HostRef, instance_name: str) -> None:
        self._apply_behaviour("destroy", instance_name)
        with self._lock:
            self._connect().execute(
                "DELETE FROM sim_vm WHERE host_uuid = ? AND instance_name = ?",
                (host.uuid, instance_name),
            )

    def power_state(self, host: HostRef, instance_name: str) -> PowerState:
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT power_state FROM sim_vm WHERE host_uuid = ? AND instance_name = ?",
                    (host.uuid, instance_name),
                )
                .fetchone()
            )
        return PowerState(row[0]) if row else PowerState.ABSENT

    def host_stats(self, host: HostRef) -> HostStats:
        with self._lock:
            (count,) = (
                self._connect()
                .execute(
                    "SELECT COUNT(*) FROM sim_vm WHERE host_uuid = ? AND power_state = 'running'",
                    (host.uuid,),
                )
                .fetchone()
            )
        return HostStats(cpu_cores=8, cpu_speed_mhz=2000, memory_bytes=16 * 1024**3, vm_count=count)

    def boot_count(self, host: HostRef, instance_name: str) -> int:
        """How often the VM was booted (lets tests see that a reboot really happened)."""
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT boots FROM sim_vm WHERE host_uuid = ? AND instance_name = ?",
                    (host.uuid, instance_name),
                )
                .fetchone()
            )
        return int(row[0]) if row else 0

    def _set_power(self, host: HostRef, instance_name: str, state: PowerState) -> None:
        with self._lock:
            self._connect().execute(
                "UPDATE sim_vm SET power_state = ? WHERE host_uuid = ? AND instance_name = ?",
                (state.value, host.uuid, instance_name),
            )
