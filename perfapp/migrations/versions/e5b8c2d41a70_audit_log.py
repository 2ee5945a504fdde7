"""audit log: append-only audit_entry (refused UPDATE/DELETE by triggers), person.audit_ref

Revision ID: e5b8c2d41a70
Revises: d7a3f1c9e2b4
Create Date: 2026-12-01 09:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = 'e5b8c2d41a70'
down_revision = 'd7a3f1c9e2b4'
branch_labels = None
depends_on = None

# The same statements as perfapp/audit/models.py (copied: a migration must not change when the
# models do).
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only' USING DETAIL = TG_OP || ' refused';
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()
"""
SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: DELETE refused'); END""",
)


def upgrade():
    op.create_table(
        'audit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('actor_ref', sa.String(length=32), nullable=True),
        sa.Column('subject_ref', sa.String(length=32), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('client_address', sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_entry_action', 'audit_entry', ['action', 'id'], unique=False)
    op.create_index('ix_audit_entry_actor', 'audit_entry', ['actor_ref', 'id'], unique=False)
    op.create_index('ix_audit_entry_subject', 'audit_entry', ['subject_ref', 'id'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    elif dialect == 'sqlite':
        for sql in SQLITE_TRIGGERS:
            op.execute(sql)

    # Every person, existing ones too, gets a random pseudonym for the audit log. Added NOT NULL
    # with a placeholder default instead of batch-altering afterwards: on SQLite a batch rebuild
    # drops the person table, and its ON DELETE CASCADE foreign keys would empty other tables.
    op.add_column('person', sa.Column('audit_ref', sa.String(length=32), nullable=False,
                                      server_default=''))
    bind = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer()), sa.column('audit_ref', sa.String()))
    for (person_id,) in bind.execute(sa.select(person.c.id)).all():
        bind.execute(person.update().where(person.c.id == person_id)
                     .values(audit_ref=secrets.token_hex(16)))
    if dialect == 'postgresql':  # SQLite can't drop a default without a rebuild; the app always sets one
        op.alter_column('person', 'audit_ref', server_default=None)
    op.create_index('ix_person_audit_ref', 'person', ['audit_ref'], unique=True)


def downgrade():
    op.drop_index('ix_person_audit_ref', table_name='person')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('audit_ref')
    op.drop_table('audit_entry')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS audit_entry_append_only()')
