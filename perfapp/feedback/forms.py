"""Turn submitted form data into service inputs (no validation of meaning here)."""
from __future__ import annotations

import re

from werkzeug.datastructures import FileStorage, MultiDict

from perfapp.core.validation import parse_int
from perfapp.feedback.services import FeedbackInput
from perfapp.feedback.voice import VoiceUpload

_TRUE = {"1", "on", "true", "yes"}


def _ints(values: list[str]) -> list[int]:
    out = []
    for v in values:
        n = parse_int(v)
        if n is not None:
            out.append(n)
    return out


def split_free_tags(raw: str) -> list[str]:
    """Free tags are typed as one line: commas (, ，、) or '#' separate them."""
    return [t for t in re.split(r"[,，、#＃\n]+", raw or "") if t.strip()]


def parse_voice(files: MultiDict | None) -> VoiceUpload | None:
    """The compose form's voice file; an empty file input (nothing recorded) counts as none."""
    part: FileStorage | None = files.get("voice") if files else None
    if part is None:
        return None
    if not part.filename:
        if not part.stream.read(1):
            return None
        part.stream.seek(0)
    return VoiceUpload(stream=part.stream, filename=part.filename or "")


def parse_feedback(form: MultiDict, files: MultiDict | None = None) -> FeedbackInput:
    # The compose sheet marks that it sent the checkbox; otherwise "default for the kind".
    dev = form.get("development_only", "0") if form.get("development_only_present") else None
    kind = form.get("kind", "praise")
    # The give sheet asks "Show my name" (a checkbox absent when off, hence the marker); the outbox
    # and older clients send "confidential".
    if form.get("show_name_present"):
        confidential = form.get("show_name", "") not in _TRUE
    else:
        confidential = form.get("confidential", "") in _TRUE
    return FeedbackInput(
        recipient_id=parse_int(form.get("recipient_id")),
        text=form.get("text", ""),
        emoji=form.getlist("emoji"),
        tag_ids=_ints(form.getlist("tag_ids")),
        free_tags=split_free_tags(form.get("free_tags", "")),
        behaviour=form.get("behaviour", ""),
        impact=form.get("impact", ""),
        suggestion=form.get("suggestion", ""),
        kind=kind,
        # Nothing chosen: the kind's default audience (suggestions and constructive are never public).
        visibility=form.get("visibility") or ("public" if kind == "praise" else "private"),
        confidential=confidential,
        development_only=None if dev is None else dev in _TRUE,
        project_id=parse_int(form.get("project_id")),
        milestone_id=parse_int(form.get("milestone_id")),
        meeting_id=parse_int(form.get("meeting_id")),
        goal_id=parse_int(form.get("goal_id")),
        checkin_id=parse_int(form.get("checkin_id")),
        ask_id=parse_int(form.get("ask_id")),
        voice=parse_voice(files),
    )
