"""What a command handler receives, and the parameter conventions all list commands share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.context import CallContext
from core.db import get_live
from core.identity import Domain
from core.listing import Page
from core.runtime import Runtime
from core.visibility import ListScope, acting_for_account


@dataclass
class Call:
    ctx: CallContext
    session: Session
    params: dict[str, Any]
    runtime: Runtime

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def page(self) -> Page:
        size = self.params.get("pagesize")
        if size is not None and size < 0:  # CloudStack treats -1 as "everything"
            size = None
        return Page(number=self.params.get("page", 1), size=size)

    def paged(self, views: list[dict[str, Any]]) -> Any:
        """A page of a short in-memory list (zones, offerings: a handful of rows)."""
        from native_api.registry import Reply

        page = self.page()
        start = (page.number - 1) * (page.size or 0)
        items = views[start : start + page.size] if page.size else views
        return Reply(items=items, total=len(views))

    def keyword_match(self, name: str) -> bool:
        keyword = self.params.get("keyword")
        return not keyword or keyword.lower() in name.lower()

    def owner(self) -> CallContext:
        """Whom a create command acts for: the caller, or — for an administrator passing
        `account` and `domainid` — that account (CloudStack's acting on behalf); with
        `projectid`, the project's account (the caller must be a member or administer it)."""
        project_uuid = self._project_param()
        if project_uuid:
            from core.projects import owner_context

            return owner_context(self.session, self.ctx, project_uuid)
        account_name = self.params.get("account")
        if not account_name:
            return self.ctx
        domain_uuid = self.params.get("domainid")
        domain_id = (
            get_live(self.session, Domain, "domain", uuid=domain_uuid).id if domain_uuid else None
        )
        return acting_for_account(self.session, self.ctx, account_name, domain_id)

    def _project_param(self) -> str | None:
        value = self.params.get("projectid")
        return str(value) if value else None

    def scope(self) -> ListScope:
        project_uuid = self._project_param()
        if project_uuid:
            from core.projects import scope_account_ids

            ids = scope_account_ids(self.session, self.ctx, project_uuid)
            return ListScope(list_all=True, account_ids=tuple(ids))
        domain_uuid = self.params.get("domainid")
        domain_id = None
        if domain_uuid:
            domain_id = get_live(self.session, Domain, "domain", uuid=domain_uuid).id
        return ListScope(
            list_all=bool(self.params.get("listall", False)),
            recursive=bool(self.params.get("isrecursive", False)),
            domain_id=domain_id,
            account_name=self.params.get("account"),
        )
