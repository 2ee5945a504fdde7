"""The nudge the day before a 1:1 (huey). A job is like a view: it calls services and commits."""
from __future__ import annotations

from huey import crontab

from perfapp.coaching import one_on_ones
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.tasks import huey, in_app_context


@huey.periodic_task(crontab(minute="*/15"))
@in_app_context
def one_on_one_reminders() -> None:
    """Every 15 minutes: both sides of a 1:1 in the next 24 hours get an inbox entry and a push."""
    one_on_ones.send_reminders(utcnow())
    db.session.commit()
