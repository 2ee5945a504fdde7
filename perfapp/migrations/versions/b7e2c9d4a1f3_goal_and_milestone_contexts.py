"""Feedback can name the goal (and check-in) it was given on; flower gifts and badge awards the
milestone they were given at; a KPI carried into the next period names the one it came from.

Revision ID: b7e2c9d4a1f3
Revises: 4529bbe6da3c
Create Date: 2026-12-04 11:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e2c9d4a1f3'
down_revision = '4529bbe6da3c'
branch_labels = None
depends_on = None


def _reference(table, column, target):
    """A nullable column pointing at `target`, added in place: on SQLite a batch operation would copy
    the whole table (a million feedback rows take minutes), while ADD COLUMN ... REFERENCES doesn't
    (Alembic refuses the constraint there, so the statement is written out)."""
    name = f'fk_{table}_{column}_{target}'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER '
                   f'CONSTRAINT {name} REFERENCES {target} (id) ON DELETE SET NULL')
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ['id'], ondelete='SET NULL')


def upgrade():
    _reference('feedback', 'goal_id', 'goal')
    _reference('feedback', 'checkin_id', 'goal_checkin')
    op.create_index('ix_feedback_goal', 'feedback', ['goal_id'], unique=False)
    op.create_index('ix_feedback_meeting', 'feedback', ['meeting_id'], unique=False)
    _reference('flower_gift', 'milestone_id', 'milestone')
    op.create_index('ix_flower_gift_milestone', 'flower_gift', ['milestone_id', 'created_at'], unique=False)
    _reference('badge_award', 'milestone_id', 'milestone')
    op.create_index('ix_badge_award_milestone', 'badge_award', ['milestone_id', 'created_at'], unique=False)
    _reference('goal', 'rolled_from_id', 'goal')
    op.create_index('uq_goal_rolled_from_id', 'goal', ['rolled_from_id'], unique=True)
    # A milestone's own badge (awarded by rule, source "milestone:<id>") is in its context too.
    bind = op.get_bind()
    awards = sa.table('badge_award', sa.column('milestone_id', sa.Integer), sa.column('source', sa.String))
    for (source,) in bind.execute(sa.select(awards.c.source).where(awards.c.source.like('milestone:%')).distinct()):
        number = source.split(':', 1)[1]
        if number.isdigit():
            bind.execute(awards.update().where(awards.c.source == source).values(milestone_id=int(number)))


def downgrade():
    op.drop_index('uq_goal_rolled_from_id', table_name='goal')
    op.drop_index('ix_badge_award_milestone', table_name='badge_award')
    op.drop_index('ix_flower_gift_milestone', table_name='flower_gift')
    op.drop_index('ix_feedback_meeting', table_name='feedback')
    op.drop_index('ix_feedback_goal', table_name='feedback')
    for table, column, target in (('goal', 'rolled_from_id', 'goal'), ('badge_award', 'milestone_id', 'milestone'),
                                  ('flower_gift', 'milestone_id', 'milestone'), ('feedback', 'checkin_id', 'goal_checkin'),
                                  ('feedback', 'goal_id', 'goal')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_{column}_{target}', type_='foreignkey')
            batch_op.drop_column(column)
