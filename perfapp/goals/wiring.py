"""Registrations: check-ins as a reaction target (teammates react and comment), the weekly
check-in reminder's inbox entry and push text. Called once from create_app."""
from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from perfapp.extensions import db
from perfapp.goals import cards, services
from perfapp.goals.models import CheckIn, Goal
from perfapp.notify.delivery import path_for
from perfapp.notify.registry import PushText, register, register_push
from perfapp.people.models import User
from perfapp.reactions.registry import Target, register_target


def load_checkins(ids: list[int]) -> dict[int, Any]:
    rows = db.session.scalars(select(CheckIn).where(CheckIn.id.in_(ids)).options(
        joinedload(CheckIn.author), joinedload(CheckIn.goal).joinedload(Goal.owner))).unique()
    return {c.id: c for c in rows}


def _people(checkin: CheckIn) -> tuple[int, ...]:
    return tuple({p for p in (checkin.author_id, checkin.goal.owner_id) if p is not None})


def _label(checkin: CheckIn, viewer: User) -> str:
    if viewer.id in (checkin.author_id, checkin.goal.owner_id):
        return _("your check-in on “%(title)s”", title=checkin.goal.title)
    return _("the check-in on “%(title)s”", title=checkin.goal.title)


def _load_weeks(ids: list[int], _viewer: User) -> dict[int, Any]:
    return {i: i for i in ids}


def _reminder_text(note: Any, _locale: str) -> PushText | None:
    count = services.stale_count(note.user_id)
    if not count:
        return None  # they checked in meanwhile
    return PushText(title=_("Time for a goal check-in"),
                    body=_("Where do your goals stand? A check-in takes a minute."),
                    url=path_for("goals.mine"), urgency="low", ttl=2 * 24 * 3600)


def connect(app: Flask) -> None:
    """Join the reactions, inbox and push registries (once per app; the registries are dicts)."""
    cards.connect()  # what a goal card shows of other rows moves its version
    register_target("goal_checkin", Target(
        model=CheckIn,
        can_read=lambda checkin, viewer: services.can_see(viewer, checkin.goal),
        people=_people,
        secret_author_id=lambda _checkin: None,
        label=_label,
        url=lambda checkin: url_for("goals.checkin", checkin_id=checkin.id),
        template="goals/_checkin.html",
        load=load_checkins,
    ))
    register("goal_reminder", "goals/_inbox_reminder.html", _load_weeks)
    register_push("goal_checkin_reminder", _reminder_text, "other")
