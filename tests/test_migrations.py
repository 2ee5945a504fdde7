"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.extensions import db


def test_migrations_match_models(tmp_path) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        # A schema of its own inside the PostgreSQL test database, dropped afterwards.
        from perfapp.config import _normalise_db_url

        url = _normalise_db_url(url)
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migtest CASCADE"))
            conn.execute(text("CREATE SCHEMA migtest"))
        options = {"connect_args": {"options": "-csearch_path=migtest"}}
    else:
        url, options, admin = f"sqlite:///{tmp_path}/mig.db", {}, None

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = options

    app = create_app(Config)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == []
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA migtest CASCADE"))
            admin.dispose()


def test_the_confidential_cleanup_takes_back_awards_and_stories_fed_by_confidential_feedback(tmp_path) -> None:
    """e5b8c2d4f6a1: automatic badges earned by confidential feedback and stories told from
    confidential praise (made before the rule held) go, with what hangs on them; the rest stays."""
    from datetime import datetime, timedelta

    from sqlalchemy import func, select

    from perfapp.feedback.models import Feedback
    from perfapp.notify.models import Notification
    from perfapp.people.models import User
    from perfapp.reactions.models import Comment, Reaction
    from perfapp.recognition.models import Badge, BadgeAward, BadgeHolding
    from perfapp.stories.models import Story, StoryPerson

    url = os.environ.get("TEST_DATABASE_URL")
    admin = None
    if url:
        from perfapp.config import _normalise_db_url

        url = _normalise_db_url(url)
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migdata CASCADE"))
            conn.execute(text("CREATE SCHEMA migdata"))
        options = {"connect_args": {"options": "-csearch_path=migdata"}}
    else:
        url, options = f"sqlite:///{tmp_path}/migdata.db", {}

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = options

    app = create_app(Config)
    t0 = datetime(2026, 11, 1, 9, 0)
    try:
        with app.app_context():
            upgrade(revision="e5b8c2d4f6a1-1")  # the revision before the cleanup
            people = [User(email=f"p{i}@example.com", name=f"P{i}", search_key=f" p{i}") for i in range(4)]
            secret, named, manager, lina = people
            db.session.add_all(people)
            db.session.flush()
            first = Badge(rule="first-feedback", icon="star", colour="#e5484d", name_zh="初次反馈",
                          name_en="First feedback", awarders="hr", monthly_limit=1)
            db.session.add(first)
            db.session.flush()

            def feedback(author: User, at: datetime, confidential: bool) -> Feedback:
                row = Feedback(author_id=author.id, recipient_id=lina.id, kind="praise", visibility="public",
                               confidential=confidential, text="thanks", created_at=at)
                db.session.add(row)
                return row

            feedback(secret, t0, True)
            feedback(secret, t0 + timedelta(days=3), False)  # a named one later does not excuse it
            feedback(named, t0, False)
            praise = feedback(manager, t0, True)
            db.session.flush()
            leaked = BadgeAward(badge_id=first.id, receiver_id=secret.id, source="once", month="2026-11",
                                created_at=t0)
            kept = BadgeAward(badge_id=first.id, receiver_id=named.id, source="once", month="2026-11",
                              created_at=t0)
            db.session.add_all([leaked, kept])
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
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA migdata CASCADE"))
            admin.dispose()
