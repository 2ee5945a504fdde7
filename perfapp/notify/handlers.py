"""Signal handlers (connected by notify.wiring): other domains' events become inbox entries (same
transaction), and every inbox entry is queued for push delivery once that transaction commits."""
from __future__ import annotations

from perfapp.notify import delivery
from perfapp.notify.models import Notification
from perfapp.notify.services import notify


def on_feedback_given(_sender: object, feedback) -> None:
    notify(feedback.recipient_id, "feedback_received", feedback_id=feedback.id,
           dedupe_key=f"feedback:{feedback.id}")


def on_feedback_requested(_sender: object, request) -> None:
    for ask in request.asks:
        notify(ask.recipient_id, "ask_received", ask_id=ask.id, dedupe_key=f"ask:{ask.id}")


def on_notification_created(_sender: object, notification: Notification) -> None:
    delivery.queue_after_commit(notification)
