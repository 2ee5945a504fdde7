"""Review-cycle use cases: HR sets up a cycle, people nominate, managers approve, the balanced
assignment runs, reviewers answer, customers answer through a one-time link.

Every function takes its actors explicitly, validates before it writes (FormError with translated
messages; the view answers 422 and rolls back, so nothing changes) and flushes; the view commits.
"""
from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, delete, func, or_, select

from perfapp.core.db import as_datetime, table_of, utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.people.models import Department, User
from perfapp.reviews import assignment
from perfapp.reviews.models import (
    ANONYMOUS,
    ATTRIBUTED,
    GROUPS,
    PURPOSES,
    SCOPES,
    SOLVED,
    THRESHOLD_FLOOR,
    ReviewAssignment,
    ReviewComment,
    ReviewCycle,
    ReviewQuestion,
    ReviewRating,
    ReviewTagVote,
)

GROUP_LABELS = {
    "self": _l("Self"), "manager": _l("Manager"), "skip_level": _l("Skip-level manager"),
    "peers": _l("Peers"), "reports": _l("Direct reports"), "partners": _l("Cross-team partners"),
    "customers": _l("Customers"),
}
NOMINATED = ("peers", "partners")  # the groups a reviewee proposes people for
MAX_QUESTIONS = 20
MAX_ANCHORS = 7
MAX_TEXT = 2000
MAX_TAGS = 3
MAX_THRESHOLD = 50
CUSTOMER_LINK_DAYS = 14


def label(group: str) -> str:
    return str(GROUP_LABELS.get(group, group))


# --- setting a cycle up ---------------------------------------------------------------------------

@dataclass
class QuestionInput:
    kind: str = "rating"
    text: str = ""
    anchors: list[str] = field(default_factory=list)


@dataclass
class CycleInput:
    name: str = ""
    scope: str = "everyone"
    scope_ids: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=lambda: ["self", "manager", "peers"])
    thresholds: dict[str, dict[str, int | None]] = field(default_factory=dict)
    minimums: dict[str, int | None] = field(default_factory=dict)
    tag_ids: list[int] = field(default_factory=list)
    cycle_cap: int | None = 6
    rolling_cap: int | None = 12
    nominations_close_at: datetime | None = None
    closes_at: datetime | None = None
    purpose: str = "development"
    questions: list[QuestionInput] = field(default_factory=list)


def _validate(data: CycleInput, now: datetime, errors: dict[str, str]) -> None:
    if not 1 <= len(data.name.strip()) <= 120:
        errors["name"] = _("Give the cycle a name (up to 120 characters).")
    if data.scope not in SCOPES:
        errors["scope"] = _("Choose who is reviewed.")
    elif data.scope == "departments":
        found = db.session.scalar(select(func.count()).select_from(Department)
                                  .where(Department.id.in_(data.scope_ids))) if data.scope_ids else 0
        if not data.scope_ids or found != len(set(data.scope_ids)):
            errors["scope_ids"] = _("Choose at least one department.")
    elif data.scope == "list":
        found = db.session.scalar(select(func.count()).select_from(User).where(
            User.id.in_(data.scope_ids), User.active.is_(True))) if data.scope_ids else 0
        if not data.scope_ids or found != len(set(data.scope_ids)):
            errors["scope_ids"] = _("Choose at least one active person.")
    if not data.groups or any(g not in GROUPS for g in data.groups):
        errors["groups"] = _("Choose at least one reviewer group.")
    for group in ANONYMOUS:
        for kind in ("scores", "comments"):
            value = data.thresholds.get(group, {}).get(kind, 5)
            if value is None or not THRESHOLD_FLOOR <= value <= MAX_THRESHOLD:
                errors[f"threshold_{group}_{kind}"] = _(
                    "A threshold is a number from %(low)d to %(high)d.", low=THRESHOLD_FLOOR, high=MAX_THRESHOLD)
    for group in SOLVED:
        value = data.minimums.get(group, 0)
        if value is None or not 0 <= value <= 20:
            errors[f"minimum_{group}"] = _("Enter a number from 0 to 20.")
    if data.cycle_cap is None or not 1 <= data.cycle_cap <= 50:
        errors["cycle_cap"] = _("Enter a number from 1 to 50.")
    if data.rolling_cap is None or not 1 <= data.rolling_cap <= 200:
        errors["rolling_cap"] = _("Enter a number from 1 to 200.")
    if data.tag_ids:
        found = db.session.scalar(select(func.count()).select_from(Tag).where(
            Tag.id.in_(data.tag_ids), Tag.kind.in_(("capability", "value")), Tag.active.is_(True)))
        if found != len(set(data.tag_ids)):
            errors["tag_ids"] = _("Choose capability or value tags.")
    if data.closes_at is None or data.closes_at <= now:
        errors["closes_at"] = _("Choose a deadline in the future.")
    if data.nominations_close_at is None or (data.closes_at and data.nominations_close_at > data.closes_at):
        errors["nominations_close_at"] = _("Nominations close before the deadline.")
    if data.purpose not in PURPOSES:
        errors["purpose"] = _("Choose what the cycle is for.")
    if not 1 <= len(data.questions) <= MAX_QUESTIONS:
        errors["questions"] = _("Add at least one question.")
    for i, q in enumerate(data.questions):
        if q.kind not in ("rating", "text") or not 1 <= len(q.text.strip()) <= 300:
            errors[f"question_{i}"] = _("Write the question (up to 300 characters).")
        elif q.kind == "rating" and (not 2 <= len(q.anchors) <= MAX_ANCHORS
                                     or any(not a.strip() or len(a) > 80 for a in q.anchors)):
            errors[f"question_{i}"] = _("A rating scale has 2 to 7 points, each with a short anchor text.")


