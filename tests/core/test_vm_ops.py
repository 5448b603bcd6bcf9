"""VM operations through the core (recover, expunge, scale, credentials, update), on both
databases, with the job engine and the simulator."""

from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core import limits
from core.configuration import set_setting
from core.context import Role
from core.errors import (
    InsufficientCapacity,
    InvalidParameter,
    InvalidState,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)
from core.events import Event
from core.infra import Host
from core.jobs import FAILED, SUCCEEDED
from core.keypairs import register_keypair
from core.limits import ResourceCount, ResourceType
from core.offerings import create_disk_offering, create_service_offering
from core.security_groups import groups_of_vm
from core.templates import Template, list_templates
from core.vms import access, lifecycle
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.vms.states import VmState
from core.volumes import volumes_of_vm
from drivers.hypervisor.base import HostRef
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy, host_usage, vm_row


def used(core: CoreHarness, account_id: int, resource: ResourceType) -> int:
    with core.db.read() as session:
        return session.get_one(ResourceCount, (account_id, resource.value)).used


def running_vm(core: CoreHarness, ctx, **kw) -> str:
    vm_uuid, job = deploy(core, ctx, **kw)
    assert core.wait(job).status == SUCCEEDED
    return vm_uuid


def stopped_vm(core: CoreHarness, ctx, **kw) -> str:
    vm_uuid, job = deploy(core, ctx, start=False, **kw)
    assert core.wait(job).status == SUCCEEDED
    return vm_uuid


def with_vm(core: CoreHarness, ctx, uuid: str, operation):
    with core.db.write() as session:
        vm = vms.get_vm(session, ctx, uuid=uuid)
        return operation(session, vm)


def update(core: CoreHarness, ctx, uuid: str, **change) -> None:
    with_vm(core, ctx, uuid, lambda s, vm: access.update_vm(s, ctx, vm, access.VmUpdate(**change)))


def offering(core: CoreHarness, name: str, cpu: int, speed: int, memory: int, **kw) -> int:
    with core.db.write() as session:
        return create_service_offering(
            session, name=name, cpu_number=cpu, cpu_speed_mhz=speed, memory_mb=memory, **kw
        ).id


def get_offering(session, offering_id: int):
    from core.offerings import ServiceOffering

    return session.get_one(ServiceOffering, offering_id)


def events_of(core: CoreHarness, event_type: str) -> list[Event]:
    with core.db.read() as session:
        return list(session.scalars(sa.select(Event).where(Event.event_type == event_type)))


def password_template(core: CoreHarness, ctx) -> None:
    with core.db.write() as session:
        template = list_templates(session, ctx, template_filter="featured")[0]
        session.get_one(Template, template.id).password_enabled = True


# recover / expunge ---------------------------------------------------------------------------


def test_destroy_recover_moves_counts_and_state(core: CoreHarness) -> None:
    admin = core.admin_context()
    vm_uuid = stopped_vm(core, admin)
    vm_id = vm_row(core, vm_uuid).id
    with_vm(core, admin, vm_uuid, lambda s, vm: vms.destroy_vm(s, admin, vm))
    assert vm_row(core, vm_uuid).state == VmState.DESTROYED
    with core.db.read() as session:
        assert vms.get_vm(session, admin, ident=vm_id).state == VmState.DESTROYED
    user = core.new_tenant("recoverer")
    vm2 = stopped_vm(core, user)
    with_vm(core, user, vm2, lambda s, vm: vms.destroy_vm(s, user, vm))
    core.wait(_last_job(core))
    assert used(core, user.account_id, ResourceType.USER_VM) == 0
    with pytest.raises(PermissionDenied):
        with_vm(core, user, vm2, lambda s, vm: lifecycle.recover_vm(s, user, vm))
    with core.db.write() as session:
        set_setting(session, lifecycle.ALLOW_USER_EXPUNGE, "true")
    with_vm(core, user, vm2, lambda s, vm: lifecycle.recover_vm(s, user, vm))
    assert vm_row(core, vm2).state == VmState.STOPPED
    assert used(core, user.account_id, ResourceType.USER_VM) == 1
    assert used(core, user.account_id, ResourceType.MEMORY) == 512
    assert events_of(core, "VM.RECOVER")
    with pytest.raises(InvalidState):  # a stopped VM cannot be recovered
        with_vm(core, user, vm2, lambda s, vm: lifecycle.recover_vm(s, user, vm))


