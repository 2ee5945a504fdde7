"""A manager's reports in name order use one index (manager, sort key): with only the manager
index, SQLite chose the (active, sort key) one and read all 10,000 people for a profile.

Revision ID: c9e3a5b7d2f4
Revises: b8d2f4a6c1e3
"""
from alembic import op

revision = "c9e3a5b7d2f4"
down_revision = "b8d2f4a6c1e3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_person_manager_sort", "person", ["manager_id", "sort_key", "id"])
    op.drop_index("ix_person_manager_id", table_name="person")


def downgrade():
    op.create_index("ix_person_manager_id", "person", ["manager_id"])
    op.drop_index("ix_person_manager_sort", table_name="person")
