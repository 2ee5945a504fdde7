"""Housekeeping jobs of the core (huey periodic tasks; the consumer runs them)."""
from __future__ import annotations

from huey import crontab

from perfapp.core.idempotency import purge_expired
from perfapp.extensions import db
from perfapp.tasks import huey, in_app_context


@huey.periodic_task(crontab(hour="3", minute="41"))
@in_app_context
def purge_idempotency_keys() -> int:
    """Daily: forget Idempotency-Key records past their retention (24 hours by default)."""
    count = purge_expired()
    db.session.commit()
    return count


@huey.periodic_task(crontab(hour="4", minute="13"))
@in_app_context
def prune_person_changes() -> int:
    """Daily: keep only each person's newest change (perfapp.core.changes)."""
    from perfapp.core.changes import prune

    return prune()


@huey.periodic_task(crontab(minute="*"))
@in_app_context
def prune_channel_changes() -> int:
    """Every minute: keep only each channel's newest change (perfapp.core.changes)."""
    from perfapp.core.changes import prune_channels

    return prune_channels()


@huey.task(retries=5, retry_delay=60)
@in_app_context
def deliver_mail(message: dict[str, str]) -> None:
    """Send one message (perfapp.core.mail); a failed SMTP send is retried for a few minutes."""
    from perfapp.core.mail import Message, sender

    sender().send(Message(**message))
