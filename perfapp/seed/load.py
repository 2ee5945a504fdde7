"""`flask seed-load`: a large organisation for benchmarks, written with raw bulk inserts
(executemany on SQLite, COPY on PostgreSQL) with the big tables' indexes built afterwards.
Deterministic for a given seed; dates are relative to now so the feeds look recent."""
from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import click
from sqlalchemy import Connection, Table, delete, inspect, text
from sqlalchemy.exc import DBAPIError

from perfapp.core.db import empty_table, table_of, utcnow
from perfapp.extensions import db
from perfapp.seed.content import (
    ABOUT,
    SPAN_DAYS,
    TAGS,
    ZONES_EN,
    ZONES_ZH,
    ContentPicker,
    email_local,
    en_name,
    hash_once,
    storable,
    zh_name,
)
from perfapp.seed.demo import DEMO_DEPARTMENTS, DEMO_PROJECTS

LOAD_FANOUT = 7  # direct reports per manager in the generated tree
CHUNK = 20_000
MIN_LOAD_PEOPLE = 20
ROLES = ("", "", "Design", "Tech lead", "QA", "PM")  # a member's role on a project
MEETINGS_PER_PERSON = 2  # seed-load's default: 20,000 meetings for 10,000 people


class BulkWriter:
    """Raw driver bulk inserts inside the connection's transaction: executemany on
    SQLite, COPY on PostgreSQL (an order of magnitude faster than INSERTs there)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.quote = conn.dialect.identifier_preparer.quote

    def stamp(self, dt: datetime) -> Any:
        return storable(dt, self.dialect)

    def day(self, d: date) -> Any:
        return d.isoformat() if self.dialect == "sqlite" else d

    def write(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = ", ".join(self.quote(c) for c in columns)
        if self.dialect == "postgresql":
            cursor = _driver(self.conn).cursor()
            with cursor.copy(f"COPY {self.quote(table.name)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" if self.dialect == "sqlite" else "%s" for _ in columns)
        self.conn.exec_driver_sql(f"INSERT INTO {self.quote(table.name)} ({cols}) VALUES ({marks})",
                                  list(rows))

    def write_chunked(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                      progress: Callable[[int], None] | None = None) -> int:
        """Write rows in chunks, committing each so SQLite's WAL stays small; returns the count."""
        total = 0
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                total += self._flush(table, columns, chunk, progress)
                chunk = []
        return total + self._flush(table, columns, chunk, progress)

    def _flush(self, table: Table, columns: Sequence[str], chunk: list[Sequence[Any]],
               progress: Callable[[int], None] | None) -> int:
        self.write(table, columns, chunk)
        self.conn.commit()
        if progress:
            progress(len(chunk))
        return len(chunk)


@dataclass
class LoadOrg:
    """The generated organisation: a tree of LOAD_FANOUT reports per manager, with the
    demo manager's team as a separate small team at the end of the id range."""

    people: int
    manager: list[int] = field(default_factory=list)  # index = person id; 0 = none
    department: list[int] = field(default_factory=list)
    zh: list[bool] = field(default_factory=list)

    @property
    def demo_ids(self) -> dict[str, int]:
        n = self.people
        return {"hr": 2, "admin": n - 8, "manager": n - 7, "employee": n - 6}

    @property
    def team(self) -> list[int]:
        """The demo manager and their direct reports (the employee among them)."""
        n = self.people
        return list(range(n - 7, n + 1))


