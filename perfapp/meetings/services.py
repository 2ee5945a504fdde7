"""Meeting use cases: create by hand, import a calendar file, minutes, one-sentence feedback after
the meeting, the nudge when it ends, and the calendar subscription. Every function takes the
acting person explicitly; it flushes, the view commits."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError, clean_text
from perfapp.extensions import db
from perfapp.meetings import ics
from perfapp.meetings.models import CalendarToken, Meeting, MeetingAttendee, MeetingNote
from perfapp.notify.services import notify
from perfapp.people.models import User

MAX_TITLE = 200
MAX_MINUTES = 4000
MAX_NOTE = 280
MAX_ATTENDEES = 100
MAX_DURATION = 12 * 60  # minutes
NUDGE_WITHIN = timedelta(days=1)  # a meeting that ended longer ago than this is not nudged any more
FEED_BACK = timedelta(days=30)


def can_view(viewer: User, meeting: Meeting) -> bool:
    """Attendees and the organizer see a meeting; nobody else learns it exists."""
    return meeting.organizer_id == viewer.id or attended(viewer, meeting)


def attended(person: User, meeting: Meeting) -> bool:
    return db.session.get(MeetingAttendee, (meeting.id, person.id)) is not None


def has_ended(meeting: Meeting, now: datetime | None = None) -> bool:
    return meeting.ends_at <= (now or utcnow())


# --- creating -------------------------------------------------------------------------------------

@dataclass
class MeetingInput:
    """The new-meeting form: a local date and time in the organizer's timezone, a length in minutes."""

    title: str = ""
    day: str = ""          # YYYY-MM-DD
    start: str = ""        # HH:MM
    duration: str = "30"   # minutes
    attendee_ids: list[int] = field(default_factory=list)
    location: str = ""


def _attendees(ids: Iterable[int], errors: dict[str, str]) -> list[User]:
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_ATTENDEES:
        errors["attendee_ids"] = _("A meeting can have at most %(n)d attendees.", n=MAX_ATTENDEES)
        return []
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([i for i in wanted if i > 0])))}
    if len(found) != len(wanted):
        errors["attendee_ids"] = _("We couldn't find one of those people.")
        return []
    for user in found.values():
        if not user.active:
            errors["attendee_ids"] = _("%(name)s has been deactivated.", name=user.name)
            return []
    return [found[i] for i in wanted]


def _checked(actor: User, data: MeetingInput, errors: dict[str, str]) -> tuple[str, str, datetime | None, int]:
    """(title, location, start in UTC, length in minutes) of the meeting form, errors added."""
    title = clean_text(data.title, "title", MAX_TITLE, errors)
    location = clean_text(data.location, "location", 200, errors, required=False)
    starts_at = None
    try:
        local = datetime.combine(date.fromisoformat(data.day.strip()), time.fromisoformat(data.start.strip()))
        if not 2000 <= local.year <= 2100:
            raise ValueError
        starts_at = local.replace(tzinfo=ZoneInfo(actor.timezone)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    except ValueError:
        errors["day"] = _("Enter a date and a time, like 2026-03-31 and 09:30.")
    try:
        minutes = int(data.duration)
        if not 5 <= minutes <= MAX_DURATION:
            raise ValueError
    except ValueError:
        errors["duration"] = _("Choose a length between 5 minutes and 12 hours.")
        minutes = 0
    return title, location, starts_at, minutes


def create_meeting(actor: User, data: MeetingInput) -> Meeting:
    """A meeting by hand; whoever creates it attends."""
    errors: dict[str, str] = {}
    title, location, starts_at, minutes = _checked(actor, data, errors)
    people = _attendees(data.attendee_ids, errors)
    if errors or starts_at is None:
        raise FormError(errors)
    meeting = Meeting(title=title, location=location, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=minutes), organizer_id=actor.id)
    meeting.attendees = list(dict.fromkeys([actor, *people]))
    db.session.add(meeting)
    db.session.flush()
    return meeting


def can_edit(actor: User, meeting: Meeting) -> bool:
    """Only the organiser changes a meeting's title, time, attendees (and, with them, its minutes)."""
    return meeting.organizer_id == actor.id


