"""Projects and their member accounts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import projects
from core.context import CallContext
from core.identity import Account, Domain
from core.listing import paginate
from core.projects import Project
from core.tags import parse_tag_maps, tag_filter, tags_of
from native_api.call import Call
from native_api.commands.common import started
from native_api.commands.identity import resource_fields
from native_api.registry import PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, VM_VIEW_EXTENSIONS, JobResult

PROJECT_COMMANDS = "org.apache.cloudstack.api.command.user.project."
ACCOUNT_COMMANDS = "org.apache.cloudstack.api.command.user.account."
RESOURCE_TYPE = "Project"

PROJECT_FIELDS = (
    Field("id", description="the id of the project"),
    Field("name", description="the name of the project"),
    Field("displaytext", description="the displaytext of the project"),
    Field("domainid", description="the domain id the project belongs to"),
    Field("domain", description="the domain name where the project belongs to"),
    Field("account", description="the account name of the project's owner"),
    Field("owner", "list", "the list of accounts owning the project"),
    Field("state", description="the state of the project"),
    Field("created", "date", "the date this project was created"),
    Field("tags", "list", "the list of resource tags associated with the project"),
    Field("vmtotal", "long", "the total number of virtual machines deployed by this project"),
)
MEMBER_FIELDS = (
    Field("projectid", description="the id of the project"),
    Field("project", description="the name of the project"),
    Field("accountid", description="the id of the account"),
    Field("account", description="the name of the account"),
    Field("role", description="account role in the project (regular, owner)"),
    Field("domainid", description="id of the Domain the account belongs to"),
    Field("domain", description="name of the Domain the account belongs to"),
)


def project_view(
    session: Session, project: Project, ctx: CallContext | None = None
) -> dict[str, Any]:
    domain = session.get_one(Domain, project.domain_id)
    owner = projects.project_owner(session, project)
    account = session.get_one(Account, project.account_id)
    return {
        "id": project.uuid,
        "name": project.name,
        "displaytext": project.display_text,
        "domainid": domain.uuid,
        "domain": domain.name,
        "account": owner.name if owner else None,
        "owner": [{"account": owner.name}] if owner else [],
        "state": project.state,
        "created": project.created,
        "tags": [
            {
                "key": tag.key,
                "value": tag.value,
                "resourcetype": RESOURCE_TYPE,
                "resourceid": project.uuid,
            }
            for tag in tags_of(session, RESOURCE_TYPE, [project.id])[project.id]
        ],
        **resource_fields(session, account),
    }


def _job_view(session: Session, project: Project, ctx: CallContext) -> dict[str, Any]:
    return project_view(session, project, ctx)


def _project_job(command: str) -> JobResult:
    return JobResult("project", PROJECT_COMMANDS + command, Project, _job_view)


JOB_RESULTS.update(
    {
        "project.create": _project_job("CreateProjectCmd"),
        "project.update": _project_job("UpdateProjectCmd"),
        "project.activate": _project_job("ActivateProjectCmd"),
        "project.suspend": _project_job("SuspendProjectCmd"),
        "project.delete": JobResult("project", PROJECT_COMMANDS + "DeleteProjectCmd", Project),
        "project.account.add": JobResult(
            "project", ACCOUNT_COMMANDS + "AddAccountToProjectCmd", Project
        ),
        "project.account.remove": JobResult(
            "project", PROJECT_COMMANDS + "DeleteAccountFromProjectCmd", Project
        ),
    }
)

PROJECT_ID = Param("id", "uuid", True, "id of the project")


def project_owner_fields(session: Session, owner_account_id: int) -> dict[str, Any]:
    """`projectid`/`project` of a resource a project owns (CloudStack's populateOwner)."""
    project = session.scalar(sa.select(Project).where(Project.account_id == owner_account_id))
    if project is None:
        return {}
    return {"projectid": project.uuid, "project": project.name}


def _vm_project(session: Session, vms: list[Any], ctx: CallContext) -> dict[int, dict[str, Any]]:
    """projectid/project of the VMs a project owns (one query for the page)."""
    owners = {vm.account_id for vm in vms}
    found = session.scalars(sa.select(Project).where(Project.account_id.in_(owners)))
    by_owner = {p.account_id: {"projectid": p.uuid, "project": p.name} for p in found}
    return {vm.id: by_owner[vm.account_id] for vm in vms if vm.account_id in by_owner}


VM_VIEW_EXTENSIONS.append(_vm_project)


@command(
    "createProject",
    kind=Kind.ASYNC_CREATE,
    description="Creates a project",
    response_name="project",
    entity="Project",
    params=(
        Param("name", required=True, description="name of the project"),
        Param(
            "displaytext", description="The display text of the project, defaults to the 'name´."
        ),
        Param("account", description="account who will be Admin for the project"),
        Param("domainid", "uuid", description="domain ID of the account owning a project"),
        Param("userid", "uuid", description="user ID of the account to be assigned as owner"),
    ),
    response_fields=PROJECT_FIELDS,
    job_command_class=PROJECT_COMMANDS + "CreateProjectCmd",
    differences="userid is accepted and ignored (the owner is an account)",
)
def create_project(call: Call) -> Reply:
    owner = call.owner()
    project, job = projects.create_project(
        call.session,
        call.ctx,
        owner,
        name=call.get("name"),
        display_text=call.get("displaytext") or "",
    )
    return started(job, project)


@command(
    "updateProject",
    kind=Kind.ASYNC,
    description="Updates a project",
    response_name="project",
    params=(
        Param("id", "uuid", True, "id of the project to be modified"),
        Param("displaytext", description="display text of the project"),
        Param("name", description="name of the project"),
        Param("account", description="new Admin account for the project"),
    ),
    response_fields=PROJECT_FIELDS,
    job_command_class=PROJECT_COMMANDS + "UpdateProjectCmd",
)
def update_project(call: Call) -> Reply:
    project = projects.get_project(call.session, call.ctx, call.get("id"))
    new_admin = None
    if call.get("account"):
        new_admin = call.session.scalar(
            sa.select(Account).where(
                Account.name == call.get("account"),
                Account.domain_id == project.domain_id,
                Account.removed.is_(None),
            )
        )
        if new_admin is None:
            from core.errors import NotFound

            raise NotFound("account", call.get("account"))
    job = projects.update_project(
        call.session,
        call.ctx,
        project,
        display_text=call.get("displaytext"),
        name=call.get("name"),
        new_admin=new_admin,
    )
    return started(job, project)


@command(
    "deleteProject",
    kind=Kind.ASYNC,
    description="Deletes a project",
    response_name="success",
    params=(
        PROJECT_ID,
        Param(
            "cleanup",
            "boolean",
            description="true if all project resources have to be cleaned up, false otherwise",
        ),
    ),
    job_command_class=PROJECT_COMMANDS + "DeleteProjectCmd",
    differences="the project's resources are always cleaned up",
)
def delete_project(call: Call) -> Reply:
    project = projects.get_project(call.session, call.ctx, call.get("id"))
    return Reply(job_uuid=projects.delete_project(call.session, call.ctx, project).uuid)


def _state_command(verb: str, description: str, id_description: str) -> Any:
    """activateProject / suspendProject: async, answering the project."""
    return command(
        f"{verb}Project",
        kind=Kind.ASYNC,
        description=description,
        response_name="project",
        params=(Param("id", "uuid", True, id_description),),
        response_fields=PROJECT_FIELDS,
        job_command_class=f"{PROJECT_COMMANDS}{verb.capitalize()}ProjectCmd",
    )


def _set_state(call: Call, state: str) -> Reply:
    project = projects.get_project(call.session, call.ctx, call.get("id"))
    job = projects.set_project_state(call.session, call.ctx, project, state)
    return started(job, project)


@_state_command("activate", "Activates a project", "id of the project to be modified")
def activate_project(call: Call) -> Reply:
    return _set_state(call, projects.ACTIVE)


@_state_command("suspend", "Suspends a project", "id of the project to be suspended")
def suspend_project(call: Call) -> Reply:
    return _set_state(call, projects.SUSPENDED)


@command(
    "listProjects",
    kind=Kind.LIST,
    description="Lists projects and provides detailed information for listed projects",
    response_name="project",
    params=(
        Param("id", "uuid", description="list projects by project ID"),
        Param("name", description="list projects by name"),
        Param("displaytext", description="list projects by display text"),
        Param("state", description="list projects by state"),
        Param("tags", "map", description="List projects by tags (key/value pairs)"),
        Param("domainid", "uuid", description="list only resources belonging to the domain"),
        Param("isrecursive", "boolean", description="also list resources of subdomains"),
        Param("listall", "boolean", description="list all resources the caller may see"),
        *PAGING,
    ),
    response_fields=PROJECT_FIELDS,
)
def list_projects(call: Call) -> Reply:
    query = projects.list_projects(
        call.session,
        call.ctx,
        list_all=bool(call.get("listall", False)),
        uuid=call.get("id"),
        name=call.get("name"),
        state=call.get("state"),
        keyword=call.get("keyword"),
    )
    if call.get("displaytext"):
        query = query.where(Project.display_text == call.get("displaytext"))
    if call.get("tags"):
        tags = parse_tag_maps(call.get("tags"))
        query = query.where(tag_filter(RESOURCE_TYPE, Project.id, tags))
    rows, total = paginate(call.session, query, call.page())
    return Reply(items=[project_view(call.session, p) for p in rows], total=total)


@command(
    "addAccountToProject",
    kind=Kind.ASYNC,
    description="Adds account to a project",
    response_name="success",
    params=(
        Param("projectid", "uuid", True, "ID of the project to add the account to"),
        Param("account", description="name of the account to be added to the project"),
        Param("email", description="email to which invitation to the project is going to be sent"),
        Param(
            "roletype",
            description="Project role type to be assigned to the user - Admin/"
            "Regular; default: Regular",
        ),
    ),
    job_command_class=ACCOUNT_COMMANDS + "AddAccountToProjectCmd",
    differences="no invitations: the account is added at once; email is ignored",
)
def add_account_to_project(call: Call) -> Reply:
    project = projects.get_project(call.session, call.ctx, call.get("projectid"))
    if not call.get("account"):
        from core.errors import InvalidParameter

        raise InvalidParameter("account is required (invitations are not supported)")
    role = (call.get("roletype") or projects.REGULAR).capitalize()
    if role not in (projects.ADMIN, projects.REGULAR):
        from core.errors import InvalidParameter

        raise InvalidParameter("roletype must be Admin or Regular", parameter="roletype")
    job = projects.add_account(call.session, call.ctx, project, call.get("account"), role=role)
    return Reply(job_uuid=job.uuid)


@command(
    "deleteAccountFromProject",
    kind=Kind.ASYNC,
    description="Deletes account from the project",
    response_name="success",
    params=(
        Param("projectid", "uuid", True, "ID of the project to remove the account from"),
        Param(
            "account",
            required=True,
            description="name of the account to be removed from the project",
        ),
    ),
    job_command_class=PROJECT_COMMANDS + "DeleteAccountFromProjectCmd",
)
def delete_account_from_project(call: Call) -> Reply:
    project = projects.get_project(call.session, call.ctx, call.get("projectid"))
    job = projects.remove_member(call.session, call.ctx, project, call.get("account"))
    return Reply(job_uuid=job.uuid)


@command(
    "listProjectAccounts",
    kind=Kind.LIST,
    description="Lists project's accounts",
    response_name="projectaccount",
    params=(
        Param("projectid", "uuid", True, "ID of the project"),
        Param("account", description="list accounts of the project by account name"),
        Param("role", description="list accounts of the project by role"),
        *PAGING,
    ),
    response_fields=MEMBER_FIELDS,
)
def list_project_accounts(call: Call) -> Reply:
    project = projects.get_project(call.session, call.ctx, call.get("projectid"))
    query = projects.members(call.session, project, role=call.get("role"))
    if call.get("account"):
        query = query.where(Account.name == call.get("account"))
    rows, total = paginate(call.session, query, call.page())
    views = []
    for member in rows:
        account = call.session.get_one(Account, member.account_id)
        domain = call.session.get_one(Domain, account.domain_id)
        views.append(
            {
                "projectid": project.uuid,
                "project": project.name,
                "accountid": account.uuid,
                "account": account.name,
                "accounttype": account.role,
                "role": member.role,
                "domainid": domain.uuid,
                "domain": domain.name,
            }
        )
    return Reply(items=views, total=total)
