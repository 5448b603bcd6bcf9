"""bucket access: bucket and object ACLs, bucket policies

Revision ID: 0007_bucket_access
Revises: 0006_networks
Create Date: 2026-11-21 22:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_bucket_access"
down_revision = "0006_networks"
branch_labels = None
depends_on = None


def _bucket_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["bucket_id"], ["bucket.id"], name=op.f(f"fk_{table}_bucket_id_bucket"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "bucket_acl",
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("grants", sa.Text(), nullable=False),
        _bucket_fk("bucket_acl"),
        sa.PrimaryKeyConstraint("bucket_id", name=op.f("pk_bucket_acl")),
    )
    op.create_table(
        "bucket_policy",
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        _bucket_fk("bucket_policy"),
        sa.PrimaryKeyConstraint("bucket_id", name=op.f("pk_bucket_policy")),
    )
    op.create_table(
        "object_acl",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("owner_account_id", sa.Integer(), nullable=False),
        sa.Column("grants", sa.Text(), nullable=False),
        _bucket_fk("object_acl"),
        sa.ForeignKeyConstraint(
            ["owner_account_id"],
            ["account.id"],
            name=op.f("fk_object_acl_owner_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_acl")),
        sa.UniqueConstraint("bucket_id", "key_hash", name=op.f("uq_object_acl_bucket_id_key_hash")),
    )
    with op.batch_alter_table("object_acl", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_object_acl_owner_account_id"), ["owner_account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("object_acl", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_object_acl_owner_account_id"))
    op.drop_table("object_acl")
    op.drop_table("bucket_policy")
    op.drop_table("bucket_acl")