def test_recover_respects_limits(core: CoreHarness) -> None:
    admin = core.admin_context()
    user = core.new_tenant("tight")
    vm_uuid = stopped_vm(core, user)
    with_vm(core, user, vm_uuid, lambda s, vm: vms.destroy_vm(s, user, vm))
    stopped_vm(core, user)
    with core.db.write() as session:
        limits.set_limit(session, user.account_id, ResourceType.USER_VM, 1)
    with pytest.raises(LimitExceeded):
        with_vm(core, admin, vm_uuid, lambda s, vm: lifecycle.recover_vm(s, admin, vm))
    assert vm_row(core, vm_uuid).state == VmState.DESTROYED


def _last_job(core: CoreHarness) -> str:
    from core.jobs import AsyncJob

    with core.db.read() as session:
        return session.scalar(sa.select(AsyncJob.uuid).order_by(AsyncJob.id.desc()).limit(1))


def test_expunge_needs_a_destroyed_vm_and_permission(core: CoreHarness) -> None:
    admin = core.admin_context()
    user = core.new_tenant("expunger")
    vm_uuid = running_vm(core, user)
    with pytest.raises(PermissionDenied):
        with_vm(core, user, vm_uuid, lambda s, vm: lifecycle.expunge_vm(s, user, vm))
    with pytest.raises(InvalidState):
        with_vm(core, admin, vm_uuid, lambda s, vm: lifecycle.expunge_vm(s, admin, vm))
    job = with_vm(core, user, vm_uuid, lambda s, vm: vms.destroy_vm(s, user, vm)).uuid
    assert core.wait(job).status == SUCCEEDED
    assert vm_row(core, vm_uuid).state == VmState.DESTROYED
    job = with_vm(core, admin, vm_uuid, lambda s, vm: lifecycle.expunge_vm(s, admin, vm)).uuid
    assert core.wait(job).status == SUCCEEDED
    vm = vm_row(core, vm_uuid)
    assert vm.state == VmState.EXPUNGED and vm.removed is not None
    with core.db.read() as session, pytest.raises(NotFound):
        vms.get_vm(session, admin, uuid=vm_uuid)


def test_periodic_task_expunges_vms_destroyed_longer_than_the_delay(core: CoreHarness) -> None:
    admin = core.admin_context()
    old, fresh = stopped_vm(core, admin), stopped_vm(core, admin)
    for uuid in (old, fresh):
        with_vm(core, admin, uuid, lambda s, vm: vms.destroy_vm(s, admin, vm))
    with core.db.write() as session:
        set_setting(session, "expunge.delay", "3600")
        session.execute(
            sa.update(VirtualMachine)
            .where(VirtualMachine.uuid == old)
            .values(state_changed=_hours_ago(2))
        )
    lifecycle.expunge_destroyed_vms(core.runtime)
    lifecycle.expunge_destroyed_vms(core.runtime)  # a second run (or server) claims nothing
    core.wait(_last_job(core))
    assert vm_row(core, old).state == VmState.EXPUNGED
    assert vm_row(core, fresh).state == VmState.DESTROYED
    assert len(events_of(core, "VM.EXPUNGE")) == 1


def _hours_ago(hours: int):
    import datetime as dt

    from core.db import utcnow

    return utcnow() - dt.timedelta(hours=hours)


# scale / change offering ---------------------------------------------------------------------


