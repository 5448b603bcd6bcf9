"""What a running VM may learn about itself: the facts behind the instance metadata service.

The metadata service has no caller context. The asker is a guest, named by the network — its
address on its guest network (on CloudStack, the virtual router looks the VM up by the
request's source IP in the same way) — so these queries are not scoped by visibility: a VM
sees its own row, its own key pairs and groups, and nothing of anyone else. Only a VM that is
running answers, as a stopped guest cannot be asking. Everything here is a read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.infra import Zone
from core.keypairs import SSHKeyPair
from core.offerings import ServiceOffering
from core.public_ips import static_nat_of_vm
from core.security_groups import groups_of_vm
from core.vms.models import VirtualMachine
from core.vms.states import VmState
from core.volumes import Volume, volumes_of_vm

log = logging.getLogger(__name__)

# A migrating VM is still a running guest (its state moves back to Running on the new host).
ANSWERING_STATES = (VmState.RUNNING, VmState.MIGRATING)


@dataclass(frozen=True, slots=True)
class PublicKey:
    name: str
    public_key: str


@dataclass(frozen=True, slots=True)
class VmFacts:
    """One VM and what it is told about itself, loaded in one read transaction."""

    vm: VirtualMachine
    zone: Zone
    offering: ServiceOffering
    first_of_launch_group: int
    public_ip: str | None
    public_keys: tuple[PublicKey, ...]
    security_groups: tuple[str, ...]
    volumes: tuple[Volume, ...]
    network: Any = None  # the network of the VM's default NIC (core.networks.Network), if any
    vpc: Any = None  # and that network's VPC (core.networks.Vpc), if it is a VPC tier


def running_vm_by_guest_ip(session: Session, address: str) -> VirtualMachine | None:
    """The running VM whose guest NIC has `address`, or None.

    Addresses are unique within a guest network, not across zones; when two running VMs
    share one (two zones with the same guest CIDR behind one metadata listener), neither is
    answered, since the service cannot tell which of them is asking.
    """
    found = list(
        session.scalars(
            sa.select(VirtualMachine)
            .where(
                VirtualMachine.private_ip == address,
                VirtualMachine.state.in_(ANSWERING_STATES),
                VirtualMachine.removed.is_(None),
            )
            .limit(2)
        )
    )
    if len(found) > 1:
        log.warning("metadata: more than one running VM has the guest address %s", address)
        return None
    return found[0] if found else None


def keypair_names(vm: VirtualMachine) -> list[str]:
    """The names of the SSH key pairs the VM was deployed with, in order."""
    return [name for name in vm.keypair.split(",") if name]


def _public_keys(session: Session, vm: VirtualMachine) -> tuple[PublicKey, ...]:
    """The VM's key pairs as they are now (a key pair deleted since is left out)."""
    names = keypair_names(vm)
    if not names:
        return ()
    rows = session.scalars(
        sa.select(SSHKeyPair).where(
            SSHKeyPair.account_id == vm.account_id, SSHKeyPair.name.in_(names)
        )
    )
    by_name = {row.name: row.public_key for row in rows}
    return tuple(PublicKey(name, by_name[name]) for name in names if name in by_name)


def _first_of_launch_group(session: Session, vm: VirtualMachine) -> int:
    first = session.scalar(
        sa.select(sa.func.min(VirtualMachine.id)).where(
            VirtualMachine.launch_group == vm.launch_group
        )
    )
    return int(first or vm.id)


def vm_facts(session: Session, vm: VirtualMachine) -> VmFacts:
    """Everything the metadata paths render for `vm`."""
    from core.networks import Vpc, default_networks_of

    nat = static_nat_of_vm(session, vm.id)
    network = default_networks_of(session, [vm.id]).get(vm.id)
    vpc = session.get(Vpc, network.vpc_id) if network is not None and network.vpc_id else None
    return VmFacts(
        vm=vm,
        zone=session.get_one(Zone, vm.zone_id),
        offering=session.get_one(ServiceOffering, vm.service_offering_id),
        first_of_launch_group=_first_of_launch_group(session, vm),
        public_ip=nat.address if nat is not None else None,
        public_keys=_public_keys(session, vm),
        security_groups=tuple(group.name for group in groups_of_vm(session, vm.id)),
        volumes=tuple(volumes_of_vm(session, vm.id)),
        network=network,
        vpc=vpc,
    )