def update_meeting(actor: User, meeting: Meeting, data: MeetingInput, minutes_text: str | None = None) -> Meeting:
    """The organiser changes the title, time, place, attendees and minutes; all or nothing. The
    organiser stays an attendee; a meeting moved to the future may nudge again when it ends."""
    if not can_edit(actor, meeting):
        raise PermissionError("only the organiser edits a meeting")
    errors: dict[str, str] = {}
    title, location, starts_at, length = _checked(actor, data, errors)
    people = _attendees(data.attendee_ids, errors)
    minutes = (minutes_text or "").strip() if minutes_text is not None else meeting.minutes
    if len(minutes) > MAX_MINUTES:
        errors["minutes"] = _("Keep the minutes under %(n)d characters.", n=MAX_MINUTES)
    if errors or starts_at is None:
        raise FormError(errors)
    ends_at = starts_at + timedelta(minutes=length)
    if ends_at != meeting.ends_at and ends_at > utcnow():
        meeting.nudged_at = None  # moved later: ask for feedback when it really ends
    meeting.title, meeting.location, meeting.minutes = title, location, minutes
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.attendees = list(dict.fromkeys([actor, *people]))
    db.session.flush()
    return meeting


def form_values(meeting: Meeting, timezone: str) -> dict[str, str]:
    """The edit form's fields for a meeting, its time in the organiser's timezone."""
    local = meeting.starts_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone))
    return {"title": meeting.title, "day": local.date().isoformat(), "start": local.strftime("%H:%M"),
            "duration": str(int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)),
            "location": meeting.location, "minutes": meeting.minutes}


@dataclass
class ImportResult:
    added: list[Meeting]
    skipped: int  # already imported before


def import_calendar(actor: User, raw: bytes, now: datetime | None = None) -> ImportResult:
    """Every meeting in an .ics file from a week ago to 90 days ahead (recurring ones expanded);
    attendees matched to active people by email, the importer always among them. All or nothing."""
    now = now or utcnow()
    occurrences = ics.read(raw, actor.timezone, now)
    emails = set().union(*(o.emails for o in occurrences))
    people = {u.email.lower(): u for u in db.session.scalars(
        select(User).where(User.email.in_(emails), User.active.is_(True)))} if emails else {}
    keys = [(o.uid, o.starts_at) for o in occurrences if o.uid]
    existing = {(uid, at) for uid, at in db.session.execute(
        select(Meeting.uid, Meeting.starts_at).where(
            Meeting.organizer_id == actor.id, tuple_(Meeting.uid, Meeting.starts_at).in_(keys)))} if keys else set()
    added: list[Meeting] = []
    skipped = 0
    for o in occurrences:
        if o.uid and (o.uid, o.starts_at) in existing:
            skipped += 1
            continue
        meeting = Meeting(title=o.title or _("Meeting"), starts_at=o.starts_at, ends_at=o.ends_at,
                          location=o.location, organizer_id=actor.id, uid=o.uid or None)
        meeting.attendees = list(dict.fromkeys([actor, *(people[e] for e in sorted(o.emails) if e in people)]))
        db.session.add(meeting)
        added.append(meeting)
    db.session.flush()
    return ImportResult(added=added, skipped=skipped)


# --- reading ---------------------------------------------------------------------------------------

def my_meetings(viewer: User, now: datetime | None = None, limit: int = 60) -> tuple[list[Meeting], list[Meeting]]:
    """(coming up, the last week's) meetings I attend, with attendees loaded."""
    now = now or utcnow()
    mine = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == viewer.id)
    rows = list(db.session.scalars(
        select(Meeting).where(Meeting.id.in_(mine), Meeting.ends_at >= now - ics.LOOK_BACK,
                              Meeting.starts_at <= now + ics.HORIZON)
        .options(selectinload(Meeting.attendees)).order_by(Meeting.starts_at, Meeting.id).limit(limit)))
    return [m for m in rows if m.ends_at > now], [m for m in rows if m.ends_at <= now][::-1]


def notes_for(meeting: Meeting) -> list[MeetingNote]:
    return list(db.session.scalars(
        select(MeetingNote).where(MeetingNote.meeting_id == meeting.id)
        .options(selectinload(MeetingNote.author)).order_by(MeetingNote.created_at, MeetingNote.id)))


