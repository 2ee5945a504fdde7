"""Goal use cases: create, edit, align, assign, check in, roll progress up, remind.

Every function takes its actors explicitly, validates before it writes (a FormError with
translated messages, nothing half-saved: the view rolls back) and flushes; the view commits.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from flask import g, has_request_context
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased, selectinload

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.goals.models import (
    CYCLES,
    GOAL_KINDS,
    KR_KINDS,
    OWNER_TYPES,
    STATUSES,
    VISIBILITIES,
    CheckIn,
    Goal,
    GoalLink,
    GoalSetting,
    KeyResult,
)
from perfapp.people.models import Department, User
from perfapp.projects.models import Project, ProjectMember

MAX_KEY_RESULTS = 10
MAX_PARENTS = 10
MAX_ASSIGNEES = 2000
MAX_VALUE = 1e12
# A walk up or down the alignment graph stops here (a tree is never this deep; it bounds the work).
MAX_DEPTH = 50


# --- the organisation's cycle -------------------------------------------------------------------

def settings() -> GoalSetting:
    """The organisation's goal settings (defaults when HR never saved them; not added to the session);
    read once per request."""
    if has_request_context() and "goal_settings" in g:
        return g.goal_settings
    row = db.session.get(GoalSetting, 1) or GoalSetting(id=1, cycle="quarter", stale_days=7)
    if has_request_context():
        g.goal_settings = row
    return row


def save_settings(actor: User, cycle: str, stale_days: int | None) -> GoalSetting:
    """HR sets the goal cycle (quarters, months, two months, years) and the reminder cadence."""
    if not actor.is_hr:
        raise PermissionError
    errors: dict[str, str] = {}
    if cycle not in CYCLES:
        errors["cycle"] = _("Choose a goal cycle.")
    if stale_days is None or not 1 <= stale_days <= 90:
        errors["stale_days"] = _("Enter a number of days from 1 to 90.")
    if errors or stale_days is None:
        raise FormError(errors)
    row = db.session.get(GoalSetting, 1)
    if row is None:
        row = GoalSetting(id=1)
        db.session.add(row)
    row.cycle, row.stale_days = cycle, stale_days
    db.session.flush()
    if has_request_context():
        g.pop("goal_settings", None)
    return row


_MONTHS = {"quarter": 3, "month": 1, "two_months": 2, "year": 12}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_for(cycle: str, day: date) -> tuple[date, date]:
    """The period of `cycle` that contains `day` (first and last day)."""
    length = _MONTHS.get(cycle, 3)
    first_month = (day.month - 1) // length * length + 1
    start = date(day.year, first_month, 1)
    return start, _add_months(start, length) - timedelta(days=1)


def period_choices(cycle: str, today: date, count: int = 4) -> list[tuple[date, date]]:
    """The previous period, the current one and the next few (what a goal form offers)."""
    start, _end = period_for(cycle, today)
    length = _MONTHS.get(cycle, 3)
    starts = [_add_months(start, length * i) for i in range(-1, count - 1)]
    return [(s, _add_months(s, length) - timedelta(days=1)) for s in starts]


def period_label(start: date, end: date) -> str:
    """"2026 Q4", "2026/11–12", "2026/11", "2026", or the two dates for anything else."""
    return _period_label(start, end, str(get_locale()))


@lru_cache(maxsize=512)
def _period_label(start: date, end: date, _locale: str) -> str:
    if start.day == 1 and (end + timedelta(days=1)).day == 1 and start.year == end.year:
        months = end.month - start.month + 1
        if months == 12:
            return _("%(year)d", year=start.year)
        if months == 3 and start.month % 3 == 1:
            return _("%(year)d Q%(quarter)d", year=start.year, quarter=start.month // 3 + 1)
        if months == 1:
            return _("%(year)d/%(month)d", year=start.year, month=start.month)
        return _("%(year)d/%(first)d–%(last)d", year=start.year, first=start.month, last=end.month)
    return _("%(start)s – %(end)s", start=format_date(start, "short"), end=format_date(end, "short"))


def period_key(start: date, end: date) -> str:
    return f"{start.isoformat()}_{end.isoformat()}"


def parse_period_key(value: str | None) -> tuple[date, date] | None:
    try:
        first, last = (value or "").split("_")
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return None
    return (start, end) if start <= end else None


# --- who sees and who may change what -------------------------------------------------------------

def visible_to(viewer: User) -> ColumnElement[bool]:
    """SQL: the goals `viewer` may see (public ones; private ones to the owner, their manager, HR,
    and for a department's or a project's goal to its members). Built once per request and viewer."""
    key = ("goal_visible_to", viewer.id, viewer.is_hr, viewer.department_id)
    if has_request_context():
        found = g.setdefault("goal_visibility", {})
        if key not in found:
            found[key] = _visible_to(viewer)
        return found[key]
    return _visible_to(viewer)


def _visible_to(viewer: User) -> ColumnElement[bool]:
    if viewer.is_hr:
        return true()
    reports = select(User.id).where(User.manager_id == viewer.id).scalar_subquery()
    projects = select(ProjectMember.project_id).where(ProjectMember.user_id == viewer.id).scalar_subquery()
    team = [Goal.department_id == viewer.department_id] if viewer.department_id else []
    return or_(Goal.visibility == "public", Goal.owner_id == viewer.id, Goal.created_by_id == viewer.id,
               Goal.owner_id.in_(reports), Goal.project_id.in_(projects), *team)


def _viewer_shape(viewer: User) -> tuple[bool, bool]:
    """What decides the shape of the visibility clause (the statements below are built once per shape)."""
    return bool(viewer.is_hr), viewer.department_id is not None


def _viewer_params(viewer: User) -> dict[str, Any]:
    params: dict[str, Any] = {} if viewer.is_hr else {"viewer_id": viewer.id}
    if viewer.department_id is not None and not viewer.is_hr:
        params["viewer_department"] = viewer.department_id
    return params


def _visible_by_params(is_hr: bool, in_department: bool) -> ColumnElement[bool]:
    """visible_to with the viewer as bind parameters (viewer_id, viewer_department), for statements
    built once and run for every viewer of the same shape."""
    if is_hr:
        return true()
    viewer = bindparam("viewer_id", type_=Integer)
    reports = select(User.id).where(User.manager_id == viewer).scalar_subquery()
    projects = select(ProjectMember.project_id).where(ProjectMember.user_id == viewer).scalar_subquery()
    team = [Goal.department_id == bindparam("viewer_department", type_=Integer)] if in_department else []
    return or_(Goal.visibility == "public", Goal.owner_id == viewer, Goal.created_by_id == viewer,
               Goal.owner_id.in_(reports), Goal.project_id.in_(projects), *team)


def can_see(viewer: User, goal: Goal) -> bool:
    if goal.visibility == "public" or viewer.is_hr:
        return True
    if viewer.id in (goal.owner_id, goal.created_by_id):
        return True
    # A team's private goal is the team's: its department's or project's members see it.
    if goal.department_id is not None and goal.department_id == viewer.department_id:
        return True
    if goal.project_id is not None and _is_member(viewer, goal.project_id):
        return True
    return goal.owner is not None and goal.owner.manager_id == viewer.id


def can_edit(viewer: User, goal: Goal) -> bool:
    """The owner, whoever created it, the owner's manager and HR change a goal and check in."""
    if viewer.is_hr or viewer.id in (goal.owner_id, goal.created_by_id):
        return True
    if goal.owner_type == "person":
        return goal.owner is not None and goal.owner.manager_id == viewer.id
    if goal.owner_type == "department":
        return viewer.is_manager and viewer.department_id == goal.department_id
    if goal.owner_type == "project":
        return _is_member(viewer, goal.project_id)
    return False


