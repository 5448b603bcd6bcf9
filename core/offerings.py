"""Service offerings (CPU, speed, memory of a VM), disk offerings (size of a volume) and
network offerings (the services a guest network gets; records only until networks exist)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext, Role
from core.db import Base, IdMixin, get_live, utcnow
from core.errors import InvalidParameter, ResourceInUse
from core.events import record_for_caller
from core.infra import tag_list
from core.listing import given, keyword_in, select_where
from core.visibility import ensure_root_admin

ACTIVE = "Active"
INACTIVE = "Inactive"


class ServiceOffering(IdMixin, Base):
    __tablename__ = "service_offering"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_text: Mapped[str] = mapped_column(sa.String(4096), default="")
    cpu_number: Mapped[int | None]
    cpu_speed_mhz: Mapped[int | None]
    memory_mb: Mapped[int | None]
    storage_type: Mapped[str] = mapped_column(sa.String(16), default="shared")
    host_tag: Mapped[str] = mapped_column(sa.String(255), default="")
    offer_ha: Mapped[bool] = mapped_column(default=False)
    limit_cpu_use: Mapped[bool] = mapped_column(default=False)
    is_system: Mapped[bool] = mapped_column(default=False)
    is_customized: Mapped[bool] = mapped_column(default=False)
    domain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domain.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default="Active")
    removed: Mapped[dt.datetime | None]
    # Constraints of a customized offering (CloudStack keeps them as offering details).
    min_cpu_number: Mapped[int | None]
    max_cpu_number: Mapped[int | None]
    min_memory_mb: Mapped[int | None]
    max_memory_mb: Mapped[int | None]
    # Storage tags the root disk's pool must carry ("tags" on the wire).
    storage_tags: Mapped[str] = mapped_column(sa.String(1024), default="", server_default="")
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id"))


class DiskOffering(IdMixin, Base):
    __tablename__ = "disk_offering"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_text: Mapped[str] = mapped_column(sa.String(4096), default="")
    disk_size_gb: Mapped[int] = mapped_column(default=0)
    is_customized: Mapped[bool] = mapped_column(default=False)
    storage_type: Mapped[str] = mapped_column(sa.String(16), default="shared")
    tags: Mapped[str] = mapped_column(sa.String(1024), default="")
    domain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domain.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default="Active")
    removed: Mapped[dt.datetime | None]
    min_size_gb: Mapped[int | None]
    max_size_gb: Mapped[int | None]
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id"))


class NetworkOffering(IdMixin, Base):
    __tablename__ = "network_offering"

    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    display_text: Mapped[str] = mapped_column(sa.String(4096), default="")
    guest_ip_type: Mapped[str] = mapped_column(sa.String(16), default="Isolated")
    traffic_type: Mapped[str] = mapped_column(sa.String(16), default="Guest")
    # Comma-separated "Service:Provider" pairs, e.g. "Dhcp:VirtualRouter,SourceNat:VirtualRouter".
    services: Mapped[str] = mapped_column(sa.String(2048), default="")
    specify_vlan: Mapped[bool] = mapped_column(default=False)
    specify_ip_ranges: Mapped[bool] = mapped_column(default=False)
    conserve_mode: Mapped[bool] = mapped_column(default=True)
    egress_default_policy: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    is_persistent: Mapped[bool] = mapped_column(default=False)
    for_vpc: Mapped[bool] = mapped_column(default=False)
    availability: Mapped[str] = mapped_column(sa.String(16), default="Optional")
    network_rate: Mapped[int | None]
    tags: Mapped[str] = mapped_column(sa.String(1024), default="")
    state: Mapped[str] = mapped_column(sa.String(16), default=INACTIVE)
    removed: Mapped[dt.datetime | None]

    def service_map(self) -> dict[str, list[str]]:
        merged: dict[str, list[str]] = {}
        for pair in filter(None, self.services.split(",")):
            service, _, provider = pair.partition(":")
            merged.setdefault(service, [])
            if provider:
                merged[service].append(provider)
        return merged


# CloudStack's default network offerings (NetworkOrchestrator.start), with their services.
_VR = "VirtualRouter"
DEFAULT_NETWORK_OFFERINGS: tuple[tuple[str, str, str, bool, dict[str, str]], ...] = (
    (
        "DefaultIsolatedNetworkOfferingWithSourceNatService",
        "Offering for Isolated networks with Source Nat service enabled",
        "Isolated",
        False,
        {
            s: _VR
            for s in [
                "Dhcp",
                "Dns",
                "UserData",
                "Firewall",
                "Gateway",
                "Lb",
                "SourceNat",
                "StaticNat",
                "PortForwarding",
                "Vpn",
            ]
        },
    ),
    (
        "DefaultIsolatedNetworkOffering",
        "Offering for Isolated networks with no Source Nat service",
        "Isolated",
        True,
        {"Dhcp": _VR, "Dns": _VR, "UserData": _VR},
    ),
    (
        "DefaultSharedNetworkOfferingWithSGService",
        "Offering for Shared Security group enabled networks",
        "Shared",
        True,
        {"Dhcp": _VR, "Dns": _VR, "UserData": _VR, "SecurityGroup": "SecurityGroupProvider"},
    ),
    (
        "DefaultSharedNetworkOffering",
        "Offering for Shared networks",
        "Shared",
        True,
        {"Dhcp": _VR, "Dns": _VR, "UserData": _VR},
    ),
    (
        "DefaultL2NetworkOffering",
        "Offering for L2 networks",
        "L2",
        False,
        {},
    ),
    (
        "DefaultIsolatedNetworkOfferingForVpcNetworks",
        "Offering for Isolated VPC networks with Source Nat service enabled",
        "Isolated",
        False,
        {
            s: "VpcVirtualRouter"
            for s in [
                "Dhcp",
                "Dns",
                "UserData",
                "Gateway",
                "Lb",
                "SourceNat",
                "StaticNat",
                "PortForwarding",
                "Vpn",
                "NetworkACL",
            ]
        },
    ),
)


def _services_text(services: dict[str, str] | dict[str, list[str]]) -> str:
    pairs: list[str] = []
    for service, provider in services.items():
        providers = provider if isinstance(provider, list) else [provider]
        pairs.extend(f"{service}:{p}" for p in providers or [""])
    return ",".join(pairs)


def seed_network_offerings(session: Session) -> None:
    """Create CloudStack's default network offerings that are missing (idempotent)."""
    existing = set(session.scalars(sa.select(NetworkOffering.name)))
    for name, text, guest_type, specify_vlan, services in DEFAULT_NETWORK_OFFERINGS:
        if name in existing:
            continue
        session.add(
            NetworkOffering(
                name=name,
                display_text=text,
                guest_ip_type=guest_type,
                services=_services_text(services),
                specify_vlan=specify_vlan,
                specify_ip_ranges=guest_type == "Shared",
                is_default=True,
                for_vpc="Vpc" in name,
                availability="Required"
                if "SourceNat" in name and "Vpc" not in name
                else "Optional",
                state=ACTIVE,
            )
        )
    session.flush()


