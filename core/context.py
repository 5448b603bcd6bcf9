"""The caller of a use case: who acts, for which account, with which role.

Every core service takes a `CallContext` explicitly and checks ownership itself, so no front
end can skip a permission check by forgetting it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.IntEnum):
    """CloudStack's role types; the value is CloudStack's account type number."""

    USER = 0
    ADMIN = 1
    DOMAIN_ADMIN = 2

    @property
    def label(self) -> str:
        return {Role.USER: "User", Role.ADMIN: "Admin", Role.DOMAIN_ADMIN: "DomainAdmin"}[self]


@dataclass(frozen=True, slots=True)
class CallContext:
    user_id: int
    account_id: int
    domain_id: int
    role: Role
    domain_path: str = "/"
    user_uuid: str = ""
    account_uuid: str = ""
    account_name: str = ""
    username: str = ""
    role_id: int | None = None  # the account's dynamic role (core.roles); None: type default

    @property
    def is_root_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_domain_admin(self) -> bool:
        return self.role is Role.DOMAIN_ADMIN


SYSTEM_CONTEXT = CallContext(
    user_id=1, account_id=1, domain_id=1, role=Role.ADMIN, domain_path="/", username="system"
)