def create_cycle(actor: User, data: CycleInput, now: datetime | None = None) -> ReviewCycle:
    """HR creates a cycle as a draft: nominations and the assignment happen before it opens."""
    if not actor.is_hr:
        raise PermissionError
    now = now or utcnow()
    errors: dict[str, str] = {}
    _validate(data, now, errors)
    if errors:
        raise FormError(errors)
    cycle = ReviewCycle(created_by_id=actor.id, status="draft")
    _apply(cycle, data)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def _apply(cycle: ReviewCycle, data: CycleInput) -> None:
    cycle.name = data.name.strip()
    cycle.scope = data.scope
    cycle.scope_ids = sorted(set(data.scope_ids)) if data.scope != "everyone" else []
    cycle.groups = [g for g in GROUPS if g in data.groups]
    cycle.thresholds = {g: {k: int(data.thresholds.get(g, {}).get(k) or 5) for k in ("scores", "comments")}
                        for g in ANONYMOUS}
    cycle.minimums = {g: int(data.minimums.get(g) or 0) for g in SOLVED}
    cycle.tag_ids = sorted(set(data.tag_ids))
    cycle.cycle_cap, cycle.rolling_cap = data.cycle_cap or 6, data.rolling_cap or 12
    cycle.nominations_close_at, cycle.closes_at = data.nominations_close_at, data.closes_at  # type: ignore[assignment]
    cycle.purpose = data.purpose
    cycle.questions = [ReviewQuestion(position=i, kind=q.kind, text=q.text.strip(),
                                      anchors=[a.strip() for a in q.anchors] if q.kind == "rating" else [])
                       for i, q in enumerate(data.questions)]


def update_cycle(actor: User, cycle: ReviewCycle, data: CycleInput, now: datetime | None = None) -> ReviewCycle:
    """Change a draft. Once open, only the name and a later deadline may change: thresholds,
    purpose, groups and questions are locked (a change is refused and nothing is saved)."""
    if not actor.is_hr:
        raise PermissionError
    now = now or utcnow()
    if cycle.status == "closed":
        raise FormError({"form": _("This cycle is finished.")})
    if not cycle.is_draft:
        locked: dict[str, str] = {}
        wanted = {g: {k: int(data.thresholds.get(g, {}).get(k) or 0) for k in ("scores", "comments")}
                  for g in ANONYMOUS}
        if wanted != {g: {k: cycle.threshold(g, k) for k in ("scores", "comments")} for g in ANONYMOUS}:
            locked["thresholds"] = _("The anonymity thresholds are locked once the cycle is open.")
        if data.purpose != cycle.purpose:
            locked["purpose"] = _("Whether a cycle is input to pay decisions is set before it opens.")
        if locked:
            raise FormError(locked)
        errors: dict[str, str] = {}
        if not 1 <= len(data.name.strip()) <= 120:
            errors["name"] = _("Give the cycle a name (up to 120 characters).")
        if data.closes_at is None or data.closes_at < cycle.closes_at:
            errors["closes_at"] = _("An open cycle's deadline can only move later.")
        if errors or data.closes_at is None:  # None only with an error said
            raise FormError(errors)
        cycle.name, cycle.closes_at = data.name.strip(), data.closes_at
        db.session.flush()
        return cycle
    errors = {}
    _validate(data, now, errors)
    if errors:
        raise FormError(errors)
    _apply(cycle, data)
    db.session.flush()
    return cycle


