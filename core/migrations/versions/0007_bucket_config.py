"""bucket configuration: CORS rules, lifecycle rules, tag sets

Revision ID: 0007_bucket_config
Revises: 0006_networks
Create Date: 2026-11-21 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0007_bucket_config"
down_revision = "0006_networks"
branch_labels = None
depends_on = None


def _config_table(name: str, *extra: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        *extra,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["bucket.id"],
            name=op.f(f"fk_{name}_bucket_id_bucket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("bucket_id", name=op.f(f"uq_{name}_bucket_id")),
        sa.UniqueConstraint("uuid", name=op.f(f"uq_{name}_uuid")),
    )


def upgrade() -> None:
    _config_table("bucket_cors")
    _config_table("bucket_lifecycle", sa.Column("next_run", core.db.UTCDateTime(), nullable=False))
    with op.batch_alter_table("bucket_lifecycle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bucket_lifecycle_next_run"), ["next_run"])
    op.create_table(
        "bucket_tag",
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["bucket.id"],
            name=op.f("fk_bucket_tag_bucket_id_bucket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bucket_id", "key", name=op.f("pk_bucket_tag")),
    )


def downgrade() -> None:
    op.drop_table("bucket_tag")
    with op.batch_alter_table("bucket_lifecycle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bucket_lifecycle_next_run"))
    op.drop_table("bucket_lifecycle")
    op.drop_table("bucket_cors")
