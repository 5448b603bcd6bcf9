"""Login sessions of CloudStack's UI and CloudMonkey: a JSESSIONID plus its session key.

Sessions are database rows so that every server of a cluster accepts them. A session ends
at logout or after `IDLE_TIMEOUT_SECONDS` without a request (CloudStack's session.timeout).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, IdMixin, utcnow
from core.errors import AuthenticationFailed
from core.events import record_event
from core.identity import Account, User, ensure_active
from core.scheduler import periodic

IDLE_TIMEOUT_SECONDS = 1800


class LoginSession(IdMixin, Base):
    __tablename__ = "login_session"

    session_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    session_key: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    last_access: Mapped[dt.datetime] = mapped_column(default=utcnow)
    timeout: Mapped[int] = mapped_column(default=IDLE_TIMEOUT_SECONDS)


def start_session(session: Session, user: User) -> LoginSession:
    """A fresh session for an authenticated user."""
    login = LoginSession(
        session_id=secrets.token_hex(16).upper(),
        session_key=secrets.token_urlsafe(20),
        user_id=user.id,
    )
    session.add(login)
    session.flush()
    _event(session, user, "USER.LOGIN", f"user has logged in from the API: {user.username}")
    return login


def _event(session: Session, user: User, event_type: str, text: str) -> None:
    account = session.get_one(Account, user.account_id)
    record_event(
        session,
        account_id=account.id,
        domain_id=account.domain_id,
        user_id=user.id,
        event_type=event_type,
        description=text,
        resource_type="User",
        resource_uuid=user.uuid,
    )


def resume_session(session: Session, session_id: str, session_key: str) -> User:
    """The user of a live session whose key matches; touches its idle clock."""
    login = session.scalar(sa.select(LoginSession).where(LoginSession.session_id == session_id))
    if login is None or not hmac.compare_digest(login.session_key, session_key):
        raise AuthenticationFailed("Unable to verify user credentials")
    now = utcnow()
    if now - login.last_access > dt.timedelta(seconds=login.timeout):
        raise AuthenticationFailed("The session has expired")  # purged by the scheduler
    user = session.get_one(User, login.user_id)
    ensure_active(session, user)
    login.last_access = now
    session.flush()
    return user


def end_session(session: Session, session_id: str) -> None:
    login = session.scalar(sa.select(LoginSession).where(LoginSession.session_id == session_id))
    if login is None:
        return
    user = session.get_one(User, login.user_id)
    session.delete(login)
    session.flush()
    _event(session, user, "USER.LOGOUT", f"user has logged out: {user.username}")


def end_user_sessions(session: Session, user_ids: list[int]) -> None:
    """Disabling, locking or deleting users ends their sessions."""
    if user_ids:
        session.execute(sa.delete(LoginSession).where(LoginSession.user_id.in_(user_ids)))


def purge_expired(session: Session) -> int:
    """Delete the sessions idle for longer than their timeout; returns how many."""
    cutoff = utcnow() - dt.timedelta(seconds=IDLE_TIMEOUT_SECONDS)
    result = session.execute(sa.delete(LoginSession).where(LoginSession.last_access < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


@periodic("login-sessions.purge", every_seconds=300)
def _purge(runtime: Any) -> None:
    with runtime.db.write() as session:
        purge_expired(session)
