"""Projects get an owner and members a role; peer reviews of a milestone's retrospective; indexes
for a project's and a milestone's feedback stream.

Revision ID: 26d450e5036b
Revises: 342f7264f03c
Create Date: 2026-12-04 05:41:23.801797

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '26d450e5036b'
down_revision = '342f7264f03c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('peer_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('reviewee_id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=True),
    sa.Column('delivered', sa.SmallInteger(), nullable=False),
    sa.Column('collaborated', sa.SmallInteger(), nullable=False),
    sa.Column('communicated', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewee_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('milestone_id', 'reviewer_id', 'reviewee_id', name='uq_peer_review_pair')
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_milestone_time', ['milestone_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_feedback_project_time', ['project_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_project_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key('fk_project_owner_id_person', 'person', ['owner_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('project_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=60), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('project_member', schema=None) as batch_op:
        batch_op.drop_column('role')

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_constraint('fk_project_owner_id_person', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_project_owner_id'))
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_project_time')
        batch_op.drop_index('ix_feedback_milestone_time')

    op.drop_table('peer_review')
