"""Calendar files for the meeting tests."""
from __future__ import annotations

from datetime import datetime, timedelta


def stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def ics(*events: str) -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *events, "END:VCALENDAR", ""])
    return body.encode("utf-8")


def event(uid: str, title: str, start: datetime, minutes: int = 30, rrule: str = "",
          attendees: tuple[str, ...] = (), organizer: str = "") -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{title}", f"DTSTART:{stamp(start)}",
             f"DTEND:{stamp(start + timedelta(minutes=minutes))}", f"DTSTAMP:{stamp(start)}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    if organizer:
        lines.append(f"ORGANIZER:mailto:{organizer}")
    lines += [f"ATTENDEE;CN=x:mailto:{a}" for a in attendees]
    lines.append("END:VEVENT")
    return "\r\n".join(lines)
