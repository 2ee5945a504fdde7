"""Changes about a person, appended by triggers: kept Home pages are checked against them
(perfapp.core.changes, where these statements come from; copied here so that this migration
stays as it was when later code changes).

Revision ID: a7d2c9e4b815
Revises: c3f8a2e6d9b1
Create Date: 2026-12-05 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7d2c9e4b815'
down_revision = 'c3f8a2e6d9b1'
branch_labels = None
depends_on = None

SQLITE = [
    'CREATE TRIGGER person_change_feedback_insert AFTER INSERT ON feedback FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.recipient_id AS p UNION SELECT NEW.author_id UNION SELECT manager_id FROM person WHERE id = NEW.recipient_id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_update AFTER UPDATE ON feedback FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.recipient_id AS p UNION SELECT NEW.author_id UNION SELECT manager_id FROM person WHERE id = NEW.recipient_id) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.recipient_id AS p UNION SELECT OLD.author_id UNION SELECT manager_id FROM person WHERE id = OLD.recipient_id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_delete AFTER DELETE ON feedback FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.recipient_id AS p UNION SELECT OLD.author_id UNION SELECT manager_id FROM person WHERE id = OLD.recipient_id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_ask_insert AFTER INSERT ON feedback_ask FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.recipient_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_ask_update AFTER UPDATE ON feedback_ask FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.recipient_id AS p) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.recipient_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_ask_delete AFTER DELETE ON feedback_ask FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.recipient_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_request_insert AFTER INSERT ON feedback_request FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.requester_id AS p UNION SELECT recipient_id FROM feedback_ask WHERE request_id = NEW.id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_request_update AFTER UPDATE ON feedback_request FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.requester_id AS p UNION SELECT recipient_id FROM feedback_ask WHERE request_id = NEW.id) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.requester_id AS p UNION SELECT recipient_id FROM feedback_ask WHERE request_id = OLD.id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_feedback_request_delete AFTER DELETE ON feedback_request FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.requester_id AS p UNION SELECT recipient_id FROM feedback_ask WHERE request_id = OLD.id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_review_assignment_insert AFTER INSERT ON review_assignment FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.reviewer_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_review_assignment_update AFTER UPDATE ON review_assignment FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.reviewer_id AS p) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.reviewer_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_review_assignment_delete AFTER DELETE ON review_assignment FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.reviewer_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_review_cycle_insert AFTER INSERT ON review_cycle FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT reviewer_id AS p FROM review_assignment WHERE cycle_id = NEW.id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_review_cycle_update AFTER UPDATE ON review_cycle FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT reviewer_id AS p FROM review_assignment WHERE cycle_id = NEW.id) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT reviewer_id AS p FROM review_assignment WHERE cycle_id = OLD.id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_review_cycle_delete AFTER DELETE ON review_cycle FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT reviewer_id AS p FROM review_assignment WHERE cycle_id = OLD.id) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_getting_started_dismissal_insert AFTER INSERT ON getting_started_dismissal FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.person_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_getting_started_dismissal_update AFTER UPDATE ON getting_started_dismissal FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.person_id AS p) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.person_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_getting_started_dismissal_delete AFTER DELETE ON getting_started_dismissal FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.person_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_flower_gift_insert AFTER INSERT ON flower_gift FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.giver_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_flower_gift_update AFTER UPDATE ON flower_gift FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.giver_id AS p) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.giver_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_flower_gift_delete AFTER DELETE ON flower_gift FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.giver_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_badge_award_insert AFTER INSERT ON badge_award FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.giver_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_badge_award_update AFTER UPDATE ON badge_award FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.giver_id AS p) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.giver_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_badge_award_delete AFTER DELETE ON badge_award FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.giver_id AS p) AS changed WHERE p IS NOT NULL; END',
    'CREATE TRIGGER person_change_person_update AFTER UPDATE OF manager_id ON person FOR EACH ROW BEGIN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.manager_id AS p) AS changed WHERE p IS NOT NULL; INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.manager_id AS p) AS changed WHERE p IS NOT NULL; END',
]

POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION person_change_feedback() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.recipient_id AS p UNION SELECT NEW.author_id UNION SELECT manager_id FROM person WHERE id = NEW.recipient_id) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.recipient_id AS p UNION SELECT OLD.author_id UNION SELECT manager_id FROM person WHERE id = OLD.recipient_id) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_feedback AFTER INSERT OR UPDATE OR DELETE ON feedback FOR EACH ROW EXECUTE FUNCTION person_change_feedback()',
    "CREATE OR REPLACE FUNCTION person_change_feedback_ask() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.recipient_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.recipient_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_feedback_ask AFTER INSERT OR UPDATE OR DELETE ON feedback_ask FOR EACH ROW EXECUTE FUNCTION person_change_feedback_ask()',
    "CREATE OR REPLACE FUNCTION person_change_feedback_request() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.requester_id AS p UNION SELECT recipient_id FROM feedback_ask WHERE request_id = NEW.id) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.requester_id AS p UNION SELECT recipient_id FROM feedback_ask WHERE request_id = OLD.id) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_feedback_request AFTER INSERT OR UPDATE OR DELETE ON feedback_request FOR EACH ROW EXECUTE FUNCTION person_change_feedback_request()',
    "CREATE OR REPLACE FUNCTION person_change_review_assignment() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.reviewer_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.reviewer_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_review_assignment AFTER INSERT OR UPDATE OR DELETE ON review_assignment FOR EACH ROW EXECUTE FUNCTION person_change_review_assignment()',
    "CREATE OR REPLACE FUNCTION person_change_review_cycle() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT reviewer_id AS p FROM review_assignment WHERE cycle_id = NEW.id) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT reviewer_id AS p FROM review_assignment WHERE cycle_id = OLD.id) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_review_cycle AFTER INSERT OR UPDATE OR DELETE ON review_cycle FOR EACH ROW EXECUTE FUNCTION person_change_review_cycle()',
    "CREATE OR REPLACE FUNCTION person_change_getting_started_dismissal() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.person_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.person_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_getting_started_dismissal AFTER INSERT OR UPDATE OR DELETE ON getting_started_dismissal FOR EACH ROW EXECUTE FUNCTION person_change_getting_started_dismissal()',
    "CREATE OR REPLACE FUNCTION person_change_flower_gift() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.giver_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.giver_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_flower_gift AFTER INSERT OR UPDATE OR DELETE ON flower_gift FOR EACH ROW EXECUTE FUNCTION person_change_flower_gift()',
    "CREATE OR REPLACE FUNCTION person_change_badge_award() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.giver_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.giver_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_badge_award AFTER INSERT OR UPDATE OR DELETE ON badge_award FOR EACH ROW EXECUTE FUNCTION person_change_badge_award()',
    "CREATE OR REPLACE FUNCTION person_change_person() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'DELETE' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT NEW.manager_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    IF TG_OP <> 'INSERT' THEN INSERT INTO person_change (person_id) SELECT p FROM (SELECT OLD.manager_id AS p) AS changed WHERE p IS NOT NULL; END IF;\n    RETURN NULL;\nEND\n$$",
    'CREATE TRIGGER person_change_person AFTER UPDATE OF manager_id ON person FOR EACH ROW EXECUTE FUNCTION person_change_person()',
]

SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS person_change_feedback_insert',
    'DROP TRIGGER IF EXISTS person_change_feedback_update',
    'DROP TRIGGER IF EXISTS person_change_feedback_delete',
    'DROP TRIGGER IF EXISTS person_change_feedback_ask_insert',
    'DROP TRIGGER IF EXISTS person_change_feedback_ask_update',
    'DROP TRIGGER IF EXISTS person_change_feedback_ask_delete',
    'DROP TRIGGER IF EXISTS person_change_feedback_request_insert',
    'DROP TRIGGER IF EXISTS person_change_feedback_request_update',
    'DROP TRIGGER IF EXISTS person_change_feedback_request_delete',
    'DROP TRIGGER IF EXISTS person_change_review_assignment_insert',
    'DROP TRIGGER IF EXISTS person_change_review_assignment_update',
    'DROP TRIGGER IF EXISTS person_change_review_assignment_delete',
    'DROP TRIGGER IF EXISTS person_change_review_cycle_insert',
    'DROP TRIGGER IF EXISTS person_change_review_cycle_update',
    'DROP TRIGGER IF EXISTS person_change_review_cycle_delete',
    'DROP TRIGGER IF EXISTS person_change_getting_started_dismissal_insert',
    'DROP TRIGGER IF EXISTS person_change_getting_started_dismissal_update',
    'DROP TRIGGER IF EXISTS person_change_getting_started_dismissal_delete',
    'DROP TRIGGER IF EXISTS person_change_flower_gift_insert',
    'DROP TRIGGER IF EXISTS person_change_flower_gift_update',
    'DROP TRIGGER IF EXISTS person_change_flower_gift_delete',
    'DROP TRIGGER IF EXISTS person_change_badge_award_insert',
    'DROP TRIGGER IF EXISTS person_change_badge_award_update',
    'DROP TRIGGER IF EXISTS person_change_badge_award_delete',
    'DROP TRIGGER IF EXISTS person_change_person_insert',
    'DROP TRIGGER IF EXISTS person_change_person_update',
    'DROP TRIGGER IF EXISTS person_change_person_delete',
]

POSTGRESQL_DROP = [
    'DROP FUNCTION IF EXISTS person_change_feedback() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_feedback_ask() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_feedback_request() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_review_assignment() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_review_cycle() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_getting_started_dismissal() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_flower_gift() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_badge_award() CASCADE',
    'DROP FUNCTION IF EXISTS person_change_person() CASCADE',
]


def upgrade():
    op.create_table(
        'person_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_person_change_person', 'person_change', ['person_id', 'id'], unique=False)
    for statement in POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SQLITE:
        op.execute(statement)


def downgrade():
    for statement in POSTGRESQL_DROP if op.get_bind().dialect.name == 'postgresql' else SQLITE_DROP:
        op.execute(statement)
    op.drop_index('ix_person_change_person', table_name='person_change')
    op.drop_table('person_change')
