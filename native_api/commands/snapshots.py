"""Snapshots and snapshot policies: create, list, delete, revert; recurring policies."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import snapshot_policies as policies
from core import snapshots as core_snapshots
from core import volumes as core_volumes
from core.context import CallContext
from core.errors import InvalidParameter
from core.infra import Zone
from core.jobs import submit_job
from core.snapshot_policies import SnapshotPolicy
from core.snapshots import Snapshot, SnapshotState
from core.tags import set_tags, tags_of
from core.volumes import Volume
from native_api.call import Call
from native_api.commands.common import (
    LIST_TAGS,
    NEW_TAGS,
    id_list,
    owner_params,
    started,
    zone_id_of,
)
from native_api.commands.volumes import tag_pairs
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult, _owner

SNAPSHOT = "snapshot"
POLICY = "snapshotpolicy"
_USER = "org.apache.cloudstack.api.command.user.snapshot."
SNAPSHOT_FIELDS = (
    Field("id", description="ID of the snapshot"),
    Field("account", description="the account associated with the snapshot"),
    Field("domainid", description="the domain ID of the snapshot's account"),
    Field("snapshottype", description="the type of the snapshot"),
    Field("volumeid", description="ID of the disk volume"),
    Field("volumename", description="name of the disk volume"),
    Field("volumetype", description="type of the disk volume"),
    Field("created", "date", "the date the snapshot was created"),
    Field("name", description="name of the snapshot"),
    Field(
        "intervaltype",
        description="valid types are hourly, daily, weekly, monthy, template, and none.",
    ),
    Field(
        "state",
        description="the state of the snapshot. BackedUp means that snapshot is "
        "ready to be used; Creating - the snapshot is being allocated on the primary storage; "
        "BackingUp - the snapshot is being backed up on secondary storage",
    ),
    Field("physicalsize", "long", "physical size of backedup snapshot on image store"),
    Field("virtualsize", "long", "virtual size of backedup snapshot on image store"),
    Field("zoneid", description="id of the availability zone"),
    Field(
        "revertable",
        "boolean",
        "indicates whether the underlying storage supports reverting the volume to this snapshot",
    ),
    Field("tags", "list", "the list of resource tags associated with snapshot"),
)
POLICY_FIELDS = (
    Field("id", description="the ID of the snapshot policy"),
    Field("volumeid", description="the ID of the disk volume"),
    Field("schedule", description="time the snapshot is scheduled to be taken."),
    Field("intervaltype", "short", "the interval type of the snapshot policy"),
    Field("maxsnaps", "int", "maximum number of snapshots retained"),
    Field("timezone", description="the time zone of the snapshot policy"),
    Field("fordisplay", "boolean", "is this policy for display to the regular user"),
    Field("tags", "list", "the list of resource tags associated"),
)


def snapshot_view(
    session: Session, snapshot: Snapshot, ctx: CallContext, tags: list[Any] | None = None
) -> dict[str, Any]:
    """A snapshot as CloudStack's SnapshotResponse."""
    volume = session.get_one(Volume, snapshot.volume_id)
    zone = session.get_one(Zone, snapshot.zone_id)
    if tags is None:
        tags = tags_of(session, core_snapshots.TAG_TYPE, [snapshot.id])[snapshot.id]
    owner = _owner(session, snapshot.account_id)
    view: dict[str, Any] = {
        "id": snapshot.uuid,
        **owner,
        "snapshottype": snapshot.snapshot_type,
        "volumeid": volume.uuid,
        "volumename": volume.name,
        "volumetype": volume.volume_type,
        "created": snapshot.created,
        "name": snapshot.name,
        "intervaltype": snapshot.interval_type,
        "state": snapshot.state,
        "physicalsize": snapshot.physical_size_bytes,
        "virtualsize": snapshot.size_bytes,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "revertable": snapshot.state == SnapshotState.BACKED_UP and volume.removed is None,
        "tags": [
            {
                "key": tag.key,
                "value": tag.value,
                "resourcetype": core_snapshots.TAG_TYPE,
                "resourceid": snapshot.uuid,
                "account": owner["account"],
                "domainid": owner["domainid"],
                "domain": owner["domain"],
            }
            for tag in tags
        ],
        "hasannotations": False,
    }
    return {key: value for key, value in view.items() if value is not None}


