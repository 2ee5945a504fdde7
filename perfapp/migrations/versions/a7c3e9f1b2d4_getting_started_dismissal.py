"""getting started cards: who hid them

Revision ID: a7c3e9f1b2d4
Revises: f1a9d3e7c5b2
Create Date: 2026-12-04 02:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9f1b2d4'
down_revision = 'f1a9d3e7c5b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'getting_started_dismissal',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('dismissed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('person_id'),
    )


def downgrade():
    op.drop_table('getting_started_dismissal')