# low-level constructors (bootstrap uses them)


_O = TypeVar("_O")


def _added(session: Session, offering: _O) -> _O:
    session.add(offering)
    session.flush()
    return offering


def create_service_offering(session: Session, *, name: str, **fields: object) -> ServiceOffering:
    return _added(session, ServiceOffering(name=name, **fields))


def create_disk_offering(session: Session, *, name: str, **fields: object) -> DiskOffering:
    return _added(session, DiskOffering(name=name, **fields))


# use cases


def _positive(value: int | None, parameter: str) -> None:
    if value is not None and value <= 0:
        raise InvalidParameter(f"{parameter} must be a positive number", parameter=parameter)


def _storage_type(value: str | None) -> str:
    storage_type = (value or "shared").lower()
    if storage_type not in ("shared", "local"):
        raise InvalidParameter(
            "Invalid storage type: should be either local or shared", parameter="storagetype"
        )
    return storage_type


def _event(session: Session, ctx: CallContext, event_type: str, text: str, uuid: str) -> None:
    record_for_caller(session, ctx, event_type, text, resource_type="Offering", resource_uuid=uuid)


def add_service_offering(
    session: Session,
    ctx: CallContext,
    *,
    name: str,
    display_text: str | None = None,
    cpu_number: int | None = None,
    cpu_speed_mhz: int | None = None,
    memory_mb: int | None = None,
    customized: bool | None = None,
    min_cpu_number: int | None = None,
    max_cpu_number: int | None = None,
    min_memory_mb: int | None = None,
    max_memory_mb: int | None = None,
    host_tags: str | None = None,
    storage_tags: str | None = None,
    storage_type: str | None = None,
    offer_ha: bool = False,
    limit_cpu_use: bool = False,
    domain_id: int | None = None,
    zone_id: int | None = None,
) -> ServiceOffering:
    """createServiceOffering: fixed (cpu, speed, memory all given) or customized."""
    ensure_root_admin(ctx)
    for value, parameter in (
        (cpu_number, "cpunumber"),
        (cpu_speed_mhz, "cpuspeed"),
        (memory_mb, "memory"),
        (min_cpu_number, "mincpunumber"),
        (max_cpu_number, "maxcpunumber"),
        (min_memory_mb, "minmemory"),
        (max_memory_mb, "maxmemory"),
    ):
        _positive(value, parameter)
    fixed = all(v is not None for v in (cpu_number, cpu_speed_mhz, memory_mb))
    is_customized = bool(customized) if customized is not None else not fixed
    if not is_customized and not fixed:
        raise InvalidParameter(
            "For a fixed offering, cpunumber, cpuspeed and memory are all required",
            parameter="cpunumber",
        )
    if is_customized and (cpu_number is not None or memory_mb is not None):
        # A customized offering may fix the CPU speed only (CloudStack's constrained offering).
        raise InvalidParameter(
            "For a customized offering, cpunumber and memory are chosen at deploy time: give "
            "mincpunumber/maxcpunumber and minmemory/maxmemory instead",
            parameter="cpunumber",
        )
    if (min_cpu_number or max_cpu_number or min_memory_mb or max_memory_mb) and not is_customized:
        raise InvalidParameter(
            "CPU and memory ranges are only for customized offerings", parameter="mincpunumber"
        )
    if min_cpu_number and max_cpu_number and min_cpu_number > max_cpu_number:
        raise InvalidParameter("mincpunumber exceeds maxcpunumber", parameter="mincpunumber")
    if min_memory_mb and max_memory_mb and min_memory_mb > max_memory_mb:
        raise InvalidParameter("minmemory exceeds maxmemory", parameter="minmemory")
    offering = create_service_offering(
        session,
        name=name,
        display_text=display_text or name,
        cpu_number=cpu_number,
        cpu_speed_mhz=cpu_speed_mhz,
        memory_mb=memory_mb,
        is_customized=is_customized,
        min_cpu_number=min_cpu_number,
        max_cpu_number=max_cpu_number,
        min_memory_mb=min_memory_mb,
        max_memory_mb=max_memory_mb,
        host_tag=",".join(tag_list(host_tags)),
        storage_tags=",".join(tag_list(storage_tags)),
        storage_type=_storage_type(storage_type),
        offer_ha=offer_ha,
        limit_cpu_use=limit_cpu_use,
        domain_id=domain_id,
        zone_id=zone_id,
    )
    _event(
        session, ctx, "SERVICE.OFFERING.CREATE", f"Service offering {name} created", offering.uuid
    )
    return offering