def set_thresholds(actor: User, cycle: ReviewCycle, thresholds: dict[str, dict[str, int | None]]) -> None:
    """Set the anonymity thresholds (only before the cycle opens; never below 3)."""
    if not actor.is_hr:
        raise PermissionError
    if not cycle.is_draft:
        raise FormError({"thresholds": _("The anonymity thresholds are locked once the cycle is open.")})
    errors: dict[str, str] = {}
    for group, kinds in thresholds.items():
        for kind, value in kinds.items():
            if group not in ANONYMOUS or kind not in ("scores", "comments") or value is None \
                    or not THRESHOLD_FLOOR <= value <= MAX_THRESHOLD:
                errors[f"threshold_{group}_{kind}"] = _(
                    "A threshold is a number from %(low)d to %(high)d.", low=THRESHOLD_FLOOR, high=MAX_THRESHOLD)
    if errors:
        raise FormError(errors)
    merged = {g: dict(cycle.thresholds.get(g, {})) for g in ANONYMOUS}
    for group, kinds in thresholds.items():
        merged[group].update({k: int(v) for k, v in kinds.items() if v is not None})
    cycle.thresholds = merged
    db.session.flush()


def set_purpose(actor: User, cycle: ReviewCycle, purpose: str) -> None:
    """Mark a cycle as input to pay decisions, or development only (only before it opens)."""
    if not actor.is_hr:
        raise PermissionError
    if not cycle.is_draft:
        raise FormError({"purpose": _("Whether a cycle is input to pay decisions is set before it opens.")})
    if purpose not in PURPOSES:
        raise FormError({"purpose": _("Choose what the cycle is for.")})
    cycle.purpose = purpose
    db.session.flush()


def reviewees(cycle: ReviewCycle) -> list[User]:
    """The active people this cycle reviews."""
    stmt = select(User).where(User.active.is_(True), User.email != "former-colleague@erased.invalid")
    if cycle.scope == "departments":
        stmt = stmt.where(User.department_id.in_(cycle.scope_ids))
    elif cycle.scope == "list":
        stmt = stmt.where(User.id.in_(cycle.scope_ids))
    return list(db.session.scalars(stmt.order_by(User.sort_key, User.id)))


def is_reviewee(cycle: ReviewCycle, person: User) -> bool:
    if not person.active:
        return False
    if cycle.scope == "departments":
        return person.department_id in cycle.scope_ids
    if cycle.scope == "list":
        return person.id in cycle.scope_ids
    return True


def organisation_reviewers(cycle: ReviewCycle, people: list[User]) -> list[ReviewAssignment]:
    """The reviewers that follow from the organisation: self, manager, skip-level, direct reports.
    Adds the ones not there yet (idempotent)."""
    ids = [p.id for p in people]
    have: set[tuple[int, int | None]] = set()
    for chunk in range(0, len(ids), 500):
        have |= set(db.session.execute(select(ReviewAssignment.reviewee_id, ReviewAssignment.reviewer_id).where(
            ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.reviewee_id.in_(ids[chunk:chunk + 500]))))
    active = {u.id: u for u in db.session.scalars(select(User).where(User.active.is_(True)))}
    reports: dict[int, list[int]] = {}
    for u in active.values():
        if u.manager_id is not None:
            reports.setdefault(u.manager_id, []).append(u.id)
    added = []
    for person in people:
        wanted: list[tuple[int, str]] = []
        if "self" in cycle.groups:
            wanted.append((person.id, "self"))
        manager = active.get(person.manager_id) if person.manager_id else None
        if manager is not None and "manager" in cycle.groups:
            wanted.append((manager.id, "manager"))
        skip = active.get(manager.manager_id) if manager is not None and manager.manager_id else None
        if skip is not None and "skip_level" in cycle.groups and skip.id != person.id:
            wanted.append((skip.id, "skip_level"))
        if "reports" in cycle.groups:
            wanted += [(r, "reports") for r in sorted(reports.get(person.id, []))]
        for reviewer_id, group in wanted:
            if (person.id, reviewer_id) not in have:
                have.add((person.id, reviewer_id))
                row = ReviewAssignment(cycle_id=cycle.id, reviewee_id=person.id, reviewer_id=reviewer_id,
                                       group=group, status="approved", source="organisation")
                db.session.add(row)
                added.append(row)
    db.session.flush()
    return added


