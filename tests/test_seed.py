"""The demo and load data commands (flask seed-demo, flask seed-load)."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackTag, Tag
from perfapp.notify.models import Notification
from perfapp.people.models import User
from perfapp.projects.models import Milestone, Project
from perfapp.seed import DEMO_PASSWORD

ACCOUNTS = {"employee@example.com": "employee", "manager@example.com": "employee",
            "hr@example.com": "hr", "admin@example.com": "admin"}


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    db.session.rollback()  # the command opens its own write transaction
    return app.test_cli_runner().invoke(args=list(args))


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def account(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def reports_of(user: User) -> int:
    return count(select(User.id).where(User.manager_id == user.id).subquery())


def assert_demo_accounts() -> None:
    for email, role in ACCOUNTS.items():
        assert account(email).role == role
    manager, employee = account("manager@example.com"), account("employee@example.com")
    assert employee.manager_id == manager.id
    assert reports_of(manager) >= 5


def assert_visibility_rule() -> None:
    """Only praise that is not development-only is ever public (give_feedback's rule)."""
    public_non_praise = select(Feedback.id).where(
        Feedback.visibility == "public", (Feedback.kind != "praise") | Feedback.development_only.is_(True))
    assert count(public_non_praise.subquery()) == 0


def test_seed_demo_builds_a_bilingual_organisation(app: Flask, login) -> None:
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    for email in ACCOUNTS:
        assert email in result.output
    assert DEMO_PASSWORD in result.output

    assert 55 <= count(User) <= 65
    assert_demo_accounts()
    names = list(db.session.scalars(select(User.name)))
    assert any(n.isascii() for n in names) and any(not n.isascii() for n in names)
    assert {loc for (loc,) in db.session.execute(select(User.locale).distinct())} >= {"zh_Hans_CN", "en"}
    assert count(Project) == 5
    assert count(select(Milestone.id).where(Milestone.reached_at.is_not(None)).subquery()) > 0
    assert {k for (k,) in db.session.execute(select(Tag.kind).distinct())} == {"value", "capability", "free"}
    assert db.session.scalar(select(Tag).where(Tag.key == "customer-first")).name_zh == "客户第一"

    assert 250 <= count(Feedback) <= 500
    assert {k for (k,) in db.session.execute(select(Feedback.kind).distinct())} == {
        "praise", "suggestion", "constructive"}
    assert {v for (v,) in db.session.execute(select(Feedback.visibility).distinct())} == {
        "public", "private", "manager"}
    assert_visibility_rule()
    assert count(FeedbackTag) > 0
    assert count(select(Feedback.id).where(Feedback.confidential.is_(True)).subquery()) > 0
    assert count(select(Feedback.id).where(Feedback.behaviour != "").subquery()) > 0
    assert count(select(Feedback.id).where(Feedback.milestone_id.is_not(None)).subquery()) > 0
    assert {s for (s,) in db.session.execute(select(FeedbackAsk.status).distinct())} == {
        "open", "answered", "declined"}

    employee = account("employee@example.com")
    received = select(Feedback.id).where(Feedback.recipient_id == employee.id).subquery()
    assert count(received) >= 30
    assert count(select(Notification.id).where(Notification.user_id == employee.id).subquery()) >= 30
    no_key = select(Notification.id).where(Notification.dedupe_key.is_(None)).subquery()
    assert count(no_key) == 0  # the keys notify() uses, so a replayed event cannot duplicate

    page = login(employee, password=DEMO_PASSWORD).get("/").get_data(as_text=True)
    assert page.count('class="card fb ') == 20
    assert_demo_coaching(login, employee)


def assert_demo_coaching(login, employee: User) -> None:  # type: ignore[no-untyped-def]
    """1:1s with history, private notes, an action item carried over, tomorrow's reminder; records."""
    from perfapp.coaching.models import (
        ActionItem,
        FormalRecord,
        OneOnOne,
        OneOnOneSeries,
        PrivateNote,
    )

    series = db.session.scalar(select(OneOnOneSeries).where(OneOnOneSeries.report_id == employee.id))
    assert count(select(OneOnOne.id).where(OneOnOne.series_id == series.id, OneOnOne.done_at.is_not(None))
                 .subquery()) == 4
    assert count(PrivateNote) == 8 and count(select(OneOnOneSeries.id).subquery()) >= 3
    assert count(select(ActionItem.id).where(ActionItem.carried > 0, ActionItem.done_at.is_(None)).subquery()) == 2
    assert count(select(Notification.id).where(Notification.kind == "one_on_one_reminder").subquery()) == 2
    assert {r.state for r in db.session.scalars(select(FormalRecord))} == {"manager_signed", "hr_signed"}
    assert count(select(Notification.id).where(Notification.kind == "record_to_sign").subquery()) >= 1
    manager = account("manager@example.com")
    page = login(manager, password=DEMO_PASSWORD).get("/coaching/team").get_data(as_text=True)
    assert f'href="/coaching/1on1/{series.id}"' in page and "/coaching/1on1/start/" in page


def test_seed_demo_if_empty_runs_once(app: Flask) -> None:
    assert run(app, "seed-demo", "--if-empty").exit_code == 0
    people, feedback = count(User), count(Feedback)
    second = run(app, "seed-demo", "--if-empty")
    assert second.exit_code == 0 and "skipped" in second.output
    assert (count(User), count(Feedback)) == (people, feedback)


def test_seed_demo_without_if_empty_refuses_a_populated_database(app: Flask, make_user) -> None:
    make_user()
    result = run(app, "seed-demo")
    assert result.exit_code != 0 and "already has people" in result.output
    assert count(User) == 1


def test_seed_load_creates_exactly_the_requested_counts(app: Flask, login) -> None:
    result = run(app, "seed-load", "--people", "50", "--feedback", "500")
    assert result.exit_code == 0, result.output
    assert count(User) == 50
    assert count(Feedback) == 500
    assert_demo_accounts()
    assert_visibility_rule()
    assert count(FeedbackTag) > 0 and count(FeedbackAsk) > 0 and count(Notification) > 0

    employee = account("employee@example.com")
    team = select(User.id).where(User.manager_id == employee.manager_id)
    involving_team = select(Feedback.id).where(
        Feedback.recipient_id.in_(team) | Feedback.author_id.in_(team)).subquery()
    assert count(involving_team) >= 15  # a fair share for the demo team's feeds

    # Rows written with explicit ids: new rows must still get fresh ids (PostgreSQL sequences).
    extra = Feedback(author_id=employee.id, recipient_id=employee.manager_id, text="After the load")
    db.session.add(extra)
    db.session.commit()
    assert extra.id == 501

    client = login(employee, password=DEMO_PASSWORD)
    assert client.get("/").status_code == 200


def test_seed_load_refuses_a_populated_database_unless_forced(app: Flask, make_user) -> None:
    make_user()
    refused = run(app, "seed-load", "--people", "20", "--feedback", "10")
    assert refused.exit_code != 0 and "--force" in refused.output
    assert count(User) == 1

    forced = run(app, "seed-load", "--people", "20", "--feedback", "10", "--force")
    assert forced.exit_code == 0, forced.output
    assert (count(User), count(Feedback)) == (20, 10)


@pytest.mark.parametrize("people", ["5", "abc"])
def test_seed_load_rejects_bad_sizes(app: Flask, people: str) -> None:
    result = run(app, "seed-load", "--people", people, "--feedback", "10")
    assert result.exit_code == 2
    assert count(User) == 0


def test_seed_load_adds_projects_and_meetings_in_proportion(app: Flask, login) -> None:
    from perfapp.meetings.models import Meeting, MeetingAttendee, MeetingNote
    from perfapp.projects.models import ProjectMember

    result = run(app, "seed-load", "--people", "100", "--feedback", "50", "--goals", "0", "--checkins", "0")
    assert result.exit_code == 0, result.output
    assert count(Meeting) == 200 and count(MeetingAttendee) >= 400 and count(MeetingNote) > 0
    assert count(Project) == 5 and all(p.owner_id for p in db.session.scalars(select(Project)))
    assert db.session.scalar(select(func.count()).select_from(ProjectMember).where(ProjectMember.role != "")) > 0
    # Ended meetings are already nudged: the nudge job has nothing to catch up on.
    assert not db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.nudged_at.is_(None), Meeting.ends_at <= utcnow()))
    manager = account("manager@example.com")
    mine = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == manager.id)
    assert db.session.scalar(select(func.count()).select_from(mine.subquery())) >= 4
    client = login(manager, password=DEMO_PASSWORD)
    assert client.get("/meetings/").status_code == 200
    # New meetings still get fresh ids (PostgreSQL sequences).
    extra = Meeting(title="After the load", starts_at=utcnow(), ends_at=utcnow(), organizer_id=manager.id)
    db.session.add(extra)
    db.session.commit()
    assert extra.id == 201
    assert run(app, "seed-load", "--people", "20", "--feedback", "0", "--meetings", "0", "--force").exit_code == 0
    assert count(Meeting) == 0