def check_custom_sizing(offering: ServiceOffering, cpu: int, memory_mb: int) -> None:
    """A deploy on a customized offering must stay within its ranges (CloudStack: 431)."""
    for what, value, low, high, floor in (
        ("cpu cores", cpu, offering.min_cpu_number, offering.max_cpu_number, 1),
        ("memory", memory_mb, offering.min_memory_mb, offering.max_memory_mb, 32),
    ):
        if (low and value < low) or (high and value > high):
            raise InvalidParameter(
                f"Invalid {what} value, specify a value between {low or floor} and {high or value}",
                parameter="details",
            )


def update_offering(session: Session, ctx: CallContext, offering: Any, **changes: Any) -> Any:
    """updateServiceOffering / updateDiskOffering: name, displaytext, tags, state."""
    ensure_root_admin(ctx)
    for name, value in changes.items():
        if value is None:
            continue
        if name in ("host_tag", "storage_tags", "tags"):
            value = ",".join(tag_list(value))
        if name == "state" and value not in (ACTIVE, INACTIVE):
            raise InvalidParameter("state must be Active or Inactive", parameter="state")
        setattr(offering, name, value)
    _event(
        session, ctx, f"{_kind(offering)}.EDIT", f"Offering {offering.name} updated", offering.uuid
    )
    return offering


