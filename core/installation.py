"""Secrets of this installation, kept in the database and never shown through any API.

The EC2 id permutation key (`translators.ids`) must be the same on every server of a cluster
and after every restore of a backup, so it lives in the database rather than in a setting
file; and it must not be computable by any user, so it is random (made at first start by
`ensure_secrets`) and is in a table of its own that no list command reads — not in
`configuration`, whose rows an administrator lists.

An installation older than this table used a key derived from the ROOT domain's uuid; the
migration that made the table stored that key, so existing EC2 ids did not change.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base

EC2_ID_KEY = "ec2-id-key"
SECRET_BYTES = 32
SECRETS = (EC2_ID_KEY,)


class InstallationSecret(Base):
    __tablename__ = "installation_secret"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


def ensure_secrets(session: Session) -> None:
    """Create every secret this installation lacks (at first start), at random."""
    for name in SECRETS:
        if session.get(InstallationSecret, name) is None:
            session.add(InstallationSecret(name=name, value=secrets.token_hex(SECRET_BYTES)))
    session.flush()


def installation_secret(session: Session, name: str) -> bytes:
    """A secret's bytes; LookupError if the installation was never started (no bootstrap)."""
    row = session.get(InstallationSecret, name)
    if row is None:
        raise LookupError(f"installation secret {name} is missing: start the server once first")
    return bytes.fromhex(row.value)
