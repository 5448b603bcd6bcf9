"""snapshot objects: the SHA-256 of a snapshot's backup object in secondary storage

Revision ID: 0008_snapshot_objects
Revises: 0004_volumes
Create Date: 2026-11-22 00:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_snapshot_objects"
down_revision = "0004_volumes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checksum", sa.String(length=80), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.drop_column("checksum")
