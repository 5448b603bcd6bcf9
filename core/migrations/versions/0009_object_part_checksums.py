"""object part checksums: each part's own checksum of a COMPOSITE multipart object

Revision ID: 0009_object_part_checksums
Revises: 0008_multipart_object
Create Date: 2026-11-22 01:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009_object_part_checksums"
down_revision = "0008_multipart_object"
branch_labels = None
depends_on = None

CHECKSUMS = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("object_parts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checksums", CHECKSUMS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("object_parts", schema=None) as batch_op:
        batch_op.drop_column("checksums")
