"""Guest network use cases: create, find, list, update and delete networks; VMs' NICs.

A network is CloudStack's Isolated guest network. With a VPC it is one of the VPC's tiers
(EC2's subnet): its CIDR must lie inside the VPC's and overlap no other tier of the VPC, and
creating tiers in one VPC is serialised by locking the VPC row, so two concurrent requests
cannot both take overlapping ranges. Without a VPC its CIDR is the zone's guest CIDR unless
gateway and netmask are given (isolated networks may overlap, each is its own L2 domain).
A network counts against the account's `network` limit, and cannot be deleted while a VM
that is not expunged has a NIC in it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import limits
from core.context import CallContext
from core.errors import Conflict, InsufficientCapacity, InvalidParameter, NotFound, ResourceInUse
from core.events import record_for_caller
from core.infra import Zone
from core.jobs import AsyncJob, job_handler, submit_job
from core.limits import ResourceType
from core.listing import Page, paginate
from core.networks import addressing
from core.networks.common import apply_update, get_owned, mark_removed, owned_query
from core.networks.models import ALLOCATED, IMPLEMENTED, Network, Nic, Vpc
from core.networks.vpcs import network_domain_for
from core.offerings import ACTIVE, NetworkOffering, seed_network_offerings
from core.visibility import ListScope, ensure_access
from core.vms.models import VirtualMachine

RESOURCE_TYPE = "Network"


VPC_TIER_OFFERING = "DefaultIsolatedNetworkOfferingForVpcNetworks"


def vpc_tier_offering(session: Session) -> NetworkOffering:
    """The offering of VPC tiers made without one (EC2's CreateSubnet, default subnets)."""

    def find() -> NetworkOffering | None:
        return session.scalar(
            sa.select(NetworkOffering).where(
                NetworkOffering.name == VPC_TIER_OFFERING, NetworkOffering.removed.is_(None)
            )
        )

    offering = find()
    if offering is None:  # a database older than the seeded offerings: seed them now
        seed_network_offerings(session)
        offering = find()
    assert offering is not None
    return offering


def _check_offering(offering: NetworkOffering, vpc: Vpc | None) -> None:
    if offering.removed is not None or offering.state != ACTIVE:
        raise InvalidParameter(
            f"Network offering {offering.name} is not enabled", parameter="networkofferingid"
        )
    if offering.guest_ip_type != "Isolated":
        raise InvalidParameter(
            "Only Isolated guest networks can be created", parameter="networkofferingid"
        )
    if vpc is not None and not offering.for_vpc:
        raise InvalidParameter(
            f"Network offering {offering.name} can't be used for VPC networks",
            parameter="networkofferingid",
        )
    if vpc is None and offering.for_vpc:
        raise InvalidParameter(
            f"Network offering {offering.name} can be used for VPC networks only",
            parameter="networkofferingid",
        )


def lock_vpc(session: Session, vpc: Vpc) -> Vpc:
    """The VPC row, locked until the end of the transaction (serialises its tiers)."""
    locked = session.scalar(
        sa.select(Vpc)
        .where(Vpc.id == vpc.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.removed is not None:
        raise NotFound("vpc", vpc.uuid)
    return locked


def tiers_of(session: Session, vpc_id: int) -> list[Network]:
    """A VPC's live tiers (they belong to the VPC's account: whoever sees it sees them)."""
    return list(
        session.scalars(
            sa.select(Network)
            .where(Network.vpc_id == vpc_id, Network.removed.is_(None))
            .order_by(Network.id)
        )
    )


def tier_cidrs(session: Session, vpc_id: int) -> list[str]:
    return list(
        session.scalars(
            sa.select(Network.cidr).where(Network.vpc_id == vpc_id, Network.removed.is_(None))
        )
    )


def _tier_range(session: Session, vpc: Vpc, network: addressing.IPv4Net) -> None:
    """The tier must lie inside the VPC's CIDR and overlap none of its other tiers."""
    if not network.subnet_of(addressing.parse_cidr(vpc.cidr)):
        raise InvalidParameter(
            f"The CIDR '{network}' is invalid: it is not within the VPC's CIDR {vpc.cidr}",
            parameter="cidr",
        )
    clash = addressing.overlapping(network, tier_cidrs(session, vpc.id))
    if clash is not None:
        raise Conflict(f"The CIDR '{network}' conflicts with another subnet ({clash})")


def _address_space(
    zone: Zone, vpc: Vpc | None, cidr: str | None, gateway: str | None, netmask: str | None
) -> addressing.IPv4Net:
    if cidr:
        return addressing.parse_cidr(cidr)
    if gateway or netmask:
        if not (gateway and netmask):
            raise InvalidParameter("gateway and netmask must be given together", parameter="cidr")
        return addressing.from_gateway(gateway, netmask)
    if vpc is not None:
        raise InvalidParameter(
            "Gateway and netmask are required to create a VPC network", parameter="gateway"
        )
    return addressing.parse_cidr(zone.guest_cidr)


def create_network(
    session: Session,
    ctx: CallContext,
    *,
    zone: Zone,
    offering: NetworkOffering | None,
    name: str,
    display_text: str | None = None,
    cidr: str | None = None,
    gateway: str | None = None,
    netmask: str | None = None,
    vpc: Vpc | None = None,
    network_domain: str | None = None,
    default_key: str | None = None,
) -> Network:
    """createNetwork / CreateSubnet for the account in `ctx` (a VPC's tier when `vpc`; no
    offering: the VPC tier offering)."""
    if offering is None:
        if vpc is None:
            raise InvalidParameter("A network offering is required", parameter="networkofferingid")
        offering = vpc_tier_offering(session)
    if not name or len(name) > 255:
        raise InvalidParameter("Network name must be 1 to 255 characters", parameter="name")
    _check_offering(offering, vpc)
    space = _address_space(zone, vpc, cidr, gateway, netmask)
    if vpc is not None:
        ensure_access(session, ctx, vpc, "vpc", vpc.uuid)
        if vpc.account_id != ctx.account_id:
            raise InvalidParameter(
                "A VPC's networks must belong to the VPC's account", parameter="vpcid"
            )
        vpc = lock_vpc(session, vpc)
        _tier_range(session, vpc, space)
    limits.reserve(session, ctx.account_id, {ResourceType.NETWORK: 1})
    network = Network(
        name=name,
        display_text=display_text or name,
        zone_id=zone.id,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        network_offering_id=offering.id,
        vpc_id=vpc.id if vpc else None,
        cidr=str(space),
        gateway=gateway.strip() if gateway and not cidr else addressing.gateway_of(space),
        netmask=str(space.netmask),
        state=ALLOCATED,
        network_domain=network_domain
        or (vpc.network_domain if vpc else network_domain_for(ctx.account_id)),
        is_default=default_key is not None,
        default_key=default_key,
        map_public_ip=default_key is not None,  # AWS: default subnets map public IPs
    )
    session.add(network)
    session.flush()
    if default_key is None:  # defaults are implicit, like the default security group
        record_for_caller(
            session,
            ctx,
            "NETWORK.CREATE",
            f"Created network {name} ({network.cidr})",
            resource_type=RESOURCE_TYPE,
            resource_uuid=network.uuid,
        )
    return network


def get_network(
    session: Session, ctx: CallContext, *, uuid: str | None = None, ident: int | None = None
) -> Network:
    """A live network the caller may act on, by uuid or internal id, or NotFound."""
    network: Network = get_owned(session, ctx, Network, "network", uuid=uuid, ident=ident)
    return network


def list_networks(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    *,
    uuid: str | None = None,
    ids: tuple[int, ...] | None = None,
    zone_id: int | None = None,
    vpc_id: int | None = None,
    in_vpc: bool | None = None,
    offering_id: int | None = None,
    is_default: bool | None = None,
    keyword: str | None = None,
    tags: list[tuple[str, str | None]] | None = None,
    page: Page = Page(),
) -> tuple[list[Network], int]:
    query = owned_query(
        session, ctx, scope, Network, RESOURCE_TYPE, uuid=uuid, ids=ids, keyword=keyword, tags=tags
    )
    if zone_id is not None:
        query = query.where(Network.zone_id == zone_id)
    if vpc_id is not None:
        query = query.where(Network.vpc_id == vpc_id)
    if in_vpc is not None:
        query = query.where(Network.vpc_id.is_not(None) if in_vpc else Network.vpc_id.is_(None))
    if offering_id is not None:
        query = query.where(Network.network_offering_id == offering_id)
    if is_default is not None:
        query = query.where(Network.is_default.is_(is_default))
    return paginate(session, query.order_by(Network.id), page)


def update_network(
    session: Session, ctx: CallContext, network: Network, **changes: Any
) -> tuple[Network, AsyncJob]:
    """updateNetwork (name, display text, network domain) and EC2's MapPublicIpOnLaunch."""
    job = apply_update(
        session,
        ctx,
        network,
        changes,
        allowed={"name", "display_text", "network_domain", "map_public_ip"},
        resource_type=RESOURCE_TYPE,
        event="NETWORK.UPDATE",
        job_kind="network.update",
    )
    return network, job


def _live_nics(network_id: int) -> sa.Select[Any]:
    return (
        sa.select(Nic)
        .join(VirtualMachine, VirtualMachine.id == Nic.vm_id)
        .where(Nic.network_id == network_id, VirtualMachine.removed.is_(None))
    )


def vm_ids_in(session: Session, network_id: int) -> list[int]:
    """The VMs (not expunged) with a NIC in the network."""
    return [nic.vm_id for nic in session.scalars(_live_nics(network_id))]


def remove_network(session: Session, ctx: CallContext, network: Network) -> None:
    """Mark the network removed and uncount it; refused while VMs use it."""
    if vm_ids_in(session, network.id):
        raise ResourceInUse(
            f"Network {network.name} is in use by virtual machines and cannot be deleted"
        )
    session.execute(sa.delete(Nic).where(Nic.network_id == network.id))
    network.state = "Destroy"
    mark_removed(session, ctx, network, resource_type=RESOURCE_TYPE, counted=ResourceType.NETWORK)


def delete_network(session: Session, ctx: CallContext, network: Network) -> AsyncJob:
    """deleteNetwork / DeleteSubnet."""
    ensure_access(session, ctx, network, "network", network.uuid)
    if network.removed is not None:
        raise NotFound("network", network.uuid)
    remove_network(session, ctx, network)
    return submit_job(
        session, ctx, "network.delete", instance_type=RESOURCE_TYPE, instance_id=network.id
    )


# ---- NICs: a VM's place in a network (for deploy paths to call)


class AddressInUse(Conflict):
    """The address asked for is another VM's in that network."""

    def __init__(self, address: str, network: Network) -> None:
        super().__init__(f"Address {address} is in use in network {network.name}")
        self.address = address


def add_vm_to_network(
    session: Session, network: Network, vm: VirtualMachine, address: str | None = None
) -> Nic:
    """Give `vm` `address` (checked to be usable and free) or the lowest free address of
    `network` (idempotent per VM and network).

    NICs of expunged VMs are reclaimed on the way, so their addresses are reused.
    """
    existing = session.scalar(
        sa.select(Nic).where(Nic.network_id == network.id, Nic.vm_id == vm.id)
    )
    if existing is not None:
        return existing
    gone = sa.select(VirtualMachine.id).where(VirtualMachine.removed.is_not(None))
    session.execute(sa.delete(Nic).where(Nic.network_id == network.id, Nic.vm_id.in_(gone)))
    taken = set(session.scalars(sa.select(Nic.ip_address).where(Nic.network_id == network.id)))
    if address is not None:
        address = addressing.check_guest_address(network.cidr, address)
        if address in taken:
            raise AddressInUse(address, network)
    else:
        address = addressing.next_free_address(network.cidr, taken)
    if address is None:
        raise InsufficientCapacity(
            f"No free address left in network {network.name} ({network.cidr})",
            scope="network",
            scope_id=network.uuid,
        )
    nic = Nic(network_id=network.id, vm_id=vm.id, ip_address=address, is_default=True)
    session.add(nic)
    if network.state == ALLOCATED:
        network.state = IMPLEMENTED
    session.flush()
    return nic


def nics_of_vm(session: Session, vm_id: int) -> list[Nic]:
    return list(session.scalars(sa.select(Nic).where(Nic.vm_id == vm_id).order_by(Nic.id)))


def nics_of_vms(session: Session, vm_ids: list[int]) -> dict[int, list[Nic]]:
    """`nics_of_vm` for many VMs in one query (for rendering lists)."""
    found: dict[int, list[Nic]] = {vm_id: [] for vm_id in vm_ids}
    if not vm_ids:
        return found
    for nic in session.scalars(sa.select(Nic).where(Nic.vm_id.in_(vm_ids)).order_by(Nic.id)):
        found[nic.vm_id].append(nic)
    return found


def place_vm(
    session: Session,
    ctx: CallContext,
    vm: VirtualMachine,
    network_id: int,
    address: str | None = None,
) -> Nic:
    """Deploy's part: the VM's NIC in one of the caller's networks of the VM's zone (at
    `address` if given); the VM's private address becomes the NIC's, so every API (and the
    metadata service) shows the same one."""
    network = get_network(session, ctx, ident=network_id)
    if network.zone_id != vm.zone_id:
        raise InvalidParameter(
            f"Network {network.uuid} is not in the zone of the VM", parameter="networkids"
        )
    nic = add_vm_to_network(session, network, vm, address)
    vm.private_ip = nic.ip_address
    return nic


def default_nics_of(session: Session, vm_ids: list[int]) -> dict[int, tuple[Nic, Network]]:
    """Each VM's default NIC and its network (VMs without one are left out), in one query."""
    if not vm_ids:
        return {}
    rows = session.execute(
        sa.select(Nic, Network)
        .join(Network, Network.id == Nic.network_id)
        .where(Nic.vm_id.in_(vm_ids), Nic.is_default.is_(True))
    )
    return {nic.vm_id: (nic, network) for nic, network in rows}


def default_networks_of(session: Session, vm_ids: list[int]) -> dict[int, Network]:
    """The network of each VM's default NIC (VMs without one are left out), in one query."""
    return {vm_id: network for vm_id, (_, network) in default_nics_of(session, vm_ids).items()}


def used_addresses(session: Session, network_ids: list[int]) -> dict[int, int]:
    """How many addresses VMs (not expunged) hold in each network, in one query."""
    counts = {network_id: 0 for network_id in network_ids}
    if not network_ids:
        return counts
    rows = session.execute(
        sa.select(Nic.network_id, sa.func.count())
        .join(VirtualMachine, VirtualMachine.id == Nic.vm_id)
        .where(Nic.network_id.in_(network_ids), VirtualMachine.removed.is_(None))
        .group_by(Nic.network_id)
    )
    for network_id, count in rows:
        counts[network_id] = int(count)
    return counts


def _nothing_to_do(_runtime: object, _job: AsyncJob) -> dict[str, object]:
    # The rows changed with the request; no network element programs guest networks yet.
    return {}


for _kind in ("network.update", "network.delete"):
    job_handler(_kind, fail=lambda _runtime, _job, _error: None)(_nothing_to_do)
