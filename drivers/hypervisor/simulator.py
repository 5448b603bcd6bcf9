"""The simulator: a deterministic in-process hypervisor, like CloudStack's own.

Its VMs and its configured behaviour live in a small SQLite file of its own, so that
simulated hosts outlive a restart of the management server (as real hosts do) and so that a
test, or `cloudgate simulator`, can change the behaviour of a running server from outside:

    behaviour(operation, latency_ms, fail_next, fail_always)

`fail_next` makes the next N calls of that operation fail, `fail_always` every call;
`latency_ms` delays each call. Operations: start, stop, reboot, destroy.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from drivers.hypervisor.base import (
    HostRef,
    HostStats,
    OperationFailed,
    PowerState,
    VmSpec,
)

OPERATIONS: tuple[str, ...] = ("start", "stop", "reboot", "destroy")
VOLUME_OPERATIONS = (
    "create_volume",
    "delete_volume",
    "resize_volume",
    "migrate_volume",
    "attach_volume",
    "detach_volume",
    "snapshot_volume",
    "read_snapshot",
    "delete_snapshot",
    "restore_volume",
)
OPERATIONS += VOLUME_OPERATIONS
OPERATIONS += ("scale", "vmsnapshot", "vmsnapshot.revert", "vmsnapshot.delete")
OPERATIONS += ("migrate",)

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
CREATE TABLE IF NOT EXISTS sim_vm_snapshot (
    instance_name TEXT NOT NULL,
    snapshot_name TEXT NOT NULL,
    memory INTEGER NOT NULL,
    PRIMARY KEY (instance_name, snapshot_name)
);
CREATE TABLE IF NOT EXISTS sim_behaviour (
    operation TEXT PRIMARY KEY,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    fail_next INTEGER NOT NULL DEFAULT 0,
    fail_always INTEGER NOT NULL DEFAULT 0
);
"""
# Volumes and snapshots on primary storage: a size and a line of "content" (what a guest
# wrote), no disk bytes. A snapshot's backup is a small JSON image of those (read_snapshot),
# which the core keeps in the object store and hands back to restore_volume.
SNAPSHOT_IMAGE_FORMAT = "cloudgate-simulator-snapshot/1"
_SCHEMA += """
CREATE TABLE IF NOT EXISTS sim_volume (
    path TEXT PRIMARY KEY,
    pool TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    instance_name TEXT,
    device_id INTEGER,
    content TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sim_snapshot (
    path TEXT PRIMARY KEY,
    volume_path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    content TEXT NOT NULL DEFAULT ''
);
"""