def _load_departments(org: LoadOrg, rng: random.Random, writer: BulkWriter) -> None:
    from perfapp.people.models import Department

    count = max(4, min(org.people // 150, 70))
    areas = [(zh, en) for _k, zh, en, *_r in DEMO_DEPARTMENTS]
    rows = []
    for dep_id in range(1, count + 1):
        zh, en = areas[dep_id % len(areas)]
        parent = None if dep_id == 1 else (dep_id - 2) // LOAD_FANOUT + 1
        suffix = "" if dep_id <= len(areas) else f" {dep_id}"
        rows.append((dep_id, f"{zh}{suffix}", f"{en}{suffix}", parent))
    writer.write_chunked(table_of(Department), ("id", "name_zh", "name_en", "parent_id"), rows)
    # Person k heads department k (same tree shape), everyone else joins their manager's.
    org.department = [0] + [0] * org.people
    for pid in range(1, org.people + 1):
        org.department[pid] = pid if pid <= count else org.department[org.manager[pid]]


def _load_people(org: LoadOrg, rng: random.Random, writer: BulkWriter, password_hash: str,
                 progress: Callable[[int], None]) -> None:
    from perfapp.people.models import User, search_key_for, sort_key_for

    n = org.people
    demo = {v: k for k, v in org.demo_ids.items()}
    org.manager = [0] * (n + 1)
    for pid in range(2, n + 1):
        org.manager[pid] = (pid - 2) // LOAD_FANOUT + 1
    for pid in org.team[1:]:
        org.manager[pid] = org.demo_ids["manager"]
    _load_departments(org, rng, writer)
    org.zh = [True] * (n + 1)
    titles_zh = [t for d in DEMO_DEPARTMENTS for t in d[4]]
    titles_en = [t for d in DEMO_DEPARTMENTS for t in d[5]]
    created = writer.stamp(utcnow() - timedelta(days=400))
    names = {"hr": "张敏", "admin": "赵磊", "manager": "王伟", "employee": "李娜"}

    def rows() -> Iterator[tuple[Any, ...]]:
        for pid in range(1, n + 1):
            key = demo.get(pid)
            zh = True if key else rng.random() < 0.75
            org.zh[pid] = zh
            name = names[key] if key else (zh_name(rng) if zh else en_name(rng))
            email = f"{key}@example.com" if key else f"{email_local(name)}.{pid}@example.org"
            locale = None if key else ("zh_Hans_CN" if zh and rng.random() < 0.85 else "en")
            zone = rng.choice(ZONES_ZH if zh else ZONES_EN)
            title = rng.choice(titles_zh if zh else titles_en)
            yield (pid, email, name, search_key_for(name, email), sort_key_for(name), title, org.department[pid],
                   org.manager[pid] or None, {"hr": "hr", "admin": "admin"}.get(key or "", "employee"),
                   locale, zone, True, password_hash if key else None, 0, created, secrets.token_hex(16))

    columns = ("id", "email", "name", "search_key", "sort_key", "title", "department_id", "manager_id", "role",
               "locale", "timezone", "active", "password_hash", "failed_logins", "created_at", "audit_ref")
    writer.write_chunked(table_of(User), columns, rows(), progress)


def _load_projects(org: LoadOrg, rng: random.Random, writer: BulkWriter) -> list[tuple[int, int]]:
    """Projects with members and milestones; returns (milestone id, project id) pairs."""
    from perfapp.projects.models import Milestone, Project, ProjectMember

    now = utcnow()
    count = max(5, org.people // 50)
    names = [p[0] for p in DEMO_PROJECTS]
    projects: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    milestones: list[tuple[Any, ...]] = []
    for pid in range(1, count + 1):
        team = set(rng.sample(range(1, org.people + 1), min(org.people, rng.randint(5, 15))))
        if pid <= 3:
            team.update(org.team)
        owner = org.team[0] if pid <= 3 else rng.choice(sorted(team))
        projects.append((pid, f"{names[pid % len(names)]} #{pid}", "", writer.stamp(now - timedelta(days=120)),
                         False, owner))
        members += [(pid, uid, rng.choice(ROLES)) for uid in sorted(team)]
        for i in range(rng.randint(2, 4)):
            due = (now + timedelta(days=rng.randint(-80, -30) + i * 30)).date()
            reached = writer.stamp(datetime.combine(due, datetime.min.time())) if due < now.date() else None
            milestones.append((len(milestones) + 1, pid, f"M{i + 1}", writer.day(due), reached))
    writer.write_chunked(table_of(Project), ("id", "name", "description", "created_at", "archived", "owner_id"),
                         projects)
    writer.write_chunked(table_of(ProjectMember), ("project_id", "user_id", "role"), members)
    writer.write_chunked(table_of(Milestone), ("id", "project_id", "name", "due_date", "reached_at"),
                         milestones)
    return [(m[0], m[1]) for m in milestones]


def _load_feedback(org: LoadOrg, rng: random.Random, writer: BulkWriter, count: int,
                   tag_ids: list[int], milestones: list[tuple[int, int]],
                   progress: Callable[[int], None]) -> None:
    """Feedback rows in time order (ids follow time, like a real table), with tag links
    and inbox entries for the demo team. Roughly one row in twenty-five involves the
    demo manager's team, so the employee's feed and profile are full."""
    from perfapp.feedback.models import Feedback, FeedbackTag
    from perfapp.notify.models import Notification

    n = org.people
    team = org.team
    employee = org.demo_ids["employee"]
    team_set = set(team)
    picker = ContentPicker(rng, tag_ids)
    now = utcnow()
    start = now - timedelta(days=SPAN_DAYS)
    step = SPAN_DAYS * 86400 / max(count, 1)
    columns = ("id", "author_id", "recipient_id", "kind", "visibility", "confidential", "development_only",
               "text", "emoji", "behaviour", "impact", "suggestion", "project_id", "milestone_id",
               "created_at")
    links: list[tuple[int, int]] = []
    notes: list[tuple[Any, ...]] = []
    unread_after = now - timedelta(days=5)
    lang = {True: "zh", False: "en"}
    randint, random_ = rng.randint, rng.random

    def someone_else(pid: int) -> int:
        other = randint(1, n)
        return other if other != pid else (pid % n) + 1

    def make_row(fid: int) -> tuple[Any, ...]:
        r = random_()
        if r < 0.010:
            recipient = employee
            author = rng.choice(team) if random_() < 0.5 else someone_else(recipient)
        elif r < 0.015:
            author = employee
            recipient = rng.choice(team) if random_() < 0.5 else someone_else(author)
        elif r < 0.04:
            author = rng.choice(team)
            recipient = rng.choice(team) if random_() < 0.6 else someone_else(author)
        else:
            recipient = randint(1, n)
            # Half the time someone close: the manager or a teammate, as in real feedback.
            boss = org.manager[recipient]
            if boss and random_() < 0.5:
                author = boss if random_() < 0.3 else min(n, (boss - 1) * LOAD_FANOUT + 2 + randint(0, 6))
            else:
                author = randint(1, n)
        if author == recipient:
            author = someone_else(recipient)
        (kind, visibility, confidential, dev_only, text_, emoji, behaviour, impact, suggestion,
         tags) = picker.pick(lang[org.zh[author]])
        project = milestone = None
        if random_() < 0.15:
            milestone, project = rng.choice(milestones)
        created_dt = start + timedelta(seconds=(fid - 1 + random_()) * step)
        created = writer.stamp(created_dt)
        links.extend((fid, tag) for tag in tags)
        if recipient in team_set:
            notes.append((recipient, "feedback_received", fid, f"feedback:{fid}", created,
                          None if created_dt > unread_after else created))
        return (fid, author, recipient, kind, visibility, confidential, dev_only, text_, emoji, behaviour,
                impact, suggestion, project, milestone, created)

    for first in range(1, count + 1, CHUNK):
        rows = [make_row(fid) for fid in range(first, min(first + CHUNK, count + 1))]
        writer.write(table_of(Feedback), columns, rows)
        writer.write(table_of(FeedbackTag), ("feedback_id", "tag_id"), links)
        writer.conn.commit()
        links.clear()
        progress(len(rows))
    writer.write_chunked(table_of(Notification),
                         ("user_id", "kind", "feedback_id", "dedupe_key", "created_at", "read_at"), notes)


def _load_requests(org: LoadOrg, rng: random.Random, writer: BulkWriter) -> None:
    """Feedback requests: a few waiting on the employee, the rest across the company."""
    from perfapp.feedback.models import FeedbackAsk, FeedbackRequest
    from perfapp.notify.models import Notification

    now = utcnow()
    team, employee = org.team, org.demo_ids["employee"]
    requests: list[tuple[Any, ...]] = []
    asks: list[tuple[Any, ...]] = []
    notes: list[tuple[Any, ...]] = []
    for rid in range(1, max(5, org.people // 2) + 1):
        if rid <= 4:
            requester, asked = rng.choice(team[2:]), [employee]
            created_dt = now - timedelta(hours=rng.randint(1, 96))
        else:
            requester = rng.randint(1, org.people)
            asked = list(dict.fromkeys(rng.randint(1, org.people) for _ in range(rng.randint(1, 4))))
            asked = [a for a in asked if a != requester]
            created_dt = now - timedelta(days=rng.uniform(0, 60))
        created = writer.stamp(created_dt)
        requests.append((rid, requester, rng.choice(ABOUT[{True: "zh", False: "en"}[org.zh[requester]]]),
                         created, writer.stamp(created_dt + timedelta(days=30))))
        for person in asked:
            status = "open" if rid <= 4 else rng.choice(("open", "open", "answered", "declined"))
            responded = None if status == "open" else writer.stamp(created_dt + timedelta(hours=rng.randint(1, 72)))
            asks.append((len(asks) + 1, rid, person, status, responded))
            notes.append((person, "ask_received", len(asks), f"ask:{len(asks)}", created, responded or (
                created if created_dt < now - timedelta(days=5) else None)))
    writer.write_chunked(table_of(FeedbackRequest),
                         ("id", "requester_id", "about", "created_at", "expires_at"), requests)
    writer.write_chunked(table_of(FeedbackAsk),
                         ("id", "request_id", "recipient_id", "status", "responded_at"), asks)
    writer.write_chunked(table_of(Notification),
                         ("user_id", "kind", "ask_id", "dedupe_key", "created_at", "read_at"), notes)


def _wipe(conn: Connection) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for table in tables:
            empty_table(conn, table)
    conn.commit()


def _finish(conn: Connection) -> None:
    """Move PostgreSQL sequences past the explicit ids, then refresh planner statistics (both engines)."""
    if conn.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {conn.dialect.identifier_preparer.quote(table.name)}), 0) + 1, "
                    "false)"
                ))
        conn.commit()
        # VACUUM as well: it sets the visibility map, without which PostgreSQL cannot use
        # index-only scans until autovacuum gets round to the new tables.
        raw = _driver(conn)
        raw.autocommit = True
        try:
            raw.execute("VACUUM ANALYZE")
        finally:
            raw.autocommit = False
        return
    conn.exec_driver_sql("ANALYZE")
    conn.commit()


def _driver(conn: Connection) -> Any:
    """The driver's own connection (psycopg's or sqlite3's) under an open SQLAlchemy connection."""
    driver = conn.connection.driver_connection
    assert driver is not None, "the connection is open"
    return driver


def _sqlite_pragmas(conn: Connection, **pragmas: Any) -> None:
    # Straight to the driver: SQLite refuses some pragmas inside the transaction SQLAlchemy opens.
    raw = _driver(conn)
    for name, value in pragmas.items():
        raw.execute(f"PRAGMA {name}={value}")


@contextmanager
def _bulk_mode(conn: Connection) -> Iterator[None]:
    """Session settings for bulk loading on this connection only, restored afterwards."""
    if conn.dialect.name == "sqlite":
        _sqlite_pragmas(conn, cache_size=-262144, synchronous="OFF")  # big page cache, no fsync
        try:
            yield
        finally:
            _sqlite_pragmas(conn, cache_size=-2000, synchronous="NORMAL")
        return
    if conn.dialect.name != "postgresql":
        yield
        return
    try:
        # The rows are consistent by construction; checking each foreign key row by row
        # (a trigger per row) would triple the load time. Needs a superuser.
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.commit()
    except DBAPIError:
        conn.rollback()
        click.echo("note: not a superuser, so foreign keys are checked row by row (slower)")
    conn.exec_driver_sql("SET synchronous_commit = off")
    conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")  # index builds sort in memory
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        conn.exec_driver_sql("RESET session_replication_role")
        conn.exec_driver_sql("RESET synchronous_commit")
        conn.exec_driver_sql("RESET maintenance_work_mem")
        conn.commit()


BIG_TABLES = ("feedback", "feedback_tag", "notification")


@contextmanager
def _indexes_built_afterwards(conn: Connection, tables: Sequence[str] = BIG_TABLES) -> Iterator[None]:
    """Drop the big tables' secondary indexes while loading and build them once at the end:
    one sort per index instead of a million random B-tree inserts (what pg_restore does).
    The indexes are read from the database, so it ends exactly as its migrations left it."""
    quote = conn.dialect.identifier_preparer.quote
    inspector = inspect(conn)
    # (table, index name, its columns): only named indexes on plain columns exist here.
    dropped = [(table, name, [str(c) for c in ix["column_names"]])
               for table in tables for ix in inspector.get_indexes(table)
               if not ix.get("unique") and "duplicates_constraint" not in ix and (name := ix["name"]) is not None]
    for _table, name, _columns in dropped:
        conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        for table, name, names in dropped:
            columns = ", ".join(quote(c) for c in names)
            conn.exec_driver_sql(f"CREATE INDEX {quote(name)} ON {quote(table)} ({columns})")
            conn.commit()


def seed_load(people: int, feedback: int, rng: random.Random, force: bool = False,
              flowers: int = 0, badges: int = 0, goals: int = 0, checkins: int = 0,
              meetings: int | None = None) -> dict[str, int]:
    """Fill an empty database with `people` people, `feedback` feedback rows, projects (one per 50
    people), `meetings` meetings (default two per person), a finished review cycle with everyone's
    reviews answered, and optionally `flowers` flower gifts,
    `badges` badge awards, `goals` goals and `checkins` check-ins."""
    from perfapp.feedback.models import Tag
    from perfapp.recognition.models import Badge
    from perfapp.recognition.rules import ensure_automatic_badges

    password_hash = hash_once()
    org = LoadOrg(people)
    began = time.perf_counter()

    def done(stage: str) -> None:
        click.echo(f"  {stage:<10} done at {time.perf_counter() - began:6.1f}s")

    with db.engine.connect() as conn:
        if force:
            _wipe(conn)
        else:  # an empty database still has the catalogue rows its migrations made: they get the load's ids
            conn.execute(delete(table_of(Badge)))
            conn.commit()
        with _bulk_mode(conn):
            writer = BulkWriter(conn)
            tag_rows = [(i, key, kind, zh, en, True) for i, (key, kind, zh, en) in enumerate(TAGS, start=1)]
            writer.write_chunked(table_of(Tag), ("id", "key", "kind", "name_zh", "name_en", "active"), tag_rows)
            with click.progressbar(length=people, label="people  ") as bar:
                _load_people(org, rng, writer, password_hash, bar.update)
            milestones = _load_projects(org, rng, writer)
            done("people")
            with _indexes_built_afterwards(conn):
                with click.progressbar(length=feedback, label="feedback") as bar:
                    _load_feedback(org, rng, writer, feedback, [t[0] for t in tag_rows], milestones, bar.update)
                _load_requests(org, rng, writer)
                done("feedback")
            done("indexes")
            if flowers or badges:
                from perfapp.recognition.seed import load_recognition

                values = {key: i for i, key, kind, *_names in tag_rows if kind == "value"}
                with (_indexes_built_afterwards(conn, ("flower_gift", "badge_award")),
                      click.progressbar(length=flowers + badges, label="recognition") as bar):
                    load_recognition(org, rng, writer, flowers, badges, values, bar.update)
                done("recognition")
            if goals:
                from perfapp.goals.seed import load_goals

                with click.progressbar(length=goals + checkins, label="goals   ") as bar:
                    load_goals(org, rng, writer, goals, checkins, bar.update)
                done("goals")
            meetings = MEETINGS_PER_PERSON * people if meetings is None else meetings
            if meetings:
                from perfapp.meetings.seed import load_meetings

                load_meetings(org, rng, writer, meetings)
                done("meetings")
            from perfapp.reviews.seed import load_reviews

            with _indexes_built_afterwards(conn, ("review_assignment",)):
                load_reviews(org, rng, writer,
                             [i for i, _key, kind, *_names in tag_rows if kind in ("capability", "value")])
            done("reviews")
            _finish(conn)
            done("analyze")
    if not (flowers or badges):  # load_recognition writes them with the rest of the catalogue
        ensure_automatic_badges()
        db.session.commit()
    return org.demo_ids
