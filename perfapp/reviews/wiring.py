"""Registrations: review notifications in the inbox (a cycle opened, a deadline nearing) and their
push text. Called once from create_app."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.notify.delivery import path_for
from perfapp.notify.registry import PushText, register, register_push
from perfapp.people.models import User
from perfapp.reviews.models import ReviewCycle


def _load_cycles(ids: list[int], _viewer: User) -> dict[int, Any]:
    return {c.id: c for c in db.session.scalars(select(ReviewCycle).where(ReviewCycle.id.in_(ids)))}


def _opened_text(note: Any, _locale: str) -> PushText | None:
    cycle = db.session.get(ReviewCycle, note.ref_id)
    if cycle is None or not cycle.is_open:
        return None
    return PushText(title=_("Reviews to write"), body=_("“%(name)s” is open: your colleagues' reviews are waiting.",
                                                        name=cycle.name),
                    url=path_for("reviews.index"), urgency="low", ttl=3 * 24 * 3600)


def _reminder_text(note: Any, _locale: str) -> PushText | None:
    from perfapp.reviews.services import to_write

    cycle = db.session.get(ReviewCycle, note.ref_id)
    person = db.session.get(User, note.user_id)
    if cycle is None or not cycle.is_open or person is None:
        return None
    left = sum(1 for row in to_write(person) if row.cycle_id == cycle.id)
    if not left:
        return None  # all written meanwhile
    return PushText(title=_("Reviews due soon"),
                    body=_("“%(name)s” closes soon and %(n)d of your reviews are still to write.",
                           name=cycle.name, n=left),
                    url=path_for("reviews.index"), urgency="normal", ttl=24 * 3600)


def reviews_to_write(person: User) -> int:
    """How many reviews this person still has to write in open cycles (the Me page shows it)."""
    from perfapp.reviews.services import waiting

    pending = waiting(person)
    return pending.left if pending else 0


def connect(app: Flask) -> None:
    """Join the inbox and push registries (once per app; the registries are dicts), and give
    templates the reviews to write (the Me page's count; Home's line is read by its view)."""
    app.add_template_global(reviews_to_write, "reviews_to_write")
    register("review_cycle", "reviews/_inbox_note.html", _load_cycles)
    register_push("review_opened", _opened_text, "requests")
    register_push("review_reminder", _reminder_text, "requests")
