"""infrastructure and offerings: custom offering ranges, storage tags, zones of offerings,
network offerings

Revision ID: 0004_infra
Revises: 0003_tags
"""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004_infra"
down_revision = "0003_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_offering", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_cpu_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_cpu_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("min_memory_mb", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_memory_mb", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("storage_tags", sa.String(length=1024), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_service_offering_zone_id_zone"), "zone", ["zone_id"], ["id"]
        )
    with op.batch_alter_table("disk_offering", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_size_gb", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_size_gb", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_disk_offering_zone_id_zone"), "zone", ["zone_id"], ["id"]
        )
    network_offering = op.create_table(
        "network_offering",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_text", sa.String(length=4096), nullable=False),
        sa.Column("guest_ip_type", sa.String(length=16), nullable=False),
        sa.Column("traffic_type", sa.String(length=16), nullable=False),
        sa.Column("services", sa.String(length=2048), nullable=False),
        sa.Column("specify_vlan", sa.Boolean(), nullable=False),
        sa.Column("specify_ip_ranges", sa.Boolean(), nullable=False),
        sa.Column("conserve_mode", sa.Boolean(), nullable=False),
        sa.Column("egress_default_policy", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_persistent", sa.Boolean(), nullable=False),
        sa.Column("for_vpc", sa.Boolean(), nullable=False),
        sa.Column("availability", sa.String(length=16), nullable=False),
        sa.Column("network_rate", sa.Integer(), nullable=True),
        sa.Column("tags", sa.String(length=1024), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_offering")),
        sa.UniqueConstraint("name", name=op.f("uq_network_offering_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_network_offering_uuid")),
    )
    _seed_network_offerings(network_offering)


def _seed_network_offerings(table: sa.Table) -> None:
    """CloudStack's default network offerings, as of this revision (a snapshot: later
    changes to core.offerings.DEFAULT_NETWORK_OFFERINGS are not retroactive)."""
    from core.offerings import DEFAULT_NETWORK_OFFERINGS, _services_text

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for name, text, guest_type, specify_vlan, services in DEFAULT_NETWORK_OFFERINGS:
        rows.append(
            {
                "uuid": str(uuid.uuid4()),
                "created": now,
                "name": name,
                "display_text": text,
                "guest_ip_type": guest_type,
                "traffic_type": "Guest",
                "services": _services_text(services),
                "specify_vlan": specify_vlan,
                "specify_ip_ranges": guest_type == "Shared",
                "conserve_mode": True,
                "egress_default_policy": True,
                "is_default": True,
                "is_persistent": False,
                "for_vpc": "Vpc" in name,
                "availability": "Required"
                if "SourceNat" in name and "Vpc" not in name
                else "Optional",
                "network_rate": None,
                "tags": "",
                "state": "Active",
                "removed": None,
            }
        )
    op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("network_offering")
    with op.batch_alter_table("disk_offering", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_disk_offering_zone_id_zone"), type_="foreignkey")
        batch_op.drop_column("zone_id")
        batch_op.drop_column("max_size_gb")
        batch_op.drop_column("min_size_gb")
    with op.batch_alter_table("service_offering", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_service_offering_zone_id_zone"), type_="foreignkey")
        batch_op.drop_column("zone_id")
        batch_op.drop_column("storage_tags")
        batch_op.drop_column("max_memory_mb")
        batch_op.drop_column("min_memory_mb")
        batch_op.drop_column("max_cpu_number")
        batch_op.drop_column("min_cpu_number")
