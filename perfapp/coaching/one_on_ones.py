"""Recurring 1:1s between a manager and a report: the shared agenda (with suggestions from recent
feedback, stale goals, open requests and review results), each side's private notes, action
items carried to the next 1:1 until done, and the nudge the day before.

Who sees a series: the report and the report's *current* manager, nobody else (HR and admin
included: a 1:1 is a conversation, not a record). After a reorg the new manager takes the series
over (its agenda, history and open action items) and the previous manager loses it; the previous
manager's private notes stay theirs alone (in their personal data export), the new manager never
reads them. Everyone else gets a 404, so a series' existence isn't leaked either.

Every function takes the acting person explicitly; it flushes, the view commits.
"""
from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from perfapp.coaching import hooks
from perfapp.coaching.models import (
    CADENCES,
    ActionItem,
    AgendaItem,
    OneOnOne,
    OneOnOneSeries,
    PrivateNote,
)
from perfapp.core.db import utcnow
from perfapp.core.validation import FormError, clean_text
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.people.models import User

MAX_ITEM = 280
MAX_NOTE = 4000
MAX_AGENDA = 50
MAX_OPEN_ACTIONS = 50
SUGGEST_DAYS = 30
HORIZON_DAYS = 366  # how far ahead a 1:1 or a due date may be set
NUDGE_BEFORE = timedelta(days=1)
SOURCE_TYPES = ("feedback", "goal", "ask", "review")


class NotAllowed(Exception):
    """The actor may not see or change this (views answer 404: nothing about it is revealed)."""


# --- who ----------------------------------------------------------------------------------------------

def current_manager_id(series: OneOnOneSeries) -> int | None:
    report = series.report
    return report.manager_id if report is not None and report.manager_id != report.id else None


def can_view(viewer: User, series: OneOnOneSeries) -> bool:
    """The report and their current manager; nobody else, whatever their role."""
    return viewer.id == series.report_id or (viewer.id == current_manager_id(series) and viewer.active)


def series_for(viewer: User, series_id: int) -> OneOnOneSeries | None:
    """The series if the viewer may see it, else None (callers 404)."""
    series = db.session.get(OneOnOneSeries, series_id)
    return series if series is not None and can_view(viewer, series) else None


def other_side(viewer: User, series: OneOnOneSeries) -> User | None:
    if viewer.id == series.report_id:
        manager_id = current_manager_id(series)
        return db.session.get(User, manager_id) if manager_id else None
    return series.report


def _require(viewer: User, series: OneOnOneSeries) -> None:
    if not can_view(viewer, series):
        raise NotAllowed


def my_series(viewer: User) -> list[OneOnOneSeries]:
    """The 1:1 series I am in: mine with my manager first, then my reports' by name."""
    rows = list(db.session.scalars(
        select(OneOnOneSeries).join(User, User.id == OneOnOneSeries.report_id)
        .where((OneOnOneSeries.report_id == viewer.id) | ((User.manager_id == viewer.id) & User.active.is_(True)))
        .order_by(User.sort_key, OneOnOneSeries.id)))
    return sorted(rows, key=lambda s: s.report_id != viewer.id)


def series_of_report(report_id: int) -> OneOnOneSeries | None:
    return db.session.scalar(select(OneOnOneSeries).where(OneOnOneSeries.report_id == report_id))


# --- when -----------------------------------------------------------------------------------------------

