"""Push delivery and nudge jobs (huey). A job is like a view: it calls services and commits."""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from huey import crontab

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.notify import delivery, nudges
from perfapp.tasks import huey, in_app_context


def enqueue_delivery(note_ids: Iterable[int]) -> None:
    """Queue push delivery for these inbox entries, in batches (one job each)."""
    ids = sorted(set(note_ids))
    size = int(current_app.config["PUSH_BATCH_SIZE"])
    for i in range(0, len(ids), size):
        deliver_notifications(ids[i:i + size])


def _schedule(plan_deferred: dict, retries: list[delivery.Retry]) -> None:
    for eta, ids in plan_deferred.items():
        deliver_notifications.schedule(args=(ids,), eta=eta)  # when quiet hours end
    for retry in retries:
        retry_push.schedule(args=(retry.note_id, retry.subscription_id, retry.attempt), delay=retry.delay)


@huey.task()
@in_app_context
def deliver_notifications(note_ids: list[int]) -> None:
    """Decide and claim (one transaction), then send with no transaction open, then clean up."""
    plan = delivery.plan_delivery(note_ids)
    crypto = delivery.encrypter() if plan.outgoing else None
    db.session.commit()
    results = delivery.send_all(plan.outgoing, crypto=crypto)
    retries = delivery.apply_results(results, attempt=1)
    db.session.commit()
    _schedule(plan.deferred, retries)


@huey.task()
@in_app_context
def retry_push(note_id: int, subscription_id: int, attempt: int) -> None:
    """Try one device again after a 429, a 5xx or a network error."""
    planned = delivery.plan_retry(note_id, subscription_id)
    crypto = delivery.encrypter() if isinstance(planned, delivery.Outgoing) else None
    db.session.commit()
    if planned is None:
        return
    if not isinstance(planned, delivery.Outgoing):  # quiet hours began meanwhile
        retry_push.schedule(args=(note_id, subscription_id, attempt), eta=planned)
        return
    retries = delivery.apply_results(delivery.send_all([planned], crypto=crypto), attempt=attempt)
    db.session.commit()
    _schedule({}, retries)


@huey.periodic_task(crontab(minute="17"))
@in_app_context
def remind_open_asks() -> None:
    """Hourly: reminders for feedback requests open for 3 days."""
    nudges.send_ask_reminders(utcnow())
    db.session.commit()


@huey.periodic_task(crontab(hour="*/6", minute="5"))
@in_app_context
def weekly_nudges() -> None:
    """Every few hours (one nudge per person per ISO week), so a stopped consumer catches up."""
    nudges.send_weekly_nudges(utcnow())
    db.session.commit()
