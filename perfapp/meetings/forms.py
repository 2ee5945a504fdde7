"""Turn submitted meeting forms into service inputs (no validation of meaning here)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from perfapp.core.validation import parse_int
from perfapp.meetings.services import MeetingInput


def parse_meeting(form: MultiDict) -> MeetingInput:
    ids = (parse_int(v) for v in form.getlist("attendee_ids"))
    return MeetingInput(title=form.get("title", ""), day=form.get("day", ""), start=form.get("start", ""),
                        duration=form.get("duration", "30"), location=form.get("location", ""),
                        attendee_ids=[i for i in ids if i is not None])
