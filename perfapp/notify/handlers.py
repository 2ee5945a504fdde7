"""Signal handlers: other domains' events become inbox entries (same transaction)."""
from __future__ import annotations

from perfapp.core import signals
from perfapp.extensions import db
from perfapp.notify.models import Notification


def on_feedback_given(_sender: object, feedback) -> None:  # type: ignore[no-untyped-def]
    db.session.add(Notification(user_id=feedback.recipient_id, kind="feedback_received",
                                feedback_id=feedback.id))


def on_feedback_requested(_sender: object, request) -> None:  # type: ignore[no-untyped-def]
    for ask in request.asks:
        db.session.add(Notification(user_id=ask.recipient_id, kind="ask_received", ask_id=ask.id))


def connect_handlers() -> None:
    """Connect once per process (blinker ignores a second identical connect)."""
    signals.feedback_given.connect(on_feedback_given)
    signals.feedback_requested.connect(on_feedback_requested)
