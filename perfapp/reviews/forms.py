"""Reading review forms into service inputs (the services validate)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from perfapp.core.validation import parse_int
from perfapp.reviews.models import ANONYMOUS, DEFAULT_MINIMUMS, SOLVED, ReviewCycle
from perfapp.reviews.services import AnswerInput, CycleInput, QuestionInput

QUESTION_SLOTS = 6


def _date(value: str | None) -> datetime | None:
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return datetime.combine(day, time(23, 59))  # the end of that day (UTC)


def _ids(form: MultiDict, name: str) -> list[int]:
    return [n for n in (parse_int(v) for v in form.getlist(name)) if n is not None]


def parse_cycle(form: MultiDict) -> CycleInput:
    questions = []
    for i in range(QUESTION_SLOTS):
        text = form.get(f"q_text_{i}", "").strip()
        if not text:
            continue
        kind = form.get(f"q_kind_{i}", "rating")
        anchors = [a.strip() for a in form.get(f"q_anchors_{i}", "").splitlines() if a.strip()]
        questions.append(QuestionInput(kind=kind, text=text, anchors=anchors))
    return CycleInput(
        name=form.get("name", ""), scope=form.get("scope", "everyone"), scope_ids=_ids(form, "scope_ids"),
        groups=form.getlist("groups"),
        thresholds={g: {k: parse_int(form.get(f"threshold_{g}_{k}", "5")) for k in ("scores", "comments")}
                    for g in ANONYMOUS},
        minimums={g: parse_int(form.get(f"minimum_{g}", str(DEFAULT_MINIMUMS.get(g, 0)))) for g in SOLVED},
        tag_ids=_ids(form, "tag_ids"), cycle_cap=parse_int(form.get("cycle_cap")),
        rolling_cap=parse_int(form.get("rolling_cap")),
        nominations_close_at=_date(form.get("nominations_close")), closes_at=_date(form.get("closes")),
        purpose=form.get("purpose", "development"), questions=questions)


def default_form(today: date) -> dict[str, Any]:
    """A new cycle's form, filled with sensible defaults HR can keep."""
    from datetime import timedelta

    form: dict[str, Any] = {
        "name": "", "scope": "everyone", "groups": ["self", "manager", "peers", "reports", "partners"],
        "cycle_cap": 6, "rolling_cap": 12, "purpose": "development",
        "nominations_close": (today + timedelta(days=7)).isoformat(),
        "closes": (today + timedelta(days=21)).isoformat(),
        "q_kind_0": "rating", "q_text_0": _("Delivers what they commit to"),
        "q_anchors_0": "\n".join([_("Rarely"), _("Sometimes"), _("Usually"), _("Almost always"), _("A model for others")]),
        "q_kind_1": "rating", "q_text_1": _("Helps others succeed"),
        "q_anchors_1": "\n".join([_("Rarely"), _("Sometimes"), _("Usually"), _("Almost always"), _("A model for others")]),
        "q_kind_2": "text", "q_text_2": _("What should they keep doing, and what could they try next?"),
    }
    for g in ANONYMOUS:
        for k in ("scores", "comments"):
            form[f"threshold_{g}_{k}"] = 5
    for g in SOLVED:
        form[f"minimum_{g}"] = DEFAULT_MINIMUMS[g]
    return form


def cycle_form(cycle: ReviewCycle) -> dict[str, Any]:
    """An existing cycle as its form holds it."""
    form: dict[str, Any] = {
        "name": cycle.name, "scope": cycle.scope, "scope_ids": [str(i) for i in cycle.scope_ids],
        "groups": list(cycle.groups), "tag_ids": [str(i) for i in cycle.tag_ids],
        "cycle_cap": cycle.cycle_cap, "rolling_cap": cycle.rolling_cap, "purpose": cycle.purpose,
        "nominations_close": cycle.nominations_close_at.date().isoformat(),
        "closes": cycle.closes_at.date().isoformat(),
    }
    for g in ANONYMOUS:
        for k in ("scores", "comments"):
            form[f"threshold_{g}_{k}"] = cycle.threshold(g, k)
    for g in SOLVED:
        form[f"minimum_{g}"] = cycle.minimum(g)
    for i, q in enumerate(cycle.questions):
        form[f"q_kind_{i}"], form[f"q_text_{i}"], form[f"q_anchors_{i}"] = q.kind, q.text, "\n".join(q.anchors)
    return form


def form_values(form: MultiDict) -> dict[str, Any]:
    """What was typed, to re-render after a 422 (lists kept as lists)."""
    out: dict[str, Any] = {k: form.get(k) for k in form}
    for name in ("groups", "scope_ids", "tag_ids"):
        out[name] = form.getlist(name)
    return out


def parse_answer(form: MultiDict, cycle: ReviewCycle) -> AnswerInput:
    ratings: dict[int, int | None] = {}
    comments: dict[int, str] = {}
    for q in cycle.questions:
        if q.kind == "rating":
            ratings[q.id] = parse_int(form.get(f"q{q.id}"))
        else:
            comments[q.id] = form.get(f"q{q.id}", "")
    return AnswerInput(ratings=ratings, comments=comments, strengths=_ids(form, "strengths"),
                       growth=_ids(form, "growth"))
