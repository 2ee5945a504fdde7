"""Indexes for the tag profile and the people picker.

Both are covering indexes: tag_profile filters someone's received feedback on
visibility/author and joins on id; search_people ranks people on search_key and name.

Revision ID: a15dea639014
Revises: 955289cfbc3c
Create Date: 2026-11-26 09:40:59.664454

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a15dea639014'
down_revision = '955289cfbc3c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_feedback_recipient_visibility', 'feedback',
                    ['recipient_id', 'visibility', 'author_id', 'id'], unique=False)
    op.create_index('ix_person_search', 'person', ['active', 'search_key', 'name', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_person_search', table_name='person')
    op.drop_index('ix_feedback_recipient_visibility', table_name='feedback')