class SimulatorDriver:
    """Simulated hosts: 8 × 2000 MHz, 16 GiB unless the host record says otherwise."""

    # The operations whose behaviour `configure` sets (read by the configureSimulator command).
    operations = OPERATIONS

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
        size = _host_size(host.url)
        return HostStats(
            cpu_cores=size["cpunumber"],
            cpu_speed_mhz=size["cpuspeed"],
            memory_bytes=size["memory"] * 1024**2,
            vm_count=count,
        )

    def migrate_vm(self, source: HostRef, destination: HostRef, instance_name: str) -> None:
        self._apply_behaviour("migrate", instance_name)
        with self._lock:
            conn = self._connect()
            moved = conn.execute(
                "SELECT 1 FROM sim_vm WHERE host_uuid = ? AND instance_name = ?",
                (destination.uuid, instance_name),
            ).fetchone()
            if moved:
                return
            row = conn.execute(
                "SELECT power_state FROM sim_vm WHERE host_uuid = ? AND instance_name = ?",
                (source.uuid, instance_name),
            ).fetchone()
            if row is None or row[0] != PowerState.RUNNING.value:
                raise OperationFailed(f"VM {instance_name} is not running on {source.name}")
            conn.execute(
                "UPDATE sim_vm SET host_uuid = ? WHERE host_uuid = ? AND instance_name = ?",
                (destination.uuid, source.uuid, instance_name),
            )

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

    def scale_vm(
        self,
        host: HostRef,
        instance_name: str,
        *,
        cpu_number: int,
        cpu_speed_mhz: int,
        memory_mb: int,
    ) -> None:
        self._apply_behaviour("scale", instance_name)
        if self.power_state(host, instance_name) is not PowerState.RUNNING:
            raise OperationFailed(f"VM {instance_name} is not running on {host.name}")
        with self._lock:
            self._connect().execute(
                "UPDATE sim_vm SET cpu_number = ?, memory_mb = ?"
                " WHERE host_uuid = ? AND instance_name = ?",
                (cpu_number, memory_mb, host.uuid, instance_name),
            )

    def vm_size(self, host: HostRef, instance_name: str) -> tuple[int, int] | None:
        """(cpu_number, memory_mb) the host gives the VM (lets tests see a scale happen)."""
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT cpu_number, memory_mb FROM sim_vm"
                    " WHERE host_uuid = ? AND instance_name = ?",
                    (host.uuid, instance_name),
                )
                .fetchone()
            )
        return (int(row[0]), int(row[1])) if row else None

    # VM snapshots live with the VM's disks (shared storage), not with one host.

    def create_vm_snapshot(
        self, host: HostRef, instance_name: str, snapshot_name: str, *, memory: bool
    ) -> None:
        self._apply_behaviour("vmsnapshot", instance_name)
        with self._lock:
            self._connect().execute(
                "INSERT OR IGNORE INTO sim_vm_snapshot VALUES (?, ?, ?)",
                (instance_name, snapshot_name, int(memory)),
            )

    def revert_vm_snapshot(self, host: HostRef, instance_name: str, snapshot_name: str) -> None:
        self._apply_behaviour("vmsnapshot.revert", instance_name)
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT memory FROM sim_vm_snapshot"
                    " WHERE instance_name = ? AND snapshot_name = ?",
                    (instance_name, snapshot_name),
                )
                .fetchone()
            )
        if row is None:
            raise OperationFailed(f"VM snapshot {snapshot_name} of {instance_name} not found")
        power = "running" if row[0] else "stopped"
        with self._lock:
            self._connect().execute(
                "INSERT INTO sim_vm VALUES (?, ?, ?, 0, 0, 0)"
                " ON CONFLICT (host_uuid, instance_name) DO UPDATE SET power_state = ?",
                (host.uuid, instance_name, power, power),
            )

    def delete_vm_snapshot(self, host: HostRef, instance_name: str, snapshot_name: str) -> None:
        self._apply_behaviour("vmsnapshot.delete", instance_name)
        with self._lock:
            self._connect().execute(
                "DELETE FROM sim_vm_snapshot WHERE instance_name = ? AND snapshot_name = ?",
                (instance_name, snapshot_name),
            )

    def vm_snapshots(self, instance_name: str) -> list[str]:
        """Names of the VM's snapshots the simulator holds."""
        with self._lock:
            rows = (
                self._connect()
                .execute(
                    "SELECT snapshot_name FROM sim_vm_snapshot WHERE instance_name = ?"
                    " ORDER BY snapshot_name",
                    (instance_name,),
                )
                .fetchall()
            )
        return [row[0] for row in rows]

    def _set_power(self, host: HostRef, instance_name: str, state: PowerState) -> None:
        with self._lock:
            self._connect().execute(
                "UPDATE sim_vm SET power_state = ? WHERE host_uuid = ? AND instance_name = ?",
                (state.value, host.uuid, instance_name),
            )

    # volumes -------------------------------------------------------------------------------

    def _execute(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._connect().execute(sql, args).fetchall())

    def _volume_row(self, path: str) -> tuple[object, ...]:
        rows = self._execute(
            "SELECT pool, size_bytes, content FROM sim_volume WHERE path = ?", path
        )
        if not rows:
            raise OperationFailed(f"Volume {path} does not exist on primary storage")
        return rows[0]

    def create_volume(self, pool: str, path: str, size_bytes: int) -> None:
        self._apply_behaviour("create_volume", path)
        self._execute(
            "INSERT OR IGNORE INTO sim_volume (path, pool, size_bytes) VALUES (?, ?, ?)",
            path,
            pool,
            size_bytes,
        )

    def delete_volume(self, pool: str, path: str) -> None:
        self._apply_behaviour("delete_volume", path)
        self._execute("DELETE FROM sim_volume WHERE path = ?", path)

    def resize_volume(self, pool: str, path: str, size_bytes: int) -> None:
        self._apply_behaviour("resize_volume", path)
        self._volume_row(path)
        self._execute("UPDATE sim_volume SET size_bytes = ? WHERE path = ?", size_bytes, path)

    def migrate_volume(self, source_pool: str, target_pool: str, path: str) -> None:
        self._apply_behaviour("migrate_volume", path)
        self._volume_row(path)
        self._execute("UPDATE sim_volume SET pool = ? WHERE path = ?", target_pool, path)

    def attach_volume(self, host: HostRef, instance_name: str, path: str, device_id: int) -> None:
        self._apply_behaviour("attach_volume", path)
        self._volume_row(path)
        self._execute(
            "UPDATE sim_volume SET instance_name = ?, device_id = ? WHERE path = ?",
            instance_name,
            device_id,
            path,
        )

    def detach_volume(self, host: HostRef, instance_name: str, path: str) -> None:
        self._apply_behaviour("detach_volume", path)
        self._execute(
            "UPDATE sim_volume SET instance_name = NULL, device_id = NULL"
            " WHERE path = ? AND instance_name = ?",
            path,
            instance_name,
        )

    def snapshot_volume(self, pool: str, path: str, snapshot_path: str) -> None:
        self._apply_behaviour("snapshot_volume", path)
        _, size, content = self._volume_row(path)
        self._execute(
            "INSERT OR IGNORE INTO sim_snapshot VALUES (?, ?, ?, ?)",
            snapshot_path,
            path,
            size,
            content,
        )

    def read_snapshot(self, pool: str, snapshot_path: str) -> Iterator[bytes]:
        """The snapshot as a small JSON image: what the simulated disk holds, and its size."""
        self._apply_behaviour("read_snapshot", snapshot_path)
        rows = self._execute(
            "SELECT volume_path, size_bytes, content FROM sim_snapshot WHERE path = ?",
            snapshot_path,
        )
        if not rows:
            raise OperationFailed(f"Snapshot {snapshot_path} does not exist on primary storage")
        volume_path, size, content = rows[0]
        image = {
            "format": SNAPSHOT_IMAGE_FORMAT,
            "snapshot": snapshot_path,
            "volume": volume_path,
            "size_bytes": size,
            "content": content,
        }
        return iter([json.dumps(image, sort_keys=True).encode()])

    def delete_snapshot(self, pool: str, snapshot_path: str) -> None:
        self._apply_behaviour("delete_snapshot", snapshot_path)
        self._execute("DELETE FROM sim_snapshot WHERE path = ?", snapshot_path)

    def restore_volume(self, pool: str, path: str, data: Iterable[bytes]) -> None:
        self._apply_behaviour("restore_volume", path)
        self._volume_row(path)
        raw = b"".join(data)  # all of it first: a failed read leaves the volume untouched
        try:
            image = json.loads(raw)
            if image["format"] != SNAPSHOT_IMAGE_FORMAT:
                raise ValueError(image["format"])
            size, content = int(image["size_bytes"]), str(image["content"])
        except (ValueError, KeyError, TypeError):
            raise OperationFailed(
                f"The data restored to {path} is not a simulator snapshot"
            ) from None
        self._execute(
            "UPDATE sim_volume SET size_bytes = ?, content = ? WHERE path = ?",
            size,
            content,
            path,
        )

    def volume_info(self, path: str) -> dict[str, object] | None:
        """What the simulated storage holds for a volume (lets tests look behind the core)."""
        rows = self._execute(
            "SELECT pool, size_bytes, instance_name, device_id, content FROM sim_volume"
            " WHERE path = ?",
            path,
        )
        if not rows:
            return None
        pool, size, instance, device, content = rows[0]
        return {
            "pool": pool,
            "size_bytes": size,
            "instance_name": instance,
            "device_id": device,
            "content": content,
        }

    def write_volume(self, path: str, content: str) -> None:
        """Stand-in for a guest writing to its disk (lets tests see a revert)."""
        self._execute("UPDATE sim_volume SET content = ? WHERE path = ?", content, path)

    def snapshot_exists(self, snapshot_path: str) -> bool:
        """Whether primary storage still holds the snapshot (its backup is the core's)."""
        return bool(self._execute("SELECT 1 FROM sim_snapshot WHERE path = ?", snapshot_path))


def _host_size(url: str) -> dict[str, int]:
    """A simulated host's size, from the query of the URL it was added with (addHost):
    http://sim/c1/h1?cpunumber=4&cpuspeed=1000&memory=8192 (MiB); 8 x 2000 MHz, 16 GiB else."""
    from urllib.parse import parse_qsl, urlsplit

    size = {"cpunumber": 8, "cpuspeed": 2000, "memory": 16 * 1024}
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() in size and value.isdigit():
            size[key.lower()] = int(value)
    return size