def delete_offering(session: Session, ctx: CallContext, offering: Any) -> None:
    """deleteServiceOffering / deleteDiskOffering: existing VMs and volumes keep using it."""
    ensure_root_admin(ctx)
    if isinstance(offering, ServiceOffering) and offering.is_system:
        raise InvalidParameter("A system offering cannot be deleted", parameter="id")
    offering.removed = utcnow()
    offering.state = INACTIVE
    _event(
        session,
        ctx,
        f"{_kind(offering)}.DELETE",
        f"Offering {offering.uuid} deleted",
        offering.uuid,
    )


def _kind(offering: Any) -> str:
    """How events name the offering: SERVICE.OFFERING or DISK.OFFERING."""
    return "SERVICE.OFFERING" if isinstance(offering, ServiceOffering) else "DISK.OFFERING"


def add_disk_offering(
    session: Session,
    ctx: CallContext,
    *,
    name: str,
    display_text: str | None = None,
    disk_size_gb: int | None = None,
    customized: bool | None = None,
    min_size_gb: int | None = None,
    max_size_gb: int | None = None,
    tags: str | None = None,
    storage_type: str | None = None,
    domain_id: int | None = None,
    zone_id: int | None = None,
) -> DiskOffering:
    """createDiskOffering: a fixed size, or customized (optionally within min/max)."""
    ensure_root_admin(ctx)
    for value, parameter in (
        (disk_size_gb, "disksize"),
        (min_size_gb, "customizeddiskminsize"),
        (max_size_gb, "customizeddiskmaxsize"),
    ):
        _positive(value, parameter)
    is_customized = bool(customized) if customized is not None else not disk_size_gb
    if not is_customized and not disk_size_gb:
        raise InvalidParameter(
            "Disk size must be specified for a non-customized disk offering", parameter="disksize"
        )
    if is_customized and disk_size_gb:
        raise InvalidParameter(
            "Disksize must not be specified for a custom disk offering", parameter="disksize"
        )
    if min_size_gb and max_size_gb and min_size_gb > max_size_gb:
        raise InvalidParameter(
            "The minimum custom disk size exceeds the maximum", parameter="customizeddiskminsize"
        )
    offering = create_disk_offering(
        session,
        name=name,
        display_text=display_text or name,
        disk_size_gb=disk_size_gb or 0,
        is_customized=is_customized,
        min_size_gb=min_size_gb,
        max_size_gb=max_size_gb,
        tags=",".join(tag_list(tags)),
        storage_type=_storage_type(storage_type),
        domain_id=domain_id,
        zone_id=zone_id,
    )
    _event(session, ctx, "DISK.OFFERING.CREATE", f"Disk offering {name} created", offering.uuid)
    return offering


def _for_caller(session: Session, ctx: CallContext, model: Any, query: sa.Select[Any]) -> Any:
    """Users see public offerings and those of their domain or its ancestors; admins all."""
    if ctx.role is Role.ADMIN:
        return query
    from core.identity import Domain

    ancestors = (
        [
            d.id
            for d in session.scalars(sa.select(Domain).where(Domain.removed.is_(None)))
            if ctx.domain_path.startswith(d.path)
        ]
        if ctx.domain_path
        else []
    )
    return query.where(sa.or_(model.domain_id.is_(None), model.domain_id.in_(ancestors)))


def list_service_offerings(
    session: Session,
    *,
    offering_id: int | None = None,
    name: str | None = None,
    ctx: CallContext | None = None,
    keyword: str | None = None,
    is_system: bool | None = None,
    domain_id: int | None = None,
    zone_id: int | None = None,
    active_only: bool = True,
) -> list[ServiceOffering]:
    system = ServiceOffering.is_system.is_(bool(is_system))
    filters = (offering_id, name, keyword, domain_id, zone_id, active_only)
    return _list_offerings(session, ctx, ServiceOffering, *filters, system)


