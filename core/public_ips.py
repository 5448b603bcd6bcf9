"""Public IP ranges, public addresses and static NAT.

An administrator adds a range of public addresses to a zone (CloudStack's VLAN IP range); each
address becomes a row. An account acquires an address with one conditional UPDATE from Free to
Allocating (`WHERE state = 'Free'`), so two accounts can never get the same address, on SQLite
or MariaDB; the job then marks it Allocated. Static NAT maps one allocated address to one VM
of the same account (unique `vm_id`). Releasing goes Allocated → Releasing → Free.

The EC2 front end maps Elastic IPs onto these use cases: allocate = `allocate_ip` (the
synchronous form of `associate_ip`: EC2 has no job to poll, and no network element needs
programming), release = `disassociate_ip`, associate/disassociate =
`enable_static_nat`/`disable_static_nat`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import limits
from core.context import CallContext
from core.db import Base, IdMixin, utcnow
from core.errors import InsufficientCapacity, InvalidParameter, NotFound, ResourceInUse
from core.events import record_for_caller
from core.infra import Zone
from core.jobs import AsyncJob, job_handler, submit_job
from core.limits import ResourceType
from core.listing import Page, paginate
from core.security_groups import NetworkRuleConflict
from core.tags import forget_resource, tag_filter
from core.visibility import ListScope, ensure_access, ensure_root_admin, scope_filter
from core.vms.models import VirtualMachine

RESOURCE_TYPE = "PublicIpAddress"
FREE = "Free"
ALLOCATING = "Allocating"
ALLOCATED = "Allocated"
RELEASING = "Releasing"
MAX_RANGE_SIZE = 65536
UNUSABLE_VM_STATES = ("Destroyed", "Expunging", "Error")


class VlanIpRange(IdMixin, Base):
    __tablename__ = "vlan"

    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    vlan_tag: Mapped[str] = mapped_column(sa.String(255), default="vlan://untagged")
    gateway: Mapped[str] = mapped_column(sa.String(64))
    netmask: Mapped[str] = mapped_column(sa.String(64))
    start_ip: Mapped[str] = mapped_column(sa.String(64))
    end_ip: Mapped[str] = mapped_column(sa.String(64))
    for_virtual_network: Mapped[bool] = mapped_column(default=True)
    # A range dedicated to one account; NULL for the zone's shared pool.
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    domain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domain.id"))


class PublicIpAddress(IdMixin, Base):
    __tablename__ = "user_ip_address"
    __table_args__ = (
        sa.UniqueConstraint("zone_id", "address"),
        sa.Index("ix_user_ip_address_pick", "zone_id", "state"),
    )

    vlan_id: Mapped[int] = mapped_column(sa.ForeignKey("vlan.id"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"))
    address: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default=FREE)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domain.id"))
    allocated: Mapped[dt.datetime | None]
    is_source_nat: Mapped[bool] = mapped_column(default=False)
    # Static NAT target: one VM per address and one address per VM.
    vm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vm_instance.id"), unique=True)
    vm_ip: Mapped[str | None] = mapped_column(sa.String(64))


# ---- ranges (root admin)


def _normalized_vlan(vlan: str | None) -> str:
    tag = (vlan or "untagged").strip()
    return tag if tag.startswith("vlan://") else f"vlan://{tag}"


def create_vlan_ip_range(
    session: Session,
    ctx: CallContext,
    *,
    zone: Zone,
    start_ip: str,
    end_ip: str | None,
    gateway: str,
    netmask: str,
    vlan: str | None = None,
    for_virtual_network: bool = True,
    owner: CallContext | None = None,
) -> VlanIpRange:
    """A range of public addresses in `zone`, optionally dedicated to `owner`'s account."""
    ensure_root_admin(ctx)
    try:
        first = ipaddress.IPv4Address(start_ip)
        last = ipaddress.IPv4Address(end_ip or start_ip)
        network = ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)
        ipaddress.IPv4Address(gateway)
    except ValueError as error:
        raise InvalidParameter(f"Invalid IP range: {error}") from None
    if last < first:
        raise InvalidParameter("Please specify a valid IP range; start IP is after end IP")
    if first not in network or last not in network:
        raise InvalidParameter("The IP range is not in the gateway's and netmask's subnet")
    count = int(last) - int(first) + 1
    if count > MAX_RANGE_SIZE:
        raise InvalidParameter(f"An IP range may hold at most {MAX_RANGE_SIZE} addresses")
    addresses = [str(ipaddress.IPv4Address(int(first) + i)) for i in range(count)]
    overlap = session.scalar(
        sa.select(PublicIpAddress.address).where(
            PublicIpAddress.zone_id == zone.id, PublicIpAddress.address.in_(addresses)
        )
    )
    if overlap:
        raise InvalidParameter(
            f"The IP range has already been added with gateway {gateway}; "
            f"address {overlap} overlaps an existing range"
        )
    vlan_range = VlanIpRange(
        zone_id=zone.id,
        vlan_tag=_normalized_vlan(vlan),
        gateway=gateway,
        netmask=netmask,
        start_ip=str(first),
        end_ip=str(last),
        for_virtual_network=for_virtual_network,
        account_id=owner.account_id if owner else None,
        domain_id=owner.domain_id if owner else None,
    )
    session.add(vlan_range)
    session.flush()
    session.execute(
        sa.insert(PublicIpAddress),
        [
            {
                "uuid": _uuid(),
                "created": utcnow(),
                "vlan_id": vlan_range.id,
                "zone_id": zone.id,
                "address": address,
                "state": FREE,
                "is_source_nat": False,
            }
            for address in addresses
        ],
    )
    record_for_caller(
        session,
        ctx,
        "VLAN.IP.RANGE.CREATE",
        f"Created public IP range {first}-{last} in zone {zone.name}",
        resource_type="Vlan",
        resource_uuid=vlan_range.uuid,
    )
    return vlan_range


