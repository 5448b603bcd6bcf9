"""Projects: a resource owner shared by several accounts, backed by a project account.

As in CloudStack, creating a project creates an account of its own ("PrjAcct-<name>-<id>")
that owns every resource created with `projectid`; member accounts (Admin or Regular) may list
and act on those resources. Deleting a project removes its account like deleteAccount does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import CallContext, Role
from core.db import Base, IdMixin, new_uuid, utcnow
from core.errors import Conflict, InvalidParameter, InvalidState, NotFound, PermissionDenied
from core.events import record_for_caller
from core.identity import Account, Domain, context_for, create_account, live_account_named
from core.identity_admin import remove_account
from core.jobs import AsyncJob, job_handler, submit_job

ACTIVE = "Active"
SUSPENDED = "Suspended"
ADMIN = "Admin"
REGULAR = "Regular"
INSTANCE_TYPE = "Project"


class Project(IdMixin, Base):
    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(sa.String(255))
    display_text: Mapped[str] = mapped_column(sa.String(255), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    removed: Mapped[dt.datetime | None]


class ProjectAccount(IdMixin, Base):
    __tablename__ = "project_account"
    __table_args__ = (sa.UniqueConstraint("project_id", "account_id"),)

    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16), default=REGULAR)


def project_account_ids_of(session: Session, ctx: CallContext) -> sa.Select[Any]:
    """The project accounts of every live project the caller's account belongs to."""
    return (
        sa.select(Project.account_id)
        .join(ProjectAccount, ProjectAccount.project_id == Project.id)
        .where(ProjectAccount.account_id == ctx.account_id, Project.removed.is_(None))
    )


def is_member(session: Session, ctx: CallContext, owner_account_id: int) -> bool:
    """True if `owner_account_id` is the account of a project the caller belongs to."""
    return (
        session.scalar(
            project_account_ids_of(session, ctx).where(Project.account_id == owner_account_id)
        )
        is not None
    )


def _role_in(session: Session, ctx: CallContext, project: Project) -> str | None:
    return session.scalar(
        sa.select(ProjectAccount.role).where(
            ProjectAccount.project_id == project.id, ProjectAccount.account_id == ctx.account_id
        )
    )


def _domain_manager(session: Session, ctx: CallContext, project: Project) -> bool:
    if ctx.role is Role.ADMIN:
        return True
    if ctx.role is Role.DOMAIN_ADMIN:
        path = session.scalar(sa.select(Domain.path).where(Domain.id == project.domain_id))
        return bool(path and path.startswith(ctx.domain_path))
    return False


def get_project(session: Session, ctx: CallContext, uuid: str) -> Project:
    """A live project the caller is a member of or administers; others are not found."""
    project = session.scalar(
        sa.select(Project).where(Project.uuid == uuid, Project.removed.is_(None))
    )
    if project is None or not (
        _domain_manager(session, ctx, project) or _role_in(session, ctx, project)
    ):
        raise NotFound("project", uuid)
    return project


def _ensure_project_admin(session: Session, ctx: CallContext, project: Project) -> None:
    if not (_domain_manager(session, ctx, project) or _role_in(session, ctx, project) == ADMIN):
        raise PermissionDenied(f"The caller is not an administrator of project {project.name}")


def owner_context(session: Session, ctx: CallContext, uuid: str) -> CallContext:
    """Who a create command with `projectid` acts as: the project's account."""
    project = get_project(session, ctx, uuid)
    if project.state != ACTIVE:
        raise InvalidState("project", uuid, project.state, "add resources")
    account = session.get_one(Account, project.account_id)
    domain = session.get_one(Domain, project.domain_id)
    return CallContext(
        user_id=ctx.user_id,
        account_id=account.id,
        domain_id=domain.id,
        role=Role.USER,
        domain_path=domain.path,
        user_uuid=ctx.user_uuid,
        account_uuid=account.uuid,
        account_name=account.name,
        username=ctx.username,
        role_id=ctx.role_id,
    )


def scope_account_ids(session: Session, ctx: CallContext, uuid: str) -> list[int]:
    """Owner accounts a list with `projectid` covers; "-1" is every project of the caller."""
    if uuid == "-1":
        if ctx.role is Role.ADMIN:
            return list(
                session.scalars(sa.select(Project.account_id).where(Project.removed.is_(None)))
            )
        return list(session.scalars(project_account_ids_of(session, ctx)))
    return [get_project(session, ctx, uuid).account_id]


