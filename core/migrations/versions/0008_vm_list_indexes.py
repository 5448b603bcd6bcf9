"""VM list indexes: live VMs of an account, and of the cloud, counted and paged from an index
(listVirtualMachines at 100k VMs)

Revision ID: 0008_vm_list_indexes
Revises: 0006_vm_attributes
Create Date: 2026-11-22 00:25:00
"""

from alembic import op

revision = "0008_vm_list_indexes"
down_revision = "0006_vm_attributes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_vm_instance_account_removed", "vm_instance", ["account_id", "removed"])
    op.create_index("ix_vm_instance_removed", "vm_instance", ["removed"])


def downgrade() -> None:
    op.drop_index("ix_vm_instance_removed", table_name="vm_instance")
    op.drop_index("ix_vm_instance_account_removed", table_name="vm_instance")
