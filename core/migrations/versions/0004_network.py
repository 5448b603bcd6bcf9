"""public IPs and static NAT, security groups, SSH key pairs

Revision ID: 0004_network
Revises: 0003_tags
Create Date: 2026-11-21 19:00:00
"""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004_network"
down_revision = "0003_tags"
branch_labels = None
depends_on = None


def _id_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "ssh_keypair",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_ssh_keypair_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_ssh_keypair_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssh_keypair")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_ssh_keypair_account_id_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_ssh_keypair_uuid")),
    )
    op.create_index(op.f("ix_ssh_keypair_domain_id"), "ssh_keypair", ["domain_id"])

    op.create_table(
        "security_group",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=4096), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_security_group_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_security_group_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_group")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_security_group_account_id_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_security_group_uuid")),
    )
    op.create_index(op.f("ix_security_group_domain_id"), "security_group", ["domain_id"])

    op.create_table(
        "security_group_rule",
        sa.Column("security_group_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("start_port", sa.Integer(), nullable=True),
        sa.Column("end_port", sa.Integer(), nullable=True),
        sa.Column("icmp_type", sa.Integer(), nullable=True),
        sa.Column("icmp_code", sa.Integer(), nullable=True),
        sa.Column("cidr", sa.String(length=64), nullable=True),
        sa.Column("allowed_group_id", sa.Integer(), nullable=True),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["security_group_id"],
            ["security_group.id"],
            name=op.f("fk_security_group_rule_security_group_id_security_group"),
        ),
        sa.ForeignKeyConstraint(
            ["allowed_group_id"],
            ["security_group.id"],
            name=op.f("fk_security_group_rule_allowed_group_id_security_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_group_rule")),
        sa.UniqueConstraint("uuid", name=op.f("uq_security_group_rule_uuid")),
    )
    op.create_index(
        op.f("ix_security_group_rule_security_group_id"),
        "security_group_rule",
        ["security_group_id"],
    )
    op.create_index(
        op.f("ix_security_group_rule_allowed_group_id"),
        "security_group_rule",
        ["allowed_group_id"],
    )

    op.create_table(
        "security_group_vm_map",
        sa.Column("security_group_id", sa.Integer(), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["security_group_id"],
            ["security_group.id"],
            name=op.f("fk_security_group_vm_map_security_group_id_security_group"),
        ),
        sa.ForeignKeyConstraint(
            ["vm_id"], ["vm_instance.id"], name=op.f("fk_security_group_vm_map_vm_id_vm_instance")
        ),
        sa.PrimaryKeyConstraint(
            "security_group_id", "vm_id", name=op.f("pk_security_group_vm_map")
        ),
    )

    op.create_table(
        "vlan",
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("vlan_tag", sa.String(length=255), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("netmask", sa.String(length=64), nullable=False),
        sa.Column("start_ip", sa.String(length=64), nullable=False),
        sa.Column("end_ip", sa.String(length=64), nullable=False),
        sa.Column("for_virtual_network", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        *_id_columns(),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_vlan_zone_id_zone")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_vlan_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_vlan_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vlan")),
        sa.UniqueConstraint("uuid", name=op.f("uq_vlan_uuid")),
    )
    op.create_index(op.f("ix_vlan_zone_id"), "vlan", ["zone_id"])

    op.create_table(
        "user_ip_address",
        sa.Column("vlan_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("allocated", core.db.UTCDateTime(), nullable=True),
        sa.Column("is_source_nat", sa.Boolean(), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=True),
        sa.Column("vm_ip", sa.String(length=64), nullable=True),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["vlan_id"], ["vlan.id"], name=op.f("fk_user_ip_address_vlan_id_vlan")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zone.id"], name=op.f("fk_user_ip_address_zone_id_zone")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_user_ip_address_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_user_ip_address_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["vm_id"], ["vm_instance.id"], name=op.f("fk_user_ip_address_vm_id_vm_instance")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_ip_address")),
        sa.UniqueConstraint("uuid", name=op.f("uq_user_ip_address_uuid")),
        sa.UniqueConstraint("vm_id", name=op.f("uq_user_ip_address_vm_id")),
        sa.UniqueConstraint("zone_id", "address", name=op.f("uq_user_ip_address_zone_id_address")),
    )
    op.create_index(op.f("ix_user_ip_address_vlan_id"), "user_ip_address", ["vlan_id"])
    op.create_index(op.f("ix_user_ip_address_account_id"), "user_ip_address", ["account_id"])
    op.create_index("ix_user_ip_address_pick", "user_ip_address", ["zone_id", "state"])

    _default_groups_for_existing_accounts()


def _default_groups_for_existing_accounts() -> None:
    """Every account owns a "default" security group; give existing ones theirs."""
    connection = op.get_bind()
    accounts = connection.execute(
        sa.text("SELECT id, domain_id FROM account WHERE removed IS NULL")
    ).all()
    groups = sa.table(
        "security_group",
        sa.column("uuid", sa.String),
        sa.column("created", sa.DateTime),
        sa.column("name", sa.String),
        sa.column("description", sa.String),
        sa.column("account_id", sa.Integer),
        sa.column("domain_id", sa.Integer),
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [
        {
            "uuid": str(uuid.uuid4()),
            "created": now,
            "name": "default",
            "description": "Default Security Group",
            "account_id": account_id,
            "domain_id": domain_id,
        }
        for account_id, domain_id in accounts
    ]
    if rows:
        op.bulk_insert(groups, rows)


def downgrade() -> None:
    op.drop_table("user_ip_address")
    op.drop_table("vlan")
    op.drop_table("security_group_vm_map")
    op.drop_table("security_group_rule")
    op.drop_table("security_group")
    op.drop_table("ssh_keypair")