def test_change_service_offering_of_a_stopped_vm_moves_counts(core: CoreHarness) -> None:
    user = core.new_tenant("changer")
    big = offering(core, "Big", 2, 1000, 2048)
    vm_uuid = stopped_vm(core, user)
    with core.db.write() as session:
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.change_service_offering(session, user, vm, get_offering(session, big))
    vm = vm_row(core, vm_uuid)
    assert (vm.cpu_number, vm.memory_mb, vm.service_offering_id) == (2, 2048, big)
    assert used(core, user.account_id, ResourceType.CPU) == 2
    assert used(core, user.account_id, ResourceType.MEMORY) == 2048
    assert events_of(core, "VM.UPGRADE")
    with core.db.write() as session, pytest.raises(InvalidParameter):
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.change_service_offering(session, user, vm, get_offering(session, big))
    running = running_vm(core, user)
    with core.db.write() as session, pytest.raises(InvalidState):
        vm = vms.get_vm(session, user, uuid=running)
        lifecycle.change_service_offering(session, user, vm, get_offering(session, big))


def test_change_offering_over_the_limit_changes_nothing(core: CoreHarness) -> None:
    user = core.new_tenant("limited")
    big = offering(core, "Big", 4, 1000, 1024)
    vm_uuid = stopped_vm(core, user)
    with core.db.write() as session:
        limits.set_limit(session, user.account_id, ResourceType.CPU, 2)
    with core.db.write() as session, pytest.raises(LimitExceeded):
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.change_service_offering(session, user, vm, get_offering(session, big))
    assert vm_row(core, vm_uuid).cpu_number == 1
    assert used(core, user.account_id, ResourceType.CPU) == 1


def test_scale_a_running_vm_reserves_the_difference_on_its_host(core: CoreHarness) -> None:
    user = core.new_tenant("scaler")
    bigger = offering(core, "Bigger", 2, 500, 1024)
    smaller = offering(core, "Tiny", 1, 500, 256)
    vm_uuid = running_vm(core, user)
    with core.db.write() as session, pytest.raises(InvalidParameter):  # not dynamically scalable
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.scale_vm(session, user, vm, get_offering(session, bigger))
    with_vm(
        core,
        user,
        vm_uuid,
        lambda s, vm: access.update_vm(s, user, vm, access.VmUpdate(dynamically_scalable=True)),
    )
    with core.db.write() as session, pytest.raises(InvalidParameter):  # only up while running
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.scale_vm(session, user, vm, get_offering(session, smaller))
    host_id = vm_row(core, vm_uuid).host_id
    with core.db.write() as session:
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        job = lifecycle.scale_vm(session, user, vm, get_offering(session, bigger)).uuid
    assert core.wait(job).status == SUCCEEDED
    assert host_usage(core)[host_id] == (1000, 1024 * 1024**2)
    assert used(core, user.account_id, ResourceType.CPU) == 2
    vm = vm_row(core, vm_uuid)
    with core.db.read() as session:
        host = session.get_one(Host, host_id)
        ref = HostRef(uuid=host.uuid, name=host.name)
    assert core.simulator.vm_size(ref, vm.instance_name) == (2, 1024)
    assert events_of(core, "VM.SCALE")


def test_scale_fails_without_room_and_is_undone_when_the_host_refuses(core: CoreHarness) -> None:
    admin = core.admin_context()
    huge = offering(core, "Huge", 8, 2000, 1024)
    more = offering(core, "More", 1, 500, 1024)
    vm_uuid = running_vm(core, admin)
    with_vm(
        core,
        admin,
        vm_uuid,
        lambda s, vm: access.update_vm(s, admin, vm, access.VmUpdate(dynamically_scalable=True)),
    )
    host_id = vm_row(core, vm_uuid).host_id
    before = host_usage(core)[host_id]
    with core.db.write() as session, pytest.raises(InsufficientCapacity):
        vm = vms.get_vm(session, admin, uuid=vm_uuid)
        lifecycle.scale_vm(session, admin, vm, get_offering(session, huge))
    core.simulator.configure("scale", fail_next=1)
    with core.db.write() as session:
        vm = vms.get_vm(session, admin, uuid=vm_uuid)
        job = lifecycle.scale_vm(session, admin, vm, get_offering(session, more)).uuid
    assert core.wait(job).status == FAILED
    vm = vm_row(core, vm_uuid)
    assert (vm.memory_mb, vm.state) == (512, VmState.RUNNING)
    assert host_usage(core)[host_id] == before