def _uuid() -> str:
    from core.db import new_uuid

    return new_uuid()


def get_vlan_ip_range(session: Session, ctx: CallContext, uuid: str) -> VlanIpRange:
    ensure_root_admin(ctx)
    vlan_range = session.scalar(sa.select(VlanIpRange).where(VlanIpRange.uuid == uuid))
    if vlan_range is None:
        raise NotFound("vlan ip range", uuid)
    return vlan_range


def delete_vlan_ip_range(session: Session, ctx: CallContext, vlan_range: VlanIpRange) -> None:
    """Delete a range none of whose addresses is in use (536 otherwise)."""
    ensure_root_admin(ctx)
    # Rules left on released addresses are cleaned lazily; they go with the free rows here
    # (imported here: the rules family builds on this one).
    from core.network_rules import forget_rules_of_free_addresses

    forget_rules_of_free_addresses(session, vlan_range.id)
    # Deleting the free rows first locks them, so no allocation can slip in between.
    session.execute(
        sa.delete(PublicIpAddress).where(
            PublicIpAddress.vlan_id == vlan_range.id, PublicIpAddress.state == FREE
        )
    )
    if session.scalar(
        sa.select(PublicIpAddress.id).where(PublicIpAddress.vlan_id == vlan_range.id)
    ):
        raise ResourceInUse(
            f"The IP range with id {vlan_range.uuid} can't be deleted because it has "
            "allocated public IP addresses"
        )
    record_for_caller(
        session,
        ctx,
        "VLAN.IP.RANGE.DELETE",
        f"Deleted public IP range {vlan_range.start_ip}-{vlan_range.end_ip}",
        resource_type="Vlan",
        resource_uuid=vlan_range.uuid,
    )
    session.delete(vlan_range)
    session.flush()


def list_vlan_ip_ranges(
    session: Session,
    ctx: CallContext,
    *,
    uuid: str | None = None,
    zone_id: int | None = None,
    vlan: str | None = None,
    for_virtual_network: bool | None = None,
    account_id: int | None = None,
    keyword: str | None = None,
    page: Page = Page(),
) -> tuple[list[VlanIpRange], int]:
    ensure_root_admin(ctx)
    query = sa.select(VlanIpRange)
    if uuid:
        query = query.where(VlanIpRange.uuid == uuid)
    if zone_id is not None:
        query = query.where(VlanIpRange.zone_id == zone_id)
    if vlan:
        query = query.where(VlanIpRange.vlan_tag == _normalized_vlan(vlan))
    if for_virtual_network is not None:
        query = query.where(VlanIpRange.for_virtual_network == for_virtual_network)
    if account_id is not None:
        query = query.where(VlanIpRange.account_id == account_id)
    if keyword:
        query = query.where(VlanIpRange.vlan_tag.contains(keyword, autoescape=True))
    return paginate(session, query.order_by(VlanIpRange.id), page)


# ---- addresses


