"""stories and customer praise can be reported (hidden)

Revision ID: c4e1d2a7b9f0
Revises: 9eb9f250bed1
Create Date: 2026-11-27 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e1d2a7b9f0'
down_revision = '9eb9f250bed1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('customer_praise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('customer_praise', schema=None) as batch_op:
        batch_op.drop_column('hidden')
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.drop_column('hidden')
