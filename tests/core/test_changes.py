"""The database appends a change for every person whose Home a write changes (perfapp.core.changes),
from triggers, so bulk statements count as ORM flushes do; and only for them."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, update

from perfapp.core.changes import GOALS, PUBLIC, PersonChange, prune, prune_channels
from perfapp.core.versions import bump
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.feedback.services import request_feedback
from perfapp.onboarding.models import GettingStartedDismissal
from perfapp.people.models import User
from tests.core.test_pages import give


def changed(action) -> Counter[int]:  # type: ignore[no-untyped-def]
    """How many changes each person got from `action()` (committed)."""
    newest = db.session.scalar(select(PersonChange.id).order_by(PersonChange.id.desc()).limit(1)) or 0
    action()
    db.session.commit()
    return Counter(db.session.scalars(select(PersonChange.person_id).where(PersonChange.id > newest)))


def test_feedback_changes_its_recipient_author_and_the_recipients_manager(make_user) -> None:  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟")
    lina, emma, other = make_user(name="李娜", manager=boss), make_user(name="Emma"), make_user(name="Zhang")
    got = changed(lambda: give(emma, lina, "Great launch"))  # public: the praise wall's channel too
    assert set(got) == {lina.id, emma.id, boss.id, PUBLIC} and other.id not in got
    item = db.session.scalar(select(Feedback).where(Feedback.recipient_id == lina.id))
    assert set(changed(lambda: bump(db.session, Feedback, [item.id]))) == {lina.id, emma.id, boss.id, PUBLIC}  # bulk
    assert set(changed(lambda: db.session.delete(item))) == {lina.id, emma.id, boss.id, PUBLIC}
    private = Feedback(author_id=emma.id, recipient_id=lina.id, kind="praise", visibility="private", text="Psst",
                       created_at=item.created_at)
    assert set(changed(lambda: db.session.add(private))) == {lina.id, emma.id, boss.id}  # not public


def test_requests_reviews_tips_and_reports_change_the_people_they_concern(make_user) -> None:  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟")
    lina, emma = make_user(name="李娜", manager=boss), make_user(name="Emma")
    got = changed(lambda: request_feedback(emma, [lina.id], "the demo"))
    assert lina.id in got and emma.id in got and boss.id not in got
    ask = db.session.scalar(select(FeedbackAsk))
    assert set(changed(lambda: db.session.execute(
        update(FeedbackRequest).where(FeedbackRequest.id == ask.request_id).values(about="the launch")))) \
        == {lina.id, emma.id}
    assert set(changed(lambda: db.session.add(GettingStartedDismissal(person_id=lina.id)))) == {lina.id}
    # who reports to whom: the person, the old and the new manager
    assert set(changed(lambda: setattr(db.session.get(User, emma.id), "manager_id", boss.id))) == {emma.id, boss.id}
    assert set(changed(lambda: setattr(db.session.get(User, emma.id), "manager_id", lina.id))) \
        == {emma.id, boss.id, lina.id}
    # their head (a profile shows it, and their manager's list of reports), not their password or language
    assert set(changed(lambda: setattr(db.session.get(User, emma.id), "stored_name", "Emma W."))) == {emma.id, lina.id}
    assert changed(lambda: setattr(db.session.get(User, emma.id), "locale", "en")) == Counter()
    assert changed(lambda: setattr(db.session.get(User, emma.id), "password_hash", "x")) == Counter()


def test_prune_keeps_each_persons_newest_change_and_none_of_the_erased(make_user) -> None:  # type: ignore[no-untyped-def]
    lina, emma = make_user(name="李娜"), make_user(name="Emma")
    for text in ("one", "two", "three"):
        give(emma, lina, text)
    newest = {person: db.session.scalar(select(PersonChange.id).where(PersonChange.person_id == person)
                                        .order_by(PersonChange.id.desc()).limit(1)) for person in (lina.id, emma.id, PUBLIC)}
    db.session.add(PersonChange(person_id=999_999))  # someone erased since
    db.session.add_all([PersonChange(person_id=GOALS), PersonChange(person_id=GOALS)])  # a channel, not a person
    db.session.commit()
    newest[GOALS] = db.session.scalar(select(func.max(PersonChange.id)))
    assert prune() >= 5
    left = db.session.execute(select(PersonChange.person_id, PersonChange.id)).all()
    assert sorted(left) == sorted(newest.items())


def test_prune_channels_keeps_each_channels_newest_and_every_persons_change(make_user) -> None:  # type: ignore[no-untyped-def]
    """The praise wall's channel moves with every public write: pruned every minute, so the login
    query's count of it stays small; people's changes wait for the daily prune."""
    lina, emma = make_user(name="李娜"), make_user(name="Emma")
    for text in ("one", "two", "three"):
        give(emma, lina, text)
    people_before = db.session.scalar(select(func.count()).select_from(PersonChange).where(PersonChange.person_id > 0))
    newest_public = db.session.scalar(select(func.max(PersonChange.id)).where(PersonChange.person_id == PUBLIC))
    assert prune_channels() >= 2
    assert db.session.scalars(select(PersonChange.id).where(PersonChange.person_id == PUBLIC)).all() == [newest_public]
    assert db.session.scalar(select(func.count()).select_from(PersonChange).where(PersonChange.person_id > 0)) \
        == people_before
