"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import column, create_engine, select, table, text

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.extensions import db


@contextmanager
def migration_app(tmp_path: Path, schema: str) -> Iterator[Flask]:
    """An app on an empty database of its own (a PostgreSQL schema, dropped afterwards, or a SQLite file)."""
    url = os.environ.get("TEST_DATABASE_URL")
    admin = None
    if url:
        from perfapp.config import _normalise_db_url

        url = _normalise_db_url(url)
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        options: dict[str, Any] = {"connect_args": {"options": f"-csearch_path={schema}"}}
    else:
        url, options = f"sqlite:///{tmp_path}/{schema}.db", {}

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = options

    app = create_app(Config)
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def test_migrations_match_models(tmp_path) -> None:
    with migration_app(tmp_path, "migtest"):
        upgrade()
        with db.engine.connect() as conn:
            diff = _without_inline_references(conn, compare_metadata(MigrationContext.configure(conn), db.metadata))
        assert diff == []


def _signature(fk) -> tuple:  # type: ignore[no-untyped-def]
    return fk.parent.name, tuple(c.name for c in fk.columns), fk.referred_table.name


def _without_inline_references(conn, diff: list) -> list:  # type: ignore[no-untyped-def]
    """On SQLite, a column added in place with `ADD COLUMN x INTEGER CONSTRAINT … REFERENCES t (id)
    ON DELETE …` (b7e2c9d4a1f3: no copy of a million-row table) holds its ON DELETE, but SQLAlchemy
    reflects such column-level options as none: the pair (remove, add) it reports is no difference
    when the table's own SQL says exactly what the model does."""
    if conn.dialect.name != "sqlite":
        return diff
    added = {_signature(d[1]): d[1] for d in diff if d[0] == "add_fk"}
    same = set()
    for d in diff:
        if d[0] != "remove_fk" or _signature(d[1]) not in added:
            continue
        table_name, (column_name,), target = _signature(d[1])
        model = added[_signature(d[1])]
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?", (table_name,)).scalar()
        if f"{column_name} INTEGER CONSTRAINT " in sql and f"REFERENCES {target} (id) ON DELETE {model.ondelete}" in sql:
            same.add(_signature(d[1]))
    return [d for d in diff if not (d[0] in ("add_fk", "remove_fk") and _signature(d[1]) in same)]


def _add_old_people(names: list[str]) -> list[SimpleNamespace]:
    """People inserted with the columns every revision has (the model may have more by now)."""
    from datetime import datetime

    person = table("person", column("id"), column("email"), column("name"), column("search_key"),
                   column("title"), column("role"), column("timezone"), column("active"),
                   column("failed_logins"), column("created_at"), column("audit_ref"))
    made = []
    for i, name in enumerate(names):
        email = f"p{i}@example.com"
        db.session.execute(person.insert().values(
            email=email, name=name, search_key=f" p{i}", title="", role="employee", timezone="Asia/Shanghai",
            active=True, failed_logins=0, created_at=datetime(2026, 11, 1), audit_ref=f"ref{i}"))
        made.append(SimpleNamespace(id=db.session.scalar(select(person.c.id).where(person.c.email == email))))
    return made