def can_assign(viewer: User) -> bool:
    """Managers and HR assign goals to others."""
    return viewer.is_hr or viewer.is_manager


def _is_member(person: User, project_id: int | None) -> bool:
    return project_id is not None and bool(db.session.scalar(select(exists().where(
        ProjectMember.project_id == project_id, ProjectMember.user_id == person.id))))


def _manages_transitively(manager: User, person: User) -> bool:
    seen = 0
    current: User | None = person
    while current is not None and current.manager_id is not None and seen < MAX_DEPTH:
        if current.manager_id == manager.id:
            return True
        current = db.session.get(User, current.manager_id)
        if current is None:
            return False
        seen += 1
    return False


# --- input -------------------------------------------------------------------------------------

@dataclass
class KeyResultInput:
    title: str
    kind: str = "number"
    start: float = 0.0
    target: float = 1.0
    unit: str = ""
    weight: float | None = None
    id: int | None = None           # an existing key result being edited


@dataclass
class ParentInput:
    goal_id: int
    kr_id: int | None = None
    weight: float | None = None


@dataclass
class GoalInput:
    title: str
    kind: str = "objective"
    description: str = ""
    owner_type: str = "person"
    owner_id: int | None = None
    department_id: int | None = None
    project_id: int | None = None
    period: tuple[date, date] | None = None
    visibility: str = "public"
    key_results: list[KeyResultInput] = field(default_factory=list)
    parents: list[ParentInput] = field(default_factory=list)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and abs(value) <= MAX_VALUE


def _check_key_results(items: Sequence[KeyResultInput], kind: str, errors: dict[str, str]) -> None:
    if len(items) > MAX_KEY_RESULTS:
        errors["key_results"] = _("At most %(num)d key results.", num=MAX_KEY_RESULTS)
        return
    if kind == "kpi" and len(items) != 1:
        errors["key_results"] = _("A KPI has exactly one metric with a target.")
    for i, kr in enumerate(items):
        key = f"kr-{i}"
        if not kr.title.strip():
            errors[key] = _("Name the key result.")
        elif len(kr.title.strip()) > 200:
            errors[key] = _("At most %(num)d characters.", num=200)
        elif kr.kind not in KR_KINDS:
            errors[key] = _("Choose how the key result is measured.")
        elif kr.kind != "done" and not (_finite(kr.start) and _finite(kr.target)):
            errors[key] = _("Enter numbers for the start and the target.")
        elif kr.kind != "done" and kr.start == kr.target:
            errors[key] = _("The target must differ from the starting value.")
        elif kr.weight is not None and (not _finite(kr.weight) or kr.weight < 0):
            errors[key] = _("A weight can't be negative.")
        elif len(kr.unit) > 20:
            errors[key] = _("At most %(num)d characters.", num=20)


