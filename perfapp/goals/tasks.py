"""The weekly check-in reminder (huey). A job is like a view: it calls services and commits."""
from __future__ import annotations

from huey import crontab

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.tasks import huey, in_app_context


@huey.periodic_task(crontab(hour="*/6", minute="35"))
@in_app_context
def goal_checkin_reminders() -> None:
    """Every few hours (one reminder per owner per ISO week), so a stopped consumer catches up."""
    services.send_checkin_reminders(utcnow())
    db.session.commit()


@huey.periodic_task(crontab(hour="0", minute="20"))
@in_app_context
def kpi_rollover() -> None:
    """Each night: KPIs whose period ended carry over into the current period (a missed night catches up)."""
    services.roll_over_ended_kpis(utcnow().date())
    db.session.commit()