def create_project(
    session: Session,
    ctx: CallContext,
    owner: CallContext,
    *,
    name: str,
    display_text: str = "",
) -> tuple[Project, AsyncJob]:
    """The project, its account, and `owner`'s account as its first Admin member."""
    if not name:
        raise InvalidParameter("Project name is required", parameter="name")
    domain = session.get_one(Domain, owner.domain_id)
    if session.scalar(
        sa.select(Project.id).where(
            Project.domain_id == domain.id, Project.name == name, Project.removed.is_(None)
        )
    ):
        raise Conflict(f"Project with name {name} already exists in domain {domain.name}")
    suffix = new_uuid()[:8]
    project_account, _ = create_account(
        session,
        name=f"PrjAcct-{name}-{suffix}",
        domain=domain,
        role=Role.USER,
        username=f"PrjUser-{name}-{suffix}",
        password="",
    )
    project = Project(
        name=name,
        display_text=display_text or name,
        account_id=project_account.id,
        domain_id=domain.id,
    )
    session.add(project)
    session.flush()
    session.add(ProjectAccount(project_id=project.id, account_id=owner.account_id, role=ADMIN))
    session.flush()
    record_for_caller(
        session, ctx, "PROJECT.CREATE", f"Project {name} created", resource_uuid=project.uuid
    )
    job = submit_job(
        session, ctx, "project.create", instance_type=INSTANCE_TYPE, instance_id=project.id
    )
    return project, job


def update_project(
    session: Session,
    ctx: CallContext,
    project: Project,
    *,
    display_text: str | None = None,
    name: str | None = None,
    new_admin: Account | None = None,
) -> AsyncJob:
    _ensure_project_admin(session, ctx, project)
    if name:
        project.name = name
    if display_text is not None:
        project.display_text = display_text
    if new_admin is not None:
        _member_row(session, project, new_admin, create=True).role = ADMIN
    session.flush()
    record_for_caller(session, ctx, "PROJECT.UPDATE", f"Project {project.name} updated")
    return submit_job(
        session, ctx, "project.update", instance_type=INSTANCE_TYPE, instance_id=project.id
    )


def set_project_state(session: Session, ctx: CallContext, project: Project, state: str) -> AsyncJob:
    """activateProject / suspendProject; suspending also stops the project's VMs (job)."""
    _ensure_project_admin(session, ctx, project)
    if project.state == state:
        raise InvalidState("project", project.uuid, project.state, f"become {state}")
    project.state = state
    session.get_one(Account, project.account_id).state = (
        "enabled" if state == ACTIVE else "disabled"
    )
    session.flush()
    kind = "project.activate" if state == ACTIVE else "project.suspend"
    record_for_caller(
        session, ctx, kind.upper(), f"Project {project.name} {state}", resource_uuid=project.uuid
    )
    return submit_job(session, ctx, kind, instance_type=INSTANCE_TYPE, instance_id=project.id)


def delete_project(session: Session, ctx: CallContext, project: Project) -> AsyncJob:
    _ensure_project_admin(session, ctx, project)
    return submit_job(
        session, ctx, "project.delete", instance_type=INSTANCE_TYPE, instance_id=project.id
    )


def _member_row(
    session: Session, project: Project, account: Account, *, create: bool = False
) -> ProjectAccount:
    row = session.scalar(
        sa.select(ProjectAccount).where(
            ProjectAccount.project_id == project.id, ProjectAccount.account_id == account.id
        )
    )
    if row is None:
        if not create:
            raise NotFound("project account", account.name)
        row = ProjectAccount(project_id=project.id, account_id=account.id, role=REGULAR)
        session.add(row)
        session.flush()
    return row


def _member_to_be(
    session: Session, ctx: CallContext, project: Project, account_name: str
) -> Account:
    """The account a project admin adds or removes, named in the project's domain."""
    _ensure_project_admin(session, ctx, project)
    account = live_account_named(session, project.domain_id, account_name)
    if account is None:
        raise NotFound("account", account_name)
    return account


def add_account(
    session: Session, ctx: CallContext, project: Project, account_name: str, *, role: str = REGULAR
) -> AsyncJob:
    account = _member_to_be(session, ctx, project, account_name)
    if session.scalar(
        sa.select(ProjectAccount.id).where(
            ProjectAccount.project_id == project.id, ProjectAccount.account_id == account.id
        )
    ):
        raise Conflict(f"Account {account_name} is already a member of project {project.name}")
    session.add(
        ProjectAccount(project_id=project.id, account_id=account.id, role=role.capitalize())
    )
    session.flush()
    record_for_caller(
        session, ctx, "PROJECT.ACCOUNT.ADD", f"Account {account_name} added to {project.name}"
    )
    return submit_job(
        session, ctx, "project.account.add", instance_type=INSTANCE_TYPE, instance_id=project.id
    )


