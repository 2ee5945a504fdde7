"""The inbox: list, count unread, mark read."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.notify.models import Notification
from perfapp.people.models import User


def unread_count(user: User) -> int:
    """Unread inbox entries (shown on the Home tab)."""
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def inbox(user: User, before_id: int | None = None, limit: int = 30) -> tuple[list[dict], int | None]:
    """Inbox entries with their feedback/ask loaded, newest first (keyset on id)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if before_id:
        query = query.where(Notification.id < before_id)
    rows = list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    fb_ids = [n.feedback_id for n in rows if n.feedback_id]
    ask_ids = [n.ask_id for n in rows if n.ask_id]
    feedback = {f.id: f for f in db.session.scalars(
        select(Feedback).where(Feedback.id.in_(fb_ids))
        .options(joinedload(Feedback.author), joinedload(Feedback.recipient))
    ).unique()} if fb_ids else {}
    asks = {a.id: a for a in db.session.scalars(
        select(FeedbackAsk).where(FeedbackAsk.id.in_(ask_ids))
        .options(joinedload(FeedbackAsk.request).joinedload(FeedbackRequest.requester))
    ).unique()} if ask_ids else {}
    entries = [
        {"note": n, "feedback": feedback.get(n.feedback_id), "ask": asks.get(n.ask_id)}
        for n in rows
    ]
    return [e for e in entries if e["feedback"] or e["ask"]], (rows[-1].id if more and rows else None)


def mark_all_read(user: User) -> int:
    """Mark every unread entry read; returns how many changed."""
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
