"""Formal records at key moments: a promotion review or a project retrospective about one person,
written by their manager with the period's feedback (what the writer may read) and goals pulled
in, then signed by the manager and by HR: draft → manager_signed → hr_signed. A signed record is
frozen: every edit is refused.

Who sees one: the writer and the person's current manager always; the person and HR once the
manager has signed (a draft is the manager's work in progress). Everyone else: 404.
Every function takes the acting person explicitly; it flushes, the view commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select

from perfapp.coaching.models import RECORD_KINDS, FormalRecord
from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.notify.services import notify
from perfapp.people.models import User

MAX_SECTION = 4000
MAX_EVIDENCE = 100
MAX_PERIOD_DAYS = 2 * 366
SECTIONS = ("summary", "strengths", "growth", "recommendation")


class NotAllowed(Exception):
    """The actor may not see or do this (views answer 404 when they may not see it)."""


class Locked(Exception):
    """The record is signed (or not ready for this signature): nothing changes (views answer 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_manager_of(viewer: User, record: FormalRecord) -> bool:
    return viewer.id == record.author_id or (record.person is not None and record.person.manager_id == viewer.id)


def can_view(viewer: User, record: FormalRecord) -> bool:
    if is_manager_of(viewer, record):
        return True
    if record.state == "draft":
        return False
    return viewer.id == record.person_id or viewer.is_hr


def record_for(viewer: User, record_id: int) -> FormalRecord | None:
    record = db.session.get(FormalRecord, record_id) if record_id > 0 else None
    return record if record is not None and can_view(viewer, record) else None


def can_edit(viewer: User, record: FormalRecord) -> bool:
    return record.state == "draft" and is_manager_of(viewer, record)


def can_sign(viewer: User, record: FormalRecord) -> bool:
    if record.state == "draft":
        return is_manager_of(viewer, record)
    if record.state == "manager_signed":
        # Two different people sign, and nobody signs a record about themselves.
        return viewer.is_hr and viewer.id not in (record.person_id, record.manager_signed_by_id)
    return False


@dataclass
class RecordInput:
    kind: str = "promotion"
    person_id: int | None = None
    period_start: str = ""
    period_end: str = ""
    project_id: int | None = None
    summary: str = ""
    strengths: str = ""
    growth: str = ""
    recommendation: str = ""


def _long_text(value: str, name: str, errors: dict[str, str]) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_SECTION:
        errors[name] = _("Use at most %(n)d characters.", n=MAX_SECTION)
    return text


def _period(data: RecordInput, errors: dict[str, str]) -> tuple[date, date] | None:
    try:
        start, end = date.fromisoformat(data.period_start.strip()), date.fromisoformat(data.period_end.strip())
    except ValueError:
        errors["period_start"] = _("Enter the period's first and last day, like 2026-07-01 and 2026-12-31.")
        return None
    if end < start:
        errors["period_start"] = _("The period must end after it starts.")
    elif (end - start).days > MAX_PERIOD_DAYS:
        errors["period_start"] = _("Choose a period of at most two years.")
    elif start > utcnow().date():
        errors["period_start"] = _("The period can't start in the future.")
    return start, end


def _project(data: RecordInput, person: User, errors: dict[str, str]) -> int | None:
    from perfapp.projects.models import ProjectMember

    if data.kind != "retrospective":
        return None
    if not data.project_id or db.session.get(ProjectMember, (data.project_id, person.id)) is None:
        errors["project_id"] = _("Choose a project %(name)s worked on.", name=person.name)
        return None
    return data.project_id


def evidence(writer: User, person: User, start: date, end: date) -> dict:
    """The period's feedback the writer may read and the person's goals of the period, as the
    writer sees them (goals frozen as they stand now: a signed record must not move)."""
    from perfapp.goals import services as goals
    from perfapp.goals.models import Goal

    since, until = datetime.combine(start, datetime.min.time()), datetime.combine(end + timedelta(days=1),
                                                                                 datetime.min.time())
    feedback = list(db.session.scalars(
        select(Feedback.id).where(Feedback.recipient_id == person.id, Feedback.created_at >= since,
                                  Feedback.created_at < until, Feedback.hidden.is_(False),
                                  Feedback.visible_to(writer))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(MAX_EVIDENCE)))
    rows = db.session.scalars(
        select(Goal).where(Goal.owner_type == "person", Goal.owner_id == person.id, Goal.archived.is_(False),
                           Goal.period_start <= end, Goal.period_end >= start, goals.visible_to(writer))
        .order_by(Goal.period_start, Goal.id).limit(MAX_EVIDENCE))
    return {"feedback": feedback,
            "goals": [{"id": g.id, "title": g.title, "percent": g.percent, "status": g.shown_status} for g in rows]}


def _fill(record: FormalRecord, data: RecordInput, errors: dict[str, str]) -> None:
    values = {name: _long_text(getattr(data, name), name, errors) for name in SECTIONS}
    if not errors and not values["summary"]:
        errors["summary"] = _("Please fill this in.")
    for name, value in values.items():
        setattr(record, name, value)


def create_record(author: User, data: RecordInput) -> FormalRecord:
    """A manager writes a draft about one of their active direct reports."""
    person = db.session.get(User, data.person_id) if data.person_id and data.person_id > 0 else None
    if person is None or person.manager_id != author.id or not person.active:
        raise NotAllowed
    errors: dict[str, str] = {}
    if data.kind not in RECORD_KINDS:
        errors["kind"] = _("Choose a kind of record.")
    period = _period(data, errors)
    project_id = _project(data, person, errors)
    record = FormalRecord(kind=data.kind, person_id=person.id, author_id=author.id, project_id=project_id)
    _fill(record, data, errors)
    if errors or period is None:
        raise FormError(errors)
    record.period_start, record.period_end = period
    record.evidence = evidence(author, person, *period)
    db.session.add(record)
    db.session.flush()
    return record


def update_record(actor: User, record: FormalRecord, data: RecordInput) -> FormalRecord:
    """The manager edits a draft (the evidence is pulled in again); a signed record is refused."""
    if not is_manager_of(actor, record):
        raise NotAllowed
    if record.state != "draft":
        raise Locked(_("This record is signed, so it can't be changed."))
    errors: dict[str, str] = {}
    data.kind = record.kind
    period = _period(data, errors)
    project_id = _project(data, record.person, errors)
    before = {name: getattr(record, name) for name in SECTIONS}
    _fill(record, data, errors)
    if errors or period is None:
        for name, value in before.items():
            setattr(record, name, value)
        raise FormError(errors)
    record.period_start, record.period_end = period
    record.project_id = project_id
    record.evidence = evidence(actor, record.person, *period)
    record.updated_at = utcnow()
    db.session.flush()
    return record


def sign(actor: User, record: FormalRecord, now: datetime | None = None) -> FormalRecord:
    """The manager signs a draft; then HR (someone else, not the person) signs it; then it is frozen."""
    now = now or utcnow()
    if not can_sign(actor, record):
        if record.state == "hr_signed":
            raise Locked(_("This record is already signed by the manager and HR."))
        raise Locked(_("You can't sign this record now."))
    if record.state == "draft":
        record.state, record.manager_signed_at, record.manager_signed_by_id = "manager_signed", now, actor.id
        tell_hr(record)
    else:
        record.state, record.hr_signed_at, record.hr_signed_by_id = "hr_signed", now, actor.id
        notify(record.person_id, "record_signed", ref_type="formal_record", ref_id=record.id,
               dedupe_key=f"record-signed:{record.id}")
    db.session.flush()
    return record


MAX_HR_TOLD = 50


def tell_hr(record: FormalRecord) -> None:
    """HR's inbox (and push): a record waits for their signature. Admins when there is no HR."""
    hr = list(db.session.scalars(select(User.id).where(User.role == "hr", User.active.is_(True),
                                                       User.id != record.person_id)
                                 .order_by(User.id).limit(MAX_HR_TOLD)))
    if not hr:
        hr = list(db.session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True),
                                                           User.id != record.person_id)
                                     .order_by(User.id).limit(MAX_HR_TOLD)))
    for person_id in hr:
        notify(person_id, "record_to_sign", ref_type="formal_record", ref_id=record.id,
               dedupe_key=f"record-sign:{record.id}")


def records_for(viewer: User, limit: int = 100) -> list[FormalRecord]:
    """The records the viewer may open: ones they wrote or manage, about them (signed), and for HR
    every signed one (those waiting for HR first)."""
    managed = select(User.id).where(User.manager_id == viewer.id).scalar_subquery()
    shown = or_(FormalRecord.author_id == viewer.id, FormalRecord.person_id.in_(managed),
                (FormalRecord.person_id == viewer.id) & (FormalRecord.state != "draft"))
    if viewer.is_hr:
        shown = or_(shown, FormalRecord.state != "draft")
    rows = db.session.scalars(select(FormalRecord).where(shown)
                              .order_by((FormalRecord.state == "manager_signed").desc(),
                                        FormalRecord.updated_at.desc(), FormalRecord.id.desc()).limit(limit))
    return [r for r in rows if can_view(viewer, r)]