def next_after(when: datetime, cadence: str) -> datetime:
    """The next meeting after `when` on this cadence (monthly keeps the day of month where it can)."""
    if cadence == "weekly":
        return when + timedelta(weeks=1)
    if cadence == "biweekly":
        return when + timedelta(weeks=2)
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def _parse_when(actor: User, day: str, start: str, now: datetime, errors: dict[str, str]) -> datetime | None:
    """A local date and time in the actor's timezone → naive UTC, in the future and within a year."""
    try:
        local = datetime.combine(date.fromisoformat((day or "").strip()), time.fromisoformat((start or "").strip()))
    except ValueError:
        errors["day"] = _("Enter a date and a time, like 2026-03-31 and 09:30.")
        return None
    when = local.replace(tzinfo=ZoneInfo(actor.timezone)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    if when <= now:
        errors["day"] = _("Choose a time in the future.")
    elif when > now + timedelta(days=HORIZON_DAYS):
        errors["day"] = _("Choose a time within the next year.")
    return when


def _cadence(value: str, errors: dict[str, str]) -> str:
    if value not in CADENCES:
        errors["cadence"] = _("Choose how often you meet.")
    return value


def current_meeting(series: OneOnOneSeries) -> OneOnOne:
    """The upcoming meeting (every series has exactly one)."""
    meeting = db.session.scalar(select(OneOnOne).where(OneOnOne.series_id == series.id, OneOnOne.done_at.is_(None))
                                .order_by(OneOnOne.id.desc()).limit(1))
    assert meeting is not None, "a series always has an upcoming meeting"
    return meeting


def past_meetings(series: OneOnOneSeries, limit: int = 10) -> list[OneOnOne]:
    return list(db.session.scalars(
        select(OneOnOne).where(OneOnOne.series_id == series.id, OneOnOne.done_at.is_not(None))
        .order_by(OneOnOne.scheduled_for.desc(), OneOnOne.id.desc()).limit(limit)))


# --- starting and scheduling ---------------------------------------------------------------------------

def start_series(manager: User, report_id: int | None, cadence: str, day: str, start: str,
                 now: datetime | None = None) -> OneOnOneSeries:
    """A manager starts recurring 1:1s with one of their active direct reports."""
    now = now or utcnow()
    report = db.session.get(User, report_id) if report_id and report_id > 0 else None
    if report is None or report.manager_id != manager.id or not report.active or report.id == manager.id:
        raise NotAllowed
    errors: dict[str, str] = {}
    if series_of_report(report.id) is not None:
        errors["report"] = _("You already have 1:1s with %(name)s.", name=report.name)
    cadence = _cadence(cadence, errors)
    when = _parse_when(manager, day, start, now, errors)
    if errors or when is None:
        raise FormError(errors)
    series = OneOnOneSeries(report_id=report.id, manager_id=manager.id, cadence=cadence)
    db.session.add(series)
    db.session.flush()
    db.session.add(OneOnOne(series_id=series.id, scheduled_for=when))
    db.session.flush()
    return series


def reschedule(actor: User, series: OneOnOneSeries, cadence: str, day: str, start: str,
               now: datetime | None = None) -> OneOnOne:
    """Either side moves the upcoming 1:1 or changes how often they meet."""
    _require(actor, series)
    errors: dict[str, str] = {}
    cadence = _cadence(cadence, errors)
    when = _parse_when(actor, day, start, now or utcnow(), errors)
    if errors or when is None:
        raise FormError(errors)
    meeting = current_meeting(series)
    series.cadence = cadence
    if meeting.scheduled_for != when:
        meeting.scheduled_for, meeting.nudged_at = when, None  # the nudge goes out again for the new day
    db.session.flush()
    return meeting


# --- the agenda --------------------------------------------------------------------------------------------

def agenda(meeting: OneOnOne) -> list[AgendaItem]:
    return agendas([meeting.id]).get(meeting.id, [])


def agendas(meeting_ids: list[int]) -> dict[int, list[AgendaItem]]:
    """The agendas of several 1:1s in one query (a series' history), by meeting id."""
    out: dict[int, list[AgendaItem]] = {}
    if meeting_ids:
        for item in db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id.in_(meeting_ids))
                                       .options(selectinload(AgendaItem.author))
                                       .order_by(AgendaItem.discussed, AgendaItem.id)):
            out.setdefault(item.meeting_id, []).append(item)
    return out


def add_agenda_item(actor: User, series: OneOnOneSeries, text: str, source_type: str | None = None,
                    source_id: int | None = None, now: datetime | None = None) -> AgendaItem:
    """Either side adds a line to the upcoming 1:1's shared agenda; a suggestion adds its source
    (only one the actor is offered: suggestions() decides what they may point at)."""
    _require(actor, series)
    meeting = current_meeting(series)
    errors: dict[str, str] = {}
    line = clean_text(text, "text", MAX_ITEM, errors)
    if source_type or source_id:
        offered = {(s.source_type, s.source_id) for s in suggestions(actor, series, now)}
        if (source_type, source_id) not in offered:
            errors["text"] = _("That suggestion isn't available any more.")
    if not errors and db.session.execute(select(func.count()).select_from(AgendaItem)
                                         .where(AgendaItem.meeting_id == meeting.id)).scalar_one() >= MAX_AGENDA:
        errors["text"] = _("An agenda can hold at most %(n)d items.", n=MAX_AGENDA)
    if errors:
        raise FormError(errors)
    item = AgendaItem(meeting_id=meeting.id, author_id=actor.id, text=line,
                      source_type=source_type or None, source_id=source_id)
    db.session.add(item)
    db.session.flush()
    return item


