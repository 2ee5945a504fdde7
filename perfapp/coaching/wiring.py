"""Registrations: the inbox entries and push texts of the day-before 1:1 nudge and of formal records
(waiting for HR, signed). Called once from create_app."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from perfapp.coaching import one_on_ones, records
from perfapp.coaching.models import FormalRecord, OneOnOne
from perfapp.extensions import db
from perfapp.notify.delivery import path_for
from perfapp.notify.models import Notification
from perfapp.notify.registry import PushText, register, register_push
from perfapp.people.models import User


def _load_meetings(ids: list[int], viewer: User) -> dict[int, Any]:
    """The 1:1s these entries point at, only those the viewer still takes part in (a reorg
    moves a series to the new manager: the old one's entries just disappear)."""
    rows = db.session.scalars(select(OneOnOne).where(OneOnOne.id.in_(ids)))
    return {m.id: m for m in rows if one_on_ones.can_view(viewer, m.series)}


def _reminder_text(note: Notification, _locale: str) -> PushText | None:
    meeting = db.session.get(OneOnOne, note.ref_id)
    if meeting is None or meeting.done_at is not None:
        return None
    # The same words for both sides (delivery renders once per event and language): no names.
    return PushText(title=_("Your 1:1 is tomorrow"),
                    body=_("Add what you want to talk about to the shared agenda."),
                    url=path_for("coaching.one_on_one", series_id=meeting.series_id), ttl=24 * 3600)


def _load_records(ids: list[int], viewer: User) -> dict[int, Any]:
    rows = db.session.scalars(select(FormalRecord).where(FormalRecord.id.in_(ids)))
    return {r.id: r for r in rows if records.can_view(viewer, r)}


def _record_text(note: Notification, _locale: str) -> PushText | None:
    record = db.session.get(FormalRecord, note.ref_id)
    if record is None:
        return None
    url = path_for("coaching.record", record_id=record.id)
    if note.kind == "record_to_sign":
        if record.state != "manager_signed":
            return None  # signed meanwhile
        return PushText(title=_("A formal record waits for HR's signature"),
                        body=_("The manager has signed it. Read it and sign as HR."), url=url)
    return PushText(title=_("A formal record about you is signed"),
                    body=_("Your manager and HR have signed it. You can read it now."), url=url)


def connect(app: Flask) -> None:
    """Join the inbox and push registries (once per app; the registries are dicts)."""
    register("one_on_one", "coaching/_inbox_one_on_one.html", _load_meetings)
    register_push("one_on_one_reminder", _reminder_text, "other")
    register("formal_record", "coaching/_inbox_record.html", _load_records)
    register_push("record_to_sign", _record_text, "other")
    register_push("record_signed", _record_text, "other")
