"""installation secrets: the EC2 id key becomes a random secret of its own

An existing installation keeps the key it used so far (an HMAC of the ROOT domain's uuid), so
that its EC2 ids do not change; a new one gets a random key at first start (core.installation).

Revision ID: 0007_installation_key
Revises: 0006_networks
"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0007_installation_key"
down_revision = "0006_networks"
branch_labels = None
depends_on = None

EC2_ID_KEY = "ec2-id-key"
LEGACY_LABEL = b"cloudgate/ec2-ids/v1"  # the derivation used before this revision (frozen)


def upgrade() -> None:
    secrets = op.create_table(
        "installation_secret",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation_secret")),
    )
    domain = sa.table("domain", sa.column("uuid", sa.String), sa.column("parent_id", sa.Integer))
    root_uuid = op.get_bind().scalar(sa.select(domain.c.uuid).where(domain.c.parent_id.is_(None)))
    if root_uuid is not None:  # an installation that already gave out EC2 ids
        key = hmac.new(LEGACY_LABEL, root_uuid.encode(), hashlib.sha256).hexdigest()
        op.bulk_insert(secrets, [{"name": EC2_ID_KEY, "value": key}])


def downgrade() -> None:
    op.drop_table("installation_secret")
