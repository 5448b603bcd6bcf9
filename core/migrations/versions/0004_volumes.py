"""volumes: attach time, snapshots, snapshot policies

Revision ID: 0004_volumes
Revises: 0003_tags
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004_volumes"
down_revision = "0003_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volume", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attached", core.db.UTCDateTime(), nullable=True))

    op.create_table(
        "snapshot",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("volume_id", sa.Integer(), nullable=False),
        sa.Column("volume_type", sa.String(length=16), nullable=False),
        sa.Column("snapshot_type", sa.String(length=16), nullable=False),
        sa.Column("interval_type", sa.String(length=16), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("physical_size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_snapshot_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_snapshot_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["volume_id"], ["volume.id"], name=op.f("fk_snapshot_volume_id_volume")
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_snapshot_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot")),
        sa.UniqueConstraint("uuid", name=op.f("uq_snapshot_uuid")),
    )
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshot_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_snapshot_policy_id"), ["policy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_snapshot_volume_id"), ["volume_id"], unique=False)

    op.create_table(
        "snapshot_policy",
        sa.Column("volume_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("interval_type", sa.String(length=16), nullable=False),
        sa.Column("schedule", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("max_snaps", sa.Integer(), nullable=False),
        sa.Column("display", sa.Boolean(), nullable=False),
        sa.Column("next_run", core.db.UTCDateTime(), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_snapshot_policy_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_snapshot_policy_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_snapshot_policy_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["volume_id"], ["volume.id"], name=op.f("fk_snapshot_policy_volume_id_volume")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_policy")),
        sa.UniqueConstraint("uuid", name=op.f("uq_snapshot_policy_uuid")),
    )
    with op.batch_alter_table("snapshot_policy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_snapshot_policy_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_snapshot_policy_next_run"), ["next_run"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_snapshot_policy_volume_id"), ["volume_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("snapshot_policy")
    op.drop_table("snapshot")
    with op.batch_alter_table("volume", schema=None) as batch_op:
        batch_op.drop_column("attached")
