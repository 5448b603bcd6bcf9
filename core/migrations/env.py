"""Alembic environment: runs migrations on the engine cloudgate hands over."""

from __future__ import annotations

from alembic import context

from core.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # the alembic command line, with sqlalchemy.url set
    import sqlalchemy as sa

    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