# --- nominations ----------------------------------------------------------------------------------

def _load(cycle: ReviewCycle, person_id: int, now: datetime) -> tuple[int, int]:
    """(reviews asked of this person in this cycle, their rolling load of the last 30 days)."""
    in_cycle = db.session.scalar(select(func.count()).select_from(ReviewAssignment).where(
        ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.reviewer_id == person_id,
        ReviewAssignment.status != "declined", ReviewAssignment.group.not_in(ATTRIBUTED))) or 0
    rolling = assignment.rolling_load(now, cycle.id)[person_id]
    return in_cycle, rolling + in_cycle


def at_cap(cycle: ReviewCycle, person_id: int, now: datetime) -> bool:
    in_cycle, rolling = _load(cycle, person_id, now)
    return in_cycle >= cycle.cycle_cap or rolling >= cycle.rolling_cap


def suggestions(cycle: ReviewCycle, reviewee: User, group: str, now: datetime, limit: int = 3) -> list[User]:
    """Colleagues who worked with the reviewee lately, not yet asked, and under both caps."""
    ev = assignment.evidence([reviewee.id], now)
    asked = set(db.session.scalars(select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.reviewee_id == reviewee.id)))
    ranked = sorted(((s, b if a == reviewee.id else a) for (a, b), s in ev.items()), reverse=True)
    if group == "peers" and reviewee.department_id is not None:
        team = db.session.scalars(select(User.id).where(User.department_id == reviewee.department_id,
                                                        User.active.is_(True)).order_by(User.sort_key))
        ranked += [(0, pid) for pid in team]
    out: list[User] = []
    for _score, pid in ranked:
        if pid in asked or pid in (reviewee.id, reviewee.manager_id) or pid in {u.id for u in out}:
            continue
        person = db.session.get(User, pid)
        if person is None or not person.active or person.is_former_colleague or person.manager_id == reviewee.id:
            continue
        if group == "partners" and person.department_id == reviewee.department_id:
            continue
        if at_cap(cycle, pid, now):
            continue
        out.append(person)
        if len(out) >= limit:
            break
    return out


def _check_nominee(cycle: ReviewCycle, reviewee: User, nominee: User | None, group: str, now: datetime,
                   by_reviewee: bool = True) -> None:
    if cycle.status != "draft":
        raise FormError({"person_id": _("Nominations are closed for this cycle.")})
    if group not in NOMINATED or group not in cycle.groups:
        raise FormError({"group": _("Choose peers or cross-team partners.")})
    if nominee is None or nominee.is_former_colleague:
        raise FormError({"person_id": _("Choose a colleague.")})
    if not nominee.active:
        raise FormError({"person_id": _("%(name)s is deactivated and can't review.", name=nominee.name)})
    if nominee.id == reviewee.id:
        raise FormError({"person_id": _("You can't be your own peer: your self-review is separate.") if by_reviewee
                         else _("%(name)s can't be their own peer: their self-review is separate.",
                                name=reviewee.name)})
    if nominee.id == reviewee.manager_id or nominee.manager_id == reviewee.id:
        raise FormError({"person_id": _("%(name)s already reviews as a manager or a direct report.",
                                        name=nominee.name)})
    if db.session.scalar(select(ReviewAssignment.id).where(
            ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.reviewee_id == reviewee.id,
            ReviewAssignment.reviewer_id == nominee.id)):
        raise FormError({"person_id": _("%(name)s is already among the reviewers.", name=nominee.name)})
    in_cycle, rolling = _load(cycle, nominee.id, now)
    if in_cycle >= cycle.cycle_cap or rolling >= cycle.rolling_cap:
        others = ", ".join(u.name for u in suggestions(cycle, reviewee, group, now))
        if in_cycle >= cycle.cycle_cap:
            message = _("%(name)s already has %(n)d reviews to write in this cycle.", name=nominee.name, n=in_cycle)
        else:
            message = _("%(name)s was asked for %(n)d reviews and feedback requests in 30 days.",
                        name=nominee.name, n=rolling)
        if others:
            message = _("%(refusal)s Try: %(names)s.", refusal=message, names=others)
        raise FormError({"person_id": message})


