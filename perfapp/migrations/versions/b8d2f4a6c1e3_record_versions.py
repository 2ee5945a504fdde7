"""Record versions on the rows shown as cards; the global change counter goes.

Cards are cached by (kind, id, version, ...) (perfapp.core.cards); every write used to bump one
row (cache_generation), which dropped every cached page and made PostgreSQL's writers queue.

Revision ID: b8d2f4a6c1e3
Revises: 26d450e5036b
"""
import sqlalchemy as sa
from alembic import op

revision = "b8d2f4a6c1e3"
down_revision = "26d450e5036b"
branch_labels = None
depends_on = None

TABLES = ("feedback", "flower_gift", "badge_award")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.drop_table("cache_generation")


def downgrade():
    op.create_table("cache_generation", sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("n", sa.BigInteger(), nullable=True), sa.PrimaryKeyConstraint("id"))
    op.execute("INSERT INTO cache_generation (id, n) VALUES (1, 0)")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
