"""Each account's default VPC (172.31.0.0/16) and default network per zone (a /20 of it).

EC2 callers expect them (DescribeVpcs of a fresh account shows its default VPC; RunInstances
without a subnet launches into the default subnet of the zone). Reads never write, so they
are made on write paths only:

- when an account is created (ACCOUNT_CREATED_HOOKS): the VPC and a network in every zone;
- when a zone is created (infra.ZONE_CREATED_HOOKS): a network in it for every default VPC,
  and the VPC itself for accounts made before there was any zone (bootstrap's admin);
- `default_network(session, ctx, zone)`, for write paths such as RunInstances: makes
  whatever is missing, so an account that predates this module or deleted its default VPC
  gets one again the first time it needs it.

Creation is race-safe: the rows carry a unique `default_key` (account, or account and zone);
a concurrent creator hits the constraint inside a savepoint and takes the winner's row. Tiers
of one VPC are created under the VPC row's lock, so default blocks never overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import identity, infra
from core.context import SYSTEM_CONTEXT, CallContext, Role
from core.errors import InsufficientCapacity, LimitExceeded
from core.identity import Account
from core.infra import Zone
from core.networks import addressing
from core.networks.guest import create_network, lock_vpc, remove_network, tier_cidrs
from core.networks.models import Network, Nic, Vpc
from core.networks.vpcs import new_vpc, remove_vpc

DEFAULT_VPC_CIDR = "172.31.0.0/16"
DEFAULT_SUBNET_PREFIX = 20
DEFAULT_VPC_NAME = "default"
T = TypeVar("T")


def _vpc_key(account_id: int) -> str:
    return str(account_id)


def _network_key(account_id: int, zone_id: int) -> str:
    return f"{account_id}:{zone_id}"


def _by_key(session: Session, model: type[T], key: str) -> T | None:
    return session.scalar(sa.select(model).where(model.default_key == key))  # type: ignore[attr-defined]


def _create_once(session: Session, model: type[T], key: str, create: Callable[[], T]) -> T:
    """`create()` in a savepoint; if a concurrent creator won the unique key, its row."""
    existing = _by_key(session, model, key)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            return create()
    except IntegrityError:
        winner = _by_key(session, model, key)
        if winner is None:
            raise
        return winner


def account_context(account: Account) -> CallContext:
    """Whom the defaults are made for (events are recorded as the system user's doing)."""
    return CallContext(
        user_id=SYSTEM_CONTEXT.user_id,
        account_id=account.id,
        domain_id=account.domain_id,
        role=Role(account.role),
        account_uuid=account.uuid,
        account_name=account.name,
    )


def default_vpc(session: Session, ctx: CallContext, zone: Zone) -> Vpc:
    """The account's default VPC, created (in `zone`) if it has none."""

    def create() -> Vpc:
        return new_vpc(
            session,
            ctx,
            zone=zone,
            name=DEFAULT_VPC_NAME,
            cidr=DEFAULT_VPC_CIDR,
            display_text="Default VPC",
            default_key=_vpc_key(ctx.account_id),
        )

    return _create_once(session, Vpc, _vpc_key(ctx.account_id), create)


def _default_tier(session: Session, ctx: CallContext, vpc: Vpc, zone: Zone) -> Network:
    key = _network_key(ctx.account_id, zone.id)
    existing = _by_key(session, Network, key)
    if existing is not None:
        return existing
    lock_vpc(session, vpc)  # tiers of one VPC are chosen one at a time
    block = addressing.first_free_block(
        addressing.parse_cidr(vpc.cidr), DEFAULT_SUBNET_PREFIX, tier_cidrs(session, vpc.id)
    )
    if block is None:
        raise InsufficientCapacity(
            f"No free /{DEFAULT_SUBNET_PREFIX} left in the default VPC for zone {zone.name}",
            scope="zone",
            scope_id=zone.uuid,
        )

    def create() -> Network:
        return create_network(
            session,
            ctx,
            zone=zone,
            offering=None,
            name=f"default-{zone.name}",
            display_text=f"Default subnet of {zone.name}",
            cidr=str(block),
            vpc=vpc,
            default_key=key,
        )

    return _create_once(session, Network, key, create)


def default_network(session: Session, ctx: CallContext, zone: Zone) -> Network:
    """The default network of the account in `ctx` in `zone`, made (with the default VPC)
    if missing. For write paths only; raises LimitExceeded when the account is at its
    network or VPC limit."""
    return _default_tier(session, ctx, default_vpc(session, ctx, zone), zone)


def _quietly(make: Callable[..., T], *args: object) -> T | None:
    """Defaults made by hooks: an account at its limits simply goes without them."""
    try:
        return make(*args)
    except (LimitExceeded, InsufficientCapacity):
        return None


def _wants_defaults(account: Account) -> bool:
    return account.id != SYSTEM_CONTEXT.account_id and account.removed is None


def _on_account_created(session: Session, account: Account) -> None:
    if not _wants_defaults(account):
        return
    ctx = account_context(account)
    zones = infra.list_zones(session)
    if not zones:
        return  # made when the first zone is created
    vpc = _quietly(default_vpc, session, ctx, zones[0])
    for zone in zones if vpc is not None else ():
        _quietly(_default_tier, session, ctx, vpc, zone)


def _on_zone_created(session: Session, zone: Zone) -> None:
    accounts = session.scalars(
        sa.select(Account).where(Account.removed.is_(None)).order_by(Account.id)
    )
    for account in list(accounts):
        if not _wants_defaults(account):
            continue
        ctx = account_context(account)
        vpc = _by_key(session, Vpc, _vpc_key(account.id))
        if vpc is None:
            if _ever_had_default(session, account.id):
                continue  # deleted by its owner: not brought back behind its back
            vpc = _quietly(default_vpc, session, ctx, zone)
            if vpc is None:
                continue
        _quietly(_default_tier, session, ctx, vpc, zone)


def _ever_had_default(session: Session, account_id: int) -> bool:
    return (
        session.scalar(
            sa.select(Vpc.id).where(Vpc.account_id == account_id, Vpc.is_default.is_(True))
        )
        is not None
    )


def _on_account_deleting(session: Session, account: Account) -> None:
    """An account being removed gives up its networks, then its VPCs (idempotent). Its VMs
    are being expunged by the same job, so their NICs go first."""
    ctx = account_context(account)
    owned = sa.select(Network.id).where(Network.account_id == account.id)
    session.execute(sa.delete(Nic).where(Nic.network_id.in_(owned)))
    for network in list(
        session.scalars(
            sa.select(Network).where(Network.account_id == account.id, Network.removed.is_(None))
        )
    ):
        remove_network(session, ctx, network)
    for vpc in list(
        session.scalars(sa.select(Vpc).where(Vpc.account_id == account.id, Vpc.removed.is_(None)))
    ):
        remove_vpc(session, ctx, vpc)


identity.ACCOUNT_CREATED_HOOKS.append(_on_account_created)
identity.ACCOUNT_DELETING_HOOKS.append(_on_account_deleting)
infra.ZONE_CREATED_HOOKS.append(_on_zone_created)