def _list_offerings(
    session: Session,
    ctx: CallContext | None,
    model: Any,
    offering_id: int | None,
    name: str | None,
    keyword: str | None,
    domain_id: int | None,
    zone_id: int | None,
    active_only: bool,
    *conditions: sa.ColumnElement[bool],
) -> list[Any]:
    """Live service or disk offerings matching a list command's filters, in id order; a zone
    sees the offerings of every zone too. Asked for by id, an inactive one is listed as well."""
    query = select_where(
        model,
        model.removed.is_(None),
        *conditions,
        given(model.id, offering_id),
        given(model.name, name),
        keyword_in(keyword, model.name),
        model.state == ACTIVE if active_only and offering_id is None else None,
        given(model.domain_id, domain_id),
        None if zone_id is None else sa.or_(model.zone_id.is_(None), model.zone_id == zone_id),
    ).order_by(model.id)
    if ctx is not None:
        query = _for_caller(session, ctx, model, query)
    return list(session.scalars(query))


def offerings_for_vm(
    session: Session, ctx: CallContext, vm: Any, offerings: list[ServiceOffering]
) -> list[ServiceOffering]:
    """listServiceOfferings virtualmachineid: the offerings the VM may change to (not its own,
    same storage type, and — for a running VM — not customized)."""
    current = session.get(ServiceOffering, vm.service_offering_id)
    return [
        o
        for o in offerings
        if o.id != vm.service_offering_id
        and (current is None or o.storage_type == current.storage_type)
        and (o.zone_id is None or o.zone_id == vm.zone_id)
    ]


def list_disk_offerings(
    session: Session,
    *,
    offering_id: int | None = None,
    name: str | None = None,
    ctx: CallContext | None = None,
    keyword: str | None = None,
    domain_id: int | None = None,
    zone_id: int | None = None,
    active_only: bool = True,
) -> list[DiskOffering]:
    filters = (offering_id, name, keyword, domain_id, zone_id, active_only)
    return _list_offerings(session, ctx, DiskOffering, *filters)


def service_offering_by_uuid(session: Session, uuid: str) -> ServiceOffering:
    return get_live(session, ServiceOffering, "service offering", uuid=uuid)


def disk_offering_by_uuid(session: Session, uuid: str) -> DiskOffering:
    return get_live(session, DiskOffering, "disk offering", uuid=uuid)


# network offerings

SUPPORTED_SERVICES = [
    "Dhcp",
    "Dns",
    "UserData",
    "Firewall",
    "Gateway",
    "Lb",
    "SourceNat",
    "StaticNat",
    "PortForwarding",
    "Vpn",
    "SecurityGroup",
    "NetworkACL",
    "Connectivity",
]


def add_network_offering(
    session: Session,
    ctx: CallContext,
    *,
    name: str,
    display_text: str | None,
    guest_ip_type: str,
    traffic_type: str = "Guest",
    services: list[str] | None = None,
    providers: dict[str, str] | None = None,
    specify_vlan: bool = False,
    specify_ip_ranges: bool = False,
    conserve_mode: bool = True,
    egress_default_policy: bool = True,
    is_persistent: bool = False,
    for_vpc: bool = False,
    availability: str = "Optional",
    network_rate: int | None = None,
    tags: str | None = None,
) -> NetworkOffering:
    """createNetworkOffering: an offering guest networks (core.networks) can use once enabled."""
    ensure_root_admin(ctx)
    guest_type = {"isolated": "Isolated", "shared": "Shared", "l2": "L2"}.get(guest_ip_type.lower())
    if guest_type is None:
        raise InvalidParameter(
            "guestiptype must be Isolated, Shared or L2", parameter="guestiptype"
        )
    if traffic_type.lower() != "guest":
        raise InvalidParameter("Only the Guest traffic type is supported", parameter="traffictype")
    if session.scalar(sa.select(NetworkOffering.id).where(NetworkOffering.name == name)):
        raise InvalidParameter(f"A network offering named {name} already exists", parameter="name")
    known = {s.lower(): s for s in SUPPORTED_SERVICES}
    chosen: dict[str, str] = {}
    for service in services or []:
        canonical = known.get(service.strip().lower())
        if canonical is None:
            raise InvalidParameter(f"Invalid service {service}", parameter="supportedservices")
        chosen[canonical] = (providers or {}).get(canonical.lower(), _VR)
    if guest_type == "L2" and chosen:
        raise InvalidParameter(
            "An L2 network offering takes no services", parameter="supportedservices"
        )
    if (availability or "Optional").capitalize() not in ("Optional", "Required"):
        raise InvalidParameter(
            "availability must be Optional or Required", parameter="availability"
        )
    offering = NetworkOffering(
        name=name,
        display_text=display_text or name,
        guest_ip_type=guest_type,
        traffic_type="Guest",
        services=_services_text(chosen),
        specify_vlan=specify_vlan,
        specify_ip_ranges=specify_ip_ranges,
        conserve_mode=conserve_mode,
        egress_default_policy=egress_default_policy,
        is_persistent=is_persistent,
        for_vpc=for_vpc,
        availability=(availability or "Optional").capitalize(),
        network_rate=network_rate,
        tags=",".join(tag_list(tags)),
        state=INACTIVE,
    )
    session.add(offering)
    session.flush()
    _event(
        session, ctx, "NETWORK.OFFERING.CREATE", f"Network offering {name} created", offering.uuid
    )
    return offering


