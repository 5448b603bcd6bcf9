"""Resource tags: createTags, deleteTags, listTags."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import tags as core_tags
from core.context import CallContext
from core.identity import Account, Domain
from core.jobs import AsyncJob, job_handler, submit_job
from core.tags import ResourceTag
from native_api.call import Call
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, VM_VIEW_EXTENSIONS, JobResult

TAG = "tag"
TAG_FIELDS = (
    Field("key", description="tag key name"),
    Field("value", description="tag value"),
    Field("resourcetype", description="resource type"),
    Field("resourceid", description="id of the resource"),
    Field("account", description="the account associated with the tag"),
    Field("domainid", description="the ID of the domain associated with the tag"),
    Field("domain", description="the domain associated with the tag"),
    Field("customer", description="customer associated with the tag"),
)
_COMMANDS = "org.apache.cloudstack.api.command.user.tag."


def tag_view(session: Session, tag: ResourceTag) -> dict[str, Any]:
    account = session.get_one(Account, tag.account_id)
    domain = session.get_one(Domain, tag.domain_id)
    return {
        "key": tag.key,
        "value": tag.value,
        "resourcetype": tag.resource_type,
        "resourceid": tag.resource_uuid,
        "account": account.name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT",
        "customer": tag.customer or None,
    }


# Tags are written in the request's transaction; the job exists because CloudStack's
# createTags/deleteTags are asynchronous, and it has nothing left to do (trivially idempotent).
def _nothing_to_do(_runtime: Any, _job: AsyncJob) -> dict[str, Any]:
    return {}


def _nothing_to_undo(_runtime: Any, _job: AsyncJob, _error: Exception) -> None:
    return None


job_handler("tags.create", fail=_nothing_to_undo)(_nothing_to_do)
job_handler("tags.delete", fail=_nothing_to_undo)(_nothing_to_do)
JOB_RESULTS["tags.create"] = JobResult("success", _COMMANDS + "CreateTagsCmd")
JOB_RESULTS["tags.delete"] = JobResult("success", _COMMANDS + "DeleteTagsCmd")


def _tag_map(call: Call) -> dict[str, str]:
    return {k: v or "" for k, v in core_tags.parse_tag_maps(call.get("tags", []))}


@command(
    "createTags",
    kind=Kind.ASYNC,
    description="Creates resource tag(s)",
    response_name="success",
    params=(
        Param("resourceids", "list", True, "list of resources to create the tags for"),
        Param("resourcetype", required=True, description="type of the resource"),
        Param("tags", "map", True, "Map of tags (key/value pairs)"),
        Param("customer", description="identifies client specific tag"),
    ),
    job_command_class=_COMMANDS + "CreateTagsCmd",
    differences="Tags are written when the call returns; the job only reports completion.",
)
def create_tags(call: Call) -> Reply:
    core_tags.create_tags(
        call.session,
        call.ctx,
        resource_type=call.get("resourcetype"),
        resource_uuids=call.get("resourceids"),
        tags=_tag_map(call),
        customer=call.get("customer", ""),
    )
    job = submit_job(call.session, call.ctx, "tags.create", instance_type="", instance_id=None)
    return Reply(job_uuid=job.uuid)


@command(
    "deleteTags",
    kind=Kind.ASYNC,
    description="Deleting resource tag(s)",
    response_name="success",
    params=(
        Param("resourceids", "list", True, "Delete tags for resource id(s)"),
        Param("resourcetype", required=True, description="Delete tag by resource type"),
        Param("tags", "map", description="Delete tags matching key/value pairs"),
    ),
    job_command_class=_COMMANDS + "DeleteTagsCmd",
)
def delete_tags(call: Call) -> Reply:
    wanted = dict(core_tags.parse_tag_maps(call.get("tags", [])))
    core_tags.remove_tags(
        call.session,
        call.ctx,
        resource_type=call.get("resourcetype"),
        resource_uuids=call.get("resourceids"),
        tags=wanted,
    )
    job = submit_job(call.session, call.ctx, "tags.delete", instance_type="", instance_id=None)
    return Reply(job_uuid=job.uuid)


@command(
    "listTags",
    kind=Kind.LIST,
    description="List resource tag(s)",
    response_name=TAG,
    params=(
        Param("resourcetype", description="list by resource type"),
        Param("resourceid", description="list by resource id"),
        Param("key", description="list by key"),
        Param("value", description="list by value"),
        Param("customer", description="list by customer name"),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=TAG_FIELDS,
)
def list_tags(call: Call) -> Reply:
    resource_type = call.get("resourcetype")
    if resource_type:
        resource_type = core_tags.canonical_type(resource_type)
    rows, total = core_tags.list_tags(
        call.session,
        call.ctx,
        call.scope(),
        resource_type=resource_type,
        resource_uuid=call.get("resourceid"),
        key=call.get("key"),
        value=call.get("value"),
        customer=call.get("customer"),
        keyword=call.get("keyword"),
        page=call.page(),
    )
    return Reply(items=[tag_view(call.session, tag) for tag in rows], total=total)


def vm_tags(session: Session, vms: list[Any], _ctx: CallContext) -> dict[int, dict[str, Any]]:
    """`tags` of VM views (registered as a VM view extension)."""
    found = core_tags.tags_of(session, "UserVm", [vm.id for vm in vms])
    # tag_view looks owners up by id; holding them here keeps them in the session's (weak)
    # identity map, so a page of tagged VMs loads each owner once, not once per tag.
    every = [tag for tags in found.values() for tag in tags]
    owners = [session.get_one(Account, account_id) for account_id in {t.account_id for t in every}]
    owners += [session.get_one(Domain, domain_id) for domain_id in {t.domain_id for t in every}]
    views = {
        vm_id: {"tags": [tag_view(session, tag) for tag in tags]} for vm_id, tags in found.items()
    }
    del owners  # (held until every view is built)
    return views


VM_VIEW_EXTENSIONS.append(vm_tags)