def test_scale_a_stopped_vm_is_a_change_of_offering(core: CoreHarness) -> None:
    user = core.new_tenant("stopscale")
    big = offering(core, "Big", 2, 1000, 2048)
    vm_uuid = stopped_vm(core, user)
    with core.db.write() as session:
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        job = lifecycle.scale_vm(session, user, vm, get_offering(session, big)).uuid
    assert core.wait(job).status == SUCCEEDED
    assert vm_row(core, vm_uuid).memory_mb == 2048


def test_custom_offering_takes_the_sizing_from_details(core: CoreHarness) -> None:
    user = core.new_tenant("custom")
    custom = offering(core, "Custom", None, None, None, is_customized=True)
    vm_uuid = stopped_vm(core, user)
    with core.db.write() as session, pytest.raises(InvalidParameter):
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.change_service_offering(session, user, vm, get_offering(session, custom))
    with core.db.write() as session:
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        lifecycle.change_service_offering(
            session,
            user,
            vm,
            get_offering(session, custom),
            {"cpuNumber": 3, "cpuSpeed": 800, "memory": 768},
        )
    vm = vm_row(core, vm_uuid)
    assert (vm.cpu_number, vm.cpu_speed_mhz, vm.memory_mb) == (3, 800, 768)


# password / SSH keys -------------------------------------------------------------------------


def _rsa_keypair() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, public.decode()


def test_password_is_generated_shown_once_and_encrypted_with_the_key(core: CoreHarness) -> None:
    user = core.new_tenant("pw")
    password_template(core, user)
    private, public = _rsa_keypair()
    with core.db.write() as session:
        register_keypair(session, user, name="mykey", public_key=public)
    vm_uuid, job = deploy(core, user, keypair="mykey")
    finished = core.wait(job)
    assert finished.status == SUCCEEDED
    password = json.loads(finished.result)["password"]
    assert password and vm_row(core, vm_uuid).password == password
    with core.db.read() as session:
        vm = vms.get_vm(session, user, uuid=vm_uuid)
        encrypted = access.encrypted_password(session, user, vm)
    decrypted = private.decrypt(base64.b64decode(encrypted), padding.PKCS1v15())
    assert decrypted.decode() == password

    job = with_vm(core, user, vm_uuid, lambda s, vm: access.reset_password(s, user, vm)).uuid
    finished = core.wait(job)
    new_password = json.loads(finished.result)["password"]
    assert new_password != password and vm_row(core, vm_uuid).password == new_password
    assert events_of(core, "VM.RESETPASSWORD")


def test_reset_password_needs_a_password_template(core: CoreHarness) -> None:
    user = core.new_tenant("nopw")
    vm_uuid = stopped_vm(core, user)
    with pytest.raises(InvalidParameter):
        with_vm(core, user, vm_uuid, lambda s, vm: access.reset_password(s, user, vm))
    with core.db.read() as session, pytest.raises(InvalidParameter):
        access.encrypted_password(session, user, vms.get_vm(session, user, uuid=vm_uuid))


