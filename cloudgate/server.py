"""`cloudgate serve`: one process, three listeners, a job worker pool.

The CloudStack API, EC2, S3 and the instance metadata service are four Starlette apps on
their own ports, served by four uvicorn servers on one event loop; blocking work runs in
threads. Signals are handled here, once, for all of them (uvicorn installs its own per server
otherwise, and the last one installed would win).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

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
from translators.instance_types import seed_default_sizes

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
        if admin.created:  # first start: AWS's instance type names, for scripts written for AWS
            seed_default_sizes(session)
    jobs = JobEngine(database, runtime, msid=msid, workers=settings.job_workers)
    runtime.extras["jobs"] = jobs
    # What DescribeInstances' MetadataOptions report (the metadata service enforces it).
    from ec2_api.actions.instance_options import HTTP_TOKENS

    runtime.extras[HTTP_TOKENS] = settings.metadata_http_tokens
    jobs.start()
    scheduler = Scheduler(runtime)
    scheduler.start()
    return Cloud(settings=settings, runtime=runtime, jobs=jobs, scheduler=scheduler, admin=admin)


class Listener(NamedTuple):
    """One uvicorn server: an app on a port, on `host` unless an address is given."""

    name: str
    app: Any
    port: int
    host: str = ""
    # The metadata service tells VMs apart by the TCP peer, so it must not believe
    # X-Forwarded-For (uvicorn trusts it from 127.0.0.1 by default).
    proxy_headers: bool = True
    # PEM certificate and key files: the listener speaks HTTPS (uvicorn's ssl options).
    tls: tuple[str, str] | None = None


def _metadata_token_secret(settings: Settings) -> bytes:
    """The key IMDSv2 tokens are signed with: the setting, else one kept in the data dir."""
    if settings.metadata_token_secret:
        return settings.metadata_token_secret.encode()
    path = settings.data_dir / "metadata-token.key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _metadata_listener(cloud: Cloud) -> Listener:
    from metadata_api.app import create_app as create_metadata_app

    settings = cloud.settings
    app = create_metadata_app(
        cloud.runtime,
        token_secret=_metadata_token_secret(settings),
        region=settings.region,
        identify_by=settings.metadata_identify_by,
        http_tokens=settings.metadata_http_tokens,
    )
    return Listener(
        "metadata", app, settings.metadata_port, settings.metadata_host, proxy_headers=False
    )


def _s3_tls(settings: Settings) -> tuple[str, str] | None:
    """The S3 listener's certificate and key, checked before anything starts."""
    if settings.s3_scheme == "http":
        return None
    for path in (settings.s3_tls_certfile, settings.s3_tls_keyfile):
        if not Path(path).expanduser().is_file():
            raise ValueError(f"S3 TLS file not found: {path}")
    return str(Path(settings.s3_tls_certfile).expanduser()), str(
        Path(settings.s3_tls_keyfile).expanduser()
    )


def build_apps(cloud: Cloud) -> list[Listener]:
    from ec2_api.app import create_app as create_ec2_app
    from native_api.app import create_app as create_native_app
    from s3_api.app import create_app as create_s3_app

    settings = cloud.settings
    return [
        Listener("CloudStack API", create_native_app(cloud.runtime), settings.native_port),
        Listener("EC2", create_ec2_app(cloud.runtime, region=settings.region), settings.ec2_port),
        Listener(
            "S3",
            create_s3_app(cloud.runtime, region=settings.region, domain=settings.s3_domain),
            settings.s3_port,
            tls=_s3_tls(settings),
        ),
        _metadata_listener(cloud),
    ]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # serve() handles signals for all servers at once

    async def shutdown(self, sockets: Any = None) -> None:
        """uvicorn closes idle keep-alive connections at shutdown; over TLS asyncio then
        waits up to 30 s for each idle client's close_notify (an SDK's idle pooled socket
        never sends one), which held every stop for 30 s. Those already-closed
        connections are aborted after a moment; requests in flight still finish."""
        stopping = asyncio.create_task(super().shutdown(sockets))
        if self.config.is_ssl:
            await asyncio.sleep(0.5)
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None and transport.is_closing():
                    transport.abort()
        await stopping


def banner(settings: Settings, admin: AdminCredentials) -> str:
    base = f"http://{settings.host}"
    native = f"{base}:{settings.native_port}/client/api"
    ec2 = f"{base}:{settings.ec2_port}"
    s3 = f"{settings.s3_scheme}://{settings.host}:{settings.s3_port}"
    metadata = f"http://{settings.metadata_host or settings.host}:{settings.metadata_port}"
    password = f" / password {admin.password}" if admin.password else ""
    return f"""cloudgate is ready (data in {settings.data_dir})
  CloudStack API  {native}
  EC2             {ec2}
  S3              {s3}
  metadata        {metadata}/latest/meta-data/ (for VMs; by {settings.metadata_identify_by})
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
    settings: Settings, apps: list[Listener], on_ready: Callable[[], None]
) -> None:
    servers = [
        _Server(
            uvicorn.Config(
                listener.app,
                host=listener.host or settings.host,
                port=listener.port,
                log_level=settings.log_level,
                lifespan="off",
                access_log=settings.log_level == "debug",
                proxy_headers=listener.proxy_headers,
                ssl_certfile=listener.tls[0] if listener.tls else None,
                ssl_keyfile=listener.tls[1] if listener.tls else None,
            )
        )
        for listener in apps
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
    _s3_tls(settings)  # a bad TLS setting fails the start before the database is touched
    cloud = start_cloud(settings)
    try:
        apps = build_apps(cloud)
        asyncio.run(
            _serve_all(settings, apps, lambda: print(banner(settings, cloud.admin), flush=True))
        )
    finally:
        cloud.close()
