"""networks: VPCs, guest networks and NICs

Revision ID: 0006_networks
Revises: 0005_network_rules
Create Date: 2026-11-21 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006_networks"
down_revision = "0005_network_rules"
branch_labels = None
# zone and network_offering come from 0004_infra, vm_instance from 0004_vms
depends_on = ("0004_infra", "0004_vms")


def upgrade() -> None:
    op.create_table(
        "vpc",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_text", sa.String(length=255), nullable=False),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("network_domain", sa.String(length=255), nullable=False),
        sa.Column("vpc_offering", sa.String(length=255), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_key", sa.String(length=64), nullable=True),
        sa.Column("dns_support", sa.Boolean(), nullable=False),
        sa.Column("dns_hostnames", sa.Boolean(), nullable=False),
        sa.Column("tenancy", sa.String(length=16), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_vpc_account_id_account")
        ),
        sa.ForeignKeyConstraint(["domain_id"], ["domain.id"], name=op.f("fk_vpc_domain_id_domain")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_vpc_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vpc")),
        sa.UniqueConstraint("default_key", name=op.f("uq_vpc_default_key")),
        sa.UniqueConstraint("uuid", name=op.f("uq_vpc_uuid")),
    )
    op.create_index(op.f("ix_vpc_account_id"), "vpc", ["account_id"], unique=False)
    op.create_index(op.f("ix_vpc_domain_id"), "vpc", ["domain_id"], unique=False)
    op.create_index(op.f("ix_vpc_zone_id"), "vpc", ["zone_id"], unique=False)
    op.create_table(
        "network",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_text", sa.String(length=255), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("network_offering_id", sa.Integer(), nullable=False),
        sa.Column("vpc_id", sa.Integer(), nullable=True),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("netmask", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("traffic_type", sa.String(length=16), nullable=False),
        sa.Column("guest_type", sa.String(length=16), nullable=False),
        sa.Column("network_domain", sa.String(length=255), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_key", sa.String(length=64), nullable=True),
        sa.Column("map_public_ip", sa.Boolean(), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_network_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_network_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["network_offering_id"],
            ["network_offering.id"],
            name=op.f("fk_network_network_offering_id_network_offering"),
        ),
        sa.ForeignKeyConstraint(["vpc_id"], ["vpc.id"], name=op.f("fk_network_vpc_id_vpc")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_network_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network")),
        sa.UniqueConstraint("default_key", name=op.f("uq_network_default_key")),
        sa.UniqueConstraint("uuid", name=op.f("uq_network_uuid")),
    )
    op.create_index(op.f("ix_network_account_id"), "network", ["account_id"], unique=False)
    op.create_index(op.f("ix_network_domain_id"), "network", ["domain_id"], unique=False)
    op.create_index(op.f("ix_network_vpc_id"), "network", ["vpc_id"], unique=False)
    op.create_index(op.f("ix_network_zone_id"), "network", ["zone_id"], unique=False)
    op.create_table(
        "nic",
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"], ["network.id"], name=op.f("fk_nic_network_id_network")
        ),
        sa.ForeignKeyConstraint(
            ["vm_id"], ["vm_instance.id"], name=op.f("fk_nic_vm_id_vm_instance")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nic")),
        sa.UniqueConstraint("network_id", "ip_address", name=op.f("uq_nic_network_id_ip_address")),
        sa.UniqueConstraint("network_id", "vm_id", name=op.f("uq_nic_network_id_vm_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_nic_uuid")),
    )
    op.create_index(op.f("ix_nic_network_id"), "nic", ["network_id"], unique=False)
    op.create_index(op.f("ix_nic_vm_id"), "nic", ["vm_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_nic_vm_id"), table_name="nic")
    op.drop_index(op.f("ix_nic_network_id"), table_name="nic")
    op.drop_table("nic")
    for column in ("zone_id", "vpc_id", "domain_id", "account_id"):
        op.drop_index(op.f(f"ix_network_{column}"), table_name="network")
    op.drop_table("network")
    for column in ("zone_id", "domain_id", "account_id"):
        op.drop_index(op.f(f"ix_vpc_{column}"), table_name="vpc")
    op.drop_table("vpc")
