"""Turn submitted goal and check-in forms into service inputs (what can't parse becomes a FormError)."""
from __future__ import annotations

import math

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from perfapp.core.validation import FormError, parse_int
from perfapp.goals import services
from perfapp.goals.models import KR_KINDS
from perfapp.people.models import User

BLANK_KEY_RESULTS = 3


def parse_number(value: str | None) -> float | None:
    """A number as people type it ("1 000", "1,000", "12.5", "８０"); None when blank or not a number."""
    text = (value or "").strip().replace(" ", "").replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _weight(value: str | None, errors: dict[str, str], key: str) -> float | None:
    if not (value or "").strip():
        return None
    number = parse_number(value)
    if number is None:
        errors[key] = _("Enter a number for the weight.")
    return number


def key_result_rows(form: MultiDict[str, str]) -> list[dict[str, str]]:
    """The key result rows as typed (for re-rendering the form), blank rows included."""
    getlist = form.getlist
    columns = {name: getlist(f"kr_{name}") for name in ("id", "title", "kind", "start", "target", "unit", "weight")}
    count = max((len(v) for v in columns.values()), default=0)
    return [{name: (values[i] if i < len(values) else "") for name, values in columns.items()} for i in range(count)]


def parse_goal(form: MultiDict[str, str], actor: User) -> services.GoalInput:
    """The goal form as a GoalInput; number fields that don't parse are errors next to their row."""
    errors: dict[str, str] = {}
    owner = (form.get("owner") or "me").strip()
    owner_type, _sep, ref = owner.partition(":")
    data = services.GoalInput(
        title=form.get("title", ""), kind=form.get("kind", "objective"), description=form.get("description", ""),
        visibility=form.get("visibility", "public"), period=services.parse_period_key(form.get("period")))
    if owner_type == "me":
        data.owner_type, data.owner_id = "person", actor.id
    else:
        data.owner_type = owner_type
        ref_id = parse_int(ref)
        if owner_type == "person":
            data.owner_id = ref_id
        elif owner_type == "department":
            data.department_id = ref_id
        elif owner_type == "project":
            data.project_id = ref_id
    position = 0
    for row in key_result_rows(form):
        if not row["title"].strip():
            continue
        key = f"kr-{position}"
        kind = row["kind"] if row["kind"] in KR_KINDS else "number"
        start, target = parse_number(row["start"]), parse_number(row["target"])
        if kind == "done":
            start, target = 0.0, 1.0
        elif start is None or target is None:
            errors[key] = _("Enter numbers for the start and the target.")
        data.key_results.append(services.KeyResultInput(
            id=parse_int(row["id"]), title=row["title"], kind=kind, start=start or 0.0,
            target=1.0 if target is None else target, unit=row["unit"], weight=_weight(row["weight"], errors, key)))
        position += 1
    for value in form.getlist("parent"):
        kind, _sep, ref = value.partition(":")
        ref_id = parse_int(ref)
        if ref_id is None or kind not in ("g", "k"):
            continue
        weight = _weight(form.get(f"weight-{value}"), errors, "parents")
        if kind == "g":
            data.parents.append(services.ParentInput(goal_id=ref_id, weight=weight))
        else:
            goal_id = parse_int(form.get(f"of-{value}"))
            if goal_id is not None:
                data.parents.append(services.ParentInput(goal_id=goal_id, kr_id=ref_id, weight=weight))
    if errors:
        # Report the parse errors together with everything else the service would say.
        try:
            services._validate(actor, data)
        except FormError as error:
            errors = {**error.errors, **errors}
        raise FormError(errors)
    return data


def parse_checkin(form: MultiDict[str, str]) -> services.CheckInInput:
    errors: dict[str, str] = {}
    data = services.CheckInInput(confidence=parse_int(form.get("confidence")), note=form.get("note", ""),
                                 status=(form.get("status") or None), reason=form.get("reason", ""))
    for name in form:
        if name.startswith("value-"):
            kr_id = parse_int(name.removeprefix("value-"))
            raw = form.get(name, "")
            if kr_id is None:
                continue
            if not raw.strip():
                continue
            number = parse_number(raw)
            if number is None:
                # Next to the field when it is on the form; a made-up field name gets a form-level message.
                errors[f"value-{kr_id}" if kr_id > 0 else "form"] = _("Enter a number.")
            else:
                data.values[kr_id] = number  # an id that is no key result of the goal: the service says so
        elif name.startswith("done-"):
            kr_id = parse_int(name.removeprefix("done-"))
            if kr_id is not None:
                data.values[kr_id] = 1.0 if form.get(name) == "1" else 0.0
    # A checkbox sends nothing when unticked: the hidden "done-present" list says which were on the form.
    for value in form.getlist("done_present"):
        kr_id = parse_int(value)
        if kr_id is not None and f"done-{kr_id}" not in form:
            data.values[kr_id] = 0.0
    if (form.get("progress") or "").strip():
        data.progress = parse_number(form.get("progress"))
        if data.progress is None:
            errors["progress"] = _("Enter a percentage from 0 to 100.")
    if errors:
        raise FormError(errors)
    return data
