"""Domains, accounts, users and API keys: who may call, and what they may see.

Domains nest (ROOT → child → …); the `path` column ("/", "/sales/", "/sales/eu/") makes a
subtree one prefix query. An account belongs to one domain and has one role; users belong
to one account and carry the API key pair that the CloudStack, EC2 and S3 APIs sign with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import limits
from core.context import CallContext, Role
from core.db import Base, IdMixin
from core.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidParameter,
    NotFound,
)

# Called as hook(session, account) after every account is created, by families that give each
# account something of its own (e.g. the default security group); registered at import.
ACCOUNT_CREATED_HOOKS: list[Callable[[Session, Account], None]] = []
# Called as hook(session, account) by the account.delete job before the account is removed, by
# families that own per-account resources (volumes, networks, …); must be idempotent (the job
# may run again after a crash).
ACCOUNT_DELETING_HOOKS: list[Callable[[Session, Account], None]] = []

ENABLED = "enabled"
DISABLED = "disabled"
LOCKED = "locked"


class Domain(IdMixin, Base):
    __tablename__ = "domain"

    name: Mapped[str] = mapped_column(sa.String(255))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domain.id"))
    path: Mapped[str] = mapped_column(sa.String(1024), index=True)
    level: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(sa.String(16), default="Active")
    removed: Mapped[dt.datetime | None]


class Account(IdMixin, Base):
    __tablename__ = "account"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)

    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    role: Mapped[int] = mapped_column(default=int(Role.USER))
    role_id: Mapped[int | None] = mapped_column(sa.ForeignKey("roles.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=ENABLED)
    removed: Mapped[dt.datetime | None]


class User(IdMixin, Base):
    __tablename__ = "user"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(255), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    firstname: Mapped[str] = mapped_column(sa.String(255), default="")
    lastname: Mapped[str] = mapped_column(sa.String(255), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    api_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    secret_key: Mapped[str | None] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(16), default=ENABLED)
    removed: Mapped[dt.datetime | None]


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """PBKDF2-SHA256, self-describing so the iteration count can rise later."""
    salt = salt or secrets.token_bytes(16)
    iterations = 200_000
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def check_password(password: str, encoded: str) -> bool:
    try:
        _, iterations, salt_hex, digest_hex = encoded.split("$")
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), bytes.fromhex(salt_hex), int(iterations)
    )
    return hmac.compare_digest(digest.hex(), digest_hex)


def generate_key_pair() -> tuple[str, str]:
    """An API key and secret shaped like CloudStack's (86 URL-safe characters each)."""
    return secrets.token_urlsafe(64), secrets.token_urlsafe(64)


def create_domain(session: Session, *, name: str, parent: Domain | None) -> Domain:
    if parent is None:
        domain = Domain(name=name, parent_id=None, path="/", level=0)
    else:
        path = f"{parent.path}{name}/"
        if session.scalar(
            sa.select(Domain.id).where(Domain.path == path, Domain.removed.is_(None))
        ):
            raise Conflict(f"Domain with name {name} already exists for the parent")
        domain = Domain(name=name, parent_id=parent.id, path=path, level=parent.level + 1)
    session.add(domain)
    session.flush()
    return domain


def create_account(
    session: Session,
    *,
    name: str,
    domain: Domain,
    role: Role,
    username: str,
    password: str,
    email: str = "",
    firstname: str = "",
    lastname: str = "",
    role_id: int | None = None,
) -> tuple[Account, User]:
    """An account with its first user, as CloudStack's createAccount makes it."""
    if not name or not username:
        raise InvalidParameter("account name and username are required")
    if live_account_named(session, domain.id, name) is not None:
        raise Conflict(f"The specified account: {name} already exists")
    if role_id is None:
        from core.roles import default_role

        role_id = default_role(session, role).id
    account = Account(name=name, domain_id=domain.id, role=int(role), role_id=role_id)
    session.add(account)
    session.flush()
    limits.init_account(session, account.id, role)
    for hook in ACCOUNT_CREATED_HOOKS:
        hook(session, account)
    user = create_user(
        session,
        account=account,
        username=username,
        password=password,
        email=email,
        firstname=firstname,
        lastname=lastname,
    )
    return account, user


