"""A manager's team at a glance: who heard what in the last 30 days (read-only).

Counts include only what the manager may read themselves, so the page never tells them more
than the feed would: feedback to a report that is private to the report isn't counted, and
feedback a report gave confidentially never counts as theirs (a count that moves when they
write would name them). Only "heard nothing for 30 days" looks at everything the report
received, flowers and badges included: that they heard *something* names nobody.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from perfapp.coaching import hooks, one_on_ones
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.people.models import User
from perfapp.recognition.models import BadgeAward, FlowerGift

WINDOW_DAYS = 30


@dataclass(frozen=True)
class ReportSummary:
    """One direct report's last 30 days, as their manager may see it."""

    person: User
    received: int        # feedback received that the manager may read
    given: int           # feedback given that the manager may read, never confidential
    recognition: int     # flower gifts and badge awards received (visible on the walls)
    waiting_on_them: int  # feedback requests addressed to them, still open
    asked: int           # their own requests still waiting for answers
    heard_nothing: bool  # no feedback, flowers or badges at all in the window
    series_id: int | None = None         # their 1:1 series, if any
    last_one_on_one: datetime | None = None
    next_one_on_one: datetime | None = None
    goals_at_risk: int = 0               # current goals at risk or off track, that the manager may see
    review_status: str | None = None     # from review cycles (perfapp.coaching.hooks), None until they exist


def _since(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def _grouped(stmt) -> Counter[int]:
    return Counter(dict(db.session.execute(stmt).all()))


def team_overview(manager: User, days: int = WINDOW_DAYS) -> list[ReportSummary]:
    """The manager's active direct reports, those who heard nothing first, then by name."""
    reports = list(db.session.scalars(
        select(User).where(User.manager_id == manager.id, User.active.is_(True))))
    if not reports:
        return []
    ids = [p.id for p in reports]
    since, now = _since(days), utcnow()
    fresh = and_(Feedback.created_at >= since, Feedback.hidden.is_(False))
    received = _grouped(
        select(Feedback.recipient_id, func.count()).where(
            Feedback.recipient_id.in_(ids), fresh, Feedback.visible_to(manager))
        .group_by(Feedback.recipient_id))
    anything = _grouped(
        select(Feedback.recipient_id, func.count()).where(Feedback.recipient_id.in_(ids), fresh)
        .group_by(Feedback.recipient_id))
    given = _grouped(
        select(Feedback.author_id, func.count()).where(
            Feedback.author_id.in_(ids), fresh, Feedback.confidential.is_(False),
            Feedback.visible_to(manager))
        .group_by(Feedback.author_id))
    flowers = _grouped(
        select(FlowerGift.receiver_id, func.count()).where(
            FlowerGift.receiver_id.in_(ids), FlowerGift.created_at >= since, FlowerGift.hidden.is_(False))
        .group_by(FlowerGift.receiver_id))
    badges = _grouped(
        select(BadgeAward.receiver_id, func.count()).where(
            BadgeAward.receiver_id.in_(ids), BadgeAward.created_at >= since, BadgeAward.hidden.is_(False))
        .group_by(BadgeAward.receiver_id))
    open_ask = and_(FeedbackAsk.status == "open", FeedbackRequest.expires_at > now)
    waiting = _grouped(
        select(FeedbackAsk.recipient_id, func.count()).join(FeedbackAsk.request)
        .where(FeedbackAsk.recipient_id.in_(ids), open_ask).group_by(FeedbackAsk.recipient_id))
    asked = _grouped(
        select(FeedbackRequest.requester_id, func.count(func.distinct(FeedbackRequest.id)))
        .join(FeedbackAsk, FeedbackAsk.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.requester_id.in_(ids), open_ask).group_by(FeedbackRequest.requester_id))
    at_risk = _goals_at_risk(manager, ids, now)
    plans = one_on_ones.schedules(ids)
    reviews = hooks.review_statuses(manager, ids)
    summaries = []
    for p in reports:
        plan = plans.get(p.id)
        summaries.append(ReportSummary(
            person=p, received=received[p.id], given=given[p.id],
            recognition=flowers[p.id] + badges[p.id], waiting_on_them=waiting[p.id], asked=asked[p.id],
            heard_nothing=not (anything[p.id] or flowers[p.id] or badges[p.id]),
            series_id=plan.series_id if plan else None, last_one_on_one=plan.last if plan else None,
            next_one_on_one=plan.next if plan else None, goals_at_risk=at_risk[p.id],
            review_status=reviews.get(p.id),
        ))
    summaries.sort(key=lambda s: (not s.heard_nothing, s.person.sort_name, s.person.id))
    return summaries


def _goals_at_risk(manager: User, ids: list[int], now: datetime) -> Counter[int]:
    from perfapp.goals import services as goals
    from perfapp.goals.models import Goal

    today = now.date()
    return _grouped(
        select(Goal.owner_id, func.count()).where(
            Goal.owner_type == "person", Goal.owner_id.in_(ids), Goal.archived.is_(False),
            Goal.period_start <= today, Goal.period_end >= today,
            Goal.status.in_(("at_risk", "off_track")), goals.visible_to(manager))
        .group_by(Goal.owner_id))


def report_of(manager: User, person_id: int) -> User | None:
    """The person if they are this manager's active direct report, else None (callers 404)."""
    person = db.session.get(User, person_id)
    if person is None or person.manager_id != manager.id or not person.active:
        return None
    return person


def received_items(manager: User, report: User, days: int = WINDOW_DAYS, limit: int = 50) -> list[int]:
    """The ids of what the report received in the window that the manager may read, newest first
    (the page shows them as cards: perfapp.feedback.cards)."""
    return list(db.session.scalars(
        select(Feedback.id).where(
            Feedback.recipient_id == report.id, Feedback.created_at >= _since(days),
            Feedback.hidden.is_(False), Feedback.visible_to(manager))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)))
