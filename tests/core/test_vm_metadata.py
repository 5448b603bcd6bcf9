"""core.vms.metadata: which running VM has a guest address, and what it is told about itself."""

from __future__ import annotations

import sqlalchemy as sa

from core.jobs import SUCCEEDED
from core.keypairs import delete_keypair, register_keypair
from core.vms import metadata
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.volumes import ROOT
from tests.core.conftest import CoreHarness
from tests.core.test_vm_lifecycle import deploy, vm_row

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKzVbtpiP7ZJfFCr0jHcJWxXhtCGDsaJDL9lmGe4wqWN a"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2vrMI8lD5qPOsLQhO9o6kz2xEXZNbS8TWkzjdWDp4a b"


def running(core: CoreHarness, ctx, **kw) -> VirtualMachine:
    vm_uuid, job_uuid = deploy(core, ctx, **kw)
    assert core.wait(job_uuid).status == SUCCEEDED
    return vm_row(core, vm_uuid)


def test_only_a_running_vm_answers_for_its_address(core: CoreHarness) -> None:
    ctx = core.new_tenant("md-core")
    vm = running(core, ctx)
    with core.db.read() as session:
        found = metadata.running_vm_by_guest_ip(session, vm.private_ip)
        assert found is not None and found.id == vm.id
        assert metadata.running_vm_by_guest_ip(session, "192.0.2.1") is None
    with core.db.write() as session:
        job = vms.stop_vm(session, ctx, session.get_one(VirtualMachine, vm.id))
    assert core.wait(job.uuid).status == SUCCEEDED
    with core.db.read() as session:
        assert metadata.running_vm_by_guest_ip(session, vm.private_ip) is None


def test_an_address_two_running_vms_share_answers_for_neither(core: CoreHarness) -> None:
    ctx = core.new_tenant("md-twins")
    first, second = running(core, ctx), running(core, ctx)
    with core.db.write() as session:
        session.execute(
            sa.update(VirtualMachine)
            .where(VirtualMachine.id == second.id)
            .values(private_ip=first.private_ip)
        )
    with core.db.read() as session:
        assert metadata.running_vm_by_guest_ip(session, first.private_ip) is None


def test_facts_show_the_vms_own_accounts_keys(core: CoreHarness) -> None:
    mine, theirs = core.new_tenant("md-mine"), core.new_tenant("md-theirs")
    with core.db.write() as session:
        register_keypair(session, mine, name="shared", public_key=KEY_A)
        register_keypair(session, theirs, name="shared", public_key=KEY_B)
        register_keypair(session, mine, name="gone", public_key=KEY_B)
    vm = running(core, mine, keypairs=("shared", "gone"), user_data="#!/bin/sh\n")
    with core.db.write() as session:
        delete_keypair(session, mine, name="gone")
    with core.db.read() as session:
        facts = metadata.vm_facts(session, metadata.running_vm_by_guest_ip(session, vm.private_ip))
        assert facts.public_keys == (metadata.PublicKey("shared", KEY_A),)
        assert facts.security_groups == ("default",)
        assert facts.public_ip is None
        assert facts.first_of_launch_group == vm.id
        assert [volume.volume_type for volume in facts.volumes] == [ROOT]
        assert facts.zone.id == vm.zone_id and facts.offering.name == "Small Instance"
