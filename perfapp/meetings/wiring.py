"""Registrations: the meeting nudge's inbox entry and push text, and goal check-in dates in the
calendar subscription. Called once from create_app."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.meetings import services
from perfapp.meetings.ics import HORIZON, FeedEvent
from perfapp.meetings.models import Meeting
from perfapp.notify.delivery import path_for
from perfapp.notify.models import Notification
from perfapp.notify.registry import PushText, register, register_push
from perfapp.people.models import User


def _load_meetings(ids: list[int], _viewer: User) -> dict[int, Any]:
    return {m.id: m for m in db.session.scalars(select(Meeting).where(Meeting.id.in_(ids)))}


def _meeting_text(note: Notification, _locale: str) -> PushText | None:
    meeting = db.session.get(Meeting, note.ref_id)
    if meeting is None:
        return None
    return PushText(title=_("How was “%(title)s”?", title=meeting.title),
                    body=_("Leave one sentence of feedback under the minutes: to the meeting or to a person."),
                    url=path_for("meetings.detail", meeting_id=meeting.id), ttl=24 * 3600)


def goal_checkin_dates(person: User, now: datetime) -> Iterator[FeedEvent]:
    """When each of my open goals is next due a check-in (the organisation's cadence after the last
    one), as all-day entries. Reads goals' rows; goals itself knows nothing of calendars."""
    from perfapp.goals.models import Goal
    from perfapp.goals.services import settings

    cadence = timedelta(days=settings().stale_days)
    today = now.date()
    goals = db.session.scalars(select(Goal).where(
        Goal.owner_type == "person", Goal.owner_id == person.id, Goal.archived.is_(False),
        Goal.period_end >= today).order_by(Goal.id).limit(200))
    for goal in goals:
        due = max(((goal.last_checkin_at or goal.created_at) + cadence).date(), today)
        if due <= min(goal.period_end, (now + HORIZON).date()):
            yield FeedEvent(uid=f"goal-checkin-{goal.id}-{due.isoformat()}@perfapp",
                            title=_("Check in: %(title)s", title=goal.title), starts=due,
                            url=url_for("goals.detail", goal_id=goal.id, _external=True))


def connect(app: Flask) -> None:
    """Join the inbox and push registries (once per app; the registries are dicts)."""
    register("meeting", "meetings/_inbox_meeting.html", _load_meetings)
    register_push("meeting_nudge", _meeting_text, "other")
    services.register_feed_source(goal_checkin_dates)