def policy_view(session: Session, policy: SnapshotPolicy, ctx: CallContext) -> dict[str, Any]:
    volume = session.get_one(Volume, policy.volume_id)
    view: dict[str, Any] = {
        "id": policy.uuid,
        "volumeid": volume.uuid,
        "schedule": policy.schedule,
        "intervaltype": policy.interval_code,
        "maxsnaps": policy.max_snaps,
        "timezone": policy.timezone,
        "tags": [],
        "zone": [],
        "storage": [],
        "hasannotations": False,
    }
    if ctx.is_root_admin:
        view["fordisplay"] = policy.display
    return view


JOB_RESULTS["snapshot.create"] = JobResult(
    SNAPSHOT, _USER + "CreateSnapshotCmd", Snapshot, snapshot_view
)
JOB_RESULTS["snapshot.revert"] = JobResult(
    SNAPSHOT, _USER + "RevertSnapshotCmd", Snapshot, snapshot_view
)
JOB_RESULTS["snapshot.delete"] = JobResult(SNAPSHOT, _USER + "DeleteSnapshotCmd", Snapshot)
JOB_RESULTS["snapshotpolicy.update"] = JobResult(
    POLICY, _USER + "UpdateSnapshotPolicyCmd", SnapshotPolicy, policy_view
)


def _tag_map(call: Call) -> dict[str, str]:
    return {entry.get("key", ""): entry.get("value", "") for entry in call.get("tags", [])}


@command(
    "createSnapshot",
    kind=Kind.ASYNC_CREATE,
    description="Creates an instant snapshot of a volume.",
    response_name=SNAPSHOT,
    entity="Snapshot",
    params=(
        Param("volumeid", "uuid", True, "The ID of the disk volume"),
        Param("name", description="the name of the snapshot"),
        Param(
            "policyid",
            "uuid",
            description="policy id of the snapshot, if this is null, then use MANUAL_POLICY.",
        ),
        Param("quiescevm", "boolean", description="quiesce vm if true"),
        Param("asyncbackup", "boolean", description="asynchronous backup if true"),
        Param("locationtype", description="Currently applicable only for managed storage."),
        NEW_TAGS,
        *owner_params(
            "The account of the snapshot. The account parameter must "
            "be used with the domainId parameter.",
            "The domain ID of the snapshot.",
            "The project of the snapshot",
        ),
    ),
    response_fields=SNAPSHOT_FIELDS,
    job_command_class=_USER + "CreateSnapshotCmd",
    differences="quiescevm, asyncbackup and locationtype are accepted and ignored (the backup "
    "to secondary storage is part of the job); the backup is an object in secondary storage "
    "(the object store) and physicalsize is its size (on the simulator, a small image of the "
    "simulated disk).",
)
def create_snapshot(call: Call) -> Reply:
    session = call.session
    volume = core_volumes.get_volume(session, call.ctx, call.get("volumeid"))
    policy_id = None
    interval = None
    if call.get("policyid"):
        policy = policies.get_policy(session, call.ctx, call.get("policyid"))
        if policy.volume_id != volume.id:
            raise InvalidParameter("The policy does not belong to the volume", parameter="policyid")
        policy_id, interval = policy.id, policy.interval_type
    snapshot, job = core_snapshots.create_snapshot(
        session,
        call.ctx,
        volume,
        name=call.get("name"),
        policy_id=policy_id,
        interval_type=interval,
    )
    tags = _tag_map(call)
    if tags:
        set_tags(
            session,
            resource_type=core_snapshots.TAG_TYPE,
            resource_id=snapshot.id,
            resource_uuid=snapshot.uuid,
            account_id=snapshot.account_id,
            domain_id=snapshot.domain_id,
            tags=tags,
        )
    return started(job, snapshot)


