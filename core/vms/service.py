"""VM use cases: deploy, start, stop, reboot, destroy, get and list.

Each use case validates, moves the VM through its state table, reserves capacity and limits,
and queues the driver work as a job — all in the caller's transaction, so a failure leaves
nothing half-written. Placement happens here, not in the job, so that "no capacity" is an
immediate error for every API (EC2 answers InsufficientInstanceCapacity synchronously).

A VM's private address (`vm.private_ip`): deployed into a guest network (`network_id`:
deployVirtualMachine's networkids, EC2's subnet — the default one when none is named), its
NIC's address there, given in the same transaction; otherwise a stable address of the zone's
shared guest CIDR derived from the VM's id. Every API and the metadata service read
`vm.private_ip`, so they agree.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import secrets
import string
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import limits
from core.context import CallContext, Role
from core.db import get_live, new_uuid, utcnow
from core.errors import InvalidParameter, NotFound, PermissionDenied
from core.events import record_for_caller
from core.infra import ENABLED, Host, Zone
from core.jobs import AsyncJob, submit_job
from core.listing import Page, paginate
from core.offerings import DiskOffering, ServiceOffering
from core.planner import Demand, release_host, reserve_host
from core.templates import Template, ready_in_zone
from core.visibility import ListScope, ensure_access, scope_filter
from core.vms.models import VirtualMachine
from core.vms.states import MACHINE, VmEvent, VmState, next_state
from core.volumes import create_root_volume

INSTANCE_TYPE = "VirtualMachine"
GIB = 1024**3
MAX_USER_DATA_BYTES = 32768
SHUTDOWN_BEHAVIORS = ("stop", "terminate")


@dataclass(frozen=True, slots=True)
class DataDisk:
    """A data disk created and attached with the VM (an EC2 block-device mapping)."""

    offering: DiskOffering
    size_gb: int | None = None
    device_id: int | None = None
    delete_on_termination: bool = False


@dataclass(frozen=True, slots=True)
class DeploySpec:
    zone: Zone
    service_offering: ServiceOffering
    template: Template
    name: str | None = None
    display_name: str | None = None
    start: bool = True
    host_id: int | None = None
    user_data: str = ""
    keypair: str = ""
    root_disk_size_gb: int | None = None
    cpu_number: int | None = None
    cpu_speed_mhz: int | None = None
    memory_mb: int | None = None
    launch_group: str = field(default_factory=new_uuid)
    launch_token: str | None = None
    launch_index: int = 0
    group: str = ""
    keyboard: str = ""
    details: dict[str, str] = field(default_factory=dict)
    keypairs: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    security_group_names: tuple[str, ...] = ()
    data_disk_offering: DiskOffering | None = None
    data_disk_size_gb: int | None = None
    data_disks: tuple[DataDisk, ...] = ()
    disable_api_termination: bool = False
    disable_api_stop: bool = False
    shutdown_behavior: str = "stop"
    network_id: int | None = None  # a guest network of the caller's (EC2: a subnet) for the NIC
    ip_address: str | None = None  # the NIC's address there (the lowest free one if None)


def decode_user_data(encoded: str | None) -> str:
    """User data arrives base64-encoded through every API; the core keeps it as text."""
    if not encoded:
        return ""
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidParameter(
            "Invalid BASE64 encoding of user data.", parameter="userdata"
        ) from None


def _sizing(spec: DeploySpec) -> tuple[int, int, int]:
    offering = spec.service_offering
    if offering.is_customized:
        cpu, memory = spec.cpu_number, spec.memory_mb
        speed = spec.cpu_speed_mhz or offering.cpu_speed_mhz
        if not (cpu and speed and memory):
            raise InvalidParameter(
                "A custom service offering needs cpuNumber, cpuSpeed and memory",
                parameter="details",
            )
        from core.offerings import check_custom_sizing

        check_custom_sizing(offering, cpu, memory)
        return cpu, speed, memory
    assert offering.cpu_number and offering.cpu_speed_mhz and offering.memory_mb
    return offering.cpu_number, offering.cpu_speed_mhz, offering.memory_mb


def generate_password(length: int = 12) -> str:
    """A random guest password (CloudStack's vm.password.length default is 6; longer is safer)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def resolve_keypairs(session: Session, ctx: CallContext, spec: DeploySpec) -> list[str]:
    """The SSH key pair names for a new VM; those of `keypairs` are checked to be the owner's
    (`keypair` is recorded as given: the EC2 front end names keys it checks itself)."""
    for name in spec.keypairs:
        lookup_keypair(session, ctx, name)
    names = [n for n in (*spec.keypairs, *([spec.keypair] if spec.keypair else [])) if n]
    return list(dict.fromkeys(names))


def lookup_keypair(session: Session, ctx: CallContext, name: str) -> object | None:
    """The owner's key pair `name` (NotFound otherwise); None while key pairs are not built."""
    try:
        from core import keypairs  # type: ignore[attr-defined]
    except ImportError:
        return None
    getter = getattr(keypairs, "get_keypair", None)
    if getter is None:
        return None
    try:
        return getter(session, ctx, name)
    except NotFound:
        raise InvalidParameter(
            f"A key pair with name '{name}' was not found.", parameter="keypair"
        ) from None


def attach_deploy_extras(
    session: Session, ctx: CallContext, vm: VirtualMachine, spec: DeploySpec
) -> None:
    """Security groups (the account's default one when none is named) and data disks."""
    from core import security_groups, volumes

    groups = security_groups.resolve_for_deploy(
        session, ctx, ids=list(spec.security_group_ids), names=list(spec.security_group_names)
    )
    security_groups.attach_to_vm(session, vm.id, groups)
    disks = list(spec.data_disks)
    if spec.data_disk_offering is not None:
        disks.insert(0, DataDisk(spec.data_disk_offering, spec.data_disk_size_gb))
    for disk in disks:
        volume = volumes.create_data_volume(
            session,
            ctx,
            zone_id=vm.zone_id,
            disk_offering=disk.offering,
            size_gb=disk.size_gb,
            name=f"DATA-{vm.id}",
        )
        volume.delete_on_termination = disk.delete_on_termination
        volumes.attach_to_vm(session, volume, vm, device_id=disk.device_id)


def check_shutdown_behavior(value: str) -> str:
    """`stop` or `terminate`: what a shutdown from inside the guest means (EC2's attribute)."""
    if value not in SHUTDOWN_BEHAVIORS:
        raise InvalidParameter(
            f"Invalid value '{value}' for instanceInitiatedShutdownBehavior; "
            f"expecting one of {', '.join(SHUTDOWN_BEHAVIORS)}",
            parameter="instanceInitiatedShutdownBehavior",
        )
    return value


def _check_launchable(session: Session, spec: DeploySpec, ctx: CallContext) -> None:
    if spec.zone.allocation_state != ENABLED and ctx.role is not Role.ADMIN:
        raise PermissionDenied(f"Zone {spec.zone.name} is disabled")
    template = spec.template
    if not template.is_ready:
        raise InvalidParameter(f"Template {template.uuid} is not ready", parameter="templateid")
    if not ready_in_zone(session, template, spec.zone.id):
        raise InvalidParameter(
            f"Template {template.uuid} is not available in zone {spec.zone.uuid}",
            parameter="templateid",
        )
    if spec.host_id is not None and ctx.role is not Role.ADMIN:
        raise PermissionDenied("Only a root administrator may choose the host")
    if len(spec.user_data.encode()) > MAX_USER_DATA_BYTES:
        raise InvalidParameter("User data is too long", parameter="userdata")
    check_shutdown_behavior(spec.shutdown_behavior)


def _guest_address(vm_id: int, zone: Zone) -> tuple[str, str]:
    """A stable private address and MAC for the VM's guest NIC, derived from its id."""
    network = ipaddress.ip_network(zone.guest_cidr, strict=False)
    address = network.network_address + 10 + vm_id % (network.num_addresses - 12)
    mac = "02:00:" + ":".join(f"{(vm_id >> shift) & 0xFF:02x}" for shift in (24, 16, 8, 0))
    return str(address), mac


def deploy_vm(
    session: Session, ctx: CallContext, spec: DeploySpec
) -> tuple[VirtualMachine, AsyncJob]:
    """Create a VM (and its root disk); with `start`, place it and queue its first boot."""
    _check_launchable(session, spec, ctx)
    cpu_number, cpu_speed, memory_mb = _sizing(spec)
    root_bytes = (spec.root_disk_size_gb * GIB) if spec.root_disk_size_gb else 0
    if root_bytes and root_bytes < spec.template.size_bytes:
        raise InvalidParameter(
            "The root disk cannot be smaller than the template", parameter="rootdisksize"
        )
    root_bytes = root_bytes or spec.template.size_bytes or 2 * GIB
    limits.reserve(
        session,
        ctx.account_id,
        {
            limits.ResourceType.USER_VM: 1,
            limits.ResourceType.CPU: cpu_number,
            limits.ResourceType.MEMORY: memory_mb,
            # the root disk is a volume like any other (released when the VM is expunged)
            limits.ResourceType.VOLUME: 1,
            limits.ResourceType.PRIMARY_STORAGE: -(-root_bytes // GIB),
        },
    )
    vm = VirtualMachine(
        name=spec.name or "",
        display_name=spec.display_name or spec.name or "",
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        user_id=ctx.user_id,
        zone_id=spec.zone.id,
        template_id=spec.template.id,
        service_offering_id=spec.service_offering.id,
        cpu_number=cpu_number,
        cpu_speed_mhz=cpu_speed,
        memory_mb=memory_mb,
        hypervisor=spec.template.hypervisor,
        state=VmState.STOPPED,
        state_changed=utcnow(),
        user_data=spec.user_data,
        keypair=",".join(resolve_keypairs(session, ctx, spec)),
        password=generate_password() if spec.template.password_enabled else "",
        vm_group=spec.group,
        keyboard=spec.keyboard,
        dynamically_scalable=bool(getattr(spec.template, "dynamically_scalable", False)),
        details_json=json.dumps(spec.details, sort_keys=True),
        launch_group=spec.launch_group,
        launch_token=spec.launch_token,
        launch_index=spec.launch_index,
        disable_api_termination=spec.disable_api_termination,
        disable_api_stop=spec.disable_api_stop,
        shutdown_behavior=spec.shutdown_behavior,
    )
    session.add(vm)
    session.flush()
    vm.name = vm.name or vm.uuid
    vm.display_name = vm.display_name or vm.name
    vm.instance_name = f"i-{ctx.account_id}-{vm.id}-VM"
    vm.private_ip, vm.mac_address = _guest_address(vm.id, spec.zone)
    if spec.network_id is not None:
        from core import networks

        networks.place_vm(session, ctx, vm, spec.network_id, spec.ip_address)
    elif spec.ip_address is not None:
        raise InvalidParameter("An IP address needs a network", parameter="ipaddress")
    host = _place(session, vm, spec.host_id) if spec.start else None
    create_root_volume(
        session,
        vm_id=vm.id,
        vm_name_id=vm.id,
        account_id=ctx.account_id,
        domain_id=ctx.domain_id,
        zone_id=spec.zone.id,
        cluster_id=host.cluster_id if host else None,
        size_bytes=root_bytes,
        template_id=spec.template.id,
        storage_tags=spec.service_offering.storage_tags,
    )
    attach_deploy_extras(session, ctx, vm, spec)
    record_for_caller(
        session,
        ctx,
        "VM.CREATE",
        f"Successfully created VM {vm.name}",
        resource_type=INSTANCE_TYPE,
        resource_uuid=vm.uuid,
    )
    if host is not None:
        vm.state = next_state(vm.state, VmEvent.START_REQUESTED, vm=vm.uuid)
    # A VM created stopped still gets a (trivial) job: CloudStack's deploy is always async.
    job = submit_job(
        session,
        ctx,
        "vm.start" if host is not None else "vm.create",
        instance_type=INSTANCE_TYPE,
        instance_id=vm.id,
        params={"deploy": True, "reveal_password": bool(vm.password)},
    )
    session.flush()
    return vm, job


def _place(session: Session, vm: VirtualMachine, host_id: int | None) -> Host:
    # The offering's host tags pick the hosts; the planner skips hosts in maintenance.
    offering = session.get(ServiceOffering, vm.service_offering_id)
    host = reserve_host(
        session,
        zone_id=vm.zone_id,
        demand=Demand(cpu_mhz=vm.cpu_mhz_total, memory_bytes=vm.memory_bytes),
        hypervisor=vm.hypervisor,
        host_id=host_id,
        host_tag=offering.host_tag if offering else "",
    )
    vm.host_id = host.id
    vm.pod_id = host.pod_id
    return host


def transition(session: Session, vm: VirtualMachine, event: VmEvent) -> None:
    """Move the VM along its state table, failing if another request moved it first."""
    MACHINE.move(session, vm, event)


def release_placement(session: Session, vm: VirtualMachine) -> None:
    """Give the VM's host capacity back and remember the host for the next start."""
    if vm.host_id is not None:
        release_host(session, vm.host_id, Demand(vm.cpu_mhz_total, vm.memory_bytes))
        vm.last_host_id = vm.host_id
        vm.host_id = None


def start_vm(
    session: Session, ctx: CallContext, vm: VirtualMachine, *, host_id: int | None = None
) -> AsyncJob:
    if host_id is not None and ctx.role is not Role.ADMIN:
        raise PermissionDenied("Only a root administrator may choose the host")
    transition(session, vm, VmEvent.START_REQUESTED)
    _place(session, vm, host_id)
    return submit_job(session, ctx, "vm.start", instance_type=INSTANCE_TYPE, instance_id=vm.id)


def stop_vm(
    session: Session, ctx: CallContext, vm: VirtualMachine, *, force: bool = False
) -> AsyncJob:
    transition(session, vm, VmEvent.STOP_REQUESTED)
    return submit_job(
        session,
        ctx,
        "vm.stop",
        instance_type=INSTANCE_TYPE,
        instance_id=vm.id,
        params={"force": force},
    )


def reboot_vm(session: Session, ctx: CallContext, vm: VirtualMachine) -> AsyncJob:
    next_state(vm.state, VmEvent.REBOOT_REQUESTED, vm=vm.uuid)
    return submit_job(session, ctx, "vm.reboot", instance_type=INSTANCE_TYPE, instance_id=vm.id)


def destroy_vm(
    session: Session, ctx: CallContext, vm: VirtualMachine, *, expunge: bool = False
) -> AsyncJob:
    """Destroy (recoverable until expunged); a running VM is stopped first, by the job.

    A VM that is starting or stopping is destroyed by a job queued behind the one under way
    (jobs on one VM run in order), as AWS lets an instance be terminated while pending.
    """
    state = VmState(vm.state)
    if state is VmState.RUNNING:
        transition(session, vm, VmEvent.STOP_REQUESTED)
    elif state in (VmState.STARTING, VmState.STOPPING):
        pass
    elif not (state is VmState.DESTROYED and expunge):
        mark_destroyed(session, ctx, vm)
    return submit_job(
        session,
        ctx,
        "vm.destroy",
        instance_type=INSTANCE_TYPE,
        instance_id=vm.id,
        params={"expunge": expunge},
    )


def mark_destroyed(session: Session, ctx: CallContext, vm: VirtualMachine) -> None:
    """Stopped (or failed) → Destroyed: its counts go back to the account's limits."""
    transition(session, vm, VmEvent.DESTROY_REQUESTED)
    limits.release(
        session,
        vm.account_id,
        {
            limits.ResourceType.USER_VM: 1,
            limits.ResourceType.CPU: vm.cpu_number,
            limits.ResourceType.MEMORY: vm.memory_mb,
        },
    )
    record_for_caller(
        session,
        ctx,
        "VM.DESTROY",
        f"Successfully destroyed VM {vm.name}",
        resource_type=INSTANCE_TYPE,
        resource_uuid=vm.uuid,
    )


def get_vm(
    session: Session, ctx: CallContext, *, uuid: str | None = None, ident: int | None = None
) -> VirtualMachine:
    """A VM the caller may see (someone else's VM is reported as not found)."""
    try:
        vm = get_live(session, VirtualMachine, "virtual machine", ident=ident, uuid=uuid)
    except NotFound:
        raise NotFound("virtual machine", uuid if uuid is not None else ident) from None
    ensure_access(session, ctx, vm, "virtual machine", uuid if uuid is not None else ident)
    return vm


@dataclass(frozen=True, slots=True)
class VmFilter:
    ids: tuple[int, ...] | None = None
    name: str | None = None
    keyword: str | None = None
    states: tuple[str, ...] | None = None
    zone_id: int | None = None
    host_id: int | None = None
    template_id: int | None = None
    service_offering_id: int | None = None
    launch_groups: tuple[str, ...] | None = None
    include_expunged_since: object | None = None
    tags: tuple[tuple[str, str | None], ...] = ()
    group: str | None = None
    keypair: str | None = None
    exclude_states: tuple[str, ...] = ()


def list_vms(
    session: Session,
    ctx: CallContext,
    scope: ListScope = ListScope(),
    vm_filter: VmFilter = VmFilter(),
    page: Page = Page(),
) -> tuple[list[VirtualMachine], int]:
    query = sa.select(VirtualMachine).where(
        scope_filter(session, ctx, scope, VirtualMachine.account_id, VirtualMachine.domain_id)
    )
    if vm_filter.include_expunged_since is not None:
        query = query.where(
            sa.or_(
                VirtualMachine.removed.is_(None),
                VirtualMachine.removed >= vm_filter.include_expunged_since,
            )
        )
    else:
        query = query.where(VirtualMachine.removed.is_(None))
    f = vm_filter
    if f.ids is not None:
        query = query.where(VirtualMachine.id.in_(f.ids))
    if f.name is not None:
        query = query.where(VirtualMachine.name == f.name)
    if f.keyword:
        like = f"%{f.keyword}%"
        query = query.where(
            sa.or_(VirtualMachine.name.like(like), VirtualMachine.display_name.like(like))
        )
    if f.states is not None:
        query = query.where(VirtualMachine.state.in_(f.states))
    if f.exclude_states:
        query = query.where(VirtualMachine.state.not_in(f.exclude_states))
    if f.zone_id is not None:
        query = query.where(VirtualMachine.zone_id == f.zone_id)
    if f.host_id is not None:
        query = query.where(VirtualMachine.host_id == f.host_id)
    if f.template_id is not None:
        query = query.where(VirtualMachine.template_id == f.template_id)
    if f.service_offering_id is not None:
        query = query.where(VirtualMachine.service_offering_id == f.service_offering_id)
    if f.launch_groups is not None:
        query = query.where(VirtualMachine.launch_group.in_(f.launch_groups))
    if f.tags:
        from core.tags import tag_filter

        query = query.where(tag_filter("UserVm", VirtualMachine.id.expression, list(f.tags)))
    if f.group is not None:
        query = query.where(VirtualMachine.vm_group == f.group)
    if f.keypair is not None:
        names = VirtualMachine.keypair
        query = query.where(
            sa.or_(names == f.keypair, ("," + names + ",").contains(f",{f.keypair},"))
        )
    return paginate(session, query.order_by(VirtualMachine.id), page, key=VirtualMachine.id)


def vms_by_launch_token(session: Session, ctx: CallContext, token: str) -> list[VirtualMachine]:
    """VMs an earlier request with the same idempotency token launched."""
    return list(
        session.scalars(
            sa.select(VirtualMachine)
            .where(
                VirtualMachine.account_id == ctx.account_id, VirtualMachine.launch_token == token
            )
            .order_by(VirtualMachine.launch_index)
        )
    )
