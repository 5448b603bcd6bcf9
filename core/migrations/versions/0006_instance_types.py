"""instance types: operator-assigned names (t2.micro …) for service offerings

Revision ID: 0006_instance_types
Revises: 0005_network_rules
Create Date: 2026-11-21 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006_instance_types"
down_revision = "0005_network_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_type",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("service_offering_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_offering_id"],
            ["service_offering.id"],
            name=op.f("fk_instance_type_service_offering_id_service_offering"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_type")),
        sa.UniqueConstraint("name", name=op.f("uq_instance_type_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_instance_type_uuid")),
    )
    op.create_index(
        op.f("ix_instance_type_service_offering_id"), "instance_type", ["service_offering_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_instance_type_service_offering_id"), table_name="instance_type")
    op.drop_table("instance_type")
