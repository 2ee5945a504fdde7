"""Changes about a person, written by the database itself: what kept pages are checked against.

A kept page found before its view (perfapp.core.pages) is exact when the view's statement runs
again and reads the same rows. That statement is most of a kept Home's cost on PostgreSQL (a
round trip and its joins). So every write that changes what a person's pages show also appends a
row naming that person to `person_change`, from triggers on the tables those pages read (`WATCHED`:
feedback to them, to their reports, by them; requests waiting for them; reviews they are to write
or are the subject of; flowers and badges they give and receive; who reports to them; their own
name, title, department). What is not about one person goes to a *channel* (a person_id of 0 or
below): the organisation's names (tags, badges, departments: `ORG`), all goals (`GOALS`) and
everything public (`PUBLIC`: the praise wall's, read apart from the viewer's, see pages). The
login query reads the newest change and how many there are for the viewer, the person the page
is about (a profile's, say) and the page's channel (`stamp_columns`); while those are as they
were when the page was kept, the page is answered without running its view, for at most
PAGE_RECHECK_SECONDS, after which the view (or Home's statement) runs again.

Triggers, not application code: a bulk UPDATE (versions moved by a rename, a reaction's bump)
fires them as an ORM flush does, and a write path added later cannot forget them. Appends only:
writers about one person don't wait on each other (no row every write updates), and a change
committed out of id order still moves the count. A daily job prunes all but each person's newest
(`prune`).
"""
from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import DDL, Index, Integer, bindparam, column, delete, event, func, select
from sqlalchemy import table as table_named
from sqlalchemy.orm import Mapped, mapped_column

from perfapp.extensions import Model, db


