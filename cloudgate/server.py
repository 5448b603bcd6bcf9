"""`cloudgate serve`: one process, three listeners, a job worker pool.

The CloudStack API, EC2 and S3 are three Starlette apps on their own ports, served by three
uvicorn servers on one event loop; blocking work runs in threads. Signals are handled here,
once, for all three servers (uvicorn installs its own per server otherwise, and the last one
installed would win).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

import core.models  # noqa: F401  (every table and job handler)
from cloudgate.config import Settings
from core.bootstrap import AdminCredentials, bootstrap
from core.db import Database
from core.jobs import JobEngine
from core.runtime import Runtime
from core.scheduler import Scheduler
from core.schema import upgrade
from drivers.hypervisor import load_hypervisor_driver
from drivers.hypervisor.base import HypervisorDriver

log = logging.getLogger("cloudgate")


@dataclass
class Cloud:
    """A running core: what the front ends are built on."""

    settings: Settings
    runtime: Runtime
    jobs: JobEngine
    scheduler: Scheduler
    admin: AdminCredentials

    def close(self) -> None:
        self.scheduler.stop()
        self.jobs.stop()
        self.runtime.db.dispose()


def _management_server_id(settings: Settings) -> str:
    path = settings.data_dir / "msid"
    if not path.exists():
        path.write_text(uuid.uuid4().hex)
    return path.read_text().strip()


def _object_store(settings: Settings) -> Any:
    from drivers.objectstore import load_object_store

    if settings.object_store == "swift":
        return load_object_store(
            "swift",
            auth_url=settings.swift_auth_url,
            user=settings.swift_user,
            key=settings.swift_key,
        )
    return load_object_store("local", root=settings.data_dir / "objects")


class HypervisorDrivers:
    """One driver instance per hypervisor kind, created on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._drivers: dict[str, HypervisorDriver] = {}

    def __call__(self, hypervisor: str) -> HypervisorDriver:
        if hypervisor not in self._drivers:
            options: dict[str, Any] = {}
            if hypervisor == "Simulator":
                options["state_path"] = self._settings.data_dir / "simulator.db"
            self._drivers[hypervisor] = load_hypervisor_driver(hypervisor, **options)
        return self._drivers[hypervisor]


def start_cloud(settings: Settings) -> Cloud:
    """Open (creating or upgrading) the database, bootstrap it, start the job engine."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url)
    upgrade(database)
    msid = _management_server_id(settings)
    runtime = Runtime(
        db=database,
        hypervisor=HypervisorDrivers(settings),
        msid=msid,
        object_store=_object_store(settings),
    )
    with database.write() as session:
        admin = bootstrap(
            session,
            admin_api_key=settings.admin_api_key or None,
            admin_secret_key=settings.admin_secret_key or None,
            image_store_provider="Swift" if settings.object_store == "swift" else "Local",
            image_store_url=settings.swift_auth_url or str(settings.data_dir / "objects"),
            demo_zone=settings.demo_zone,
        )
    jobs = JobEngine(database, runtime, msid=msid, workers=settings.job_workers)
    runtime.extras["jobs"] = jobs
    jobs.start()
    scheduler = Scheduler(runtime)
    scheduler.start()
    return Cloud(settings=settings, runtime=runtime, jobs=jobs, scheduler=scheduler, admin=admin)


def build_apps(cloud: Cloud) -> list[tuple[str, Any, int]]:
    from ec2_api.app import create_app as create_ec2_app
    from native_api.app import create_app as create_native_app
    from s3_api.app import create_app as create_s3_app

    settings = cloud.settings
    return [
        ("CloudStack API", create_native_app(cloud.runtime), settings.native_port),
        ("EC2", create_ec2_app(cloud.runtime, region=settings.region), settings.ec2_port),
        (
            "S3",
            create_s3_app(cloud.runtime, region=settings.region, domain=settings.s3_domain),
            settings.s3_port,
        ),
    ]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # serve() handles signals for all servers at once


def banner(settings: Settings, admin: AdminCredentials) -> str:
    base = f"http://{settings.host}"
    native = f"{base}:{settings.native_port}/client/api"
    ec2 = f"{base}:{settings.ec2_port}"
    s3 = f"{base}:{settings.s3_port}"
    password = f" / password {admin.password}" if admin.password else ""
    return f"""cloudgate is ready (data in {settings.data_dir})
  CloudStack API  {native}
  EC2             {ec2}
  S3              {s3}
  admin user: admin{password} (domain ROOT)
    API key:    {admin.api_key}
    secret key: {admin.secret_key}

Paste to use the AWS CLI (EC2 and S3):
  export AWS_ACCESS_KEY_ID='{admin.api_key}'
  export AWS_SECRET_ACCESS_KEY='{admin.secret_key}'
  export AWS_DEFAULT_REGION={settings.region}
  aws --endpoint-url {ec2} ec2 describe-instances
  aws --endpoint-url {s3} s3 ls

Paste to use cs (the CloudStack client):
  export CLOUDSTACK_ENDPOINT={native}
  export CLOUDSTACK_KEY='{admin.api_key}'
  export CLOUDSTACK_SECRET='{admin.secret_key}'
  cs listZones
"""


async def _serve_all(
    settings: Settings, apps: list[tuple[str, Any, int]], on_ready: Callable[[], None]
) -> None:
    servers = [
        _Server(
            uvicorn.Config(
                app,
                host=settings.host,
                port=port,
                log_level=settings.log_level,
                lifespan="off",
                access_log=settings.log_level == "debug",
            )
        )
        for _, app, port in apps
    ]
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_all)
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    while not all(server.started for server in servers):
        if any(task.done() for task in tasks):
            stop_all()
            break
        await asyncio.sleep(0.05)
    else:
        on_ready()
    await asyncio.gather(*tasks)
    if not all(server.started for server in servers):
        raise SystemExit("cloudgate: a listener could not start (is the port in use?)")


def serve(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    cloud = start_cloud(settings)
    try:
        apps = build_apps(cloud)
        asyncio.run(
            _serve_all(settings, apps, lambda: print(banner(settings, cloud.admin), flush=True))
        )
    finally:
        cloud.close()
