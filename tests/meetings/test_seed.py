"""seed-demo includes meetings (with minutes, one-sentence feedback, a nudge after the one that just
ended) and a milestone retrospective whose aggregates show."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.meetings.models import Meeting, MeetingNote
from perfapp.notify.models import Notification
from perfapp.people.models import User
from perfapp.projects import reviews
from perfapp.projects.models import Milestone, PeerReview


def test_seed_demo_has_meetings_and_a_retrospective(app: Flask) -> None:
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    employee = db.session.scalar(select(User).where(User.email == "employee@example.com"))
    assert db.session.scalar(select(func.count()).select_from(Meeting)) >= 8
    assert db.session.scalar(select(func.count()).select_from(MeetingNote)) >= 9
    assert db.session.scalar(select(func.count(Feedback.id)).where(Feedback.meeting_id.is_not(None))) == 1
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == employee.id, Notification.kind == "meeting_nudge")) == 1
    milestone = db.session.get(Milestone, db.session.scalar(select(PeerReview.milestone_id).limit(1)))
    assert reviews.is_open(milestone, milestone.reached_at)
    summary = reviews.milestone_summary(employee, milestone)
    assert summary.team.reviewers >= 5 and summary.team.shown
    assert summary.badges  # the milestone badge everyone on the project earned
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == employee.id, Notification.kind == "milestone_nudge")) >= 1