def agenda_item_for(actor: User, series: OneOnOneSeries, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id) if item_id > 0 else None
    if item is None or not can_view(actor, series):
        raise NotAllowed
    meeting = db.session.get(OneOnOne, item.meeting_id)
    if meeting is None or meeting.series_id != series.id:
        raise NotAllowed
    return item


def set_discussed(actor: User, series: OneOnOneSeries, item_id: int, discussed: bool) -> AgendaItem:
    item = agenda_item_for(actor, series, item_id)
    item.discussed = discussed
    db.session.flush()
    return item


def remove_agenda_item(actor: User, series: OneOnOneSeries, item_id: int) -> None:
    """Whoever added a line may take it off again, before the 1:1 is done."""
    item = agenda_item_for(actor, series, item_id)
    meeting = db.session.get(OneOnOne, item.meeting_id)
    if item.author_id != actor.id or meeting is None or meeting.done_at is not None:
        raise NotAllowed
    db.session.delete(item)
    db.session.flush()


@dataclass(frozen=True)
class Suggestion:
    """Something worth talking about, offered to one side only (what they may read themselves)."""

    source_type: str
    source_id: int | None
    text: str


def _stale_goals(viewer: User, report: User, now: datetime, limit: int) -> list:
    from perfapp.goals import services as goals
    from perfapp.goals.models import Goal

    today = now.date()
    cutoff = now - timedelta(days=goals.settings().stale_days)
    return list(db.session.scalars(
        select(Goal).where(Goal.owner_type == "person", Goal.owner_id == report.id, Goal.archived.is_(False),
                           Goal.period_start <= today, Goal.period_end >= today,
                           func.coalesce(Goal.last_checkin_at, Goal.created_at) < cutoff, goals.visible_to(viewer))
        .order_by(func.coalesce(Goal.last_checkin_at, Goal.created_at), Goal.id).limit(limit)))


def suggestions(viewer: User, series: OneOnOneSeries, now: datetime | None = None,
                limit: int = 5) -> list[Suggestion]:
    """What the viewer might add to the agenda: feedback the report received lately (as far as the
    viewer may read it), the report's goals without a recent check-in, feedback requests waiting
    on the report, review results (hooks). Sources already on the agenda are left out."""
    now = now or utcnow()
    report = series.report
    # A source already on this series' agendas (this 1:1's or an earlier one's) isn't offered
    # again; the open-requests line only while it is on this 1:1's (requests come and go).
    current = current_meeting(series).id
    meetings = select(OneOnOne.id).where(OneOnOne.series_id == series.id).scalar_subquery()
    taken = {(kind, ref) for kind, ref, on in db.session.execute(
        select(AgendaItem.source_type, AgendaItem.source_id, AgendaItem.meeting_id)
        .where(AgendaItem.meeting_id.in_(meetings), AgendaItem.source_type.is_not(None)))
        if kind != "ask" or on == current}
    out: list[Suggestion] = []
    received = db.session.execute(
        select(Feedback.id, Feedback.created_at).where(
            Feedback.recipient_id == report.id, Feedback.created_at >= now - timedelta(days=SUGGEST_DAYS),
            Feedback.hidden.is_(False), Feedback.visible_to(viewer))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit + len(taken))).all()
    for feedback_id, created in received:
        # The words stay on the card, shown to whoever may read it; the line names only the day.
        out.append(Suggestion("feedback", feedback_id,
                              _("Talk about the feedback received on %(day)s", day=_day(created, viewer))))
    for goal in _stale_goals(viewer, report, now, limit):
        out.append(Suggestion("goal", goal.id, _("Goal “%(title)s” needs a check-in", title=goal.title)))
    waiting = db.session.scalar(
        select(func.count()).select_from(FeedbackAsk).join(FeedbackAsk.request)
        .where(FeedbackAsk.recipient_id == report.id, FeedbackAsk.status == "open",
               FeedbackRequest.expires_at > now)) or 0
    if waiting:
        out.append(Suggestion("ask", None, ngettext("%(num)d feedback request is waiting for an answer",
                                                    "%(num)d feedback requests are waiting for an answer", waiting)))
    out.extend(Suggestion("review", ref, text) for ref, text in hooks.review_agenda_suggestions(viewer, report))
    return [s for s in out if (s.source_type, s.source_id) not in taken][: limit * 3]