@command(
    "listSnapshots",
    kind=Kind.LIST,
    description="Lists all available snapshots for the account.",
    response_name=SNAPSHOT,
    params=(
        Param("id", "uuid", description="lists snapshot by snapshot ID"),
        Param("ids", "list", description="the IDs of the snapshots, mutually exclusive with id"),
        Param("name", description="lists snapshot by snapshot name"),
        Param("volumeid", "uuid", description="the ID of the disk volume"),
        Param("snapshottype", description="valid values are MANUAL or RECURRING."),
        Param("intervaltype", description="valid values are HOURLY, DAILY, WEEKLY, and MONTHLY."),
        Param("zoneid", "uuid", description="list snapshots by zone id"),
        LIST_TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=SNAPSHOT_FIELDS,
)
def list_snapshots(call: Call) -> Reply:
    session = call.session
    uuids = id_list(call)
    volume_id = None
    if call.get("volumeid"):
        volume_id = core_volumes.get_volume(session, call.ctx, call.get("volumeid")).id
    snapshot_filter = core_snapshots.SnapshotFilter(
        ids=tuple(uuids) if uuids else None,
        name=call.get("name"),
        keyword=call.get("keyword"),
        volume_id=volume_id,
        snapshot_type=call.get("snapshottype"),
        interval_type=call.get("intervaltype"),
        zone_id=zone_id_of(call),
        tags=tag_pairs(call),
    )
    rows, total = core_snapshots.list_snapshots(
        session, call.ctx, call.scope(), snapshot_filter, call.page()
    )
    tags = tags_of(session, core_snapshots.TAG_TYPE, [s.id for s in rows])
    return Reply(items=[snapshot_view(session, s, call.ctx, tags[s.id]) for s in rows], total=total)


@command(
    "deleteSnapshot",
    kind=Kind.ASYNC,
    description="Deletes a snapshot of a disk volume.",
    response_name="success",
    entity="Snapshot",
    params=(
        Param("id", "uuid", True, "The ID of the snapshot"),
        Param("zoneid", "uuid", description="The ID of the zone for the snapshot"),
    ),
    job_command_class=_USER + "DeleteSnapshotCmd",
)
def delete_snapshot(call: Call) -> Reply:
    snapshot = core_snapshots.get_snapshot(call.session, call.ctx, call.get("id"))
    job = core_snapshots.delete_snapshot(call.session, call.ctx, snapshot)
    return started(job, snapshot)


@command(
    "revertSnapshot",
    kind=Kind.ASYNC,
    description="This is supposed to revert a volume snapshot. This command is only supported "
    "with KVM so far",
    response_name=SNAPSHOT,
    entity="Snapshot",
    params=(Param("id", "uuid", True, "The ID of the snapshot"),),
    response_fields=SNAPSHOT_FIELDS,
    job_command_class=_USER + "RevertSnapshotCmd",
)
def revert_snapshot(call: Call) -> Reply:
    snapshot = core_snapshots.get_snapshot(call.session, call.ctx, call.get("id"))
    job = core_snapshots.revert_snapshot(call.session, call.ctx, snapshot)
    return started(job, snapshot)


@command(
    "createSnapshotPolicy",
    kind=Kind.SYNC,
    description="Creates a snapshot policy for the account.",
    response_name=POLICY,
    params=(
        Param("volumeid", "uuid", True, "the ID of the disk volume"),
        Param(
            "intervaltype",
            required=True,
            description="valid values are HOURLY, DAILY, WEEKLY, and MONTHLY",
        ),
        Param(
            "schedule",
            required=True,
            description="time the snapshot is scheduled to be "
            "taken. Format is: * if HOURLY, MM * if DAILY, MM:HH * if WEEKLY, MM:HH:DD (1-7) * "
            "if MONTHLY, MM:HH:DD (1-28)",
        ),
        Param("timezone", required=True, description="Specifies a timezone for this command."),
        Param("maxsnaps", "integer", True, "maximum number of snapshots to retain"),
        Param(
            "fordisplay",
            "boolean",
            description="an optional field, whether to the display "
            "the policy to the end user or not",
        ),
        NEW_TAGS,
        Param(
            "zoneids",
            "list",
            description="A list of IDs of the zones in which the snapshot will be made available.",
        ),
    ),
    response_fields=POLICY_FIELDS,
    differences="tags and zoneids are accepted and ignored.",
)
def create_snapshot_policy(call: Call) -> Reply:
    volume = core_volumes.get_volume(call.session, call.ctx, call.get("volumeid"))
    policy = policies.create_snapshot_policy(
        call.session,
        call.ctx,
        volume,
        interval_type=call.get("intervaltype"),
        schedule=call.get("schedule"),
        timezone=call.get("timezone"),
        max_snaps=call.get("maxsnaps"),
        display=call.get("fordisplay", True),
    )
    return Reply(obj=policy_view(call.session, policy, call.ctx))


@command(
    "updateSnapshotPolicy",
    kind=Kind.ASYNC,
    description="Updates the snapshot policy.",
    response_name=POLICY,
    entity="SnapshotPolicy",
    params=(
        Param("id", "uuid", description="the ID of the snapshot policy"),
        Param(
            "fordisplay",
            "boolean",
            description="an optional field, whether to the display "
            "the snapshot policy to the end user or not.",
        ),
        Param(
            "customid",
            description="an optional field, in case you want to set a custom id "
            "to the resource. Allowed to Root Admins only",
        ),
    ),
    response_fields=POLICY_FIELDS,
    job_command_class=_USER + "UpdateSnapshotPolicyCmd",
)
def update_snapshot_policy(call: Call) -> Reply:
    if not call.get("id"):
        raise InvalidParameter("Snapshot policy id is required", parameter="id")
    policy = policies.get_policy(call.session, call.ctx, call.get("id"))
    policies.update_snapshot_policy(
        call.session,
        call.ctx,
        policy,
        display=call.get("fordisplay"),
        custom_id=call.get("customid"),
    )
    job = submit_job(
        call.session,
        call.ctx,
        "snapshotpolicy.update",
        instance_type=policies.INSTANCE_TYPE,
        instance_id=policy.id,
    )
    return started(job, policy)


@command(
    "listSnapshotPolicies",
    kind=Kind.LIST,
    description="Lists snapshot policies.",
    response_name=POLICY,
    params=(
        Param("volumeid", "uuid", description="the ID of the disk volume"),
        Param("id", "uuid", description="the ID of the snapshot policy"),
        Param(
            "fordisplay",
            "boolean",
            description="list resources by display flag; only ROOT "
            "admin is eligible to pass this parameter",
        ),
        *PAGING,
    ),
    response_fields=POLICY_FIELDS,
)
def list_snapshot_policies(call: Call) -> Reply:
    session = call.session
    volume = None
    if call.get("volumeid"):
        volume = core_volumes.get_volume(session, call.ctx, call.get("volumeid"))
    display = call.get("fordisplay") if call.ctx.is_root_admin else None
    rows, total = policies.list_snapshot_policies(
        session, call.ctx, volume=volume, uuid=call.get("id"), display=display, page=call.page()
    )
    return Reply(items=[policy_view(session, p, call.ctx) for p in rows], total=total)


@command(
    "deleteSnapshotPolicies",
    kind=Kind.SYNC,
    description="Deletes snapshot policies for the account.",
    response_name="success",
    params=(
        Param("id", "uuid", description="the Id of the snapshot policy"),
        Param("ids", "list", description="list of snapshots policy IDs separated by comma"),
    ),
)
def delete_snapshot_policies(call: Call) -> Reply:
    uuids = id_list(call)
    if not uuids:
        raise InvalidParameter("Either id or ids parameter must be given", parameter="id")
    found = [policies.get_policy(call.session, call.ctx, uuid) for uuid in uuids]
    policies.delete_snapshot_policies(call.session, call.ctx, found)
    return Reply(success=True)
