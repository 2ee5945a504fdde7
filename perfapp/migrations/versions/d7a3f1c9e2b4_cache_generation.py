"""cache generation: a counter of committed changes for the page cache

Revision ID: d7a3f1c9e2b4
Revises: c4e1d2a7b9f0
Create Date: 2026-11-26 13:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'd7a3f1c9e2b4'
down_revision = 'c4e1d2a7b9f0'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'cache_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'n': 0}])


def downgrade():
    op.drop_table('cache_generation')
