"""alerts, usage records and windows, domain resource limits

Revision ID: 0004_usage
Revises: 0003_tags
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004_usage"
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
        "alert",
        sa.Column("alert_type", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=999), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("pod_id", sa.Integer(), nullable=True),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.Column("last_sent", core.db.UTCDateTime(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        *_id_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alert_dedupe_key")),
        sa.UniqueConstraint("uuid", name=op.f("uq_alert_uuid")),
    )
    op.create_index(op.f("ix_alert_alert_type"), "alert", ["alert_type"], unique=False)

    op.create_table(
        "usage_record",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("usage_type", sa.Integer(), nullable=False),
        sa.Column("usage_id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=False),
        sa.Column("raw_usage", sa.Float(), nullable=False),
        sa.Column("vm_uuid", sa.String(length=36), nullable=True),
        sa.Column("vm_name", sa.String(length=255), nullable=True),
        sa.Column("offering_uuid", sa.String(length=36), nullable=True),
        sa.Column("template_uuid", sa.String(length=36), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("start_date", core.db.UTCDateTime(), nullable=False),
        sa.Column("end_date", core.db.UTCDateTime(), nullable=False),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_usage_record_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_usage_record_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_record")),
        sa.UniqueConstraint(
            "usage_type",
            "usage_id",
            "account_id",
            "start_date",
            name=op.f("uq_usage_record_usage_type_usage_id_account_id_start_date"),
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_usage_record_uuid")),
    )
    op.create_index(
        op.f("ix_usage_record_account_id"), "usage_record", ["account_id"], unique=False
    )
    op.create_index(
        "ix_usage_record_window", "usage_record", ["start_date", "end_date"], unique=False
    )

    op.create_table(
        "usage_window",
        sa.Column("start_date", core.db.UTCDateTime(), nullable=False),
        sa.Column("end_date", core.db.UTCDateTime(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("generated", core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("start_date", name=op.f("pk_usage_window")),
    )

    op.create_table(
        "domain_resource_limit",
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("max", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_domain_resource_limit_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint(
            "domain_id", "resource_type", name=op.f("pk_domain_resource_limit")
        ),
    )


def downgrade() -> None:
    op.drop_table("domain_resource_limit")
    op.drop_table("usage_window")
    op.drop_index("ix_usage_record_window", table_name="usage_record")
    op.drop_index(op.f("ix_usage_record_account_id"), table_name="usage_record")
    op.drop_table("usage_record")
    op.drop_index(op.f("ix_alert_alert_type"), table_name="alert")
    op.drop_table("alert")
