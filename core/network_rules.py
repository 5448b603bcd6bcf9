"""Network rules on public IP addresses: firewall, port forwarding and IP forwarding.

One table holds all three kinds, told apart by `purpose` (CloudStack's firewall_rules table):
- Firewall: ingress to a public address (protocol, port range or ICMP type/code, source CIDRs).
- PortForwarding: a public port range of an address → a VM's private port range (tcp/udp). The
  address must not have static NAT; the VM must be in the address's account and zone.
- StaticNat: CloudStack's "IP forwarding rule", a port range opened on an address whose static
  NAT (core.public_ips) maps it to a VM.

A rule is created in state Add and becomes Active when its job has applied it; deleting marks it
Revoke and the job removes the row. A rule belongs to one allocation of its address: it records
the address's `allocated` time, so once the address is released (or re-acquired, or its static
NAT disabled for StaticNat rules) the rule is stale: lists skip it and the next write on that
address removes it (core.public_ips has no release hook to remove it at once).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base, IdMixin
from core.errors import InvalidParameter, NetworkRuleConflict, NotFound
from core.events import record_for_caller
from core.jobs import AsyncJob, job_handler, submit_job
from core.listing import Page, given, paginate, select_where
from core.public_ips import ALLOCATED, FREE, PublicIpAddress
from core.visibility import ListScope, ensure_access, scope_filter
from core.vms.models import VirtualMachine

FIREWALL = "Firewall"
PORT_FORWARDING = "PortForwarding"
STATIC_NAT = "StaticNat"
ADD = "Add"
ACTIVE = "Active"
REVOKE = "Revoke"
RESOURCE_TYPES = {
    FIREWALL: "FirewallRule",
    PORT_FORWARDING: "PortForwardingRule",
    STATIC_NAT: "StaticNatRule",
}
JOB_KINDS = {
    FIREWALL: "firewallrule",
    PORT_FORWARDING: "portforwardingrule",
    STATIC_NAT: "ipforwardingrule",
}
FIREWALL_PROTOCOLS = ("tcp", "udp", "icmp", "all")
FORWARDING_PROTOCOLS = ("tcp", "udp")
UNUSABLE_VM_STATES = ("Destroyed", "Expunging", "Error")


class NetworkRule(IdMixin, Base):
    __tablename__ = "firewall_rule"

    purpose: Mapped[str] = mapped_column(sa.String(32))
    state: Mapped[str] = mapped_column(sa.String(16), default=ADD)
    ip_address_id: Mapped[int] = mapped_column(sa.ForeignKey("user_ip_address.id"), index=True)
    # The allocation of the address this rule belongs to (see the module docstring).
    ip_allocated: Mapped[dt.datetime | None]
    protocol: Mapped[str] = mapped_column(sa.String(16))
    start_port: Mapped[int | None]
    end_port: Mapped[int | None]
    icmp_type: Mapped[int | None]
    icmp_code: Mapped[int | None]
    cidr_list: Mapped[str] = mapped_column(sa.String(4096), default="")
    vm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vm_instance.id"), index=True)
    private_start_port: Mapped[int | None]
    private_end_port: Mapped[int | None]
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))

    @property
    def cidrs(self) -> list[str]:
        return [c for c in self.cidr_list.split(",") if c]


# ---- validation helpers


def _ports(start: int | None, end: int | None, what: str) -> tuple[int, int]:
    if start is None:
        raise InvalidParameter(f"Please specify the {what} start port", parameter="startport")
    end = start if end is None else end
    for port in (start, end):
        if not 1 <= port <= 65535:
            raise InvalidParameter(f"Invalid {what} port: {port}; ports must be 1-65535")
    if end < start:
        raise InvalidParameter(f"Invalid {what} port range {start}-{end}: start port > end port")
    return start, end


def _cidrs(cidr_list: list[str] | None) -> str:
    cidrs = [c.strip() for c in (cidr_list or []) if c.strip()] or ["0.0.0.0/0"]
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise InvalidParameter(f"Invalid CIDR: {cidr}", parameter="cidrlist") from None
    return ",".join(cidrs)


def _live(purpose: str | None = None) -> sa.ColumnElement[bool]:
    """Rules still bound to the current allocation (and static NAT) of their address."""
    condition = sa.exists().where(
        PublicIpAddress.id == NetworkRule.ip_address_id,
        PublicIpAddress.state == ALLOCATED,
        PublicIpAddress.account_id == NetworkRule.account_id,
        PublicIpAddress.allocated == NetworkRule.ip_allocated,
        sa.or_(NetworkRule.purpose != STATIC_NAT, PublicIpAddress.vm_id == NetworkRule.vm_id),
    )
    # A rule forwarding to an expunged VM is dead too (core.vms.work does not remove it yet).
    condition = sa.and_(
        condition,
        sa.or_(
            NetworkRule.vm_id.is_(None),
            sa.exists().where(
                VirtualMachine.id == NetworkRule.vm_id, VirtualMachine.removed.is_(None)
            ),
        ),
    )
    if purpose is not None:
        condition = sa.and_(NetworkRule.purpose == purpose, condition)
    return condition


def _purge_stale(session: Session, address: PublicIpAddress) -> None:
    """Remove rules left from an earlier allocation or static NAT of `address`."""
    session.execute(
        sa.delete(NetworkRule)
        .where(NetworkRule.ip_address_id == address.id, sa.not_(_live()))
        .execution_options(synchronize_session=False)
    )


def _usable_address(session: Session, ctx: CallContext, address: PublicIpAddress) -> None:
    ensure_access(session, ctx, address, "public ip address", address.uuid)
    if address.state != ALLOCATED or address.account_id is None:
        raise InvalidParameter(
            f"Unable to create a rule: the IP address {address.address} is not allocated "
            f"({address.state})"
        )
    _purge_stale(session, address)


def _protocol(protocol: str | None, allowed: tuple[str, ...], usage: str = "") -> str:
    """The protocol in lower case, or InvalidParameter naming the ones the rule allows."""
    value = (protocol or "").lower()
    if value not in allowed:
        choices = " or ".join(allowed) if len(allowed) == 2 else f"one of {', '.join(allowed)}"
        raise InvalidParameter(
            f"Invalid protocol {value}{usage}: must be {choices}", parameter="protocol"
        )
    return value


def _refuse_overlap(
    session: Session, address: PublicIpAddress, purpose: str, protocol: str, start: int, end: int
) -> None:
    """NetworkRuleConflict when a live rule of `purpose` on `address` overlaps start-end."""
    clash = session.scalar(
        sa.select(NetworkRule).where(
            NetworkRule.ip_address_id == address.id,
            NetworkRule.purpose == purpose,
            NetworkRule.state != REVOKE,
            NetworkRule.protocol == protocol,
            NetworkRule.start_port <= end,
            NetworkRule.end_port >= start,
        )
    )
    if clash is not None:
        raise NetworkRuleConflict(
            f"The range specified, {start}-{end}, conflicts with rule {clash.uuid} which has "
            f"{clash.start_port}-{clash.end_port}"
        )


def _add(
    session: Session,
    ctx: CallContext,
    address: PublicIpAddress,
    purpose: str,
    protocol: str,
    ports: tuple[int | None, int | None],
    cidrs: str,
    **fields: Any,
) -> tuple[NetworkRule, AsyncJob]:
    """Record a rule on `address` (owned as the address is) and queue the job applying it."""
    rule = NetworkRule(
        purpose=purpose,
        ip_address_id=address.id,
        ip_allocated=address.allocated,
        protocol=protocol,
        start_port=ports[0],
        end_port=ports[1],
        cidr_list=cidrs,
        account_id=address.account_id,
        domain_id=address.domain_id,
        **fields,
    )
    session.add(rule)
    session.flush()
    event = "NET.FIREWALLOPEN" if rule.purpose == FIREWALL else "NET.RULEADD"
    record_for_caller(
        session,
        ctx,
        event,
        f"Created {rule.purpose} rule {rule.protocol} "
        f"{rule.start_port or ''}-{rule.end_port or ''} on {address.address}",
        resource_type=RESOURCE_TYPES[rule.purpose],
        resource_uuid=rule.uuid,
    )
    job = submit_job(
        session,
        ctx,
        f"{JOB_KINDS[rule.purpose]}.create",
        instance_type="FirewallRule",
        instance_id=rule.id,
    )
    return rule, job


# ---- use cases


def create_firewall_rule(
    session: Session,
    ctx: CallContext,
    address: PublicIpAddress,
    *,
    protocol: str,
    start_port: int | None = None,
    end_port: int | None = None,
    cidr_list: list[str] | None = None,
    icmp_type: int | None = None,
    icmp_code: int | None = None,
) -> tuple[NetworkRule, AsyncJob]:
    """Open ingress on `address` (NET.FIREWALLOPEN); an identical rule is a conflict."""
    _usable_address(session, ctx, address)
    protocol = _protocol(protocol, FIREWALL_PROTOCOLS)
    cidrs = _cidrs(cidr_list)
    start = end = None
    if protocol in ("tcp", "udp"):
        start, end = _ports(start_port, end_port, "firewall")
    elif start_port is not None or end_port is not None:
        raise InvalidParameter(f"Ports can't be specified for protocol {protocol}")
    if protocol == "icmp":
        icmp_type = -1 if icmp_type is None else icmp_type
        icmp_code = -1 if icmp_code is None else icmp_code
    elif icmp_type is not None or icmp_code is not None:
        raise InvalidParameter("icmptype and icmpcode are valid only for protocol icmp")
    existing = session.scalars(
        sa.select(NetworkRule).where(
            NetworkRule.ip_address_id == address.id,
            NetworkRule.purpose == FIREWALL,
            NetworkRule.state != REVOKE,
            NetworkRule.protocol == protocol,
        )
    )
    for rule in existing:
        if set(rule.cidrs) != set(cidrs.split(",")):
            continue
        if protocol == "icmp" and (rule.icmp_type, rule.icmp_code) == (icmp_type, icmp_code):
            raise NetworkRuleConflict(
                f"There is already a firewall rule specified for icmp type {icmp_type} "
                f"code {icmp_code} on IP {address.address}"
            )
        if protocol == "all" or (
            start is not None and rule.start_port <= end and rule.end_port >= start
        ):
            raise NetworkRuleConflict(
                f"The range specified, {start}-{end}, conflicts with rule {rule.uuid} which "
                f"has {rule.start_port}-{rule.end_port}"
                if start is not None
                else f"There is already a firewall rule for protocol {protocol} "
                f"on IP {address.address}"
            )
    return _add(
        session,
        ctx,
        address,
        FIREWALL,
        protocol,
        (start, end),
        cidrs,
        icmp_type=icmp_type,
        icmp_code=icmp_code,
    )


def create_port_forwarding_rule(
    session: Session,
    ctx: CallContext,
    address: PublicIpAddress,
    vm: VirtualMachine,
    *,
    protocol: str,
    public_port: int,
    public_end_port: int | None = None,
    private_port: int,
    private_end_port: int | None = None,
    cidr_list: list[str] | None = None,
) -> tuple[NetworkRule, AsyncJob]:
    """Forward a public port range of `address` to `vm` (NET.RULEADD)."""
    _usable_address(session, ctx, address)
    ensure_access(session, ctx, vm, "virtual machine", vm.uuid)
    protocol = _protocol(protocol, FORWARDING_PROTOCOLS, " for port forwarding")
    start, end = _ports(public_port, public_end_port, "public")
    private_start, private_end = _ports(private_port, private_end_port, "private")
    if end - start != private_end - private_start:
        raise InvalidParameter("Private port range and public port range must be of equal size")
    if vm.removed is not None or vm.state in UNUSABLE_VM_STATES:
        raise InvalidParameter(f"Invalid virtual machine state {vm.state} for port forwarding")
    if vm.account_id != address.account_id:
        raise InvalidParameter(
            "The IP address and the virtual machine belong to different accounts"
        )
    if vm.zone_id != address.zone_id:
        raise InvalidParameter("The IP address and the virtual machine are in different zones")
    if address.vm_id is not None:
        raise NetworkRuleConflict(
            f"Can't create a port forwarding rule on IP {address.address}: it has static NAT"
        )
    _refuse_overlap(session, address, PORT_FORWARDING, protocol, start, end)
    return _add(
        session,
        ctx,
        address,
        PORT_FORWARDING,
        protocol,
        (start, end),
        _cidrs(cidr_list),
        private_start_port=private_start,
        private_end_port=private_end,
        vm_id=vm.id,
    )


def create_ip_forwarding_rule(
    session: Session,
    ctx: CallContext,
    address: PublicIpAddress,
    *,
    protocol: str,
    start_port: int,
    end_port: int | None = None,
    cidr_list: list[str] | None = None,
) -> tuple[NetworkRule, AsyncJob]:
    """Open a port range through the static NAT of `address` (NET.RULEADD)."""
    _usable_address(session, ctx, address)
    protocol = _protocol(protocol, FORWARDING_PROTOCOLS, " for IP forwarding")
    start, end = _ports(start_port, end_port, "public")
    if address.vm_id is None:
        raise InvalidParameter(
            f"Static nat is not enabled for the ip address {address.address}; "
            "enable it first (enableStaticNat)"
        )
    if session.scalar(
        sa.select(NetworkRule.id).where(
            NetworkRule.ip_address_id == address.id,
            NetworkRule.purpose == PORT_FORWARDING,
            NetworkRule.state != REVOKE,
        )
    ):
        raise NetworkRuleConflict(f"IP {address.address} already has port forwarding rules")
    _refuse_overlap(session, address, STATIC_NAT, protocol, start, end)
    return _add(
        session,
        ctx,
        address,
        STATIC_NAT,
        protocol,
        (start, end),
        _cidrs(cidr_list),
        vm_id=address.vm_id,
    )


def get_rule(session: Session, ctx: CallContext, purpose: str, uuid: str) -> NetworkRule:
    """A live rule of `purpose` the caller may act on, or NotFound."""
    rule = session.scalar(sa.select(NetworkRule).where(NetworkRule.uuid == uuid, _live(purpose)))
    kind = RESOURCE_TYPES[purpose].lower()
    if rule is None:
        raise NotFound(kind, uuid)
    ensure_access(session, ctx, rule, kind, uuid)
    return rule


def delete_rule(session: Session, ctx: CallContext, rule: NetworkRule) -> AsyncJob:
    """Revoke the rule (NET.RULEDELETE / NET.FIREWALLCLOSE); the job removes it."""
    ensure_access(session, ctx, rule, RESOURCE_TYPES[rule.purpose].lower(), rule.uuid)
    session.execute(
        sa.update(NetworkRule)
        .where(NetworkRule.id == rule.id)
        .values(state=REVOKE)
        .execution_options(synchronize_session=False)
    )
    session.refresh(rule)
    record_for_caller(
        session,
        ctx,
        "NET.FIREWALLCLOSE" if rule.purpose == FIREWALL else "NET.RULEDELETE",
        f"Deleted {rule.purpose} rule {rule.uuid}",
        resource_type=RESOURCE_TYPES[rule.purpose],
        resource_uuid=rule.uuid,
    )
    return submit_job(
        session,
        ctx,
        f"{JOB_KINDS[rule.purpose]}.delete",
        instance_type="FirewallRule",
        instance_id=rule.id,
    )


def list_rules(
    session: Session,
    ctx: CallContext,
    scope: ListScope,
    purpose: str,
    *,
    uuid: str | None = None,
    ip_address_id: int | None = None,
    vm_id: int | None = None,
    keyword: str | None = None,
    page: Page = Page(),
) -> tuple[list[NetworkRule], int]:
    query = select_where(
        NetworkRule,
        _live(purpose),
        scope_filter(session, ctx, scope, NetworkRule.account_id, NetworkRule.domain_id),
        given(NetworkRule.uuid, uuid or None),
        given(NetworkRule.ip_address_id, ip_address_id),
        given(NetworkRule.vm_id, vm_id),
        NetworkRule.protocol.contains(keyword, autoescape=True) if keyword else None,
    )
    return paginate(session, query.order_by(NetworkRule.id), page)


def rules_of_vm_removed(session: Session, vm_id: int) -> None:
    """Drop the rules forwarding to a VM being expunged."""
    session.execute(
        sa.delete(NetworkRule)
        .where(NetworkRule.vm_id == vm_id)
        .execution_options(synchronize_session=False)
    )


# ---- jobs: no network element programs rules yet, so applying only moves the state.


def _apply(runtime: object, job: AsyncJob) -> dict[str, object]:
    with runtime.db.write() as session:  # type: ignore[attr-defined]
        session.execute(
            sa.update(NetworkRule)
            .where(NetworkRule.id == job.instance_id, NetworkRule.state == ADD)
            .values(state=ACTIVE)
            .execution_options(synchronize_session=False)
        )
    return {}


def _remove(runtime: object, job: AsyncJob, *_error: Exception) -> dict[str, object]:
    with runtime.db.write() as session:  # type: ignore[attr-defined]
        session.execute(
            sa.delete(NetworkRule)
            .where(NetworkRule.id == job.instance_id)
            .execution_options(synchronize_session=False)
        )
    return {}


def _undo_add(runtime: object, job: AsyncJob, _error: Exception) -> None:
    _remove(runtime, job)


for _kind in JOB_KINDS.values():
    job_handler(f"{_kind}.create", fail=_undo_add)(_apply)
    job_handler(f"{_kind}.delete", fail=lambda runtime, job, error: _remove(runtime, job))(_remove)


def forget_rules_of_free_addresses(session: Session, vlan_id: int) -> None:
    """Delete the (dead) rules still recorded on the free addresses of a range, before the
    range's free addresses themselves are deleted."""
    free = sa.select(PublicIpAddress.id).where(
        PublicIpAddress.vlan_id == vlan_id, PublicIpAddress.state == FREE
    )
    session.execute(
        sa.delete(NetworkRule)
        .where(NetworkRule.ip_address_id.in_(free))
        .execution_options(synchronize_session=False)
    )