# --- minutes and feedback -----------------------------------------------------------------------------

def set_minutes(actor: User, meeting: Meeting, text: str) -> None:
    """Attendees keep the minutes: a short text."""
    if not can_view(actor, meeting):
        raise PermissionError("only attendees keep the minutes")
    minutes = (text or "").strip()
    if len(minutes) > MAX_MINUTES:
        raise FormError({"minutes": _("Keep the minutes under %(n)d characters.", n=MAX_MINUTES)})
    meeting.minutes = minutes
    db.session.flush()


def leave_note(author: User, meeting: Meeting, text: str, now: datetime | None = None) -> MeetingNote:
    """One sentence on the meeting as a whole, once it has ended (attendees only)."""
    if not attended(author, meeting):
        raise PermissionError("only attendees give feedback on a meeting")
    errors: dict[str, str] = {}
    sentence = clean_text(text, "text", MAX_NOTE, errors)
    if not errors and not has_ended(meeting, now):
        errors["text"] = _("Feedback opens when the meeting has ended.")
    if errors:
        raise FormError(errors)
    note = MeetingNote(meeting_id=meeting.id, author_id=author.id, text=sentence)
    db.session.add(note)
    db.session.flush()
    return note


def send_meeting_nudges(now: datetime) -> int:
    """Ask every active attendee of a meeting that ended in the last day for one sentence of
    feedback (once per meeting). Flushes."""
    due = list(db.session.scalars(
        select(Meeting).where(Meeting.nudged_at.is_(None), Meeting.ends_at <= now,
                              Meeting.ends_at > now - NUDGE_WITHIN)
        .options(selectinload(Meeting.attendees)).order_by(Meeting.ends_at, Meeting.id).limit(500)))
    sent = 0
    for meeting in due:
        for person in meeting.attendees:
            if person.active and notify(person.id, "meeting_nudge", ref_type="meeting", ref_id=meeting.id,
                                        dedupe_key=f"meeting:{meeting.id}"):
                sent += 1
        meeting.nudged_at = now
    db.session.flush()
    return sent


# --- the calendar subscription ---------------------------------------------------------------------------

def calendar_token(person: User) -> CalendarToken | None:
    return db.session.get(CalendarToken, person.id)


def new_calendar_token(person: User) -> CalendarToken:
    """A fresh secret for my subscription URL; the previous URL stops working."""
    row = db.session.get(CalendarToken, person.id)
    if row is None:
        row = CalendarToken(user_id=person.id)
        db.session.add(row)
    row.token = secrets.token_urlsafe(32)
    row.created_at = utcnow()
    db.session.flush()
    return row


def revoke_calendar_token(person: User) -> None:
    """Turn my subscription URL off."""
    row = db.session.get(CalendarToken, person.id)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def person_for_token(token: str) -> User | None:
    """Whose feed this secret opens (an active person's), or None."""
    if not token or len(token) > 64:
        return None
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.token == token))
    if row is None:
        return None
    person = db.session.get(User, row.user_id)
    return person if person is not None and person.active else None


# Other domains add dated entries to a person's feed (goals: check-in dates), through wiring.
FeedSource = Callable[[User, datetime], Iterable[ics.FeedEvent]]
FEED_SOURCES: list[FeedSource] = []


def register_feed_source(source: FeedSource) -> None:
    if source not in FEED_SOURCES:
        FEED_SOURCES.append(source)


def calendar_feed(person: User, url_for_meeting: Callable[[Meeting], str], now: datetime | None = None) -> bytes:
    """My meetings from 30 days ago to 90 days ahead, and whatever other domains add."""
    now = now or utcnow()
    mine = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == person.id)
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.id.in_(mine), Meeting.ends_at >= now - FEED_BACK,
                              Meeting.starts_at <= now + ics.HORIZON)
        .order_by(Meeting.starts_at, Meeting.id).limit(1000))
    events = [ics.FeedEvent(uid=f"meeting-{m.id}@perfapp", title=m.title, starts=m.starts_at, ends=m.ends_at,
                            description=m.location, url=url_for_meeting(m)) for m in meetings]
    for source in FEED_SOURCES:
        events.extend(source(person, now))
    return ics.write(_("perfapp: my meetings"), events)