def test_reset_ssh_key_needs_a_stopped_vm_and_an_own_key(core: CoreHarness) -> None:
    user = core.new_tenant("sshuser")
    other = core.new_tenant("other")
    _private, public = _rsa_keypair()
    _p2, public2 = _rsa_keypair()
    with core.db.write() as session:
        register_keypair(session, user, name="k1", public_key=public)
        register_keypair(session, other, name="k2", public_key=public2)
    running = running_vm(core, user)
    with pytest.raises(InvalidState):
        with_vm(core, user, running, lambda s, vm: access.reset_ssh_key(s, user, vm, ["k1"]))
    stopped = stopped_vm(core, user)
    with pytest.raises(InvalidParameter):  # someone else's key pair
        with_vm(core, user, stopped, lambda s, vm: access.reset_ssh_key(s, user, vm, ["k2"]))
    job = with_vm(core, user, stopped, lambda s, vm: access.reset_ssh_key(s, user, vm, ["k1"]))
    assert core.wait(job.uuid).status == SUCCEEDED
    assert vm_row(core, stopped).keypair == "k1"
    assert events_of(core, "VM.RESETSSHKEY")


def test_deploy_validates_key_pairs_and_links_groups_and_a_data_disk(core: CoreHarness) -> None:
    user = core.new_tenant("deployer")
    with pytest.raises(InvalidParameter):
        deploy(core, user, keypairs=("missing",))
    with core.db.write() as session:
        disk_offering = create_disk_offering(session, name="Data", disk_size_gb=5)
    vm_uuid, job = deploy(core, user, data_disk_offering=disk_offering, group="web")
    assert core.wait(job).status == SUCCEEDED
    vm = vm_row(core, vm_uuid)
    with core.db.read() as session:
        volumes = volumes_of_vm(session, vm.id)
        assert sorted(v.volume_type for v in volumes) == ["DATADISK", "ROOT"]
        assert [g.name for g in groups_of_vm(session, vm.id)] == ["default"]
    assert vm.vm_group == "web"
    assert used(core, user.account_id, ResourceType.VOLUME) == 2  # root and data disks


# update / user data --------------------------------------------------------------------------


def test_update_changes_attributes_and_checks_them(core: CoreHarness) -> None:
    user = core.new_tenant("updater")
    vm_uuid = running_vm(core, user)
    with pytest.raises(InvalidParameter):  # renaming needs a stopped VM
        with_vm(
            core,
            user,
            vm_uuid,
            lambda s, vm: access.update_vm(s, user, vm, access.VmUpdate(name="web2")),
        )
    with pytest.raises(InvalidParameter):  # the offering does not offer HA
        with_vm(
            core,
            user,
            vm_uuid,
            lambda s, vm: access.update_vm(s, user, vm, access.VmUpdate(ha_enabled=True)),
        )
    with_vm(
        core,
        user,
        vm_uuid,
        lambda s, vm: access.update_vm(
            s,
            user,
            vm,
            access.VmUpdate(
                display_name="Web", group="g1", user_data="#cloud-config", details={"a": "1"}
            ),
        ),
    )
    vm = vm_row(core, vm_uuid)
    assert (vm.display_name, vm.vm_group, vm.details) == ("Web", "g1", {"a": "1"})
    assert access.user_data_base64(vm) == base64.b64encode(b"#cloud-config").decode()
    stopped = stopped_vm(core, user)
    with pytest.raises(InvalidParameter):
        with_vm(
            core,
            user,
            stopped,
            lambda s, vm: access.update_vm(s, user, vm, access.VmUpdate(name="1bad")),
        )
    with_vm(
        core,
        user,
        stopped,
        lambda s, vm: access.update_vm(s, user, vm, access.VmUpdate(name="good-name")),
    )
    assert vm_row(core, stopped).name == "good-name"


def test_other_tenants_vms_are_not_found(core: CoreHarness) -> None:
    owner = core.new_tenant("owner")
    intruder = core.new_tenant("intruder")
    vm_uuid = stopped_vm(core, owner)
    with core.db.read() as session, pytest.raises(NotFound):
        vms.get_vm(session, intruder, uuid=vm_uuid)
    domain_admin = core.new_tenant("dadmin", Role.DOMAIN_ADMIN)
    with core.db.read() as session:
        assert vms.get_vm(session, domain_admin, uuid=vm_uuid).uuid == vm_uuid