def _owner_errors(actor: User, data: GoalInput) -> dict[str, str]:
    """Who may own the goal: oneself always; others, teams and the company: managers and HR."""
    if data.owner_type not in OWNER_TYPES:
        return {"owner_type": _("Choose who owns the goal.")}
    if data.owner_type == "person":
        person = db.session.get(User, data.owner_id) if data.owner_id else None
        if person is None:
            return {"owner_type": _("Choose who owns the goal.")}
        if not person.active:
            return {"owner_type": _("%(name)s is no longer active.", name=person.name)}
        if person.id != actor.id and not (actor.is_hr or _manages_transitively(actor, person)):
            return {"owner_type": _("Only their manager or HR can set goals for %(name)s.", name=person.name)}
    elif data.owner_type == "department":
        if data.department_id is None or db.session.get(Department, data.department_id) is None:
            return {"owner_type": _("Choose a department.")}
        if not (actor.is_hr or (actor.is_manager and actor.department_id == data.department_id)):
            return {"owner_type": _("Only the department's managers and HR set its goals.")}
    elif data.owner_type == "project":
        project = db.session.get(Project, data.project_id) if data.project_id else None
        if project is None or project.archived:
            return {"owner_type": _("Choose a project.")}
        if not (actor.is_hr or _is_member(actor, project.id)):
            return {"owner_type": _("Only the project's members and HR set its goals.")}
    elif not actor.is_hr:
        return {"owner_type": _("Only HR sets company goals.")}
    return {}


def _validate(actor: User, data: GoalInput) -> None:
    errors: dict[str, str] = {}
    title = data.title.strip()
    if not title:
        errors["title"] = _("Give the goal a title.")
    elif len(title) > 200:
        errors["title"] = _("At most %(num)d characters.", num=200)
    if len(data.description) > 4000:
        errors["description"] = _("At most %(num)d characters.", num=4000)
    if data.kind not in GOAL_KINDS:
        errors["kind"] = _("Choose an objective or a KPI.")
    if data.visibility not in VISIBILITIES:
        errors["visibility"] = _("Choose who can see the goal.")
    if data.period is None:
        errors["period"] = _("Choose a period.")
    errors.update(_owner_errors(actor, data))
    _check_key_results(data.key_results, data.kind, errors)
    if len(data.parents) > MAX_PARENTS:
        errors["parents"] = _("A goal can support at most %(num)d others.", num=MAX_PARENTS)
    elif any(p.weight is not None and (not _finite(p.weight) or p.weight < 0) for p in data.parents):
        errors["parents"] = _("A weight can't be negative.")
    if errors:
        raise FormError(errors)


def _apply(goal: Goal, data: GoalInput) -> None:
    goal.title, goal.description = data.title.strip(), data.description.strip()
    goal.kind, goal.visibility = data.kind, data.visibility
    goal.owner_type = data.owner_type
    goal.owner_id = data.owner_id if data.owner_type == "person" else None
    goal.department_id = data.department_id if data.owner_type == "department" else None
    goal.project_id = data.project_id if data.owner_type == "project" else None
    if goal.owner_type == "person" and goal.owner_id:
        goal.owner = db.session.get(User, goal.owner_id)
    assert data.period is not None
    goal.period_start, goal.period_end = data.period


def _set_key_results(goal: Goal, items: Sequence[KeyResultInput]) -> None:
    existing = {kr.id: kr for kr in goal.key_results}
    kept: list[KeyResult] = []
    for position, item in enumerate(items):
        kr = existing.get(item.id) if item.id else None
        if kr is None:
            kr = KeyResult(current_value=item.start if item.kind != "done" else 0.0)
        kr.position, kr.title, kr.kind = position, item.title.strip(), item.kind
        if item.kind == "done":
            kr.start_value, kr.target_value, kr.unit = 0.0, 1.0, ""
            kr.current_value = 1.0 if (kr.current_value or 0) >= 1 else 0.0
        else:
            kr.start_value, kr.target_value, kr.unit = item.start, item.target, item.unit.strip()
        kr.weight = item.weight
        kept.append(kr)
    goal.key_results = kept


def _store(actor: User, goal: Goal, data: GoalInput) -> Goal:
    _apply(goal, data)
    db.session.add(goal)
    _set_key_results(goal, data.key_results)
    db.session.flush()
    set_alignment(actor, goal, data.parents)
    recompute(goal)
    db.session.flush()
    return goal


def create_goal(actor: User, data: GoalInput) -> Goal:
    """Create a goal with its key results and alignment. Anyone for themselves; others: see _owner_errors."""
    _validate(actor, data)
    return _store(actor, Goal(created_by_id=actor.id), data)


def update_goal(actor: User, goal: Goal, data: GoalInput) -> Goal:
    """Change a goal, its key results and what it supports."""
    if not can_edit(actor, goal):
        raise PermissionError
    # Keeping the owner needs no new permission (a manager edits a report's goal, a member their project's).
    same_owner = (data.owner_type, data.owner_id, data.department_id, data.project_id) == (
        goal.owner_type, goal.owner_id, goal.department_id, goal.project_id)
    try:
        _validate(actor, data)
    except FormError as error:
        if same_owner:
            error.errors.pop("owner_type", None)
        if error.errors:
            raise FormError(error.errors) from None
    _store(actor, goal, data)
    _update_copies(goal)
    return goal


