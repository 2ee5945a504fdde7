"""Goals get a record version: their cards (lists, the goal tree) are cached under it.

Revision ID: c3f8a2e6d9b1
Revises: 788384de2f77
Create Date: 2026-12-04 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3f8a2e6d9b1'
down_revision = '788384de2f77'
branch_labels = None
depends_on = None


def upgrade():
    # In place (ADD COLUMN with a constant default), no copy of the table on SQLite.
    op.add_column('goal', sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_column('version')