def test_the_confidential_cleanup_takes_back_awards_and_stories_fed_by_confidential_feedback(tmp_path) -> None:
    """e5b8c2d4f6a1: automatic badges earned by confidential feedback and stories told from
    confidential praise (made before the rule held) go, with what hangs on them; the rest stays."""
    from datetime import datetime, timedelta

    from sqlalchemy import func, insert

    from perfapp.feedback.models import Feedback
    from perfapp.notify.models import Notification
    from perfapp.reactions.models import Comment, Reaction
    from perfapp.recognition.models import Badge, BadgeAward, BadgeHolding
    from perfapp.stories.models import Story, StoryPerson

    t0 = datetime(2026, 11, 1, 9, 0)
    with migration_app(tmp_path, "migdata"):
        upgrade(revision="e5b8c2d4f6a1-1")  # the revision before the cleanup
        secret, named, manager, lina = _add_old_people([f"P{i}" for i in range(4)])
        first = Badge(rule="first-feedback", icon="star", colour="#e5484d", name_zh="初次反馈",
                      name_en="First feedback", awarders="hr", monthly_limit=1)
        db.session.add(first)
        db.session.flush()

        def feedback(author: SimpleNamespace, at: datetime, confidential: bool) -> SimpleNamespace:
            # Core, naming only columns this old schema has: the ORM would name every column the
            # model has today (later migrations add some).
            result = db.session.execute(insert(Feedback.__table__).values(
                author_id=author.id, recipient_id=lina.id, kind="praise", visibility="public",
                confidential=confidential, text="thanks", created_at=at))
            return SimpleNamespace(id=result.inserted_primary_key[0])

        feedback(secret, t0, True)
        feedback(secret, t0 + timedelta(days=3), False)  # a named one later does not excuse it
        feedback(named, t0, False)
        praise = feedback(manager, t0, True)
        db.session.flush()

        def award(receiver: SimpleNamespace) -> SimpleNamespace:
            # Core too: later migrations add columns to badge_award.
            result = db.session.execute(insert(BadgeAward.__table__).values(
                badge_id=first.id, receiver_id=receiver.id, source="once", month="2026-11", created_at=t0,
                hidden=False))
            return SimpleNamespace(id=result.inserted_primary_key[0])

        leaked, kept = award(secret), award(named)
        db.session.flush()
        story = Story(source_type="feedback", source_id=praise.id, title="T", text="t", promoter_id=manager.id,
                      status="pending")
        story.people = [StoryPerson(user_id=lina.id)]
        award_story = Story(source_type="badge_award", source_id=leaked.id, title="A", text="a",
                            promoter_id=manager.id, status="published", published_at=t0)
        db.session.add_all([story, award_story])
        db.session.flush()
        db.session.add_all([
            Reaction(target_type="badge_award", target_id=leaked.id, user_id=lina.id, emoji="👍"),
            Reaction(target_type="badge_award", target_id=kept.id, user_id=lina.id, emoji="👍"),
            Comment(target_type="badge_award", target_id=leaked.id, author_id=lina.id, text="congrats"),
            Notification(user_id=secret.id, kind="badge_received", ref_type="badge_award", ref_id=leaked.id),
            Notification(user_id=named.id, kind="badge_received", ref_type="badge_award", ref_id=kept.id),
            Notification(user_id=lina.id, kind="story_consent", ref_type="story", ref_id=story.id),
        ])
        leaked_id, kept_id, named_id = leaked.id, kept.id, named.id
        db.session.commit()
        db.session.remove()  # the migration writes on a connection of its own

        upgrade()

        def n(model, *where) -> int:  # type: ignore[no-untyped-def]
            return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

        assert n(BadgeAward, BadgeAward.id == leaked_id) == 0 and n(BadgeAward, BadgeAward.id == kept_id) == 1
        assert n(Story) == 0 and n(StoryPerson) == 0
        assert n(Reaction) == 1 and n(Comment) == 0
        notes = db.session.execute(select(Notification.ref_type, Notification.ref_id)).all()
        assert notes == [("badge_award", kept_id)]
        holdings = db.session.execute(select(BadgeHolding.user_id, BadgeHolding.count)).all()
        assert holdings == [(named_id, 1)]
        assert n(Feedback) == 4  # the feedback itself is untouched


def test_the_sort_key_migration_fills_existing_people_by_pinyin(tmp_path) -> None:
    """b3d7f2a9c1e6: people who existed before the column get their sort key; lists order by it."""
    with migration_app(tmp_path, "migsort"):
        upgrade(revision="b3d7f2a9c1e6-1")  # the revision before the sort key
        _add_old_people(["张伟", "Lin", "李娜", "Lewis", "阿明"])
        db.session.commit()
        db.session.remove()

        upgrade()

        from perfapp.people.models import User

        keys = dict(db.session.execute(select(User.stored_name, User.sort_key)).all())
        assert keys["李娜"] == "li na" and keys["阿明"] == "a ming" and keys["Lewis"] == "lewis"
        ordered = db.session.scalars(select(User.stored_name).order_by(User.sort_key, User.id)).all()
        assert ordered == ["阿明", "Lewis", "李娜", "Lin", "张伟"]