def _update_copies(source: Goal) -> None:
    """Assigned copies follow their source's title, description and key-result definitions (matched
    by position); their own values, check-ins and progress stay theirs."""
    copies = list(db.session.scalars(select(Goal).where(Goal.source_id == source.id)
                                     .options(selectinload(Goal.key_results))))
    if not copies:
        return
    for copy in copies:
        copy.title, copy.description, copy.kind = source.title, source.description, source.kind
        own = copy.key_results
        _set_key_results(copy, [
            KeyResultInput(title=kr.title, kind=kr.kind, start=kr.start_value, target=kr.target_value, unit=kr.unit,
                           weight=kr.weight, id=own[i].id if i < len(own) else None)
            for i, kr in enumerate(source.key_results)])
    db.session.flush()
    moved = []
    for copy in copies:  # a new target moves a copy's progress; its parents roll up once, below
        progress = _compute(copy)
        if abs(progress - copy.progress) > 1e-9:
            copy.progress = progress
            moved.append(copy.id)
    db.session.flush()
    for parent in db.session.scalars(select(Goal).join(GoalLink, GoalLink.parent_id == Goal.id)
                                     .where(GoalLink.child_id.in_(moved)).distinct()) if moved else ():
        recompute(parent)


def archive_goal(actor: User, goal: Goal) -> None:
    """Take a goal off the lists (its check-ins and alignment stay, for the record)."""
    if not can_edit(actor, goal):
        raise PermissionError
    goal.archived = True
    db.session.flush()


# --- alignment -------------------------------------------------------------------------------------

def ancestors(goal_ids: Iterable[int]) -> set[int]:
    """Every goal the given goals support, directly or through others (one query per level)."""
    found: set[int] = set()
    frontier = set(goal_ids)
    for _level in range(MAX_DEPTH):
        if not frontier:
            break
        parents = set(db.session.scalars(select(GoalLink.parent_id).where(GoalLink.child_id.in_(frontier))))
        frontier = parents - found
        found |= parents
    return found


def set_alignment(actor: User, goal: Goal, parents: Sequence[ParentInput]) -> None:
    """Make `goal` support exactly these goals or key results; refuses cycles and goals one can't see."""
    wanted: dict[tuple[int, int | None], float | None] = {}
    for p in parents:
        wanted[(p.goal_id, p.kr_id)] = p.weight
    targets = {g.id: g for g in db.session.scalars(
        select(Goal).where(Goal.id.in_({gid for gid, _kr in wanted})).options(selectinload(Goal.key_results)))}
    for gid, kr_id in wanted:
        target = targets.get(gid)
        if target is None or target.archived or not can_see(actor, target):
            raise FormError({"parents": _("That goal isn't there any more.")})
        if kr_id is not None and kr_id not in {kr.id for kr in target.key_results}:
            raise FormError({"parents": _("That key result isn't there any more.")})
        if gid == goal.id or goal.id in ancestors([gid]):
            raise FormError({"parents": _("“%(title)s” already supports this goal, directly or through others: "
                                          "aligning to it would make a loop.", title=target.title)})
    current = {(link.parent_id, link.kr_id): link for link in db.session.scalars(
        select(GoalLink).where(GoalLink.child_id == goal.id))}
    old_parents = {pid for pid, _kr in current}
    for key, link in current.items():
        if key not in wanted:
            db.session.delete(link)
    for key, weight in wanted.items():
        existing = current.get(key)
        if existing is None:
            db.session.add(GoalLink(child_id=goal.id, parent_id=key[0], kr_id=key[1], weight=weight))
        else:
            existing.weight = weight
    db.session.flush()
    for pid in old_parents - {gid for gid, _kr in wanted}:
        if (parent := db.session.get(Goal, pid)) is not None:
            recompute(parent)


def align(actor: User, child: Goal, parent: Goal, kr_id: int | None = None, weight: float | None = None) -> None:
    """Add one alignment link (keeps the others)."""
    if not can_edit(actor, child):
        raise PermissionError
    if weight is not None and (not _finite(weight) or weight < 0):
        raise FormError({"parents": _("A weight can't be negative.")})
    links = [ParentInput(link.parent_id, link.kr_id, link.weight) for link in db.session.scalars(
        select(GoalLink).where(GoalLink.child_id == child.id))]
    links = [p for p in links if (p.goal_id, p.kr_id) != (parent.id, kr_id)]
    links.append(ParentInput(parent.id, kr_id, weight))
    set_alignment(actor, child, links)
    recompute(child)


# --- progress and status -----------------------------------------------------------------------------

