"""multipart: S3 multipart uploads and their parts

Revision ID: 0007_multipart
Revises: 0006_networks
Create Date: 2026-11-21 22:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import core.db

revision = "0007_multipart"
down_revision = "0006_networks"
branch_labels = None
depends_on = None

KEY = sa.String(1024).with_variant(
    mysql.VARCHAR(1024, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    op.create_table(
        "multipart_upload",
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("initiator_uuid", sa.String(length=36), nullable=False),
        sa.Column("initiator_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("user_metadata", sa.Text(), nullable=False),
        sa.Column("checksum_algorithm", sa.String(length=16), nullable=True),
        sa.Column("checksum_type", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("completed_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("completed_parts", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=64), nullable=True),
        sa.Column("checksum", sa.String(length=160), nullable=True),
        sa.Column("version_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_multipart_upload_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["bucket_id"], ["bucket.id"], name=op.f("fk_multipart_upload_bucket_id_bucket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_multipart_upload")),
        sa.UniqueConstraint("uuid", name=op.f("uq_multipart_upload_uuid")),
    )
    with op.batch_alter_table("multipart_upload", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_multipart_upload_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_multipart_upload_bucket_id"), ["bucket_id"], unique=False
        )
    op.create_table(
        "multipart_part",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("part_number", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("checksum", sa.String(length=160), nullable=True),
        sa.Column("last_modified", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["multipart_upload.id"],
            name=op.f("fk_multipart_part_upload_id_multipart_upload"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_multipart_part")),
        sa.UniqueConstraint(
            "upload_id", "part_number", name=op.f("uq_multipart_part_upload_id_part_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("multipart_part")
    with op.batch_alter_table("multipart_upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_multipart_upload_bucket_id"))
        batch_op.drop_index(batch_op.f("ix_multipart_upload_account_id"))
    op.drop_table("multipart_upload")
