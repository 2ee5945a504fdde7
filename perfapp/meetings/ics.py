"""Calendar files: reading an uploaded .ics into meeting occurrences, and writing a person's
subscription feed. Reading refuses, with a translated message, anything it can't take whole:
the caller saves all of a file's meetings or none."""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from flask_babel import gettext as _

from perfapp.core.validation import FormError

MAX_BYTES = 1024 * 1024
HORIZON = timedelta(days=90)     # recurring meetings expand this far ahead, no further
LOOK_BACK = timedelta(days=7)    # a meeting that just happened can still be imported for its feedback
MAX_MEETINGS = 200               # occurrences one file may add
MAX_TITLE = 200


@dataclass
class Occurrence:
    """One meeting from the file, in UTC, with the attendee emails it names (lower-case)."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    location: str = ""
    emails: set[str] = field(default_factory=set)


def _refuse(message: str) -> FormError:
    return FormError({"file": message})


def decode(raw: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), UTF-16 with one, or GB 18030
    (Chinese Outlook exports); anything else is refused."""
    if len(raw) > MAX_BYTES:
        raise _refuse(_("The file is larger than 1 MB. Export a shorter date range and try again."))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and "BEGIN:VCALENDAR" in text.upper():
            return text
    raise _refuse(_("This isn't a calendar file we can read. Export it again as .ics (UTF-8) and try again."))


def _utc(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None:  # floating time: the importer's own clock
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC).replace(tzinfo=None)


def _emails(component: icalendar.Component) -> set[str]:
    found: set[str] = set()
    for key in ("ORGANIZER", "ATTENDEE"):
        values = component.get(key)
        if values is None:
            continue
        for value in values if isinstance(values, list) else [values]:
            text = str(value).strip()
            if text.lower().startswith("mailto:"):
                found.add(text[7:].strip().lower())
    return found


def read(raw: bytes, timezone: str, now: datetime) -> list[Occurrence]:
    """The meetings in an .ics file from a week ago to 90 days ahead (recurring ones expanded)."""
    text = decode(raw)
    try:
        calendar = icalendar.Calendar.from_ical(text)
        if not calendar.walk("VEVENT"):
            raise _refuse(_("There are no events in this file."))
        tz = ZoneInfo(timezone)
        start = (now - LOOK_BACK).replace(tzinfo=UTC)
        horizon = now + HORIZON
        occurrences: list[Occurrence] = []
        for event in itertools.islice(recurring_ical_events.of(calendar).after(start), MAX_MEETINGS + 1):
            begins, ends = event.get("DTSTART"), event.get("DTEND")
            if begins is None or not isinstance(begins.dt, datetime):
                continue  # all-day entries (holidays, "out of office") are not meetings
            starts_at = _utc(begins.dt, tz)
            if starts_at > horizon:
                break
            ends_at = _utc(ends.dt, tz) if ends is not None and isinstance(ends.dt, datetime) else starts_at
            if ends_at < starts_at:
                raise _refuse(_("An event in this file ends before it starts."))
            occurrences.append(Occurrence(
                uid=str(event.get("UID", ""))[:255], title=str(event.get("SUMMARY", "")).strip()[:MAX_TITLE],
                starts_at=starts_at, ends_at=ends_at, location=str(event.get("LOCATION", "")).strip()[:200],
                emails=_emails(event)))
        if len(occurrences) > MAX_MEETINGS:
            raise _refuse(_("This file repeats too often: it would add more than %(n)d meetings in the next "
                            "90 days.", n=MAX_MEETINGS))
    except FormError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, OverflowError, AttributeError) as e:
        raise _refuse(_("This calendar file is damaged and can't be read.")) from e
    if not occurrences:
        raise _refuse(_("There are no meetings from the last week or the next 90 days in this file."))
    return occurrences


@dataclass
class FeedEvent:
    """One entry in a subscription feed."""

    uid: str
    title: str
    starts: datetime | date
    ends: datetime | date | None = None
    description: str = ""
    url: str = ""


def write(name: str, events: Iterable[FeedEvent]) -> bytes:
    """A calendar feed (times in UTC, dates as all-day entries)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//perfapp//meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    stamp = datetime.now(UTC)
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("summary", item.title)
        if isinstance(item.starts, datetime):
            event.add("dtstart", item.starts.replace(tzinfo=UTC))
            ends = item.ends if isinstance(item.ends, datetime) else item.starts
            event.add("dtend", ends.replace(tzinfo=UTC))
        else:
            event.add("dtstart", item.starts)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        calendar.add_component(event)
    return calendar.to_ical()
