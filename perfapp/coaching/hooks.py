"""Where review cycles (perfapp/reviews) plug into coaching: My team shows a report's review status
from `review_statuses`, and the 1:1 agenda offers `review_agenda_suggestions` beside the feedback
and goal suggestions. Coaching imports reviews' models and rules here only (reviews imports
nothing of coaching)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.extensions import db

if TYPE_CHECKING:
    from perfapp.people.models import User

#: finished cycles older than this no longer show as "results ready"
RESULTS_FRESH_DAYS = 90


def _latest_cycles(person_ids: Sequence[int]) -> dict[int, tuple[int, str, object]]:
    """{reviewee id: (cycle id, status, closes_at)} of the newest open or finished cycle each person
    is reviewed in (one query for everyone)."""
    from perfapp.reviews.models import ReviewAssignment, ReviewCycle

    if not person_ids:
        return {}
    since = utcnow() - timedelta(days=RESULTS_FRESH_DAYS)
    rows = db.session.execute(
        select(ReviewAssignment.reviewee_id, ReviewCycle.id, ReviewCycle.status, ReviewCycle.closes_at)
        .join(ReviewCycle, ReviewCycle.id == ReviewAssignment.cycle_id)
        .where(ReviewAssignment.reviewee_id.in_(list(person_ids)),
               (ReviewCycle.status == "open") | ((ReviewCycle.status == "closed") & (ReviewCycle.closes_at >= since)))
        .distinct().order_by(ReviewCycle.closes_at))
    latest: dict[int, tuple[int, str, object]] = {}
    for person_id, cycle_id, status, closes_at in rows:
        latest[person_id] = (cycle_id, status, closes_at)  # ordered by closing time: the last one wins
    return latest


def review_statuses(viewer: User, person_ids: Sequence[int]) -> dict[int, str]:
    """{person id: a short translated status} for the viewer's own direct reports: "Review open
    until 12 Dec" or "Review results ready". Never counts of answers (they would tell a manager
    who has answered). One batch query."""
    from perfapp.people.models import User

    reports = set(db.session.scalars(select(User.id).where(User.id.in_(list(person_ids)),
                                                           User.manager_id == viewer.id)))
    out = {}
    for person_id, (_cycle_id, status, closes_at) in _latest_cycles(sorted(reports)).items():
        if status == "open":
            out[person_id] = _("Review open until %(date)s", date=format_date(closes_at, "medium"))
        else:
            out[person_id] = _("Review results ready")
    return out


def review_agenda_suggestions(viewer: User, report: User) -> list[tuple[int, str]]:
    """(cycle id, translated agenda line) for the report's finished review, worth talking about in
    their next 1:1 (only the report and their manager may read results)."""
    if report.manager_id != viewer.id and report.id != viewer.id:
        return []
    found = _latest_cycles([report.id]).get(report.id)
    if found is None or found[1] != "closed":
        return []
    from perfapp.reviews.models import ReviewCycle

    cycle = db.session.get(ReviewCycle, found[0])
    name = cycle.name if cycle is not None else ""
    return [(found[0], _("Talk through the review results of “%(cycle)s”", cycle=name))]
