"""A stored sort key on person: people lists order Chinese names by pinyin.

sort_key is what every people list orders by (perfapp.people.models.sort_key_for): 李娜 sorts
as "li na", between Lewis and Lin. Byte order ("C" collation) on PostgreSQL, whose language
collations skip spaces. The picker's covering index ranks on it instead of the raw name.

Revision ID: b3d7f2a9c1e6
Revises: a7c3e9f1b2d4
Create Date: 2026-12-04 05:50:00

"""
import unicodedata

from alembic import op
from pypinyin import lazy_pinyin
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d7f2a9c1e6'
down_revision = 'a7c3e9f1b2d4'
branch_labels = None
depends_on = None

SORT_KEY = sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql")


def sort_key_for(name):
    """perfapp.people.models.sort_key_for as of this revision."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.strip()) if not unicodedata.combining(c))
    return " ".join(lazy_pinyin(plain, errors="default")).lower()[:200]


def upgrade():
    # Added with a default instead of batch-altering: on SQLite a batch rebuild drops the person
    # table, and its ON DELETE CASCADE foreign keys would empty other tables (see the audit log's).
    op.add_column('person', sa.Column('sort_key', SORT_KEY, nullable=False, server_default=''))
    person = sa.table('person', sa.column('id', sa.Integer), sa.column('name', sa.String),
                      sa.column('sort_key', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(person.c.id, person.c.name)).all()
    for start in range(0, len(rows), 1000):
        bind.execute(person.update().where(person.c.id == sa.bindparam('pid')).values(sort_key=sa.bindparam('key')),
                     [{'pid': pid, 'key': sort_key_for(name or '')} for pid, name in rows[start:start + 1000]])
    if bind.dialect.name == 'postgresql':  # SQLite can't drop a default without a rebuild; the app always sets one
        op.alter_column('person', 'sort_key', server_default=None)
    op.drop_index('ix_person_active_name', table_name='person')
    op.drop_index('ix_person_search', table_name='person')
    op.create_index('ix_person_active_sort', 'person', ['active', 'sort_key', 'id'], unique=False)
    op.create_index('ix_person_search', 'person', ['active', 'search_key', 'sort_key', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_person_search', table_name='person')
    op.drop_index('ix_person_active_sort', table_name='person')
    op.create_index('ix_person_search', 'person', ['active', 'search_key', 'name', 'id'], unique=False)
    op.create_index('ix_person_active_name', 'person', ['active', 'name'], unique=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('sort_key')