def nominate(actor: User, cycle: ReviewCycle, nominee: User | None, group: str,
             now: datetime | None = None) -> ReviewAssignment:
    """The reviewee proposes a reviewer; their manager approves or edits."""
    if not is_reviewee(cycle, actor):
        raise PermissionError
    return _add_reviewer(cycle, actor, nominee, group, "proposed", "nomination", now or utcnow())


def _add_reviewer(cycle: ReviewCycle, reviewee: User, nominee: User | None, group: str, status: str,
                  source: str, now: datetime) -> ReviewAssignment:
    _check_nominee(cycle, reviewee, nominee, group, now, by_reviewee=source == "nomination")
    assert nominee is not None
    row = ReviewAssignment(cycle_id=cycle.id, reviewee_id=reviewee.id, reviewer_id=nominee.id, group=group,
                           status=status, source=source)
    db.session.add(row)
    db.session.flush()
    return row


def manager_add(actor: User, cycle: ReviewCycle, reviewee: User, nominee: User | None, group: str,
                now: datetime | None = None) -> ReviewAssignment:
    """A manager (or HR) adds a reviewer for a report: approved at once."""
    if not (reviewee.manager_id == actor.id or actor.is_hr) or not is_reviewee(cycle, reviewee):
        raise PermissionError
    return _add_reviewer(cycle, reviewee, nominee, group, "approved", "manager", now or utcnow())


def _draft_row(row: ReviewAssignment) -> None:
    if row.cycle.status != "draft":
        raise FormError({"form": _("Nominations are closed for this cycle.")})


def approve(actor: User, row: ReviewAssignment) -> None:
    """The reviewee's manager (or HR) approves a proposed reviewer."""
    if not (row.reviewee.manager_id == actor.id or actor.is_hr):
        raise PermissionError
    _draft_row(row)
    if row.status != "proposed":
        raise FormError({"form": _("Only a proposed reviewer can be approved.")})
    row.status = "approved"
    db.session.flush()


def withdraw(actor: User, row: ReviewAssignment) -> None:
    """The reviewee takes back a proposal, or their manager or HR removes a peer or partner."""
    allowed = (actor.id == row.reviewee_id and row.status == "proposed") \
        or row.reviewee.manager_id == actor.id or actor.is_hr
    if not allowed or row.group not in NOMINATED:
        raise PermissionError
    _draft_row(row)
    db.session.delete(row)
    db.session.flush()


def decline(actor: User, row: ReviewAssignment, reason: str) -> None:
    """A nominee says no, with a reason the reviewee's manager reads (before the cycle closes)."""
    if row.reviewer_id != actor.id or row.group in ATTRIBUTED:
        raise PermissionError
    reason = reason.strip()
    if row.status in ("declined", "submitted") or row.cycle.status == "closed":
        raise FormError({"reason": _("This review can no longer be declined.")})
    if not 3 <= len(reason) <= 300:
        raise FormError({"reason": _("Say briefly why (3 to 300 characters).")})
    row.status, row.decline_reason = "declined", reason
    db.session.flush()


# --- the balanced assignment ----------------------------------------------------------------------

def run_assignment(cycle: ReviewCycle, now: datetime | None = None,
                   progress: Callable[[float], None] | None = None) -> dict:
    """Propose every reviewee's reviewers at once (replacing the solver's previous proposal)."""
    now = now or utcnow()
    if cycle.status != "draft":
        raise FormError({"form": _("Reviewers are assigned before the cycle opens.")})
    people = reviewees(cycle)
    organisation_reviewers(cycle, people)
    # The previous proposal goes, except whom a nominee declined: the solver must not ask them again.
    db.session.execute(delete(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id,
                                                      ReviewAssignment.source == "solver",
                                                      ReviewAssignment.status != "declined"))
    db.session.expire_all()
    if progress:
        progress(0.1)
    ctx = assignment.load_context(cycle, people, now)
    problem = assignment.build_problem(cycle, ctx)
    if progress:
        progress(0.25)
    solution = assignment.solve(problem, progress)
    proposed = {(r.reviewee_id, r.reviewer_id): r for r in db.session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.status == "proposed"))}
    rows = []
    for (reviewee_id, group), reviewers in solution.chosen.items():
        for reviewer_id in reviewers:
            existing = proposed.get((reviewee_id, reviewer_id))
            if existing is not None:
                existing.status = "approved"  # the proposal fits: the solver approves it
                continue
            rows.append({"cycle_id": cycle.id, "reviewee_id": reviewee_id, "reviewer_id": reviewer_id,
                         "group": group, "status": "approved", "source": "solver", "decline_reason": "",
                         "customer_name": "", "created_at": now})
    if rows:
        db.session.execute(table_of(ReviewAssignment).insert(), rows)
    cycle.assign_report = assignment_report(cycle, problem, solution, now)
    cycle.assign_progress = 1.0
    db.session.flush()
    return cycle.assign_report


