"""ec2 network: generated key pairs' private-key SHA-1, security group VPCs, rule descriptions

Revision ID: 0006_ec2_network
Revises: 0005_network_rules
Create Date: 2026-11-21 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_ec2_network"
down_revision = "0005_network_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ssh_keypair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_key_sha1", sa.String(length=64), nullable=True))
    with op.batch_alter_table("security_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vpc_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("security_group_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_group_rule", schema=None) as batch_op:
        batch_op.drop_column("description")
    with op.batch_alter_table("security_group", schema=None) as batch_op:
        batch_op.drop_column("vpc_id")
    with op.batch_alter_table("ssh_keypair", schema=None) as batch_op:
        batch_op.drop_column("private_key_sha1")
