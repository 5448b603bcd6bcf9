"""The installation's secrets: random per installation, kept across upgrades, never listed."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from core.bootstrap import bootstrap
from core.configuration import list_settings
from core.db import Database
from core.identity import root_domain
from core.installation import EC2_ID_KEY, InstallationSecret
from core.schema import alembic_config, upgrade
from translators.ids import INSTANCE, IdCodec, installation_key


def installed(path: Path) -> Database:
    """A new installation: migrated and bootstrapped, as `cloudgate serve` does at first start."""
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    with database.write() as session:
        bootstrap(session, demo_zone=False)
    return database


def legacy_key(database: Database) -> bytes:
    """The key installations used before the secret: an HMAC of the ROOT domain's uuid."""
    with database.read() as session:
        uuid = root_domain(session).uuid
    return hmac.new(b"cloudgate/ec2-ids/v1", uuid.encode(), hashlib.sha256).digest()


def test_each_new_installation_has_its_own_random_key(tmp_path: Path) -> None:
    first, second = installed(tmp_path / "a.db"), installed(tmp_path / "b.db")
    try:
        with first.read() as session:
            key = installation_key(session)
        with second.read() as session:
            other = installation_key(session)
        assert len(key) == 32 and key != other
        # Nothing a user can read derives it any more.
        assert key != legacy_key(first) and other != legacy_key(second)
        with first.write() as session:  # a restart keeps it
            bootstrap(session, demo_zone=False)
        with first.read() as session:
            assert installation_key(session) == key
    finally:
        first.dispose()
        second.dispose()


def test_an_upgraded_installation_keeps_its_ec2_ids(tmp_path: Path) -> None:
    database = installed(tmp_path / "old.db")
    try:
        # Back to the schema before the secret: the installation as it was, with legacy ids.
        command.downgrade(alembic_config(database), "0007_installation_key-1")
        with database.read() as session:
            assert "installation_secret" not in sa.inspect(session.connection()).get_table_names()
        old_id = IdCodec(legacy_key(database)).encode(INSTANCE, 42)
        upgrade(database)
        with database.write() as session:
            bootstrap(session, demo_zone=False)  # the restart after the upgrade changes nothing
        with database.read() as session:
            assert IdCodec(installation_key(session)).encode(INSTANCE, 42) == old_id
            assert installation_key(session) == legacy_key(database)
    finally:
        database.dispose()


def test_the_key_is_not_a_setting(tmp_path: Path) -> None:
    database = installed(tmp_path / "c.db")
    try:
        with database.read() as session:
            secret = session.get_one(InstallationSecret, EC2_ID_KEY).value
            shown = list_settings(session)
        assert shown and all(
            secret not in value and "secret" not in setting.name for setting, value in shown
        )
    finally:
        database.dispose()
