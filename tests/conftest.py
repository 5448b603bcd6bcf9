"""Shared fixtures: a real database per test on SQLite and on MariaDB.

MariaDB tests use a uniquely named database dropped afterwards. Without a MariaDB they are
skipped with the reason shown — except under CI=true, where a missing MariaDB is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from core.db import Database
from core.models import Base

MARIADB_SERVER = os.environ.get("CLOUDGATE_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(name: str, why: str) -> None:
    """Skip locally, fail in CI: CI must have every real service the suite uses."""
    if IN_CI:
        pytest.fail(f"{name} is required under CI=true: {why}")
    pytest.skip(f"{name} unavailable: {why}")


def mariadb_database() -> Iterator[str]:
    """A fresh, uniquely named MariaDB database; dropped after use."""
    name = f"cloudgate_test_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(MARIADB_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    except sa.exc.OperationalError as error:
        server.dispose()
        require_service("MariaDB", str(error.orig))
    try:
        yield f"{MARIADB_SERVER}/{name}?charset=utf8mb4"
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        server.dispose()


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'cloudgate.db'}"
    else:
        yield from mariadb_database()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()
