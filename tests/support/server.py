"""A real `cloudgate serve` process for tests: free ports, its own data dir, kill -9 on demand."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

READY_LINE = "cloudgate is ready"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    database_url: str = ""
    object_store: str = "local"
    extra_env: dict[str, str] = field(default_factory=dict)
    api_key: str = field(default_factory=lambda: "AK" + secrets.token_hex(16).upper())
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    native_port: int = field(default_factory=free_port)
    ec2_port: int = field(default_factory=free_port)
    s3_port: int = field(default_factory=free_port)
    metadata_port: int = field(default_factory=free_port)
    # Everything is loopback here: VMs are named by X-Cloudgate-Vm-Ip (see metadata_api.app).
    metadata_identify_by: str = "header"
    # (certificate, key) PEM files: S3 is served over HTTPS (see tests/support/tls.py).
    s3_tls: tuple[Path, Path] | None = None
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    _pump_thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def native_url(self) -> str:
        return f"http://127.0.0.1:{self.native_port}/client/api"

    @property
    def ec2_url(self) -> str:
        return f"http://127.0.0.1:{self.ec2_port}"

    @property
    def s3_url(self) -> str:
        scheme = "https" if self.s3_tls else "http"
        return f"{scheme}://127.0.0.1:{self.s3_port}"

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.metadata_port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "cloudgate.cli",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--native-port",
            str(self.native_port),
            "--ec2-port",
            str(self.ec2_port),
            "--s3-port",
            str(self.s3_port),
            "--metadata-port",
            str(self.metadata_port),
            "--metadata-identify-by",
            self.metadata_identify_by,
            "--object-store",
            self.object_store,
            "--log-level",
            "warning",
        ]
        if self.database_url:
            command += ["--database-url", self.database_url]
        if self.s3_tls:
            command += ["--s3-tls-certfile", str(self.s3_tls[0])]
            command += ["--s3-tls-keyfile", str(self.s3_tls[1])]
        env = {
            **os.environ,
            "CLOUDGATE_ADMIN_API_KEY": self.api_key,
            "CLOUDGATE_ADMIN_SECRET_KEY": self.secret_key,
            **self.extra_env,
        }
        self.output = []
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        ready = threading.Event()
        self._pump_thread = threading.Thread(target=self._pump, args=(ready,), daemon=True)
        self._pump_thread.start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("cloudgate did not start:\n" + "".join(self.output[-60:]))
        return self

    def _pump(self, ready: threading.Event) -> None:
        """Collect the server's output (also into <data dir>/server.log, for post-mortems)."""
        assert self.process and self.process.stdout
        with (self.data_dir / "server.log").open("a") as log:
            for line in self.process.stdout:
                self.output.append(line)
                log.write(line)
                log.flush()
                if READY_LINE in line:
                    ready.set()

    def wait_for_output(self, text: str, timeout: float = 10) -> str:
        """Everything printed so far, once TEXT is among it: the banner is printed in several
        writes, so lines after the ready line can arrive after `start` returns."""
        deadline = time.monotonic() + timeout
        while text not in (printed := "".join(self.output)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not printed; got:\n{printed[-3000:]}")
            time.sleep(0.05)
        return printed

    def simulator(self, *args: str) -> None:
        """`cloudgate simulator ARGS` on this server's data dir (takes effect at once)."""
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cloudgate",
                "simulator",
                *args,
                "--data-dir",
                str(self.data_dir),
            ],
            check=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._join_pump()

    def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self._join_pump()

    def _join_pump(self) -> None:
        """After the process ends, wait for its last lines to reach `output`."""
        if self._pump_thread is not None:
            self._pump_thread.join(10)
