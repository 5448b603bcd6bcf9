"""virtual machine operations: group, keyboard, guest OS, details, dynamic scaling; VM snapshots

Revision ID: 0004_vms
Revises: 0003_tags
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004_vms"
down_revision = "0003_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vm_instance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vm_group", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("keyboard", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("guest_os", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("details_json", sa.Text(), nullable=False, server_default="{}")
        )
        batch_op.add_column(
            sa.Column(
                "dynamically_scalable", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "vm_snapshot",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("snapshot_type", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("hypervisor", sa.String(length=32), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_vm_snapshot_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_vm_snapshot_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["vm_snapshot.id"], name=op.f("fk_vm_snapshot_parent_id_vm_snapshot")
        ),
        sa.ForeignKeyConstraint(
            ["vm_id"], ["vm_instance.id"], name=op.f("fk_vm_snapshot_vm_id_vm_instance")
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_vm_snapshot_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vm_snapshot")),
        sa.UniqueConstraint("uuid", name=op.f("uq_vm_snapshot_uuid")),
    )
    with op.batch_alter_table("vm_snapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vm_snapshot_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vm_snapshot_vm_id"), ["vm_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vm_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vm_snapshot_vm_id"))
        batch_op.drop_index(batch_op.f("ix_vm_snapshot_domain_id"))
    op.drop_table("vm_snapshot")
    with op.batch_alter_table("vm_instance", schema=None) as batch_op:
        batch_op.drop_column("dynamically_scalable")
        batch_op.drop_column("details_json")
        batch_op.drop_column("guest_os")
        batch_op.drop_column("keyboard")
        batch_op.drop_column("vm_group")