def assignment_report(cycle: ReviewCycle, problem: assignment.Problem, solution: assignment.Solution,
                      now: datetime) -> dict:
    """The load histogram and the reviewees left short (with why), for HR's page."""
    load = load_per_reviewer(cycle)
    histogram = Counter(load.values())
    short = [{"reviewee_id": slot[0], "group": slot[1], "missing": missing,
              "why": assignment.explain_short(problem, slot)}
             for slot, missing in sorted(solution.short.items())]
    return {"histogram": {str(k): v for k, v in sorted(histogram.items())}, "short": short[:500],
            "short_count": len({s["reviewee_id"] for s in short}), "reviewers": len(load), "max_load": max(load.values(), default=0),
            "at": now.isoformat()}


def load_per_reviewer(cycle: ReviewCycle) -> Counter[int]:
    rows = db.session.execute(
        select(ReviewAssignment.reviewer_id, func.count()).where(
            ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.reviewer_id.is_not(None),
            ReviewAssignment.status != "declined", ReviewAssignment.group.not_in(ATTRIBUTED))
        .group_by(ReviewAssignment.reviewer_id))
    return Counter({reviewer_id: n for reviewer_id, n in rows if reviewer_id is not None})


def open_cycle(actor: User, cycle: ReviewCycle, now: datetime | None = None) -> None:
    """Open the cycle: its settings lock and every approved reviewer is told (inbox and push)."""
    from perfapp.notify.services import notify

    if not actor.is_hr:
        raise PermissionError
    now = now or utcnow()
    if not cycle.is_draft:
        raise FormError({"form": _("This cycle is already open.")})
    if cycle.closes_at <= now:
        raise FormError({"closes_at": _("Choose a deadline in the future.")})
    organisation_reviewers(cycle, reviewees(cycle))
    # Proposals nobody approved don't become reviews.
    db.session.execute(delete(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id,
                                                      ReviewAssignment.status == "proposed"))
    cycle.status, cycle.opened_at = "open", now
    reviewers = db.session.scalars(select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.status == "approved",
        ReviewAssignment.reviewer_id.is_not(None)).distinct())
    for reviewer_id in reviewers:
        if reviewer_id is None:  # not selected (the query keeps assigned reviewers)
            continue
        notify(reviewer_id, "review_opened", ref_type="review_cycle", ref_id=cycle.id,
               dedupe_key=f"review-opened:{cycle.id}")
    db.session.flush()


def close_cycle(actor: User | None, cycle: ReviewCycle, now: datetime | None = None) -> None:
    """Close the cycle (HR, or the deadline job with actor None): results become readable."""
    if actor is not None and not actor.is_hr:
        raise PermissionError
    if not cycle.is_open:
        raise FormError({"form": _("Only an open cycle can be closed.")})
    cycle.status, cycle.closed_at = "closed", now or utcnow()
    db.session.flush()


def close_due_cycles(now: datetime) -> int:
    due = list(db.session.scalars(select(ReviewCycle).where(ReviewCycle.status == "open",
                                                           ReviewCycle.closes_at <= now)))
    for cycle in due:
        close_cycle(None, cycle, now)
    return len(due)


def send_reminders(now: datetime) -> int:
    """Reviewers with reviews still to write hear again 3 days and 1 day before the deadline."""
    from perfapp.notify.services import notify

    sent = 0
    for cycle in db.session.scalars(select(ReviewCycle).where(ReviewCycle.status == "open",
                                                             ReviewCycle.closes_at > now)):
        left = cycle.closes_at - now
        stage = "1d" if left <= timedelta(days=1) else "3d" if left <= timedelta(days=3) else None
        if stage is None:
            continue
        waiting = db.session.scalars(select(ReviewAssignment.reviewer_id).where(
            ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.status == "approved",
            ReviewAssignment.reviewer_id.is_not(None)).distinct())
        for reviewer_id in waiting:
            if reviewer_id is None:  # not selected (the query keeps assigned reviewers)
                continue
            if notify(reviewer_id, "review_reminder", ref_type="review_cycle", ref_id=cycle.id,
                      dedupe_key=f"review-reminder:{cycle.id}:{stage}"):
                sent += 1
    return sent


