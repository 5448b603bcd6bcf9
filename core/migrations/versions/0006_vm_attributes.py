"""VM attributes EC2 has and CloudStack lacks: termination and stop protection, the
instance-initiated shutdown behaviour, and which data disks go with their VM

Revision ID: 0006_vm_attributes
Revises: 0005_network_rules
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_vm_attributes"
down_revision = "0005_network_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vm_instance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "disable_api_termination", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("disable_api_stop", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "shutdown_behavior", sa.String(length=16), nullable=False, server_default="stop"
            )
        )
    with op.batch_alter_table("volume", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "delete_on_termination", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("volume", schema=None) as batch_op:
        batch_op.drop_column("delete_on_termination")
    with op.batch_alter_table("vm_instance", schema=None) as batch_op:
        batch_op.drop_column("shutdown_behavior")
        batch_op.drop_column("disable_api_stop")
        batch_op.drop_column("disable_api_termination")
