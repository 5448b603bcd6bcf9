"""First start: the ROOT domain, the system and admin accounts, a demo zone ready for VMs.

Runs once, on an empty database; a restart finds the ROOT domain and changes nothing, except
that admin keys given by the operator (CLOUDGATE_ADMIN_API_KEY/SECRET_KEY) are applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.context import Role
from core.identity import Domain, User, create_account, create_domain, find_user, register_keys
from core.infra import (
    GIB,
    add_host,
    add_image_store,
    add_storage_pool,
    create_cluster,
    create_pod,
    create_zone,
)
from core.installation import ensure_secrets
from core.offerings import (
    create_disk_offering,
    create_service_offering,
    seed_network_offerings,
)
from core.templates import READY, create_template

DEMO_ZONE = "Sandbox-simulator"
DEMO_TEMPLATE = "CentOS 5.6(64-bit) no GUI (Simulator)"
DEMO_HOSTS = 4
ADMIN_PASSWORD = "password"  # CloudStack's documented default; change it after first login


@dataclass(frozen=True, slots=True)
class AdminCredentials:
    username: str
    password: str | None
    api_key: str
    secret_key: str
    created: bool


def bootstrap(
    session: Session,
    *,
    admin_api_key: str | None = None,
    admin_secret_key: str | None = None,
    image_store_provider: str = "Local",
    image_store_url: str = "",
    demo_zone: bool = True,
) -> AdminCredentials:
    """Create the base records on an empty database; apply operator-given admin keys."""
    ensure_secrets(session)
    if session.scalar(sa.select(Domain.id).limit(1)) is not None:
        admin = find_user(session, username="admin")
        if admin_api_key and admin_secret_key and admin.api_key != admin_api_key:
            register_keys(session, admin, api_key=admin_api_key, secret_key=admin_secret_key)
        return _credentials(admin, password=None, created=False)

    root = create_domain(session, name="ROOT", parent=None)
    system_account, _ = create_account(
        session, name="system", domain=root, role=Role.ADMIN, username="system", password=""
    )
    _, admin = create_account(
        session,
        name="admin",
        domain=root,
        role=Role.ADMIN,
        username="admin",
        password=ADMIN_PASSWORD,
    )
    register_keys(session, admin, api_key=admin_api_key, secret_key=admin_secret_key)
    _default_offerings(session)
    create_template(
        session,
        name=DEMO_TEMPLATE,
        display_text=DEMO_TEMPLATE,
        account_id=system_account.id,
        domain_id=root.id,
        format="VHD",
        hypervisor="Simulator",
        os_type="CentOS 5.6 (64-bit)",
        size_bytes=2 * GIB,
        template_type="BUILTIN",
        is_public=True,
        is_featured=True,
        is_ready=True,
        status=READY,
        password_enabled=False,
    )
    if demo_zone:
        _demo_zone(session, image_store_provider, image_store_url)
    return _credentials(admin, password=ADMIN_PASSWORD, created=True)


def _credentials(admin: User, *, password: str | None, created: bool) -> AdminCredentials:
    assert admin.api_key and admin.secret_key
    return AdminCredentials(
        username=admin.username,
        password=password,
        api_key=admin.api_key,
        secret_key=admin.secret_key,
        created=created,
    )


def _default_offerings(session: Session) -> None:
    """CloudStack's out-of-the-box offerings, with its names and sizes."""
    create_service_offering(
        session,
        name="Small Instance",
        display_text="Small Instance, 1 core at 500 MHz, 512 MB",
        cpu_number=1,
        cpu_speed_mhz=500,
        memory_mb=512,
    )
    create_service_offering(
        session,
        name="Medium Instance",
        display_text="Medium Instance, 1 core at 1 GHz, 1 GB",
        cpu_number=1,
        cpu_speed_mhz=1000,
        memory_mb=1024,
    )
    for name, size in (("Small", 5), ("Medium", 20), ("Large", 100)):
        create_disk_offering(
            session, name=name, display_text=f"{name} Disk, {size} GB", disk_size_gb=size
        )
    create_disk_offering(
        session, name="Custom", display_text="Custom Disk", disk_size_gb=0, is_customized=True
    )
    seed_network_offerings(session)


def _demo_zone(session: Session, image_store_provider: str, image_store_url: str) -> None:
    zone = create_zone(
        session,
        name=DEMO_ZONE,
        description="Simulator zone created at first start",
        network_type="Advanced",
    )
    pod = create_pod(
        session,
        zone=zone,
        name="POD0",
        gateway="172.16.15.1",
        netmask="255.255.255.0",
        start_ip="172.16.15.2",
        end_ip="172.16.15.200",
    )
    cluster = create_cluster(session, pod=pod, name="C0", hypervisor="Simulator")
    for index in range(1, DEMO_HOSTS + 1):
        add_host(
            session,
            cluster=cluster,
            name=f"SimulatedAgent.{index}",
            url=f"http://sim/c0/h{index}",
            ip_address=f"172.16.15.{10 + index}",
            cpu_sockets=1,
            cpu_cores=8,
            cpu_speed_mhz=2000,
            memory_bytes=16 * GIB,
        )
    add_storage_pool(
        session,
        cluster=cluster,
        name="PS0",
        url="nfs://10.147.28.6/export/home/sandbox/primary",
        capacity_bytes=2048 * GIB,
    )
    add_image_store(
        session,
        zone=zone,
        name="SS0",
        provider=image_store_provider,
        url=image_store_url,
    )
