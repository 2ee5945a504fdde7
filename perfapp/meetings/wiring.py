"""Registrations: the meeting nudge's inbox entry and push text. Called once from create_app."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from perfapp.extensions import db
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


def connect(app: Flask) -> None:
    """Join the inbox and push registries (once per app; the registries are dicts)."""
    register("meeting", "meetings/_inbox_meeting.html", _load_meetings)
    register_push("meeting_nudge", _meeting_text, "other")
