"""Live migration: migrateVirtualMachine, findHostsForMigration."""

from __future__ import annotations

from core import infra
from core.vms import migrate
from core.vms.models import VirtualMachine
from core.vms.service import get_vm
from native_api.call import Call
from native_api.commands.common import started
from native_api.commands.hosts import HOST_FIELDS, host_view
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult, vm_view

MIGRATE_CLASS = "org.apache.cloudstack.api.command.admin.vm.MigrateVMCmd"

JOB_RESULTS[migrate.MIGRATE] = JobResult(
    object_name="virtualmachine",
    command_class=MIGRATE_CLASS,
    instance_model=VirtualMachine,
    render=vm_view,
)


@command(
    "migrateVirtualMachine",
    kind=Kind.ASYNC,
    description="Attempts Migration of a VM to a different host or Root volume of the vm to a "
    "different storage pool",
    response_name="virtualmachine",
    roles=ADMIN_ONLY,
    params=(
        Param("virtualmachineid", "uuid", True, "the ID of the virtual machine"),
        Param("hostid", "uuid", description="Destination Host ID to migrate VM to."),
        Param(
            "storageid",
            "uuid",
            description="Destination storage pool ID to migrate VM volumes "
            "to. Required for migrating the root disk volume",
        ),
        Param(
            "autoselect",
            "boolean",
            description="Automatically select a destination host which "
            "do not require storage migration, if hostId and storageId are not specified. false "
            "by default",
            since="4.16.0",
        ),
    ),
    response_fields=(
        Field("id", description="the ID of the virtual machine"),
        Field("hostid", description="the ID of the host for the virtual machine"),
        Field("state", description="the state of the virtual machine"),
    ),
    job_command_class=MIGRATE_CLASS,
    differences="Only live migration of a running VM between hosts (no storage migration: "
    "storageid is refused); without hostid the planner chooses the destination, as with "
    "autoselect=true. Capacity on the destination is reserved by the request (533 at once "
    "when no host has room).",
)
def migrate_virtual_machine(call: Call) -> Reply:
    from core.errors import InvalidParameter

    if call.get("storageid"):
        raise InvalidParameter("Storage migration is not supported", parameter="storageid")
    vm = get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    host_id = infra.get_host(call.session, call.get("hostid")).id if call.get("hostid") else None
    job = migrate.migrate_vm(call.session, call.ctx, vm, host_id=host_id)
    return started(job, vm)


@command(
    "findHostsForMigration",
    kind=Kind.LIST,
    description="Find hosts suitable for migrating a virtual machine.",
    response_name="host",
    roles=ADMIN_ONLY,
    params=(
        Param(
            "virtualmachineid",
            "uuid",
            True,
            "find hosts to which this VM can be migrated and "
            "flag the hosts with enough CPU/RAM to host the VM",
        ),
        *PAGING,
    ),
    response_fields=(
        *HOST_FIELDS,
        Field(
            "requiresStorageMotion",
            "boolean",
            "true if migrating a vm to this host requires storage motion, false otherwise",
        ),
    ),
)
def find_hosts_for_migration(call: Call) -> Reply:
    vm = get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    found = migrate.find_hosts_for_migration(call.session, call.ctx, vm)
    views = [
        host_view(
            call.session,
            host,
            call.ctx,
            suitableformigration=fit,
            requiresStorageMotion=False,
        )
        for host, fit in found
        if call.keyword_match(host.name)
    ]
    return call.paged(views)
