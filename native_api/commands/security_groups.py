"""Security groups: create, delete, list, authorize and revoke ingress/egress rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core import security_groups as groups
from core.context import CallContext
from core.identity import Account, Domain
from core.security_groups import SecurityGroup, SecurityGroupRule
from core.tags import ResourceTag, tags_of
from core.vms.models import VirtualMachine
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, owner_params, started
from native_api.commands.tags import tag_view as tags_command_view
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, VM_VIEW_EXTENSIONS, JobResult

SG = "securitygroup"
_COMMANDS = "org.apache.cloudstack.api.command.user.securitygroup."
SG_FIELDS = (
    Field("id", description="the ID of the security group"),
    Field("name", description="the name of the security group"),
    Field("description", description="the description of the security group"),
    Field("account", description="the account owning the security group"),
    Field("domainid", description="the domain ID of the security group"),
    Field("domain", description="the domain name of the security group"),
    Field("ingressrule", "set", "the list of ingress rules associated with the security group"),
    Field("egressrule", "set", "the list of egress rules associated with the security group"),
    Field("tags", "set", "the list of resource tags associated with the rule"),
    Field("virtualmachinecount", "integer", "the number of virtualmachines associated"),
    Field("virtualmachineids", "set", "the list of virtualmachine ids associated"),
)
OWNER_PARAMS = owner_params(
    "an optional account for the security group. Must be used with domainId.",
    "an optional domainId for the security group. If the "
    "account parameter is used, domainId must also be used.",
    "Create security group for project",
)


def tag_view(session: Session, tag: ResourceTag) -> dict[str, Any]:
    """A tag as security groups and public IP addresses show it: without domainpath."""
    view = tags_command_view(session, tag)
    del view["domainpath"]
    return view


def rule_view(session: Session, rule: SecurityGroupRule) -> dict[str, Any]:
    view: dict[str, Any] = {"ruleid": rule.uuid, "protocol": rule.protocol}
    if rule.protocol == "icmp":
        view["icmptype"] = rule.icmp_type
        view["icmpcode"] = rule.icmp_code
    elif rule.start_port is not None:
        view["startport"] = rule.start_port
        view["endport"] = rule.end_port
    if rule.cidr is not None:
        view["cidr"] = rule.cidr
    if rule.allowed_group_id is not None:
        allowed = session.get_one(SecurityGroup, rule.allowed_group_id)
        view["securitygroupname"] = allowed.name
        view["account"] = session.get_one(Account, allowed.account_id).name
    tags = tags_of(session, groups.RULE_RESOURCE_TYPE, [rule.id])[rule.id]
    view["tags"] = [tag_view(session, tag) for tag in tags]
    return view


def security_group_view(
    session: Session, group: SecurityGroup, _ctx: CallContext | None = None
) -> dict[str, Any]:
    account = session.get_one(Account, group.account_id)
    domain = session.get_one(Domain, group.domain_id)
    rules = groups.rules_of(session, [group.id])[group.id]
    vm_uuids = [
        session.get_one(VirtualMachine, vm_id).uuid for vm_id in groups.vm_ids_of(session, group.id)
    ]
    tags = tags_of(session, groups.RESOURCE_TYPE, [group.id])[group.id]
    return {
        "id": group.uuid,
        "name": group.name,
        "description": group.description,
        "account": account.name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT",
        "ingressrule": [rule_view(session, r) for r in rules if r.direction == groups.INGRESS],
        "egressrule": [rule_view(session, r) for r in rules if r.direction == groups.EGRESS],
        "tags": [tag_view(session, tag) for tag in tags],
        "virtualmachinecount": len(vm_uuids),
        "virtualmachineids": vm_uuids,
    }


def _vm_security_groups(
    session: Session, vms: list[VirtualMachine], ctx: CallContext
) -> dict[int, dict[str, Any]]:
    """A VM's groups as CloudStack's VM response shows them (UserVmJoinDaoImpl): id, name,
    description and owner, without the rules and member lists of listSecurityGroups."""
    found = groups.groups_of_vms(session, [vm.id for vm in vms])
    views: dict[int, dict[str, Any]] = {}  # by group id: a page's VMs share few groups
    for group in {group.id: group for vm_groups in found.values() for group in vm_groups}.values():
        views[group.id] = {
            "id": group.uuid,
            "name": group.name,
            "description": group.description,
            "account": session.get_one(Account, group.account_id).name,
        }
    return {
        vm_id: {"securitygroup": [views[group.id] for group in vm_groups]}
        for vm_id, vm_groups in found.items()
    }


VM_VIEW_EXTENSIONS.append(_vm_security_groups)


def tag_pairs(call: Call) -> list[tuple[str, str | None]]:
    """The `tags[N].key/value` map parameter as (key, value) pairs."""
    return [(entry["key"], entry.get("value")) for entry in call.get("tags", []) if "key" in entry]


@command(
    "createSecurityGroup",
    kind=Kind.SYNC,
    description="Creates a security group",
    response_name=SG,
    params=(
        Param("name", required=True, description="name of the security group"),
        Param("description", description="the description of the security group"),
        *OWNER_PARAMS,
    ),
    response_fields=SG_FIELDS,
    entity="SecurityGroup",
)
def create_security_group(call: Call) -> Reply:
    group = groups.create_security_group(
        call.session, call.owner(), name=call.get("name"), description=call.get("description", "")
    )
    return Reply(obj=security_group_view(call.session, group))


@command(
    "deleteSecurityGroup",
    kind=Kind.SYNC,
    description="Deletes security group",
    response_name="success",
    params=(
        Param(
            "id",
            "uuid",
            description="The ID of the security group. Mutually exclusive with name parameter",
        ),
        Param(
            "name", description="The ID of the security group. Mutually exclusive with id parameter"
        ),
        *OWNER_PARAMS,
    ),
    entity="SecurityGroup",
)
def delete_security_group(call: Call) -> Reply:
    owner = call.owner()
    group = groups.get_security_group(
        call.session, owner, uuid=call.get("id"), name=call.get("name")
    )
    groups.delete_security_group(call.session, call.ctx, group)
    return Reply(success=True)


@command(
    "listSecurityGroups",
    kind=Kind.LIST,
    description="Lists security groups",
    response_name=SG,
    params=(
        Param("id", "uuid", description="list the security group by the id provided"),
        Param("securitygroupname", description="lists security groups by name"),
        Param(
            "virtualmachineid", "uuid", description="lists security groups by virtual machine id"
        ),
        LIST_TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=SG_FIELDS,
)
def list_security_groups(call: Call) -> Reply:
    vm_id = None
    if call.get("virtualmachineid"):
        from core.vms import service as vms

        vm_id = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid")).id
    rows, total = groups.list_security_groups(
        call.session,
        call.ctx,
        call.scope(),
        uuid=call.get("id"),
        name=call.get("securitygroupname"),
        vm_id=vm_id,
        keyword=call.get("keyword"),
        tags=tag_pairs(call),
        page=call.page(),
    )
    return Reply(items=[security_group_view(call.session, row) for row in rows], total=total)


def _rule_params(direction: str) -> tuple[Param, ...]:
    return (
        Param("protocol", description="TCP is default. UDP is the other supported protocol"),
        Param("startport", "integer", description=f"start port for this {direction} rule"),
        Param("endport", "integer", description=f"end port for this {direction} rule"),
        Param("icmptype", "integer", description="type of the icmp message being sent"),
        Param("icmpcode", "integer", description="error code for this icmp message"),
        Param(
            "cidrlist",
            "list",
            description="the cidr list associated. Multiple entries must "
            "be separated by a single comma character (,).",
        ),
        Param("usersecuritygrouplist", "map", description="user to security group mapping"),
        Param(
            "securitygroupid",
            "uuid",
            description="The ID of the security group. Mutually "
            "exclusive with securityGroupName parameter",
        ),
        Param(
            "securitygroupname",
            description="The name of the security group. Mutually "
            "exclusive with securityGroupId parameter",
        ),
        *OWNER_PARAMS,
    )


def _authorize(call: Call, direction: str) -> Reply:
    owner = call.owner()
    group = groups.get_security_group(
        call.session, owner, uuid=call.get("securitygroupid"), name=call.get("securitygroupname")
    )
    _, job = groups.authorize_rules(
        call.session,
        call.ctx,
        group,
        direction=direction,
        protocol=call.get("protocol", "tcp"),
        start_port=call.get("startport"),
        end_port=call.get("endport"),
        icmp_type=call.get("icmptype"),
        icmp_code=call.get("icmpcode"),
        cidrs=call.get("cidrlist", []),
        user_groups=call.get("usersecuritygrouplist", []),
    )
    return started(job, group)


def _authorize_command(direction: str) -> Any:
    """authorizeSecurityGroupIngress / …Egress: the same command, one per direction."""
    name = f"authorizeSecurityGroup{direction.capitalize()}"
    return command(
        name,
        kind=Kind.ASYNC,
        description=f"Authorizes a particular {direction} rule for this security group",
        response_name=SG,
        params=_rule_params(direction),
        response_fields=SG_FIELDS,
        entity="SecurityGroup",
        job_command_class=f"{_COMMANDS}{name[0].upper()}{name[1:]}Cmd",
        differences="A rule that already exists is refused with 537 (CloudStack skips it); the "
        "job result shows the whole group, not only the new rules.",
    )


def _revoke_command(direction: str) -> Any:
    """revokeSecurityGroupIngress / …Egress."""
    name = f"revokeSecurityGroup{direction.capitalize()}"
    return command(
        name,
        kind=Kind.ASYNC,
        description=f"Deletes a particular {direction} rule from this security group",
        response_name="success",
        params=(Param("id", "uuid", True, f"The ID of the {direction} rule"),),
        entity="SecurityGroup",
        job_command_class=f"{_COMMANDS}{name[0].upper()}{name[1:]}Cmd",
    )


@_authorize_command("ingress")
def authorize_security_group_ingress(call: Call) -> Reply:
    return _authorize(call, groups.INGRESS)


@_authorize_command("egress")
def authorize_security_group_egress(call: Call) -> Reply:
    return _authorize(call, groups.EGRESS)


def _revoke(call: Call, direction: str) -> Reply:
    job = groups.revoke_rule(call.session, call.ctx, rule_uuid=call.get("id"), direction=direction)
    return Reply(job_uuid=job.uuid)


@_revoke_command("ingress")
def revoke_security_group_ingress(call: Call) -> Reply:
    return _revoke(call, groups.INGRESS)


@_revoke_command("egress")
def revoke_security_group_egress(call: Call) -> Reply:
    return _revoke(call, groups.EGRESS)


def _job(command_class: str, render: Callable[..., dict[str, Any]] | None) -> JobResult:
    return JobResult(SG, _COMMANDS + command_class, SecurityGroup, render)


JOB_RESULTS.update(
    {
        "securitygroup.authorize.ingress": _job(
            "AuthorizeSecurityGroupIngressCmd", security_group_view
        ),
        "securitygroup.authorize.egress": _job(
            "AuthorizeSecurityGroupEgressCmd", security_group_view
        ),
        "securitygroup.revoke.ingress": _job("RevokeSecurityGroupIngressCmd", None),
        "securitygroup.revoke.egress": _job("RevokeSecurityGroupEgressCmd", None),
    }
)
