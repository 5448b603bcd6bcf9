"""VM snapshots: createVMSnapshot, listVMSnapshot, revertToVMSnapshot, deleteVMSnapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import vm_snapshots
from core.context import CallContext
from core.infra import Zone
from core.tags import tags_of
from core.vm_snapshots import VMSnapshot
from core.vms import service as vms
from core.vms.models import VirtualMachine
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, started
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult, _owner, vm_view

SNAPSHOT = "vmsnapshot"
COMMANDS = "org.apache.cloudstack.api.command.user.vmsnapshot."
SNAPSHOT_FIELDS = (
    Field("id", description="the ID of the vm snapshot"),
    Field("name", description="the name of the vm snapshot"),
    Field("state", description="the state of the vm snapshot"),
    Field("description", description="the description of the vm snapshot"),
    Field("displayname", description="the display name of the vm snapshot"),
    Field("zoneid", description="the Zone ID of the vm snapshot"),
    Field("zonename", description="the Zone name of the vm snapshot"),
    Field("virtualmachineid", description="the vm ID of the vm snapshot"),
    Field("virtualmachinename", description="the vm name of the vm snapshot"),
    Field("parent", description="the parent ID of the vm snapshot"),
    Field("parentName", description="the parent displayName of the vm snapshot"),
    Field("current", "boolean", "indiates if this is current snapshot"),
    Field("type", description="VM Snapshot type"),
    Field("created", "date", "the create date of the vm snapshot"),
    Field("account", description="the account associated with the disk volume"),
    Field("domainid", description="the ID of the domain associated with the disk volume"),
    Field("domain", description="the domain associated with the disk volume"),
    Field("hypervisor", description="the type of hypervisor on which snapshot is stored"),
    Field("tags", "set", "the list of resource tags associated with the vm snapshot"),
)
SNAPSHOT_ID = Param("vmsnapshotid", "uuid", True, "The ID of the vm snapshot")


def vm_snapshot_view(session: Session, snapshot: VMSnapshot, _ctx: CallContext) -> dict[str, Any]:
    from native_api.commands.tags import tag_view

    vm = session.get_one(VirtualMachine, snapshot.vm_id)
    zone = session.get_one(Zone, snapshot.zone_id)
    parent = session.get(VMSnapshot, snapshot.parent_id) if snapshot.parent_id else None
    owner = _owner(session, snapshot.account_id)
    return {
        "id": snapshot.uuid,
        "name": snapshot.name,
        "state": snapshot.state,
        "description": snapshot.description or None,
        "displayname": snapshot.display_name,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "virtualmachineid": vm.uuid,
        "virtualmachinename": vm.name,
        "parent": parent.uuid if parent else None,
        "parentName": parent.display_name if parent else None,
        "current": snapshot.current,
        "type": snapshot.snapshot_type,
        "created": snapshot.created,
        "account": owner["account"],
        "domainid": owner["domainid"],
        "domain": owner["domain"],
        "hypervisor": snapshot.hypervisor,
        "tags": [
            tag_view(session, tag)
            for tag in tags_of(session, "VMSnapshot", [snapshot.id])[snapshot.id]
        ],
    }


def _vm_of_snapshot(session: Session, snapshot: VMSnapshot, ctx: CallContext) -> dict[str, Any]:
    return vm_view(session, session.get_one(VirtualMachine, snapshot.vm_id), ctx)


JOB_RESULTS.update(
    {
        "vmsnapshot.create": JobResult(
            SNAPSHOT, COMMANDS + "CreateVMSnapshotCmd", VMSnapshot, vm_snapshot_view
        ),
        "vmsnapshot.revert": JobResult(
            "virtualmachine", COMMANDS + "RevertToVMSnapshotCmd", VMSnapshot, _vm_of_snapshot
        ),
        "vmsnapshot.delete": JobResult(SNAPSHOT, COMMANDS + "DeleteVMSnapshotCmd", VMSnapshot),
    }
)


@command(
    "createVMSnapshot",
    kind=Kind.ASYNC_CREATE,
    description="Creates snapshot for a vm.",
    response_name=SNAPSHOT,
    entity="VMSnapshot",
    params=(
        Param("virtualmachineid", "uuid", True, "The ID of the vm"),
        Param("description", description="The description of the snapshot"),
        Param("name", description="The display name of the snapshot"),
        Param("snapshotmemory", "boolean", description="snapshot memory if true"),
        Param("quiescevm", "boolean", description="quiesce vm if true"),
    ),
    response_fields=SNAPSHOT_FIELDS,
    job_command_class=COMMANDS + "CreateVMSnapshotCmd",
    differences="quiescevm is accepted and ignored; the per-VM limit (vmsnapshot.max) is a "
    "parameter error (431) from the call instead of a failed job.",
)
def create_vm_snapshot(call: Call) -> Reply:
    vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    snapshot, job = vm_snapshots.create_vm_snapshot(
        call.session,
        call.ctx,
        vm,
        name=call.get("name"),
        description=call.get("description"),
        memory=bool(call.get("snapshotmemory", False)),
    )
    return started(job, snapshot)


@command(
    "listVMSnapshot",
    kind=Kind.LIST,
    description="List virtual machine snapshot by conditions",
    response_name="vmSnapshot",
    params=(
        Param("vmsnapshotid", "uuid", description="The ID of the VM snapshot"),
        Param(
            "vmsnapshotids",
            "list",
            description="the IDs of the vm snapshots, mutually exclusive with vmsnapshotid",
            since="4.9",
        ),
        Param("state", description="state of the virtual machine snapshot"),
        Param("virtualmachineid", "uuid", description="the ID of the vm"),
        Param("name", description="lists snapshot by snapshot name or display name"),
        LIST_TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=SNAPSHOT_FIELDS,
)
def list_vm_snapshot(call: Call) -> Reply:
    session = call.session
    ids = ([call.get("vmsnapshotid")] if call.get("vmsnapshotid") else []) + call.get(
        "vmsnapshotids", []
    )
    vm_id = None
    if call.get("virtualmachineid"):
        vm_id = vms.get_vm(session, call.ctx, uuid=call.get("virtualmachineid")).id
    rows, total = vm_snapshots.list_vm_snapshots(
        session,
        call.ctx,
        call.scope(),
        vm_snapshots.VMSnapshotFilter(
            ids=tuple(ids) if ids else None,
            vm_id=vm_id,
            state=call.get("state"),
            name=call.get("name"),
            keyword=call.get("keyword"),
            tags=tuple(
                (entry["key"], entry.get("value"))
                for entry in call.get("tags", [])
                if "key" in entry
            ),
        ),
        call.page(),
    )
    return Reply(items=[vm_snapshot_view(session, row, call.ctx) for row in rows], total=total)


@command(
    "revertToVMSnapshot",
    kind=Kind.ASYNC,
    description="Revert VM from a vmsnapshot.",
    response_name="virtualmachine",
    entity="VMSnapshot",
    params=(SNAPSHOT_ID,),
    job_command_class=COMMANDS + "RevertToVMSnapshotCmd",
    differences="The VM returns to the snapshot's power state (a stopped VM is started for a "
    "memory snapshot, a running one stopped for a disk-only snapshot) instead of the revert "
    "being refused.",
)
def revert_to_vm_snapshot(call: Call) -> Reply:
    snapshot = vm_snapshots.get_vm_snapshot(call.session, call.ctx, call.get("vmsnapshotid"))
    job = vm_snapshots.revert_to_vm_snapshot(call.session, call.ctx, snapshot)
    return started(job, snapshot)


@command(
    "deleteVMSnapshot",
    kind=Kind.ASYNC,
    description="Deletes a vmsnapshot.",
    response_name="success",
    entity="VMSnapshot",
    params=(SNAPSHOT_ID,),
    job_command_class=COMMANDS + "DeleteVMSnapshotCmd",
)
def delete_vm_snapshot(call: Call) -> Reply:
    snapshot = vm_snapshots.get_vm_snapshot(call.session, call.ctx, call.get("vmsnapshotid"))
    job = vm_snapshots.delete_vm_snapshot(call.session, call.ctx, snapshot)
    return started(job, snapshot)