def _mean(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    total = weights = 0.0
    for progress, weight in pairs:
        w = 1.0 if weight is None else weight
        total += progress * w
        weights += w
    if weights == 0:
        return None
    return min(1.0, max(0.0, total / weights))


def _compute(goal: Goal) -> float:
    links = db.session.execute(
        select(GoalLink.kr_id, GoalLink.weight, Goal.progress).join(Goal, Goal.id == GoalLink.child_id)
        .where(GoalLink.parent_id == goal.id, Goal.archived.is_(False))).all()
    by_kr: dict[int, list[tuple[float, float | None]]] = {}
    direct: list[tuple[float, float | None]] = []
    for kr_id, weight, progress in links:
        (by_kr.setdefault(kr_id, []) if kr_id is not None else direct).append((progress, weight))
    parts: list[tuple[float, float | None]] = []
    for kr in goal.key_results:
        kr.rolled_progress = _mean(by_kr[kr.id]) if kr.id in by_kr else None
        parts.append((kr.progress, kr.weight))
    parts += direct
    rolled = _mean(parts) if parts else None
    return goal.manual_progress if rolled is None else rolled


def recompute(goal: Goal, _depth: int = 0) -> None:
    """Roll this goal's progress up from its key results and contributors, then its parents'."""
    progress = _compute(goal)
    changed = abs(progress - goal.progress) > 1e-9
    goal.progress = progress
    if goal.last_checkin_at is None:  # no check-in of its own yet: its contributors' progress speaks
        goal.status = derive_status(progress, goal.time_elapsed(utcnow().date()), None)
    db.session.flush()
    if (changed or _depth == 0) and _depth < MAX_DEPTH:
        for parent in db.session.scalars(select(Goal).join(GoalLink, GoalLink.parent_id == Goal.id)
                                         .where(GoalLink.child_id == goal.id).distinct()):
            recompute(parent, _depth + 1)


def derive_status(progress: float, elapsed: float, confidence: int | None) -> str:
    """On track, at risk or off track: progress against the time elapsed, and the owner's confidence."""
    behind = elapsed - progress
    conf = 7 if confidence is None else confidence
    if behind > 0.3 or conf <= 3:
        return "off_track"
    if behind > 0.1 or conf <= 6:
        return "at_risk"
    return "on_track"


# --- check-ins ---------------------------------------------------------------------------------

@dataclass
class CheckInInput:
    confidence: int | None
    note: str = ""
    progress: float | None = None                           # percent 0..100, goals without key results
    values: dict[int, float] = field(default_factory=dict)  # key result id -> its new value
    status: str | None = None                               # an override
    reason: str = ""
    day: date | None = None


def check_in(actor: User, goal: Goal, data: CheckInInput, today: date | None = None) -> CheckIn:
    """Record progress, confidence and a note; derive the status (or take the override and its reason)."""
    if not can_edit(actor, goal):
        raise PermissionError
    day = data.day or today or utcnow().date()
    errors: dict[str, str] = {}
    if goal.archived:
        errors["form"] = _("This goal is archived.")
    elif not goal.covers(day):
        errors["form"] = _("Check-ins must fall within the goal's period (%(period)s).",
                           period=period_label(goal.period_start, goal.period_end))
    if data.confidence is None or not 1 <= data.confidence <= 10:
        errors["confidence"] = _("Choose a confidence from 1 to 10.")
    if len(data.note) > 2000:
        errors["note"] = _("At most %(num)d characters.", num=2000)
    krs = {kr.id: kr for kr in goal.key_results}
    for kr_id, value in data.values.items():
        if kr_id not in krs:
            errors["form"] = _("That key result isn't there any more.")
        elif not _finite(value):
            errors[f"value-{kr_id}"] = _("Enter a number.")
    if data.progress is not None and not (_finite(data.progress) and 0 <= data.progress <= 100):
        errors["progress"] = _("Enter a percentage from 0 to 100.")
    if data.status is not None:
        if data.status not in STATUSES:
            errors["status"] = _("Choose a status.")
        elif not data.reason.strip():
            errors["reason"] = _("Say why you set the status yourself.")
        elif len(data.reason) > 300:
            errors["reason"] = _("At most %(num)d characters.", num=300)
    if errors:
        raise FormError(errors)
    for kr_id, value in data.values.items():
        kr = krs[kr_id]
        kr.current_value = (1.0 if value >= 1 else 0.0) if kr.kind == "done" else value
    if data.progress is not None:
        goal.manual_progress = data.progress / 100
    recompute(goal)
    derived = derive_status(goal.progress, goal.time_elapsed(day), data.confidence)
    status = data.status or derived
    goal.status, goal.confidence = status, data.confidence
    goal.status_overridden = data.status is not None and data.status != derived
    goal.status_reason = data.reason.strip() if goal.status_overridden else ""
    goal.last_checkin_at = utcnow()
    row = CheckIn(goal_id=goal.id, author_id=actor.id, day=day, progress=goal.progress,
                  confidence=data.confidence, note=data.note.strip(), status=status,
                  status_overridden=goal.status_overridden, status_reason=goal.status_reason)
    db.session.add(row)
    db.session.flush()
    return row


def checkin_history(goal: Goal, limit: int = 30) -> list[CheckIn]:
    """The latest check-ins, newest first (keyset on the primary key)."""
    return list(db.session.scalars(
        select(CheckIn).where(CheckIn.goal_id == goal.id).options(selectinload(CheckIn.author))
        .order_by(CheckIn.id.desc()).limit(limit)))


# --- assigning one goal to many -------------------------------------------------------------------

def assign(actor: User, source: Goal, person_ids: Sequence[int] = (), department_id: int | None = None) -> list[Goal]:
    """Give each person (or everyone active in a department) their own copy of `source`, aligned to it."""
    if not can_assign(actor):
        raise PermissionError
    if not can_see(actor, source) or source.archived:
        raise LookupError
    errors: dict[str, str] = {}
    people: dict[int, User] = {}
    if person_ids:
        rows = list(db.session.scalars(select(User).where(User.id.in_(set(person_ids)))))
        if len(rows) != len(set(person_ids)):
            errors["person_ids"] = _("Someone you chose isn't there any more.")
        for person in rows:
            if not person.active:
                errors["person_ids"] = _("%(name)s is no longer active.", name=person.name)
            elif not (actor.is_hr or _manages_transitively(actor, person)):
                errors["person_ids"] = _("Only their manager or HR can assign goals to %(name)s.", name=person.name)
            people[person.id] = person
    if department_id is not None:
        if db.session.get(Department, department_id) is None:
            errors["department_id"] = _("Choose a department.")
        elif not (actor.is_hr or (actor.is_manager and actor.department_id == department_id)):
            errors["department_id"] = _("Only the department's managers and HR assign goals to all of it.")
        else:
            for person in db.session.scalars(select(User).where(
                    User.department_id == department_id, User.active.is_(True))):
                people.setdefault(person.id, person)
    if not errors and not people:
        errors["person_ids"] = _("Choose people or a department.")
    if len(people) > MAX_ASSIGNEES:
        errors["person_ids"] = _("At most %(num)d people at once.", num=MAX_ASSIGNEES)
    if errors:
        raise FormError(errors)
    already = set(db.session.scalars(select(Goal.owner_id).where(Goal.source_id == source.id)))
    copies: list[Goal] = []
    for person in sorted(people.values(), key=lambda p: p.id):
        if person.id in already:
            continue  # assigning twice gives nobody a second copy
        copy = Goal(kind=source.kind, title=source.title, description=source.description, owner_type="person",
                    owner_id=person.id, period_start=source.period_start, period_end=source.period_end,
                    visibility=source.visibility, created_by_id=actor.id, source_id=source.id)
        copy.key_results = [KeyResult(position=kr.position, title=kr.title, kind=kr.kind, start_value=kr.start_value,
                                      target_value=kr.target_value, current_value=kr.start_value, unit=kr.unit,
                                      weight=kr.weight) for kr in source.key_results]
        db.session.add(copy)
        copies.append(copy)
    db.session.flush()
    db.session.add_all([GoalLink(child_id=c.id, parent_id=source.id) for c in copies])
    db.session.flush()
    if copies:
        recompute(source)
    return copies


# --- what pages show -----------------------------------------------------------------------------

def _list(query, key_results: bool = False) -> list[Goal]:
    """Goals with what their cards show (owner, department, project) loaded in one query each."""
    options = [selectinload(Goal.owner), selectinload(Goal.department), selectinload(Goal.project)]
    if key_results:
        options.append(selectinload(Goal.key_results))
    return list(db.session.scalars(query.options(*options)))


def goals_of(viewer: User, person: User, today: date | None = None, limit: int = 50) -> list[int]:
    """The ids of a person's goals that the viewer may see, newest periods first (cards: perfapp.goals.cards)."""
    today = today or utcnow().date()
    return list(db.session.scalars(_goals_of_statement(*_viewer_shape(viewer)), {
        **_viewer_params(viewer), "person_id": person.id, "since": today - timedelta(days=92), "size": limit}))


@cache
def _goals_of_statement(is_hr: bool, in_department: bool) -> Select[int]:
    return (select(Goal.id).where(Goal.owner_id == bindparam("person_id"), Goal.archived.is_(False),
                                  Goal.period_end >= bindparam("since", type_=Date),
                                  _visible_by_params(is_hr, in_department))
            .order_by(Goal.period_end.desc(), Goal.id).limit(bindparam("size", type_=Integer)))


def tree_roots(viewer: User, period: tuple[date, date], limit: int = 100) -> tuple[list[int], list[int]]:
    """The goal tree's first level in one statement: (company goals, department and project goals
    that support no other goal) of the period, as ids."""
    start, end = period
    rows = db.session.execute(_tree_roots_statement(*_viewer_shape(viewer)), {
        **_viewer_params(viewer), "start": start, "end": end, "size": limit}).all()
    top = sorted((row.period_start, row.id) for row in rows if row.owner_type == "company")
    loose = sorted((row.owner_type, row.id) for row in rows if row.owner_type != "company")
    return [gid for _start, gid in top], [gid for _kind, gid in loose]


@cache
def _tree_roots_statement(is_hr: bool, in_department: bool) -> Any:
    in_period = and_(Goal.archived.is_(False), Goal.period_start <= bindparam("end", type_=Date),
                     Goal.period_end >= bindparam("start", type_=Date), _visible_by_params(is_hr, in_department))
    size = bindparam("size", type_=Integer)
    # Two index walks (ix_goal_top) glued together: one OR over both kinds scans every goal on SQLite.
    company = (select(Goal.id, Goal.owner_type, Goal.period_start).where(Goal.owner_type == "company", in_period)
               .order_by(Goal.period_start, Goal.id).limit(size))
    aligned = exists().where(GoalLink.child_id == Goal.id)
    teams = (select(Goal.id, Goal.owner_type, Goal.period_start)
             .where(Goal.owner_type.in_(("department", "project")), ~aligned, in_period)
             .order_by(Goal.owner_type, Goal.id + 0).limit(size))
    return union_all(company.subquery().select(), teams.subquery().select())


_OWNER_RANK = {"company": 0, "department": 1, "project": 2, "person": 3}


def contributors(viewer: User, goal: Goal, limit: int = 200) -> list[tuple[Goal, GoalLink]]:
    """Goals that support `goal` (directly), teams before people."""
    rows = db.session.execute(
        select(Goal, GoalLink).join(GoalLink, GoalLink.child_id == Goal.id)
        .where(GoalLink.parent_id == goal.id, Goal.archived.is_(False), visible_to(viewer))
        .options(selectinload(Goal.owner), selectinload(Goal.department), selectinload(Goal.project))
        .order_by(Goal.id).limit(limit)).all()
    pairs = [(g, link) for g, link in rows]
    pairs.sort(key=lambda p: (_OWNER_RANK.get(p[0].owner_type, 9), p[0].title))
    return pairs


def supports(viewer: User, goal: Goal) -> list[tuple[Goal, GoalLink]]:
    """Goals (and key results) that `goal` supports, directly."""
    rows = db.session.execute(
        select(Goal, GoalLink).join(GoalLink, GoalLink.parent_id == Goal.id)
        .where(GoalLink.child_id == goal.id, visible_to(viewer))
        .options(selectinload(Goal.owner), selectinload(Goal.department), selectinload(Goal.project),
                 selectinload(GoalLink.key_result))
        .order_by(GoalLink.id)).all()
    return [(g, link) for g, link in rows]


def child_counts(viewer: User, goal_ids: Sequence[int]) -> dict[int, int]:
    """How many visible goals support each of these (to show which tree rows open)."""
    if not goal_ids:
        return {}
    rows = db.session.execute(_child_counts_statement(*_viewer_shape(viewer)),
                              {**_viewer_params(viewer), "ids": list(goal_ids)}).all()
    return dict(rows)


@cache
def _child_counts_statement(is_hr: bool, in_department: bool) -> Any:
    # Each link's child is checked by its primary key in a correlated scalar subquery, which no
    # planner turns into a join: as a join, PostgreSQL read all 30,000 goals to hash them for the
    # 132 links of a company's goals (7 ms instead of 0.2).
    visible_child = (select(Goal.id).where(Goal.id == GoalLink.child_id, Goal.archived.is_(False),
                                           _visible_by_params(is_hr, in_department))
                     .correlate(GoalLink).scalar_subquery())
    return (select(GoalLink.parent_id, func.count(func.distinct(GoalLink.child_id)))
            .where(GoalLink.parent_id.in_(bindparam("ids", expanding=True)), visible_child.is_not(None))
            .group_by(GoalLink.parent_id))


def alignment_options(viewer: User, goal: Goal | None, period: tuple[date, date]) -> list[Goal]:
    """Goals one may align to in the period: company, department, project and the manager's goals."""
    start, end = period
    mine = [Goal.owner_type == "company"]
    if viewer.department_id:
        mine.append(and_(Goal.owner_type == "department", Goal.department_id == viewer.department_id))
    if viewer.manager_id:
        mine.append(Goal.owner_id == viewer.manager_id)
    if viewer.is_hr or viewer.is_manager:
        mine.append(Goal.owner_type == "department")
    projects = select(ProjectMember.project_id).where(ProjectMember.user_id == viewer.id).scalar_subquery()
    mine.append(and_(Goal.owner_type == "project", Goal.project_id.in_(projects)))
    query = (select(Goal).where(or_(*mine), Goal.archived.is_(False), Goal.period_start <= end,
                                Goal.period_end >= start, visible_to(viewer))
             .order_by(Goal.owner_type, Goal.id).limit(60))
    if goal is not None:
        query = query.where(Goal.id != goal.id)
    options = _list(query, key_results=True)
    options.sort(key=lambda g: (_OWNER_RANK.get(g.owner_type, 9), g.id))
    return options


def readable_goal(viewer: User, goal_id: int) -> Goal | None:
    goal = db.session.scalar(select(Goal).where(Goal.id == goal_id).options(
        selectinload(Goal.key_results), selectinload(Goal.owner), selectinload(Goal.department),
        selectinload(Goal.project)))
    return goal if goal is not None and can_see(viewer, goal) else None


# --- cadence --------------------------------------------------------------------------------------------

def _stale_clause(now: datetime, days: int) -> ColumnElement[bool]:
    cutoff = now - timedelta(days=days)
    today = now.date()
    return and_(Goal.owner_type == "person", Goal.archived.is_(False), Goal.period_start <= today,
                Goal.period_end >= today, func.coalesce(Goal.last_checkin_at, Goal.created_at) < cutoff)


def team_stale_goals(manager: User, now: datetime | None = None, limit: int = 50) -> list[Goal]:
    """Goals of the manager's direct reports with no check-in for the organisation's cadence."""
    now = now or utcnow()
    reports = select(User.id).where(User.manager_id == manager.id, User.active.is_(True)).scalar_subquery()
    return _list(select(Goal).where(Goal.owner_id.in_(reports), _stale_clause(now, settings().stale_days))
                 .order_by(func.coalesce(Goal.last_checkin_at, Goal.created_at), Goal.id).limit(limit))


def week_ref(now: datetime) -> int:
    year, week, _day = now.isocalendar()
    return year * 100 + week


def send_checkin_reminders(now: datetime) -> int:
    """One inbox entry (and push) per ISO week to each owner with a stale goal. Flushes."""
    from perfapp.notify.models import Notification
    from perfapp.notify.services import notify

    ref = week_ref(now)
    key = f"goal-reminder:{ref}"
    reminded = exists().where(Notification.user_id == Goal.owner_id, Notification.dedupe_key == key)
    owners = db.session.scalars(
        select(User.id).select_from(Goal).join(User, User.id == Goal.owner_id)
        .where(_stale_clause(now, settings().stale_days), User.active.is_(True), ~reminded)
        .distinct().order_by(User.id)).all()
    for owner_id in owners:
        notify(owner_id, "goal_checkin_reminder", ref_type="goal_reminder", ref_id=ref, dedupe_key=key)
    return len(owners)


def stale_count(person_id: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.session.scalar(select(func.count()).select_from(Goal).where(
        Goal.owner_id == person_id, _stale_clause(now, settings().stale_days))) or 0



# --- KPIs carried into the next period --------------------------------------------------------------

MAX_HISTORY = 12
ROLLOVER_BATCH = 2000


def _next_period(start: date, end: date) -> tuple[date, date]:
    """The period after this one, as long (whole months stay whole months)."""
    first = end + timedelta(days=1)
    if start.day == 1 and first.day == 1:
        months = (first.year * 12 + first.month) - (start.year * 12 + start.month)
        return first, _add_months(first, months) - timedelta(days=1)
    return first, first + (end - start)


def successor(goal: Goal) -> Goal | None:
    """The KPI this one was carried into, if any."""
    return db.session.scalar(select(Goal).where(Goal.rolled_from_id == goal.id))


def may_roll_over(goal: Goal, today: date) -> bool:
    return goal.kind == "kpi" and not goal.archived and goal.period_end < today


def roll_over(actor: User | None, goal: Goal, today: date | None = None) -> Goal:
    """Carry a KPI whose period has ended into the period that holds today: the same metric and
    target, owner, visibility and alignment (to the parents' own next periods where they rolled);
    the value starts again. The ended KPI stays as it was: the metric's history. `actor` None is
    the periodic job; a person must be allowed to edit it. Rolling twice gives the same goal."""
    today = today or utcnow().date()
    if actor is not None and not can_edit(actor, goal):
        raise PermissionError
    if not may_roll_over(goal, today):
        raise FormError({"rollover": _("Only a KPI whose period has ended carries over into the next period.")})
    existing = successor(goal)
    if existing is not None:
        return existing
    start, end = _next_period(goal.period_start, goal.period_end)
    while end < today:  # the job was stopped for a while: straight to the current period
        start, end = _next_period(start, end)
    source = successor_or_self(goal.source_id)
    new = Goal(kind=goal.kind, title=goal.title, description=goal.description, owner_type=goal.owner_type,
               owner_id=goal.owner_id, department_id=goal.department_id, project_id=goal.project_id,
               period_start=start, period_end=end, visibility=goal.visibility, created_by_id=goal.created_by_id,
               source_id=source, rolled_from_id=goal.id)
    new.key_results = [KeyResult(position=kr.position, title=kr.title, kind=kr.kind, start_value=kr.start_value,
                                 target_value=kr.target_value, current_value=kr.start_value if kr.kind != "done" else 0.0,
                                 unit=kr.unit, weight=kr.weight) for kr in goal.key_results]
    db.session.add(new)
    db.session.flush()
    for link in db.session.scalars(select(GoalLink).where(GoalLink.child_id == goal.id, GoalLink.kr_id.is_(None))):
        parent = db.session.get(Goal, successor_or_self(link.parent_id))
        if parent is not None and not parent.archived and parent.period_end >= start and parent.period_start <= end:
            db.session.add(GoalLink(child_id=new.id, parent_id=parent.id, weight=link.weight))
    db.session.flush()
    recompute(new)
    return new


def successor_or_self(goal_id: int | None) -> int | None:
    """A goal's id, or the id of the goal it was carried into."""
    if goal_id is None:
        return None
    return db.session.scalar(select(Goal.id).where(Goal.rolled_from_id == goal_id)) or goal_id


def roll_over_ended_kpis(today: date) -> int:
    """Carry every KPI whose period ended (and that nothing carries on yet) into the current
    period; sources before their assigned copies (ids grow), so copies follow their source. Flushes."""
    later = aliased(Goal)
    carried = exists().where(later.rolled_from_id == Goal.id)
    owner_active = or_(Goal.owner_id.is_(None), Goal.owner.has(User.active.is_(True)))
    due = list(db.session.scalars(
        select(Goal).where(Goal.kind == "kpi", Goal.archived.is_(False), Goal.period_end < today,
                           Goal.period_end >= today - timedelta(days=400), ~carried, owner_active)
        .options(selectinload(Goal.key_results)).order_by(Goal.id).limit(ROLLOVER_BATCH)))
    for goal in due:
        roll_over(None, goal, today)
    return len(due)


def kpi_history(goal: Goal) -> list[Goal]:
    """The earlier periods of a KPI carried over, newest first: each period's target and final value."""
    found: list[Goal] = []
    current = goal.rolled_from_id
    while current is not None and len(found) < MAX_HISTORY:
        earlier = db.session.scalar(select(Goal).where(Goal.id == current).options(selectinload(Goal.key_results)))
        if earlier is None:
            break
        found.append(earlier)
        current = earlier.rolled_from_id
    return found
