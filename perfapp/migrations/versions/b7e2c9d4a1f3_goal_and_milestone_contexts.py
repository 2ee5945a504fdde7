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


def upgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('goal_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checkin_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_feedback_goal_id_goal', 'goal', ['goal_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_feedback_checkin_id_goal_checkin', 'goal_checkin', ['checkin_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_feedback_goal', ['goal_id'], unique=False)
        batch_op.create_index('ix_feedback_meeting', ['meeting_id'], unique=False)
    with op.batch_alter_table('flower_gift', schema=None) as batch_op:
        batch_op.add_column(sa.Column('milestone_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_flower_gift_milestone_id_milestone', 'milestone', ['milestone_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_flower_gift_milestone', ['milestone_id', 'created_at'], unique=False)
    with op.batch_alter_table('badge_award', schema=None) as batch_op:
        batch_op.add_column(sa.Column('milestone_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_badge_award_milestone_id_milestone', 'milestone', ['milestone_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_badge_award_milestone', ['milestone_id', 'created_at'], unique=False)
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rolled_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_goal_rolled_from_id_goal', 'goal', ['rolled_from_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_unique_constraint('uq_goal_rolled_from_id', ['rolled_from_id'])
    # A milestone's own badge (awarded by rule, source "milestone:<id>") is in its context too.
    bind = op.get_bind()
    awards = sa.table('badge_award', sa.column('milestone_id', sa.Integer), sa.column('source', sa.String))
    for (source,) in bind.execute(sa.select(awards.c.source).where(awards.c.source.like('milestone:%')).distinct()):
        number = source.split(':', 1)[1]
        if number.isdigit():
            bind.execute(awards.update().where(awards.c.source == source).values(milestone_id=int(number)))


def downgrade():
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_constraint('uq_goal_rolled_from_id', type_='unique')
        batch_op.drop_constraint('fk_goal_rolled_from_id_goal', type_='foreignkey')
        batch_op.drop_column('rolled_from_id')
    with op.batch_alter_table('badge_award', schema=None) as batch_op:
        batch_op.drop_index('ix_badge_award_milestone')
        batch_op.drop_constraint('fk_badge_award_milestone_id_milestone', type_='foreignkey')
        batch_op.drop_column('milestone_id')
    with op.batch_alter_table('flower_gift', schema=None) as batch_op:
        batch_op.drop_index('ix_flower_gift_milestone')
        batch_op.drop_constraint('fk_flower_gift_milestone_id_milestone', type_='foreignkey')
        batch_op.drop_column('milestone_id')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_meeting')
        batch_op.drop_index('ix_feedback_goal')
        batch_op.drop_constraint('fk_feedback_checkin_id_goal_checkin', type_='foreignkey')
        batch_op.drop_constraint('fk_feedback_goal_id_goal', type_='foreignkey')
        batch_op.drop_column('checkin_id')
        batch_op.drop_column('goal_id')
