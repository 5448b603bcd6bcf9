"""ISOs attached to VMs: a VM holds at most one ISO (CloudStack's vm_instance.iso_id).

ISOs themselves are `core.templates.Template` rows of format ISO (registered, listed,
copied and deleted with the template use cases); this module keeps the VM ⇄ ISO link in a
table of its own and attaches and detaches through jobs, as CloudStack does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext
from core.db import Base
from core.errors import InvalidParameter, InvalidState
from core.events import record_for_job
from core.jobs import AsyncJob, job_handler, submit_job
from core.templates import ISO, Template, TemplateSpec, ready_in_zone, register_template
from core.vms.models import VirtualMachine
from core.vms.states import VmState

ATTACHABLE_STATES = (VmState.RUNNING, VmState.STOPPED)


class VmIso(Base):
    """The ISO in a VM's virtual CD-ROM drive."""

    __tablename__ = "vm_iso"

    vm_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_instance.id"), primary_key=True)
    iso_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_template.id"), index=True)


def register_iso(
    session: Session, ctx: CallContext, spec: TemplateSpec
) -> tuple[Template, list[AsyncJob]]:
    """registerIso: an ISO is a template of format ISO."""
    spec.format = ISO
    return register_template(session, ctx, spec)


def iso_of_vm(session: Session, vm_id: int) -> Template | None:
    link = session.get(VmIso, vm_id)
    return session.get(Template, link.iso_id) if link else None


def isos_of_vms(session: Session, vm_ids: list[int]) -> dict[int, Template]:
    """`iso_of_vm` for many VMs in one query (VMs without an ISO are left out)."""
    if not vm_ids:
        return {}
    rows = session.execute(
        sa.select(VmIso.vm_id, Template)
        .join(Template, Template.id == VmIso.iso_id)
        .where(VmIso.vm_id.in_(vm_ids))
    )
    return {vm_id: iso for vm_id, iso in rows}


def _check_vm(vm: VirtualMachine, operation: str) -> None:
    if vm.state not in ATTACHABLE_STATES:
        raise InvalidState("virtual machine", vm.uuid, vm.state, operation)


def attach_iso(session: Session, ctx: CallContext, iso: Template, vm: VirtualMachine) -> AsyncJob:
    """attachIso: the caller has been checked against both; the job links them."""
    _check_vm(vm, "attach an ISO")
    if not iso.is_iso:
        raise InvalidParameter(f"Unable to find ISO with id {iso.uuid}", parameter="id")
    if not ready_in_zone(session, iso, vm.zone_id):
        raise InvalidParameter(
            f"Unable to attach ISO {iso.uuid}: it is not ready in the VM's zone", parameter="id"
        )
    if session.get(VmIso, vm.id) is not None:
        raise InvalidParameter(
            "A VM can have only one ISO attached; detach the attached ISO first",
            parameter="virtualmachineid",
        )
    return submit_job(
        session,
        ctx,
        "iso.attach",
        instance_type="VirtualMachine",
        instance_id=vm.id,
        params={"iso_id": iso.id},
    )


def detach_iso(session: Session, ctx: CallContext, vm: VirtualMachine) -> AsyncJob:
    """detachIso: empties the VM's CD-ROM drive through a job."""
    _check_vm(vm, "detach an ISO")
    if session.get(VmIso, vm.id) is None:
        raise InvalidParameter(
            f"Virtual machine {vm.uuid} does not have an ISO attached",
            parameter="virtualmachineid",
        )
    return submit_job(session, ctx, "iso.detach", instance_type="VirtualMachine", instance_id=vm.id)


def _event(session: Session, job: AsyncJob, vm: VirtualMachine, kind: str, text: str) -> None:
    record_for_job(session, job, kind, text, resource_type="VirtualMachine", resource_uuid=vm.uuid)


def _nothing(_runtime: Any, _job: AsyncJob, _error: Exception) -> None:
    """A failed attach or detach changed nothing: the link moves in the job's transaction."""


@job_handler("iso.attach", fail=_nothing)
def run_attach(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        vm = session.get_one(VirtualMachine, job.instance_id)
        link = session.get(VmIso, vm.id)
        if link is None:  # idempotent: a re-run finds the link in place
            _check_vm(vm, "attach an ISO")
            session.add(VmIso(vm_id=vm.id, iso_id=job.arguments["iso_id"]))
            _event(session, job, vm, "ISO.ATTACH", f"Attached ISO to VM {vm.name}")
    return {}


@job_handler("iso.detach", fail=_nothing)
def run_detach(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        vm = session.get_one(VirtualMachine, job.instance_id)
        link = session.get(VmIso, vm.id)
        if link is not None:
            session.delete(link)
            _event(session, job, vm, "ISO.DETACH", f"Detached ISO from VM {vm.name}")
    return {}
