"""network rules: firewall, port forwarding and IP forwarding rules

Revision ID: 0005_network_rules
Revises: 0004_network
Create Date: 2026-11-21 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0005_network_rules"
down_revision = "0004_network"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "firewall_rule",
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ip_address_id", sa.Integer(), nullable=False),
        sa.Column("ip_allocated", core.db.UTCDateTime(), nullable=True),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("start_port", sa.Integer(), nullable=True),
        sa.Column("end_port", sa.Integer(), nullable=True),
        sa.Column("icmp_type", sa.Integer(), nullable=True),
        sa.Column("icmp_code", sa.Integer(), nullable=True),
        sa.Column("cidr_list", sa.String(length=4096), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=True),
        sa.Column("private_start_port", sa.Integer(), nullable=True),
        sa.Column("private_end_port", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_firewall_rule_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_firewall_rule_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["ip_address_id"],
            ["user_ip_address.id"],
            name=op.f("fk_firewall_rule_ip_address_id_user_ip_address"),
        ),
        sa.ForeignKeyConstraint(
            ["vm_id"], ["vm_instance.id"], name=op.f("fk_firewall_rule_vm_id_vm_instance")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firewall_rule")),
        sa.UniqueConstraint("uuid", name=op.f("uq_firewall_rule_uuid")),
    )
    op.create_index(op.f("ix_firewall_rule_account_id"), "firewall_rule", ["account_id"])
    op.create_index(op.f("ix_firewall_rule_ip_address_id"), "firewall_rule", ["ip_address_id"])
    op.create_index(op.f("ix_firewall_rule_vm_id"), "firewall_rule", ["vm_id"])


def downgrade() -> None:
    op.drop_table("firewall_rule")
