"""object versions: bucket versioning, object versions and delete markers, object tags

Revision ID: 0007_object_versions
Revises: 0006_networks
Create Date: 2026-11-21 22:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import core.db

revision = "0007_object_versions"
down_revision = "0006_networks"
branch_labels = None
depends_on = None

KEY = sa.LargeBinary(length=1024).with_variant(mysql.VARBINARY(length=1024), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "bucket_versioning",
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["bucket.id"],
            name=op.f("fk_bucket_versioning_bucket_id_bucket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bucket_id", name=op.f("pk_bucket_versioning")),
    )
    op.create_table(
        "object_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("delete_marker", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("last_modified", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["bucket.id"],
            name=op.f("fk_object_version_bucket_id_bucket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_version")),
        sa.UniqueConstraint(
            "bucket_id",
            "key",
            "version_id",
            name=op.f("uq_object_version_bucket_id_key_version_id"),
        ),
    )
    with op.batch_alter_table("object_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_object_version_bucket_id"), ["bucket_id"], unique=False
        )
    op.create_table(
        "object_tagging",
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["bucket.id"],
            name=op.f("fk_object_tagging_bucket_id_bucket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bucket_id", "key", "version_id", name=op.f("pk_object_tagging")),
    )


def downgrade() -> None:
    op.drop_table("object_tagging")
    with op.batch_alter_table("object_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_object_version_bucket_id"))
    op.drop_table("object_version")
    op.drop_table("bucket_versioning")