def live_account_named(session: Session, domain_id: int, name: str) -> Account | None:
    """The account `name` of a domain (names are unique per domain among live accounts)."""
    return session.scalar(
        sa.select(Account).where(
            Account.domain_id == domain_id, Account.name == name, Account.removed.is_(None)
        )
    )


def create_user(
    session: Session,
    *,
    account: Account,
    username: str,
    password: str,
    email: str = "",
    firstname: str = "",
    lastname: str = "",
) -> User:
    taken = session.scalar(
        sa.select(User.id)
        .join(Account, Account.id == User.account_id)
        .where(
            User.username == username,
            Account.domain_id == account.domain_id,
            User.removed.is_(None),
        )
    )
    if taken:
        raise Conflict(f"The user {username} already exists in this domain")
    user = User(
        account_id=account.id,
        username=username,
        password_hash=hash_password(password) if password else "",
        email=email,
        firstname=firstname,
        lastname=lastname,
    )
    session.add(user)
    session.flush()
    return user


def register_keys(
    session: Session, user: User, *, api_key: str | None = None, secret_key: str | None = None
) -> User:
    """Give the user a fresh key pair (or the given one, for operators automating set-up)."""
    generated_api, generated_secret = generate_key_pair()
    user.api_key = api_key or generated_api
    user.secret_key = secret_key or generated_secret
    session.flush()
    return user


def context_for(session: Session, user: User) -> CallContext:
    account = session.get_one(Account, user.account_id)
    domain = session.get_one(Domain, account.domain_id)
    return CallContext(
        user_id=user.id,
        account_id=account.id,
        domain_id=domain.id,
        role=Role(account.role),
        domain_path=domain.path,
        user_uuid=user.uuid,
        account_uuid=account.uuid,
        account_name=account.name,
        username=user.username,
        role_id=account.role_id,
    )


def owner_context(session: Session, owner: Any) -> CallContext:
    """The context to act in for work a user left behind (a job, a snapshot policy): its
    user, account and domain ids, with the account's role as it is now."""
    account = session.get_one(Account, owner.account_id)
    return CallContext(
        user_id=owner.user_id,
        account_id=owner.account_id,
        domain_id=owner.domain_id,
        role=Role(account.role),
    )


def ensure_active(session: Session, user: User) -> None:
    """AuthenticationFailed unless the user and its account are enabled."""
    account = session.get_one(Account, user.account_id)
    if user.state != ENABLED or account.state != ENABLED or user.removed or account.removed:
        raise AuthenticationFailed("The user or its account is disabled or locked")


def user_by_api_key(session: Session, api_key: str) -> User:
    """The active user owning `api_key`, or AuthenticationFailed."""
    # The account and domain come in the same query: ensure_active and context_for, which
    # every signed request calls next, then find them in the session instead of querying.
    row = session.execute(
        sa.select(User, Account, Domain)
        .join(Account, Account.id == User.account_id)
        .join(Domain, Domain.id == Account.domain_id)
        .where(User.api_key == api_key)
    ).first()
    user = row[0] if row is not None else None
    if user is None:
        raise AuthenticationFailed("Unable to verify user credentials")
    ensure_active(session, user)
    return user


def authenticate_password(
    session: Session, *, username: str, password: str, domain_path: str
) -> User:
    user = session.scalar(
        sa.select(User)
        .join(Account, Account.id == User.account_id)
        .join(Domain, Domain.id == Account.domain_id)
        .where(User.username == username, Domain.path == domain_path, User.removed.is_(None))
    )
    if user is None or not user.password_hash or not check_password(password, user.password_hash):
        raise AuthenticationFailed("Unable to verify user credentials and/or request signature")
    ensure_active(session, user)
    return user


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("account", account_id)
    return account


def root_domain(session: Session) -> Domain:
    domain = session.scalar(sa.select(Domain).where(Domain.parent_id.is_(None)))
    if domain is None:
        raise NotFound("domain", "ROOT")
    return domain


def find_user(session: Session, *, username: str, domain_path: str = "/") -> User:
    user = session.scalar(
        sa.select(User)
        .join(Account, Account.id == User.account_id)
        .join(Domain, Domain.id == Account.domain_id)
        .where(User.username == username, Domain.path == domain_path, User.removed.is_(None))
    )
    if user is None:
        raise NotFound("user", username)
    return user