def to_write(person: User) -> list[ReviewAssignment]:
    """The reviews this person still has to write, in open cycles."""
    return list(db.session.scalars(
        select(ReviewAssignment).join(ReviewCycle, ReviewCycle.id == ReviewAssignment.cycle_id)
        .where(ReviewAssignment.reviewer_id == person.id, ReviewAssignment.status == "approved",
               ReviewCycle.status == "open")
        .order_by(ReviewCycle.closes_at, ReviewAssignment.id)))


class Waiting(NamedTuple):
    """Reviews a person still has to write in open cycles, and the nearest deadline."""

    left: int
    due: datetime


@cache
def waiting_statement() -> Select:
    """Built once: Home and the Me page ask on every visit. One statement on the reviewer's index
    (ix_review_assignment_reviewer_id), each row's cycle by its primary key."""
    return (select(func.count(), func.min(ReviewCycle.closes_at)).select_from(ReviewAssignment)
            .join(ReviewCycle, ReviewCycle.id == ReviewAssignment.cycle_id)
            .where(ReviewAssignment.reviewer_id == bindparam("person_id"), ReviewAssignment.status == "approved",
                   ReviewCycle.status == "open", ReviewCycle.closes_at > bindparam("now")))


def waiting(person: User, now: datetime | None = None) -> Waiting | None:
    """None when nothing is left to write (past a deadline nothing can be: the cycle closes)."""
    return waiting_of(db.session.execute(waiting_statement(), {"person_id": person.id, "now": now or utcnow()}).one())


def waiting_of(row: Sequence[Any]) -> Waiting | None:
    """From a row of waiting_statement's (count, nearest deadline)."""
    count, due = row
    return Waiting(count, as_datetime(due)) if count else None


# --- answering ------------------------------------------------------------------------------------

@dataclass
class AnswerInput:
    ratings: dict[int, int | None] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    strengths: list[int] = field(default_factory=list)
    growth: list[int] = field(default_factory=list)


def _store_answer(row: ReviewAssignment, data: AnswerInput, now: datetime) -> None:
    cycle = row.cycle
    if cycle.status != "open" or now >= cycle.closes_at:
        raise FormError({"form": _("The deadline for this review has passed.")})
    if row.status != "approved":
        raise FormError({"form": _("This review was already sent or declined.")})
    errors: dict[str, str] = {}
    for q in cycle.questions:
        if q.kind == "rating":
            value = data.ratings.get(q.id)
            if value not in q.scale:
                errors[f"q{q.id}"] = _("Pick one point on the scale.")
        elif len(data.comments.get(q.id, "")) > MAX_TEXT:
            errors[f"q{q.id}"] = _("Keep it under %(n)d characters.", n=MAX_TEXT)
    offered = set(cycle.tag_ids)
    for name, picked in (("strengths", data.strengths), ("growth", data.growth)):
        if len(set(picked)) > MAX_TAGS or not set(picked) <= offered:
            errors[name] = _("Pick up to %(n)d of the tags shown.", n=MAX_TAGS)
    if errors:
        raise FormError(errors)
    for q in cycle.questions:
        if q.kind == "rating":
            db.session.add(ReviewRating(assignment_id=row.id, question_id=q.id, value=data.ratings[q.id]))
        elif data.comments.get(q.id, "").strip():
            db.session.add(ReviewComment(assignment_id=row.id, question_id=q.id, text=data.comments[q.id].strip()))
    for tag_id in set(data.strengths):
        db.session.add(ReviewTagVote(assignment_id=row.id, tag_id=tag_id, strength=True))
    for tag_id in set(data.growth):
        db.session.add(ReviewTagVote(assignment_id=row.id, tag_id=tag_id, strength=False))
    row.status, row.submitted_at = "submitted", now
    db.session.flush()


def answer(reviewer: User, row: ReviewAssignment, data: AnswerInput, now: datetime | None = None) -> None:
    """A reviewer answers one review, once, before the deadline."""
    if row.reviewer_id != reviewer.id:
        raise PermissionError
    _store_answer(row, data, now or utcnow())