def _claim_free_address(session: Session, ctx: CallContext, zone: Zone) -> PublicIpAddress:
    """Move one Free address of the zone to Allocating for ctx's account, atomically."""
    usable_ranges = sa.select(VlanIpRange.id).where(
        VlanIpRange.zone_id == zone.id,
        VlanIpRange.for_virtual_network.is_(True),
        sa.or_(VlanIpRange.account_id.is_(None), VlanIpRange.account_id == ctx.account_id),
    )
    # The account's dedicated ranges first, then the shared pool.
    dedicated_first = sa.case(
        (
            PublicIpAddress.vlan_id.in_(
                sa.select(VlanIpRange.id).where(VlanIpRange.account_id == ctx.account_id)
            ),
            0,
        ),
        else_=1,
    )
    for _attempt in range(50):
        candidates = list(
            session.scalars(
                sa.select(PublicIpAddress.id)
                .where(
                    PublicIpAddress.zone_id == zone.id,
                    PublicIpAddress.state == FREE,
                    PublicIpAddress.vlan_id.in_(usable_ranges),
                )
                .order_by(dedicated_first, PublicIpAddress.id)
                .limit(16)
            )
        )
        if not candidates:
            break
        # Racing requests spread over the first few candidates instead of all hitting one.
        ident = random.choice(candidates[:4])
        claimed = session.execute(
            sa.update(PublicIpAddress)
            .where(PublicIpAddress.id == ident, PublicIpAddress.state == FREE)
            .values(
                state=ALLOCATING,
                account_id=ctx.account_id,
                domain_id=ctx.domain_id,
                allocated=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            address = session.get_one(PublicIpAddress, ident)
            session.refresh(address)
            return address
    raise InsufficientCapacity(
        f"Insufficient address capacity: no free public IP address in zone {zone.name}",
        scope="zone",
        scope_id=zone.uuid,
    )


def _acquire(session: Session, ctx: CallContext, zone: Zone) -> PublicIpAddress:
    limits.reserve(session, ctx.account_id, {ResourceType.PUBLIC_IP: 1})
    address = _claim_free_address(session, ctx, zone)
    record_for_caller(
        session,
        ctx,
        "NET.IPASSIGN",
        f"Acquired public IP address {address.address}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=address.uuid,
    )
    return address


def associate_ip(
    session: Session, ctx: CallContext, *, zone: Zone
) -> tuple[PublicIpAddress, AsyncJob]:
    """Acquire a public address of `zone` for the account in `ctx` (counts PUBLIC_IP)."""
    address = _acquire(session, ctx, zone)
    job = submit_job(
        session, ctx, "ip.associate", instance_type="IpAddress", instance_id=address.id
    )
    return address, job


def allocate_ip(session: Session, ctx: CallContext, *, zone: Zone) -> PublicIpAddress:
    """`associate_ip` finished within the request: the address is Allocated on return."""
    address = _acquire(session, ctx, zone)
    session.execute(
        sa.update(PublicIpAddress)
        .where(PublicIpAddress.id == address.id, PublicIpAddress.state == ALLOCATING)
        .values(state=ALLOCATED)
        .execution_options(synchronize_session=False)
    )
    session.refresh(address)
    return address


def get_public_ip(session: Session, ctx: CallContext, uuid: str) -> PublicIpAddress:
    """An address allocated to an account the caller may act for, or NotFound."""
    address = session.scalar(sa.select(PublicIpAddress).where(PublicIpAddress.uuid == uuid))
    if address is None or address.account_id is None:
        raise NotFound("public ip address", uuid)
    ensure_access(session, ctx, address, "public ip address", uuid)
    return address


def disassociate_ip(
    session: Session, ctx: CallContext, address: PublicIpAddress, *, keep_nat: bool = False
) -> AsyncJob:
    """Release an allocated address, disabling its static NAT first.

    With `keep_nat` (EC2's rule) an address with static NAT is refused (ResourceInUse) instead.
    """
    ensure_access(session, ctx, address, "public ip address", address.uuid)
    if address.vm_id is not None and keep_nat:
        raise ResourceInUse(f"The IP address {address.address} is mapped to a virtual machine")
    if address.vm_id is not None:
        _clear_static_nat(session, ctx, address)
    moved = session.execute(
        sa.update(PublicIpAddress)
        .where(PublicIpAddress.id == address.id, PublicIpAddress.state == ALLOCATED)
        .values(state=RELEASING)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidParameter(
            f"Unable to release IP address {address.address}: it is {address.state}"
        )
    session.refresh(address)
    record_for_caller(
        session,
        ctx,
        "NET.IPRELEASE",
        f"Released public IP address {address.address}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=address.uuid,
    )
    return submit_job(session, ctx, "ip.release", instance_type="IpAddress", instance_id=address.id)


def _free(session: Session, address_id: int) -> None:
    """Return an Allocating/Releasing address to the pool and uncount it; idempotent."""
    row = session.get(PublicIpAddress, address_id)
    if row is None or row.state not in (ALLOCATING, RELEASING):
        return
    account_id = row.account_id
    moved = session.execute(
        sa.update(PublicIpAddress)
        .where(
            PublicIpAddress.id == address_id,
            PublicIpAddress.state.in_((ALLOCATING, RELEASING)),
        )
        .values(state=FREE, account_id=None, domain_id=None, allocated=None, vm_id=None, vm_ip=None)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 1 and account_id is not None:  # type: ignore[attr-defined]
        limits.release(session, account_id, {ResourceType.PUBLIC_IP: 1})
        forget_resource(session, RESOURCE_TYPE, address_id)


def _finish_associate(runtime: object, job: AsyncJob) -> dict[str, object]:
    with runtime.db.write() as session:  # type: ignore[attr-defined]
        session.execute(
            sa.update(PublicIpAddress)
            .where(PublicIpAddress.id == job.instance_id, PublicIpAddress.state == ALLOCATING)
            .values(state=ALLOCATED)
        )
    return {}


def _undo_associate(runtime: object, job: AsyncJob, _error: Exception) -> None:
    with runtime.db.write() as session:  # type: ignore[attr-defined]
        _free(session, job.instance_id or 0)


def _finish_release(runtime: object, job: AsyncJob) -> dict[str, object]:
    with runtime.db.write() as session:  # type: ignore[attr-defined]
        _free(session, job.instance_id or 0)
    return {}


job_handler("ip.associate", fail=_undo_associate)(_finish_associate)


def _release_anyway(runtime: object, job: AsyncJob, _error: Exception) -> None:
    _finish_release(runtime, job)


job_handler("ip.release", fail=_release_anyway)(_finish_release)


# ---- static NAT


def enable_static_nat(
    session: Session, ctx: CallContext, address: PublicIpAddress, vm: VirtualMachine
) -> PublicIpAddress:
    """Map `address` to `vm` (same account); one VM per address and one address per VM."""
    ensure_access(session, ctx, address, "public ip address", address.uuid)
    ensure_access(session, ctx, vm, "virtual machine", vm.uuid)
    if vm.removed is not None or vm.state in UNUSABLE_VM_STATES:
        raise InvalidParameter(f"Invalid virtual machine state {vm.state} for static NAT")
    if address.state != ALLOCATED:
        raise InvalidParameter(
            f"The IP address {address.address} is not allocated ({address.state})"
        )
    if address.account_id != vm.account_id:
        raise InvalidParameter(
            "The IP address and the virtual machine belong to different accounts"
        )
    if address.vm_id is not None:
        raise NetworkRuleConflict(
            f"Failed to enable static nat for the ip address id={address.uuid} as it's already "
            f"assigned to a vm"
        )
    other = session.scalar(sa.select(PublicIpAddress.uuid).where(PublicIpAddress.vm_id == vm.id))
    if other is not None:
        raise NetworkRuleConflict(
            f"Failed to enable static nat for the ip address id={address.uuid} as vm "
            f"id={vm.uuid} is already associated with ip id={other}"
        )
    try:
        with session.begin_nested():
            moved = session.execute(
                sa.update(PublicIpAddress)
                .where(
                    PublicIpAddress.id == address.id,
                    PublicIpAddress.state == ALLOCATED,
                    PublicIpAddress.vm_id.is_(None),
                )
                .values(vm_id=vm.id, vm_ip=vm.private_ip or None)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise NetworkRuleConflict(
            f"Failed to enable static nat: vm id={vm.uuid} is already associated with an ip"
        ) from None
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise NetworkRuleConflict(
            f"Failed to enable static nat for the ip address id={address.uuid}"
        )
    session.refresh(address)
    record_for_caller(
        session,
        ctx,
        "STATICNAT.ENABLE",
        f"Enabled static NAT from {address.address} to VM {vm.name}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=address.uuid,
    )
    return address


def _clear_static_nat(session: Session, ctx: CallContext, address: PublicIpAddress) -> None:
    session.execute(
        sa.update(PublicIpAddress)
        .where(PublicIpAddress.id == address.id)
        .values(vm_id=None, vm_ip=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(address)
    record_for_caller(
        session,
        ctx,
        "STATICNAT.DISABLE",
        f"Disabled static NAT on {address.address}",
        resource_type=RESOURCE_TYPE,
        resource_uuid=address.uuid,
    )


def disable_static_nat(session: Session, ctx: CallContext, address: PublicIpAddress) -> AsyncJob:
    """Remove the address's static NAT mapping."""
    ensure_access(session, ctx, address, "public ip address", address.uuid)
    if address.vm_id is None:
        raise InvalidParameter(
            f"Specified IP address id {address.uuid} is not associated with any vm Id"
        )
    _clear_static_nat(session, ctx, address)
    return submit_job(
        session, ctx, "ip.static_nat.disable", instance_type="IpAddress", instance_id=address.id
    )


def _nat_applied(_runtime: object, _job: AsyncJob) -> dict[str, object]:
    # The mapping is removed with the request; no network element programs NAT rules yet.
    return {}


job_handler("ip.static_nat.disable", fail=lambda _runtime, _job, _error: None)(_nat_applied)


def static_nat_of_vm(session: Session, vm_id: int) -> PublicIpAddress | None:
    return session.scalar(sa.select(PublicIpAddress).where(PublicIpAddress.vm_id == vm_id))


def static_nats_of_vms(session: Session, vm_ids: list[int]) -> dict[int, PublicIpAddress]:
    """`static_nat_of_vm` for many VMs in one query (VMs without one are left out)."""
    if not vm_ids:
        return {}
    rows = session.scalars(sa.select(PublicIpAddress).where(PublicIpAddress.vm_id.in_(vm_ids)))
    return {row.vm_id: row for row in rows if row.vm_id is not None}


def release_static_nat_of_vm(session: Session, vm_id: int) -> None:
    """Drop the static NAT of a VM being expunged (the address stays allocated)."""
    session.execute(
        sa.update(PublicIpAddress)
        .where(PublicIpAddress.vm_id == vm_id)
        .values(vm_id=None, vm_ip=None)
        .execution_options(synchronize_session=False)
    )


def list_public_ips(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    uuid: str | None = None,
    address: str | None = None,
    zone_id: int | None = None,
    allocated_only: bool = True,
    is_static_nat: bool | None = None,
    for_virtual_network: bool | None = None,
    vm_id: int | None = None,
    state: str | None = None,
    keyword: str | None = None,
    tags: list[tuple[str, str | None]] | None = None,
    ids: Sequence[int] | None = None,
    page: Page = Page(),
) -> tuple[list[PublicIpAddress], int]:
    owned = sa.and_(
        PublicIpAddress.account_id.is_not(None),
        PublicIpAddress.state != FREE,
        scope_filter(session, ctx, scope, PublicIpAddress.account_id, PublicIpAddress.domain_id),
    )
    if allocated_only:
        query = sa.select(PublicIpAddress).where(owned)
    else:
        shared = PublicIpAddress.vlan_id.in_(
            sa.select(VlanIpRange.id).where(
                sa.or_(VlanIpRange.account_id.is_(None), VlanIpRange.account_id == ctx.account_id)
            )
        )
        free = sa.and_(PublicIpAddress.state == FREE, shared)
        query = sa.select(PublicIpAddress).where(sa.or_(owned, free))
    if uuid:
        query = query.where(PublicIpAddress.uuid == uuid)
    if ids is not None:
        query = query.where(PublicIpAddress.id.in_(ids))
    if address:
        query = query.where(PublicIpAddress.address == address)
    if zone_id is not None:
        query = query.where(PublicIpAddress.zone_id == zone_id)
    if is_static_nat is not None:
        query = query.where(
            PublicIpAddress.vm_id.is_not(None) if is_static_nat else PublicIpAddress.vm_id.is_(None)
        )
    if for_virtual_network is not None:
        query = query.where(
            PublicIpAddress.vlan_id.in_(
                sa.select(VlanIpRange.id).where(
                    VlanIpRange.for_virtual_network == for_virtual_network
                )
            )
        )
    if vm_id is not None:
        query = query.where(PublicIpAddress.vm_id == vm_id)
    if state:
        query = query.where(PublicIpAddress.state == state.capitalize())
    if keyword:
        query = query.where(PublicIpAddress.address.contains(keyword, autoescape=True))
    if tags:
        query = query.where(tag_filter(RESOURCE_TYPE, PublicIpAddress.__table__.c.id, tags))
    return paginate(session, query.order_by(PublicIpAddress.id), page)
