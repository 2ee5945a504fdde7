"""Registrations: customer praise in the inbox, as a story source and as reportable. `connect(app)` is
called once from create_app."""
from __future__ import annotations

from flask import Flask, url_for

from perfapp.integrations import services
from perfapp.integrations.models import CustomerPraise
from perfapp.moderation.registry import register_reportable
from perfapp.notify.registry import register
from perfapp.stories.sources import StorySource, register_source


def connect(app: Flask) -> None:
    register("customer_praise", "integrations/_inbox_entry.html", services.load_for_inbox)
    register_source("customer_praise", StorySource(
        load=services.load_source,
        eligible=lambda praise: praise.is_confirmed,
        people=lambda praise: list(praise.people),
        url=lambda praise: url_for("integrations.praise", praise_id=praise.id),
        template="integrations/_source.html",
        model=CustomerPraise,
        text=lambda praise: praise.body[:2000],
    ))
    # Anyone who can see a confirmed event can report it; the person who imported it answers for it.
    register_reportable("customer_praise", CustomerPraise, lambda praise: praise.author_id,
                        "integrations/_case.html",
                        can_read=lambda praise, viewer: praise.is_confirmed and praise.can_be_read_by(viewer),
                        dom_id=lambda praise: f"customer-praise-{praise.id}")