def update_network_offering(
    session: Session, ctx: CallContext, offering: NetworkOffering, **changes: Any
) -> NetworkOffering:
    ensure_root_admin(ctx)
    if changes.get("state") is not None:
        state = changes["state"].capitalize()
        if state not in (ACTIVE, "Disabled", INACTIVE, "Enabled"):
            raise InvalidParameter("state must be Enabled or Disabled", parameter="state")
        changes["state"] = ACTIVE if state in (ACTIVE, "Enabled") else INACTIVE
    if changes.get("availability") is not None:
        changes["availability"] = changes["availability"].capitalize()
        if changes["availability"] not in ("Optional", "Required"):
            raise InvalidParameter(
                "availability must be Optional or Required", parameter="availability"
            )
    if changes.get("tags") is not None:
        changes["tags"] = ",".join(tag_list(changes["tags"]))
    for name, value in changes.items():
        if value is not None:
            setattr(offering, name, value)
    _event(
        session,
        ctx,
        "NETWORK.OFFERING.EDIT",
        f"Network offering {offering.name} updated",
        offering.uuid,
    )
    return offering


def delete_network_offering(session: Session, ctx: CallContext, offering: NetworkOffering) -> None:
    ensure_root_admin(ctx)
    if offering.is_default:
        raise ResourceInUse("A default network offering cannot be deleted")
    offering.removed = utcnow()
    offering.name = f"{offering.name}-removed-{offering.id}"
    _event(
        session,
        ctx,
        "NETWORK.OFFERING.DELETE",
        f"Network offering {offering.uuid} deleted",
        offering.uuid,
    )


def list_network_offerings(
    session: Session,
    *,
    offering_id: int | None = None,
    name: str | None = None,
    keyword: str | None = None,
    guest_ip_type: str | None = None,
    state: str | None = None,
    is_default: bool | None = None,
    for_vpc: bool | None = None,
    ctx: CallContext | None = None,
) -> list[NetworkOffering]:
    query = select_where(
        NetworkOffering,
        NetworkOffering.removed.is_(None),
        given(NetworkOffering.id, offering_id),
        given(NetworkOffering.name, name),
        keyword_in(keyword, NetworkOffering.name),
    )
    if guest_ip_type:
        query = query.where(
            NetworkOffering.guest_ip_type == guest_ip_type.capitalize()
            if guest_ip_type.lower() != "l2"
            else NetworkOffering.guest_ip_type == "L2"
        )
    if state:
        wanted = ACTIVE if state.capitalize() in (ACTIVE, "Enabled") else INACTIVE
        query = query.where(NetworkOffering.state == wanted)
    if is_default is not None:
        query = query.where(NetworkOffering.is_default.is_(is_default))
    if for_vpc is not None:
        query = query.where(NetworkOffering.for_vpc.is_(for_vpc))
    if ctx is not None and ctx.role is not Role.ADMIN:
        query = query.where(NetworkOffering.state == ACTIVE)
    return list(session.scalars(query.order_by(NetworkOffering.id)))


def network_offering_by_uuid(session: Session, uuid: str) -> NetworkOffering:
    return get_live(session, NetworkOffering, "network offering", uuid=uuid)
