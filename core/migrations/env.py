"""Alembic environment: runs migrations on the engine cloudgate hands over."""

from __future__ import annotations

from typing import Any

from alembic import context

from core.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # the alembic command line, with sqlalchemy.url set
    import sqlalchemy as sa

    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))


def _pragma(connection: Any, pragma: str) -> list[Any]:
    """Run a PRAGMA on the raw driver connection, outside any transaction SQLAlchemy began."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
        return list(cursor.fetchall())
    finally:
        cursor.close()


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations rebuild SQLite tables (copy, drop, rename); with foreign keys
        # enforced, dropping a referenced table fails on any database that has rows. SQLite
        # only honours this pragma outside a transaction, which is why it comes first.
        _pragma(connection, "foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = _pragma(connection, "foreign_key_check")
        if broken:
            raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
        _pragma(connection, "foreign_keys=ON")
