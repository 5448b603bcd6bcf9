"""Alembic migrations build exactly the schema the models declare, on each database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.db import Database
from core.models import Base
from core.schema import current_revision, upgrade


def test_migrations_match_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        upgrade(database)
        assert current_revision(database) is not None
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
        upgrade(database)  # a second upgrade is a no-op
    finally:
        database.dispose()
