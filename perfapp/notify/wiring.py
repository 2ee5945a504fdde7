"""Signal handlers (other domains' events become inbox entries; every entry is queued for push
delivery) and what the inbox and push know of our own kinds: the nudges' entries and the push
texts. `connect(app)` is called once from create_app."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user

from perfapp.core import pages, signals
from perfapp.notify import delivery, handlers, nudges, services
from perfapp.notify.registry import register, register_push


def connect(app: Flask) -> None:
    """Blinker ignores a second identical connect; the registries are dicts."""
    delivery.install()
    # The Home tab's unread count, on every page (read once per request; part of a kept page's key).
    pages.shell_value(app, "unread_count",
                      lambda: services.unread_count(current_user) if current_user.is_authenticated else 0)
    signals.feedback_given.connect(handlers.on_feedback_given)
    signals.feedback_requested.connect(handlers.on_feedback_requested)
    signals.milestone_reached.connect(nudges.on_milestone_reached)
    signals.notification_created.connect(handlers.on_notification_created)
    register("milestone", "notify/_inbox_milestone.html", nudges.load_milestones)
    register("weekly_nudge", "notify/_inbox_weekly.html", nudges.load_weeks)
    register_push("milestone_nudge", nudges.milestone_text, "milestone")
    register_push("feedback_received", nudges.feedback_text, "received")
    register_push("flowers_received", nudges.flowers_text, "received")
    register_push("badge_received", nudges.badge_text, "received")
    register_push("ask_received", nudges.ask_text, "requests")
    register_push("ask_reminder", nudges.ask_text, "requests")
    register_push("weekly_nudge", nudges.weekly_text, "weekly")