def test_seed_load_adds_a_finished_review_cycle_everyone_can_read(app: Flask, login) -> None:
    """The load benchmark's "results" page: every reviewee reads their own results of a finished
    cycle with every review answered; a full team's peers and a manager's reports show."""
    from perfapp.reviews.models import (
        ReviewAssignment,
        ReviewComment,
        ReviewCycle,
        ReviewRating,
        ReviewTagVote,
    )

    result = run(app, "seed-load", "--people", "100", "--feedback", "50", "--goals", "0", "--checkins", "0",
                 "--meetings", "0")
    assert result.exit_code == 0, result.output
    cycle = db.session.scalar(select(ReviewCycle))
    assert count(ReviewCycle) == 1 and cycle.status == "closed" and cycle.closed_at < utcnow()
    assert [q.kind for q in cycle.questions] == ["rating", "rating", "text"]
    assert len(cycle.questions[0].anchors) == 5 and cycle.tag_ids
    groups = dict(db.session.execute(
        select(ReviewAssignment.group, func.count()).group_by(ReviewAssignment.group)).all())
    assert groups["self"] == 100 and groups["manager"] == 99 and groups["reports"] == 99 and groups["peers"] > 400
    assert not db.session.scalar(select(func.count()).select_from(ReviewAssignment).where(
        ReviewAssignment.status != "submitted"))
    assert count(ReviewRating) == 2 * count(ReviewAssignment) and count(ReviewComment) and count(ReviewTagVote)
    employee, manager = account("employee@example.com"), account("manager@example.com")
    page = login(employee, password=DEMO_PASSWORD).get(f"/reviews/cycles/{cycle.id}/people/{employee.id}")
    assert page.status_code == 200 and 'id="group-peers"' in page.get_data(as_text=True)
    assert "rv-hidden" not in page.get_data(as_text=True).split('id="group-peers"')[1].split("</section>")[0]
    mine = login(manager, password=DEMO_PASSWORD).get(f"/reviews/cycles/{cycle.id}/people/{manager.id}")
    assert mine.status_code == 200 and "rv-hidden" not in mine.get_data(as_text=True).split(
        'id="group-reports"')[1].split("</section>")[0]
    # New cycles still get fresh ids (PostgreSQL sequences).
    from perfapp.reviews import services
    from tests.reviews.conftest import cycle_input

    assert services.create_cycle(account("hr@example.com"), cycle_input()).id == 2