def remove_member(
    session: Session, ctx: CallContext, project: Project, account_name: str
) -> AsyncJob:
    account = _member_to_be(session, ctx, project, account_name)
    row = _member_row(session, project, account)
    admins = session.scalar(
        sa.select(sa.func.count(ProjectAccount.id)).where(
            ProjectAccount.project_id == project.id, ProjectAccount.role == ADMIN
        )
    )
    if row.role == ADMIN and admins == 1:
        raise InvalidParameter("The project's only admin cannot be removed")
    session.delete(row)
    session.flush()
    record_for_caller(
        session,
        ctx,
        "PROJECT.ACCOUNT.REMOVE",
        f"Account {account_name} removed from {project.name}",
    )
    return submit_job(
        session, ctx, "project.account.remove", instance_type=INSTANCE_TYPE, instance_id=project.id
    )


def list_projects(
    session: Session,
    ctx: CallContext,
    *,
    list_all: bool = False,
    uuid: str | None = None,
    name: str | None = None,
    state: str | None = None,
    keyword: str | None = None,
) -> sa.Select[Any]:
    """Projects the caller belongs to; with listall, an admin's whole scope."""
    query = sa.select(Project).where(Project.removed.is_(None)).order_by(Project.id)
    member_of = sa.select(ProjectAccount.project_id).where(
        ProjectAccount.account_id == ctx.account_id
    )
    if list_all and ctx.role is Role.ADMIN:
        pass
    elif list_all and ctx.role is Role.DOMAIN_ADMIN:
        subtree = sa.select(Domain.id).where(Domain.path.startswith(ctx.domain_path))
        query = query.where(sa.or_(Project.domain_id.in_(subtree), Project.id.in_(member_of)))
    else:
        query = query.where(Project.id.in_(member_of))
    if uuid:
        query = query.where(Project.uuid == uuid)
    if name:
        query = query.where(Project.name == name)
    if state:
        query = query.where(Project.state == state.capitalize())
    if keyword:
        query = query.where(Project.name.contains(keyword))
    return query


def members(session: Session, project: Project, *, role: str | None = None) -> sa.Select[Any]:
    query = (
        sa.select(ProjectAccount, Account)
        .join(Account, Account.id == ProjectAccount.account_id)
        .where(ProjectAccount.project_id == project.id)
        .order_by(ProjectAccount.id)
    )
    if role:
        query = query.where(ProjectAccount.role == role.capitalize())
    return query


def project_owner(session: Session, project: Project) -> Account | None:
    """The first Admin member (CloudStack's `account` field of a project)."""
    row = session.execute(members(session, project, role=ADMIN).limit(1)).first()
    return row[1] if row else None


# Jobs ----------------------------------------------------------------------------------------


def _nothing_to_undo(runtime: Any, job: AsyncJob, error: Exception) -> None:
    """The change was made with the request, or the job's one transaction rolled back."""


def _no_op(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    return {}


for _kind in (
    "project.create",
    "project.update",
    "project.activate",
    "project.account.add",
    "project.account.remove",
):
    job_handler(_kind, fail=_nothing_to_undo)(_no_op)


@job_handler("project.suspend", fail=_nothing_to_undo)
def _run_suspend(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    from core.vms.lifecycle import stop_running_vms

    with runtime.db.write() as session:
        project = session.get_one(Project, job.instance_id)
        ctx = context_for(session, session.get_one(_user_model(), job.user_id))
        stop_running_vms(session, ctx, project.account_id)
    return {}


@job_handler("project.delete", fail=_nothing_to_undo)
def _run_delete(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        project = session.get_one(Project, job.instance_id)
        ctx = context_for(session, session.get_one(_user_model(), job.user_id))
        remove_account(session, ctx, session.get_one(Account, project.account_id))
        session.execute(sa.delete(ProjectAccount).where(ProjectAccount.project_id == project.id))
        if project.removed is None:
            project.removed = utcnow()
            record_for_caller(
                session,
                ctx,
                "PROJECT.DELETE",
                f"Project {project.name} deleted",
                resource_uuid=project.uuid,
            )
    return {}


def _user_model() -> Any:
    from core.identity import User

    return User