def _day(when: datetime, viewer: User) -> str:
    from flask_babel import format_date

    return format_date(when.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(viewer.timezone)).date(), "medium")


def readable_feedback(viewer: User, ids: Iterable[int]) -> set[int]:
    """Which of these feedback ids the viewer may read (agenda lines point at feedback; the card
    shows only to those who could read it anyway)."""
    wanted = [i for i in ids if i]
    if not wanted:
        return set()
    return set(db.session.scalars(select(Feedback.id).where(Feedback.id.in_(wanted), Feedback.hidden.is_(False),
                                                            Feedback.visible_to(viewer))))


# --- private notes ------------------------------------------------------------------------------------

def my_note(viewer: User, meeting: OneOnOne) -> PrivateNote | None:
    """The viewer's own note on a meeting: the only way a private note is ever read."""
    return db.session.scalar(select(PrivateNote).where(PrivateNote.meeting_id == meeting.id,
                                                       PrivateNote.author_id == viewer.id))


def my_notes(viewer: User, meetings: Iterable[OneOnOne]) -> dict[int, PrivateNote]:
    ids = [m.id for m in meetings]
    if not ids:
        return {}
    return {n.meeting_id: n for n in db.session.scalars(
        select(PrivateNote).where(PrivateNote.meeting_id.in_(ids), PrivateNote.author_id == viewer.id))}


def save_private_note(actor: User, series: OneOnOneSeries, text: str) -> PrivateNote | None:
    """My own note on the upcoming 1:1 (empty deletes it). Nobody else ever reads it."""
    _require(actor, series)
    body = (text or "").replace("\r\n", "\n").strip()
    if len(body) > MAX_NOTE:
        raise FormError({"note": _("Use at most %(n)d characters.", n=MAX_NOTE)})
    meeting = current_meeting(series)
    note = my_note(actor, meeting)
    if not body:
        if note is not None:
            db.session.delete(note)
            db.session.flush()
        return None
    if note is None:
        note = PrivateNote(meeting_id=meeting.id, author_id=actor.id)
        db.session.add(note)
    note.text, note.updated_at = body, utcnow()
    db.session.flush()
    return note


# --- action items -----------------------------------------------------------------------------------------

def open_actions(series: OneOnOneSeries) -> list[ActionItem]:
    return list(db.session.scalars(select(ActionItem).where(ActionItem.series_id == series.id,
                                                            ActionItem.done_at.is_(None))
                                   .options(selectinload(ActionItem.owner))
                                   .order_by(ActionItem.due_on, ActionItem.id)))


def actions_done_in(meeting_ids: list[int]) -> dict[int, list[ActionItem]]:
    """Action items done, by the meeting they sat on when done (a past meeting's record)."""
    out: dict[int, list[ActionItem]] = {}
    if meeting_ids:
        for item in db.session.scalars(select(ActionItem).where(ActionItem.meeting_id.in_(meeting_ids),
                                                                ActionItem.done_at.is_not(None))
                                       .options(selectinload(ActionItem.owner)).order_by(ActionItem.id)):
            out.setdefault(item.meeting_id, []).append(item)
    return out


