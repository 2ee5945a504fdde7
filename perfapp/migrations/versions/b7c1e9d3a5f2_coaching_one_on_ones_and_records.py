"""Coaching: 1:1 series, their meetings, shared agenda items, private notes, action items, and
formal records (promotion reviews, project retrospectives).

Revision ID: b7c1e9d3a5f2
Revises: b7e2c9d4a1f3
Create Date: 2026-12-04 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c1e9d3a5f2'
down_revision = 'b7e2c9d4a1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('one_on_one_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id')
    )
    op.create_table('one_on_one',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('nudged_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['one_on_one_series.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_one_on_one_series', 'one_on_one', ['series_id', 'done_at', 'scheduled_for'], unique=False)
    op.create_index('ix_one_on_one_nudge', 'one_on_one', ['nudged_at', 'scheduled_for'], unique=False)
    op.create_table('one_on_one_agenda',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=280), nullable=False),
    sa.Column('source_type', sa.String(length=16), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('discussed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['one_on_one.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_one_on_one_agenda_meeting_id'), 'one_on_one_agenda', ['meeting_id'], unique=False)
    op.create_table('one_on_one_private_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['one_on_one.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'author_id', name='uq_private_note_side')
    )
    op.create_index(op.f('ix_one_on_one_private_note_author_id'), 'one_on_one_private_note', ['author_id'], unique=False)
    op.create_table('one_on_one_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=280), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('carried', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['one_on_one.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['one_on_one_series.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_one_on_one_action_meeting_id'), 'one_on_one_action', ['meeting_id'], unique=False)
    op.create_index(op.f('ix_one_on_one_action_series_id'), 'one_on_one_action', ['series_id'], unique=False)
    op.create_table('formal_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('strengths', sa.Text(), nullable=False),
    sa.Column('growth', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('manager_signed_at', sa.DateTime(), nullable=True),
    sa.Column('manager_signed_by_id', sa.Integer(), nullable=True),
    sa.Column('hr_signed_at', sa.DateTime(), nullable=True),
    sa.Column('hr_signed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hr_signed_by_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['manager_signed_by_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_formal_record_author_id'), 'formal_record', ['author_id'], unique=False)
    op.create_index(op.f('ix_formal_record_person_id'), 'formal_record', ['person_id'], unique=False)
    op.create_index('ix_formal_record_state', 'formal_record', ['state', 'id'], unique=False)


def downgrade():
    op.drop_table('formal_record')
    op.drop_table('one_on_one_action')
    op.drop_table('one_on_one_private_note')
    op.drop_table('one_on_one_agenda')
    op.drop_table('one_on_one')
    op.drop_table('one_on_one_series')
