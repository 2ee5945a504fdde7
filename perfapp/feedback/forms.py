"""Turn submitted form data into service inputs (no validation of meaning here)."""
from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from perfapp.core.validation import parse_int
from perfapp.feedback.services import FeedbackInput

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


def parse_feedback(form: MultiDict) -> FeedbackInput:  # type: ignore[type-arg]
    # The compose sheet marks that it sent the checkbox; otherwise "default for the kind".
    dev = form.get("development_only", "0") if form.get("development_only_present") else None
    return FeedbackInput(
        recipient_id=parse_int(form.get("recipient_id")),
        text=form.get("text", ""),
        emoji=form.getlist("emoji"),
        tag_ids=_ints(form.getlist("tag_ids")),
        free_tags=split_free_tags(form.get("free_tags", "")),
        behaviour=form.get("behaviour", ""),
        impact=form.get("impact", ""),
        suggestion=form.get("suggestion", ""),
        kind=form.get("kind", "praise"),
        visibility=form.get("visibility", "public"),
        confidential=form.get("confidential", "") in _TRUE,
        development_only=None if dev is None else dev in _TRUE,
        project_id=parse_int(form.get("project_id")),
        milestone_id=parse_int(form.get("milestone_id")),
        ask_id=parse_int(form.get("ask_id")),
    )
