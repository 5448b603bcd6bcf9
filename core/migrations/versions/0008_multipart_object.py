"""multipart object details: what CreateMultipartUpload gives the object, and part sizes

Revision ID: 0008_multipart_object
Revises: 0007_multipart
Create Date: 2026-11-22 00:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008_multipart_object"
down_revision = "0007_multipart"
branch_labels = None
depends_on = None

KEY = sa.LargeBinary(length=1024).with_variant(mysql.VARBINARY(length=1024), "mysql", "mariadb")
SIZES = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("multipart_upload", schema=None) as batch_op:
        batch_op.add_column(sa.Column("system_metadata", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("grants", sa.Text(), nullable=True))
    op.create_table(
        "object_parts",
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("sizes", SIZES, nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["bucket.id"],
            name=op.f("fk_object_parts_bucket_id_bucket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bucket_id", "key", "version_id", name=op.f("pk_object_parts")),
    )


def downgrade() -> None:
    op.drop_table("object_parts")
    with op.batch_alter_table("multipart_upload", schema=None) as batch_op:
        batch_op.drop_column("grants")
        batch_op.drop_column("tags")
        batch_op.drop_column("system_metadata")
