"""templates, ISOs and OS types: guest OS list, per-zone template copies, launch permissions,
VM ⇄ ISO links, and the template columns registerTemplate needs

Revision ID: 0004_templates
Revises: 0003_tags
"""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

import core.db
from core.os_types import SEED

revision = "0004_templates"
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
    category = op.create_table(
        "guest_os_category",
        sa.Column("name", sa.String(length=255), nullable=False),
        *_id_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_os_category")),
        sa.UniqueConstraint("name", name=op.f("uq_guest_os_category_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_guest_os_category_uuid")),
    )
    guest_os = op.create_table(
        "guest_os",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("is_user_defined", sa.Boolean(), nullable=False),
        sa.Column("display", sa.Boolean(), nullable=False),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["guest_os_category.id"],
            name=op.f("fk_guest_os_category_id_guest_os_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_os")),
        sa.UniqueConstraint("uuid", name=op.f("uq_guest_os_uuid")),
    )
    op.create_index(op.f("ix_guest_os_category_id"), "guest_os", ["category_id"])
    op.create_index(op.f("ix_guest_os_display_name"), "guest_os", ["display_name"])

    op.create_table(
        "template_zone_ref",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("download_state", sa.String(length=32), nullable=False),
        sa.Column("download_pct", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("install_path", sa.String(length=1024), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["vm_template.id"],
            name=op.f("fk_template_zone_ref_template_id_vm_template"),
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zone.id"], name=op.f("fk_template_zone_ref_zone_id_zone")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_zone_ref")),
        sa.UniqueConstraint(
            "template_id", "zone_id", name=op.f("uq_template_zone_ref_template_id_zone_id")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_template_zone_ref_uuid")),
    )
    op.create_index(op.f("ix_template_zone_ref_zone_id"), "template_zone_ref", ["zone_id"])

    op.create_table(
        "launch_permission",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_launch_permission_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["vm_template.id"],
            name=op.f("fk_launch_permission_template_id_vm_template"),
        ),
        sa.PrimaryKeyConstraint("template_id", "account_id", name=op.f("pk_launch_permission")),
    )

    op.create_table(
        "vm_iso",
        sa.Column("vm_id", sa.Integer(), nullable=False),
        sa.Column("iso_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["iso_id"], ["vm_template.id"], name=op.f("fk_vm_iso_iso_id_vm_template")
        ),
        sa.ForeignKeyConstraint(
            ["vm_id"], ["vm_instance.id"], name=op.f("fk_vm_iso_vm_id_vm_instance")
        ),
        sa.PrimaryKeyConstraint("vm_id", name=op.f("pk_vm_iso")),
    )
    op.create_index(op.f("ix_vm_iso_iso_id"), "vm_iso", ["iso_id"])

    # Plain ADD COLUMNs (no table rebuild): every NOT NULL column has a server default.
    op.add_column("vm_template", sa.Column("os_type_id", sa.Integer(), nullable=True))
    for name, default in (
        ("is_extractable", sa.false()),
        ("requires_hvm", sa.true()),
        ("sshkey_enabled", sa.false()),
        ("dynamically_scalable", sa.false()),
    ):
        op.add_column(
            "vm_template", sa.Column(name, sa.Boolean(), nullable=False, server_default=default)
        )
    op.add_column(
        "vm_template", sa.Column("sort_key", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "vm_template", sa.Column("details", sa.Text(), nullable=False, server_default="{}")
    )
    op.add_column("vm_template", sa.Column("source_volume_id", sa.Integer(), nullable=True))

    _seed(category, guest_os)


def _seed(category: sa.Table, guest_os: sa.Table) -> None:
    """CloudStack's guest OS names (a subset); existing templates get their OS type id."""
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for category_id, (category_name, names) in enumerate(SEED.items(), start=1):
        connection.execute(
            category.insert().values(
                id=category_id, name=category_name, uuid=str(uuid.uuid4()), created=now
            )
        )
        connection.execute(
            guest_os.insert(),
            [
                {
                    "category_id": category_id,
                    "display_name": name,
                    "is_user_defined": False,
                    "display": True,
                    "uuid": str(uuid.uuid4()),
                    "created": now,
                }
                for name in names
            ],
        )
    connection.execute(
        sa.text(
            "UPDATE vm_template SET os_type_id = (SELECT MIN(guest_os.id) FROM guest_os "
            "WHERE guest_os.display_name = vm_template.os_type) WHERE os_type_id IS NULL"
        )
    )


def downgrade() -> None:
    for name in (
        "source_volume_id",
        "details",
        "sort_key",
        "dynamically_scalable",
        "sshkey_enabled",
        "requires_hvm",
        "is_extractable",
        "os_type_id",
    ):
        with op.batch_alter_table("vm_template", schema=None) as batch_op:
            batch_op.drop_column(name)
    op.drop_index(op.f("ix_vm_iso_iso_id"), table_name="vm_iso")
    op.drop_table("vm_iso")
    op.drop_table("launch_permission")
    op.drop_index(op.f("ix_template_zone_ref_zone_id"), table_name="template_zone_ref")
    op.drop_table("template_zone_ref")
    op.drop_index(op.f("ix_guest_os_display_name"), table_name="guest_os")
    op.drop_index(op.f("ix_guest_os_category_id"), table_name="guest_os")
    op.drop_table("guest_os")
    op.drop_table("guest_os_category")
