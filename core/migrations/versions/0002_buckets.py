"""buckets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 18:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bucket',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_bucket_account_id_account')),
    sa.ForeignKeyConstraint(['domain_id'], ['domain.id'], name=op.f('fk_bucket_domain_id_domain')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bucket')),
    sa.UniqueConstraint('name', name=op.f('uq_bucket_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_bucket_uuid'))
    )
    with op.batch_alter_table('bucket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bucket_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bucket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bucket_account_id'))

    op.drop_table('bucket')