# --- customers: a one-time link -------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_customer_link(actor: User, cycle: ReviewCycle, reviewee: User, customer_name: str,
                         now: datetime | None = None) -> tuple[ReviewAssignment, str]:
    """A one-time link a customer answers without an account (the token is shown once)."""
    now = now or utcnow()
    if not (actor.id == reviewee.id or reviewee.manager_id == actor.id or actor.is_hr):
        raise PermissionError
    if "customers" not in cycle.groups or cycle.status == "closed" or not is_reviewee(cycle, reviewee):
        raise FormError({"customer_name": _("This cycle takes no customer reviews.")})
    name = customer_name.strip()
    if not 1 <= len(name) <= 120:
        raise FormError({"customer_name": _("Write the customer's name (up to 120 characters).")})
    token = secrets.token_urlsafe(24)
    row = ReviewAssignment(cycle_id=cycle.id, reviewee_id=reviewee.id, reviewer_id=None, group="customers",
                           status="approved", source="customer", customer_name=name, token_hash=_hash(token),
                           token_expires_at=min(cycle.closes_at, now + timedelta(days=CUSTOMER_LINK_DAYS)))
    db.session.add(row)
    db.session.flush()
    return row, token


class LinkGone(Exception):
    """A customer link used already or expired: the view answers 410 with a translated page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def customer_assignment(token: str, now: datetime | None = None) -> ReviewAssignment | None:
    """The review a customer link opens; None for an unknown token; LinkGone when used or expired."""
    now = now or utcnow()
    row = db.session.scalar(select(ReviewAssignment).where(ReviewAssignment.token_hash == _hash(token)))
    if row is None:
        return None
    if row.status == "submitted":
        raise LinkGone(_("This link has already been used. Thank you!"))
    if row.token_expires_at is None or now >= row.token_expires_at or row.cycle.status != "open" \
            or now >= row.cycle.closes_at:
        raise LinkGone(_("This link has expired."))
    return row


def customer_answer(token: str, data: AnswerInput, now: datetime | None = None) -> ReviewAssignment | None:
    now = now or utcnow()
    row = customer_assignment(token, now)
    if row is None:
        return None
    _store_answer(row, data, now)
    return row


def my_cycles(person: User) -> list[ReviewCycle]:
    """Cycles the person is reviewed in (drafts for nominating, finished ones for results)."""
    cycles = db.session.scalars(select(ReviewCycle).where(ReviewCycle.status.in_(("draft", "open", "closed")))
                                .order_by(ReviewCycle.created_at.desc(), ReviewCycle.id.desc()).limit(20))
    return [c for c in cycles if is_reviewee(c, person)]


def nominations_asking(person: User) -> list[ReviewAssignment]:
    """Proposals and approvals naming this person in cycles still in their draft (they may decline)."""
    return list(db.session.scalars(
        select(ReviewAssignment).join(ReviewCycle, ReviewCycle.id == ReviewAssignment.cycle_id)
        .where(ReviewAssignment.reviewer_id == person.id, ReviewCycle.status == "draft",
               ReviewAssignment.status.in_(("proposed", "approved")),
               ReviewAssignment.group.in_(NOMINATED))
        .order_by(ReviewAssignment.id)))


def team_nominations(manager: User, cycle: ReviewCycle) -> dict[User, list[ReviewAssignment]]:
    """For a manager: each report's reviewers in this cycle (proposals first)."""
    reports = [u for u in db.session.scalars(select(User).where(
        User.manager_id == manager.id, User.active.is_(True)).order_by(User.sort_key)) if is_reviewee(cycle, u)]
    rows = db.session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.reviewee_id.in_([u.id for u in reports]),
        ReviewAssignment.group.in_(NOMINATED)).order_by(ReviewAssignment.id))
    out: dict[User, list[ReviewAssignment]] = {u: [] for u in reports}
    by_id = {u.id: u for u in reports}
    for row in rows:
        out[by_id[row.reviewee_id]].append(row)
    # Whoever has proposals waiting comes first: that is what the manager came for.
    waiting = sorted(out, key=lambda u: not any(r.status == "proposed" for r in out[u]))
    return {u: out[u] for u in waiting}


def cycle_rows(cycle: ReviewCycle, reviewee_id: int) -> list[ReviewAssignment]:
    return list(db.session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.reviewee_id == reviewee_id)
        .order_by(ReviewAssignment.id)))


def active_people_matching(query: str, limit: int = 8) -> list[User]:
    q = "".join(query.lower().split())[:40]
    if not q:
        return []
    return list(db.session.scalars(select(User).where(
        User.active.is_(True), or_(User.search_key.contains(q, autoescape=True),
                                   func.lower(User.email) == q)).order_by(User.sort_key).limit(limit)))
