"""Review-cycle jobs (huey): the balanced assignment, deadline reminders, closing at the deadline.
A job is like a view: it calls services and commits."""
from __future__ import annotations

from huey import crontab

from perfapp.core.db import table_of, utcnow
from perfapp.extensions import db
from perfapp.reviews import services
from perfapp.reviews.models import ReviewCycle
from perfapp.tasks import huey, in_app_context


@huey.task()
@in_app_context
def assign_reviewers(cycle_id: int) -> None:
    """Solve the cycle's assignment; progress is committed as it goes so HR's page can poll it."""
    cycle = db.session.get(ReviewCycle, cycle_id)
    if cycle is None or not cycle.is_draft:
        return

    def progress(value: float) -> None:
        # Its own short transaction: the solve's rows are written in one go at the end.
        db.session.execute(table_of(ReviewCycle).update().where(ReviewCycle.id == cycle_id)
                           .values(assign_progress=value))
        db.session.commit()

    try:
        services.run_assignment(cycle, progress=progress)
        db.session.commit()
    except Exception:
        db.session.rollback()
        db.session.execute(table_of(ReviewCycle).update().where(ReviewCycle.id == cycle_id)
                           .values(assign_progress=None))
        db.session.commit()
        raise


@huey.periodic_task(crontab(minute="*/30"))
@in_app_context
def review_deadlines() -> None:
    """Remind reviewers 3 days and 1 day before the deadline; close cycles whose deadline passed."""
    now = utcnow()
    services.send_reminders(now)
    services.close_due_cycles(now)
    db.session.commit()
