"""resource details: name/value pairs a front end keeps about a resource

Revision ID: 0006_resource_details
Revises: 0005_network_rules
Create Date: 2026-11-21 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_resource_details"
down_revision = "0005_network_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_detail",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "resource_type", "resource_id", "name", name=op.f("pk_resource_detail")
        ),
    )


def downgrade() -> None:
    op.drop_table("resource_detail")
