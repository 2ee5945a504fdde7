"""The nudge after a meeting ends (huey). A job is like a view: it calls services and commits."""
from __future__ import annotations

from huey import crontab

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.meetings import services
from perfapp.tasks import huey, in_app_context


@huey.periodic_task(crontab(minute="*/5"))
@in_app_context
def meeting_nudges() -> None:
    """Every 5 minutes: attendees of meetings that just ended are asked for one sentence."""
    services.send_meeting_nudges(utcnow())
    db.session.commit()
