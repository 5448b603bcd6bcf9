"""Templates from a bucket's object and from another template; launch permissions by account."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import downloads
from core.buckets import create_bucket, handle_for, put_object
from core.context import CallContext
from core.errors import InvalidParameter, InvalidState, NotFound, PermissionDenied
from core.identity import create_account, create_domain, root_domain
from core.infra import list_zones
from core.jobs import FAILED, SUCCEEDED, AsyncJob
from core.template_sources import (
    copy_as_new_template,
    launch_permission_map,
    share_template,
    template_from_object,
    template_from_vm,
)
from core.templates import Template, zone_refs
from core.vms import service as vms
from core.vms.models import VirtualMachine
from drivers.objectstore.local import LocalObjectStore
from tests.core import test_templates
from tests.core.conftest import CoreHarness
from tests.support.core_vms import small_vm

IMAGE = b"QFI\xfb" + bytes(range(256)) * 64
store = test_templates.store  # secondary storage for the harness, as the template tests have it


def a_bucket(core: CoreHarness, store: LocalObjectStore, ctx: CallContext, name: str) -> None:
    with core.db.write() as session:
        create_bucket(session, ctx, name, store=store, region="cloudgate")
        handle = handle_for(session, ctx, name, action="write")
    put_object(store, handle, "disk.qcow2", [IMAGE], content_type=None, metadata={},
               content_length=len(IMAGE))  # fmt: skip


def import_image(
    core: CoreHarness, store: LocalObjectStore, ctx: CallContext, bucket: str, key: str
) -> tuple[int, str]:
    with core.db.write() as session:
        template, job = template_from_object(
            session, ctx, store, bucket=bucket, key=key, name="imported", display_text="",
            zone=list_zones(session)[0],
        )  # fmt: skip
        return template.id, job.uuid


def stored_image(core: CoreHarness, template_id: int) -> bytes:
    with core.db.read() as session:
        [ref] = zone_refs(session, template_id)
        return downloads.read_image(core.runtime, session, ref)


def test_a_template_from_an_object_holds_its_bytes(
    core: CoreHarness, store: LocalObjectStore
) -> None:
    tenant = core.new_tenant("importer")
    a_bucket(core, store, tenant, "importer-disks")
    template_id, job_uuid = import_image(core, store, tenant, "importer-disks", "disk.qcow2")
    assert core.wait(job_uuid).status == SUCCEEDED
    with core.db.read() as session:
        template = session.get_one(Template, template_id)
        assert (template.is_ready, template.format) == (True, "QCOW2")
        assert template.url == "s3://importer-disks/disk.qcow2"
    assert stored_image(core, template_id) == IMAGE


def test_only_readers_of_the_bucket_may_import(core: CoreHarness, store: LocalObjectStore) -> None:
    owner, stranger = core.new_tenant("bucket-owner"), core.new_tenant("stranger")
    a_bucket(core, store, owner, "owner-disks")
    with pytest.raises(PermissionDenied):
        import_image(core, store, stranger, "owner-disks", "disk.qcow2")
    with pytest.raises(NotFound):
        import_image(core, store, owner, "owner-disks", "missing.raw")
    with pytest.raises(NotFound):
        import_image(core, store, owner, "no-such-bucket", "disk.qcow2")


def test_an_object_gone_before_the_job_fails_the_template(
    core: CoreHarness, store: LocalObjectStore
) -> None:
    tenant = core.new_tenant("hasty")
    a_bucket(core, store, tenant, "hasty-disks")
    with core.db.write() as session:
        template, job = template_from_object(
            session, tenant, store, bucket="hasty-disks", key="disk.qcow2", name="gone",
            display_text="", zone=list_zones(session)[0],
        )  # fmt: skip
        # the job is claimed only after this commit: the object is gone by then
        store.delete_object(handle_for(session, tenant, "hasty-disks", action="write").namespace,
                            "hasty-disks", "disk.qcow2")  # fmt: skip
        template_id, job_uuid = template.id, job.uuid
    assert core.wait(job_uuid).status == FAILED
    with core.db.read() as session:
        failed = session.get_one(Template, template_id)
        assert failed.is_ready is False
        assert "Failed to import template from hasty-disks/disk.qcow2" in failed.status


def test_a_copy_is_a_new_template_of_the_caller(core: CoreHarness, store: LocalObjectStore) -> None:
    owner, other = core.new_tenant("copy-owner"), core.new_tenant("copy-other")
    a_bucket(core, store, owner, "copy-disks")
    template_id, job_uuid = import_image(core, store, owner, "copy-disks", "disk.qcow2")
    core.wait(job_uuid)
    with core.db.write() as session:
        source = session.get_one(Template, template_id)
        with pytest.raises(NotFound):  # not shared with the other account
            copy_as_new_template(session, other, source, name="nope", display_text="")
        source.is_public = True
        copy, jobs = copy_as_new_template(session, other, source, name="mine", display_text="")
        copy_id, copy_jobs = copy.id, [job.uuid for job in jobs]
        assert copy.account_id == other.account_id
    assert [core.wait(uuid).status for uuid in copy_jobs] == [SUCCEEDED]
    assert stored_image(core, copy_id) == IMAGE


def test_sharing_by_account_id(core: CoreHarness) -> None:
    owner, friend = core.new_tenant("share-owner"), core.new_tenant("share-friend")
    with core.db.write() as session:
        template = session.scalar(sa.select(Template).order_by(Template.id).limit(1))
        assert template is not None
        template.account_id, template.domain_id = owner.account_id, owner.domain_id
        share_template(session, owner, template, add=[friend.account_id], is_public=False)
        assert launch_permission_map(session, [template.id]) == {template.id: [friend.account_id]}
        assert template.is_public is False
        share_template(session, owner, template, remove=[friend.account_id])
        assert launch_permission_map(session, [template.id]) == {template.id: []}
        sub = create_domain(session, name="sub", parent=root_domain(session))
        outsider, _ = create_account(
            session, name="outsider", domain=sub, role=friend.role, username="outsider",
            password="pw",
        )  # fmt: skip
        with pytest.raises(InvalidParameter):
            share_template(session, owner, template, add=[outsider.id])
        with pytest.raises(NotFound):
            share_template(session, owner, template, add=[999_999])


def test_a_running_vm_is_imaged_only_when_allowed(
    core: CoreHarness, store: LocalObjectStore
) -> None:
    tenant = core.new_tenant("hot-imager")
    with core.db.write() as session:
        vm, job = vms.deploy_vm(session, tenant, small_vm(session, tenant))
        vm_id, started = vm.id, job.uuid
    assert core.wait(started).status == SUCCEEDED
    with pytest.raises(InvalidState), core.db.write() as session:  # CloudStack's rule
        template_from_vm(
            session, tenant, session.get_one(VirtualMachine, vm_id), name="cold", display_text=""
        )
    with core.db.write() as session:
        template, job = template_from_vm(
            session,
            tenant,
            session.get_one(VirtualMachine, vm_id),
            name="hot",
            display_text="",
            allow_running=True,
            reboot=True,
        )
        template_id, copied = template.id, job.uuid
        assert job.arguments["crash_consistent"] is True
        [reboot] = session.scalars(
            sa.select(AsyncJob).where(AsyncJob.kind == "vm.reboot", AsyncJob.instance_id == vm_id)
        ).all()
        rebooted = reboot.uuid
    assert core.wait(copied).status == SUCCEEDED
    assert core.wait(rebooted).status == SUCCEEDED
    with core.db.read() as session:
        assert session.get_one(Template, template_id).is_ready
        assert session.get_one(VirtualMachine, vm_id).state == "Running"