class PersonChange(Model):
    __tablename__ = "person_change"
    __table_args__ = (Index("ix_person_change_person", "person_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: an erased person's rows are pruned with the rest.
    person_id: Mapped[int] = mapped_column(Integer)


#: Channels: changes that are not about one person, read by the pages that show them (a channel
#: is a row of person_change whose person_id is not a person's: 0 or below).
ORG = 0  # what any page may name: tags, badges, departments (read by every checked page)
GOALS = -1  # every goal, key result, alignment and check-in (the goal tree, a person's goals)
PUBLIC = -2  # everything public: feedback, flowers, badge awards (the praise wall)

#: table -> the people (and channels) whose pages a row of it shows on (R: the row, NEW or OLD),
#: and the columns whose UPDATE counts (None: any; INSERT and DELETE always count)
WATCHED: dict[str, tuple[str, tuple[str, ...] | None]] = {
    # Home: feedback to them, to their reports, by them; a profile: praise to them.
    "feedback": ("SELECT R.recipient_id AS p UNION SELECT R.author_id "
                 "UNION SELECT manager_id FROM person WHERE id = R.recipient_id "
                 f"UNION SELECT {PUBLIC} WHERE R.visibility = 'public'", None),
    "feedback_tag": ("SELECT recipient_id AS p FROM feedback WHERE id = R.feedback_id", None),
    "feedback_ask": ("SELECT R.recipient_id AS p", None),
    "feedback_request": ("SELECT R.requester_id AS p "
                         "UNION SELECT recipient_id FROM feedback_ask WHERE request_id = R.id", None),
    "getting_started_dismissal": ("SELECT R.person_id AS p", None),
    # Home's tips count what they give; a profile and a badge wall what they receive.
    "flower_gift": (f"SELECT R.giver_id AS p UNION SELECT R.receiver_id UNION SELECT {PUBLIC}", None),
    "badge_award": (f"SELECT R.giver_id AS p UNION SELECT R.receiver_id UNION SELECT {PUBLIC}", None),
    "badge_holding": ("SELECT R.user_id AS p", None),
    "customer_praise": ("SELECT user_id AS p FROM customer_praise_person WHERE praise_id = R.id", None),
    "customer_praise_person": ("SELECT R.user_id AS p", None),
    # Their own head (name, title, department, role...), their manager's list of reports and the
    # results naming them as an attributed reviewer; not a password, a failed login or a language
    # (the viewer's own row is read at every login). Cards naming them move by their versions.
    "person": ("SELECT R.id AS p UNION SELECT R.manager_id "
               "UNION SELECT reviewee_id FROM review_assignment WHERE reviewer_id = R.id",
               ("name", "title", "department_id", "manager_id", "role", "active", "email")),
    # Reviews they are to write (Home), results about them (a reviewee's results page).
    "review_assignment": ("SELECT R.reviewer_id AS p UNION SELECT R.reviewee_id", None),
    "review_cycle": ("SELECT reviewer_id AS p FROM review_assignment WHERE cycle_id = R.id "
                     "UNION SELECT reviewee_id FROM review_assignment WHERE cycle_id = R.id", None),
    "review_question": ("SELECT reviewee_id AS p FROM review_assignment WHERE cycle_id = R.cycle_id", None),
    "review_rating": ("SELECT reviewee_id AS p FROM review_assignment WHERE id = R.assignment_id", None),
    "review_comment": ("SELECT reviewee_id AS p FROM review_assignment WHERE id = R.assignment_id", None),
    "review_tag_vote": ("SELECT reviewee_id AS p FROM review_assignment WHERE id = R.assignment_id", None),
    "tag": (f"SELECT {ORG} AS p", None),
    "badge": (f"SELECT {ORG} AS p", None),
    "department": (f"SELECT {ORG} AS p", None),
    "recognition_setting": (f"SELECT {ORG} AS p", None),
    "goal": (f"SELECT {GOALS} AS p", None),
    "key_result": (f"SELECT {GOALS} AS p", None),
    "goal_link": (f"SELECT {GOALS} AS p", None),
    "goal_checkin": (f"SELECT {GOALS} AS p", None),
    "goal_setting": (f"SELECT {GOALS} AS p", None),
}


def _insert(table: str, row: str) -> str:
    people = WATCHED[table][0].replace("R.", f"{row}.")
    return (f"INSERT INTO person_change (person_id) SELECT p FROM ({people}) AS changed "
            f"WHERE p IS NOT NULL;")


def sqlite_ddl() -> list[str]:
    """The triggers as SQLite writes them (three per table)."""
    out = []
    for table, (_people, columns) in WATCHED.items():
        for when, rows in (("INSERT", ("NEW",)), ("UPDATE", ("NEW", "OLD")), ("DELETE", ("OLD",))):
            of = f" OF {', '.join(columns)}" if columns and when == "UPDATE" else ""
            body = " ".join(_insert(table, row) for row in rows)
            out.append(f"CREATE TRIGGER IF NOT EXISTS person_change_{table}_{when.lower()} AFTER {when}{of} ON {table} "
                       f"FOR EACH ROW BEGIN {body} END")
    return out


def postgresql_ddl() -> list[str]:
    """The triggers as PostgreSQL writes them (a function and a trigger per table)."""
    out = []
    for table, (_people, columns) in WATCHED.items():
        events = "INSERT OR UPDATE" + (" OF " + ", ".join(columns) if columns else "") + " OR DELETE"
        out.append(f"""CREATE OR REPLACE FUNCTION person_change_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN {_insert(table, "NEW")} END IF;
    IF TG_OP <> 'INSERT' THEN {_insert(table, "OLD")} END IF;
    RETURN NULL;
END
$$""")
        out.append(f"CREATE OR REPLACE TRIGGER person_change_{table} AFTER {events} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION person_change_{table}()")
    return out


def drop_ddl(dialect: str) -> list[str]:
    """Statements that remove the triggers (the migration's downgrade)."""
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS person_change_{table}() CASCADE" for table in WATCHED]
    return [f"DROP TRIGGER IF EXISTS person_change_{table}_{when}" for table in WATCHED
            for when in ("insert", "update", "delete")]


# create_all (the tests, a first run) builds them once every table exists, and again without harm
# when it completes an existing schema; the migration runs the same statements.
for _sql in sqlite_ddl():
    event.listen(Model.metadata, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in postgresql_ddl():
    event.listen(Model.metadata, "after_create", DDL(_sql).execute_if(dialect="postgresql"))


def stamp_columns(*ids: Any) -> list[Any]:
    """Each of these people's or channels' newest change and how many there are, as two scalar
    subqueries per id (`ids`: columns of the login query or bound values; None names nothing):
    each an index range of its own, read in the login's round trip. One id per subquery, not an
    IN list: PostgreSQL finds the max of `person_id IN (...)` by walking the whole table backwards."""
    columns: list[Any] = []
    for person in ids:
        mine = PersonChange.person_id == person
        columns += [select(func.max(PersonChange.id)).where(mine).scalar_subquery(),
                    select(func.count()).select_from(PersonChange).where(mine).scalar_subquery()]
    return columns


def prune() -> int:
    """Remove every change but each person's (and channel's) newest (their count then drops: their
    kept pages are checked once more), and every change of a person who no longer exists (erased). Returns how
    many rows went. A daily job (perfapp.core.tasks)."""
    people = table_named("person", column("id"))  # by name: the core imports no domain
    newest = select(func.max(PersonChange.id)).group_by(PersonChange.person_id)
    erased = (PersonChange.person_id > ORG) & PersonChange.person_id.not_in(select(people.c.id))
    result = db.session.execute(delete(PersonChange).where(PersonChange.id.not_in(newest) | erased))
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def prune_channels() -> int:
    """Remove every change but each channel's newest: the praise wall's channel moves with every
    public write, and the login query counts its rows (a minute's at most, so a count stays an
    index range of a few hundred entries). Returns how many rows went. A job every minute."""
    removed = 0
    for channel in (ORG, GOALS, PUBLIC):
        newest = select(func.max(PersonChange.id)).where(PersonChange.person_id == channel).scalar_subquery()
        result = db.session.execute(delete(PersonChange).where(PersonChange.person_id == channel,
                                                               PersonChange.id < newest))
        removed += int(getattr(result, "rowcount", 0) or 0)
    db.session.commit()
    return removed


def channel_state(channel: int) -> tuple[Any, Any]:
    """A channel's newest change and how many there are, in one statement."""
    row = db.session.execute(_channel_state(), {"channel": channel}).one()
    return row[0], row[1]


@cache
def _channel_state() -> Any:
    """Built once: building a statement costs more than running it."""
    return select(*stamp_columns(bindparam("channel", type_=Integer)))
