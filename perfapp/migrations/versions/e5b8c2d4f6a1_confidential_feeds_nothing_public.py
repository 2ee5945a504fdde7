"""confidential feedback feeds nothing public: take back what it already fed

Until now a confidential feedback could earn its author an automatic badge in the same second
("first feedback", "ten constructive"), and confidential praise could be promoted into a story
credited to whoever promoted it, its author included. The code no longer does either (see
perfapp.recognition.services.check_feedback_rules and perfapp.stories.sources); this removes
what was already made that way, with everything hanging on it (reactions, comments, reports,
inbox entries, stories told from such an award), and rebuilds the badge holdings.

An automatic award counts as fed by confidential feedback when the feedback its author had
given under their name by the award's moment would not have earned it.

Revision ID: e5b8c2d4f6a1
Revises: e5b8c2d41a70
Create Date: 2026-11-27 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'e5b8c2d4f6a1'
down_revision = 'e5b8c2d41a70'
branch_labels = None
depends_on = None

CONSTRUCTIVE_FOR_BADGE = 10  # perfapp.recognition.services.CONSTRUCTIVE_FOR_BADGE when this was written

LEAKED_AWARDS = sa.text("""
    SELECT a.id FROM badge_award a JOIN badge b ON b.id = a.badge_id
    WHERE (b.rule = 'first-feedback' AND NOT EXISTS (
               SELECT 1 FROM feedback f WHERE f.author_id = a.receiver_id
               AND f.confidential = :no AND f.created_at <= a.created_at))
       OR (b.rule = 'constructive-10' AND (
               SELECT count(*) FROM feedback f WHERE f.author_id = a.receiver_id AND f.kind = 'constructive'
               AND f.confidential = :no AND f.created_at <= a.created_at) < :needed)
""")
CONFIDENTIAL_STORIES = sa.text("""
    SELECT s.id FROM story s JOIN feedback f ON f.id = s.source_id
    WHERE s.source_type = 'feedback' AND f.confidential = :yes
""")


def _ids(conn: sa.Connection, query: sa.TextClause, **params: object) -> list[int]:
    return [row[0] for row in conn.execute(query, params)]


def _delete_in(conn: sa.Connection, sql: str, ids: list[int], **params: object) -> None:
    """`sql` ends in "IN :ids"; chunked so huge lists stay under the engines' parameter limits."""
    statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
    for start in range(0, len(ids), 500):
        conn.execute(statement, {"ids": ids[start:start + 500], **params})


def _drop_target(conn: sa.Connection, target_type: str, ids: list[int]) -> None:
    """A row's reactions, comments and reports, and the inbox entries about any of them."""
    for kind, table in (("reaction", "reaction"), ("comment", "comment")):
        children = []
        for start in range(0, len(ids), 500):
            children += _ids(conn, sa.text(f"SELECT id FROM {table} WHERE target_type = :t AND target_id IN :ids")
                             .bindparams(sa.bindparam("ids", expanding=True)), t=target_type, ids=ids[start:start + 500])
        _notes(conn, kind, children)
        _delete_in(conn, f"DELETE FROM {table} WHERE target_type = :t AND target_id IN :ids", ids, t=target_type)
    _delete_in(conn, "DELETE FROM report WHERE target_type = :t AND target_id IN :ids", ids, t=target_type)
    _notes(conn, target_type, ids)


def _notes(conn: sa.Connection, ref_type: str, ids: list[int]) -> None:
    if not ids:
        return
    _delete_in(conn, "DELETE FROM push_delivery WHERE notification_id IN "
                     "(SELECT id FROM notification WHERE ref_type = :t AND ref_id IN :ids)", ids, t=ref_type)
    _delete_in(conn, "DELETE FROM notification WHERE ref_type = :t AND ref_id IN :ids", ids, t=ref_type)


def upgrade():
    conn = op.get_bind()
    awards = _ids(conn, LEAKED_AWARDS, no=False, needed=CONSTRUCTIVE_FOR_BADGE)
    stories = _ids(conn, CONFIDENTIAL_STORIES, yes=True)
    if awards:
        for start in range(0, len(awards), 500):
            stories += _ids(conn, sa.text("SELECT id FROM story WHERE source_type = 'badge_award' AND source_id IN :ids")
                            .bindparams(sa.bindparam("ids", expanding=True)), ids=awards[start:start + 500])
    if stories:
        _drop_target(conn, "story", stories)
        _delete_in(conn, "DELETE FROM story_person WHERE story_id IN :ids", stories)
        _delete_in(conn, "DELETE FROM story_tag WHERE story_id IN :ids", stories)
        _delete_in(conn, "DELETE FROM story WHERE id IN :ids", stories)
    if awards:
        _drop_target(conn, "badge_award", awards)
        _delete_in(conn, "DELETE FROM badge_award WHERE id IN :ids", awards)
        # The holdings from the awards that remain (perfapp.recognition.holdings.rebuild).
        conn.execute(sa.text("DELETE FROM badge_holding"))
        conn.execute(sa.text(
            "INSERT INTO badge_holding (badge_id, user_id, count, first_at, last_at, last_award_id) "
            "SELECT badge_id, receiver_id, count(*), min(created_at), max(created_at), max(id) "
            "FROM badge_award WHERE hidden = :no GROUP BY badge_id, receiver_id"), {"no": False})
    if awards or stories:
        # Pages cached by a running process must not outlive what they showed.
        conn.execute(sa.text("UPDATE cache_generation SET n = n + 1"))


def downgrade():
    pass  # what was removed was a leak: nothing to put back