def add_action(actor: User, series: OneOnOneSeries, text: str, owner_id: int | None, due: str,
               now: datetime | None = None) -> ActionItem:
    """An action item for either side, due on a date from today to a year ahead (a date is required:
    an action without one is never carried anywhere useful)."""
    _require(actor, series)
    now = now or utcnow()
    errors: dict[str, str] = {}
    line = clean_text(text, "action_text", MAX_ITEM, errors)
    if owner_id not in {series.report_id, current_manager_id(series)} or owner_id is None:
        errors["owner_id"] = _("Choose who will do it.")
    today = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(actor.timezone)).date()
    due_on = None
    try:
        due_on = date.fromisoformat((due or "").strip())
    except ValueError:
        errors["due_on"] = _("Choose a due date.")
    else:
        if due_on < today:
            errors["due_on"] = _("The due date can't be in the past.")
        elif due_on > today + timedelta(days=HORIZON_DAYS):
            errors["due_on"] = _("Choose a due date within the next year.")
    if not errors and len(open_actions(series)) >= MAX_OPEN_ACTIONS:
        errors["action_text"] = _("Finish some action items first: at most %(n)d can be open.", n=MAX_OPEN_ACTIONS)
    if errors or due_on is None:
        raise FormError(errors)
    item = ActionItem(series_id=series.id, meeting_id=current_meeting(series).id, owner_id=owner_id,
                      created_by_id=actor.id, text=line, due_on=due_on)
    db.session.add(item)
    db.session.flush()
    return item


def set_action_done(actor: User, series: OneOnOneSeries, action_id: int, done: bool) -> ActionItem:
    _require(actor, series)
    item = db.session.get(ActionItem, action_id) if action_id > 0 else None
    if item is None or item.series_id != series.id:
        raise NotAllowed
    item.done_at = (item.done_at or utcnow()) if done else None
    db.session.flush()
    return item


# --- finishing a 1:1 --------------------------------------------------------------------------------------

def finish(actor: User, series: OneOnOneSeries, now: datetime | None = None) -> OneOnOne:
    """The 1:1 took place: it is done, the next one is scheduled on the cadence, and every action
    item not done yet moves to it. Returns the next meeting."""
    _require(actor, series)
    now = now or utcnow()
    meeting = current_meeting(series)
    meeting.done_at = now
    when = next_after(meeting.scheduled_for, series.cadence)
    while when <= now:
        when = next_after(when, series.cadence)
    upcoming = OneOnOne(series_id=series.id, scheduled_for=when)
    db.session.add(upcoming)
    db.session.flush()
    for item in db.session.scalars(select(ActionItem).where(ActionItem.series_id == series.id,
                                                            ActionItem.done_at.is_(None))):
        item.meeting_id, item.carried = upcoming.id, item.carried + 1
    db.session.flush()
    return upcoming


# --- the nudge the day before -------------------------------------------------------------------------------

def send_reminders(now: datetime) -> int:
    """Inbox + push to both sides of every 1:1 in the next 24 hours (once per meeting and time)."""
    from perfapp.notify.services import notify

    due = list(db.session.scalars(
        select(OneOnOne).where(OneOnOne.done_at.is_(None), OneOnOne.nudged_at.is_(None),
                               OneOnOne.scheduled_for > now, OneOnOne.scheduled_for <= now + NUDGE_BEFORE)
        .order_by(OneOnOne.scheduled_for, OneOnOne.id).limit(1000)))
    sent = 0
    for meeting in due:
        series = meeting.series
        key = f"1on1:{meeting.id}:{meeting.scheduled_for:%Y%m%d%H%M}"
        for person_id in {series.report_id, current_manager_id(series)} - {None}:
            person = db.session.get(User, person_id)
            if person is not None and person.active and notify(
                    person.id, "one_on_one_reminder", ref_type="one_on_one", ref_id=meeting.id, dedupe_key=key):
                sent += 1
        meeting.nudged_at = now
    db.session.flush()
    return sent


# --- My team ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    series_id: int
    last: datetime | None
    next: datetime | None


def schedules(report_ids: list[int]) -> dict[int, Schedule]:
    """Each report's series, last and next 1:1, in one query (My team)."""
    if not report_ids:
        return {}
    done = func.max(OneOnOne.done_at)
    upcoming = func.min(OneOnOne.scheduled_for).filter(OneOnOne.done_at.is_(None))
    rows = db.session.execute(
        select(OneOnOneSeries.report_id, OneOnOneSeries.id, done, upcoming)
        .join(OneOnOne, OneOnOne.series_id == OneOnOneSeries.id)
        .where(OneOnOneSeries.report_id.in_(report_ids)).group_by(OneOnOneSeries.report_id, OneOnOneSeries.id))
    from perfapp.core.db import as_datetime

    return {report_id: Schedule(series_id, as_datetime(last) if last else None, as_datetime(nxt) if nxt else None)
            for report_id, series_id, last, nxt in rows}
