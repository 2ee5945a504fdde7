"""The inbox: create entries, list, count unread, mark read."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload

from perfapp.core import signals
from perfapp.core.db import rowcount, run, utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.notify.models import Notification
from perfapp.notify.registry import REGISTRY
from perfapp.people.models import User


def notify(user_id: int, kind: str, *, feedback_id: int | None = None, ask_id: int | None = None,
           ref_type: str | None = None, ref_id: int | None = None,
           dedupe_key: str | None = None) -> Notification | None:
    """Add an inbox entry (the one entry point, so push delivery can hang on it); None if a duplicate."""
    if dedupe_key is not None and db.session.scalar(
        select(Notification.id).where(Notification.user_id == user_id,
                                      Notification.dedupe_key == dedupe_key)
    ):
        return None
    note = Notification(user_id=user_id, kind=kind, feedback_id=feedback_id, ask_id=ask_id,
                        ref_type=ref_type, ref_id=ref_id, dedupe_key=dedupe_key)
    db.session.add(note)
    db.session.flush()
    signals.notification_created.send(note, notification=note)
    return note


def unread_of(user_id: Any) -> Any:
    """The unread count of the person `user_id` names (a bind parameter, or a column of an outer
    query: the login query reads it with the person) as a scalar subquery."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None)).scalar_subquery())


# Built once: the tab bar asks on every page, and building the statement cost as much as running it.
_UNREAD = select(unread_of(bindparam("user_id")))


def unread_count(user: User) -> int:
    """Unread inbox entries (shown on the Home tab). The login query read it with the person
    (perfapp.auth.session); that value is used once, by the first caller of the request, and a
    later call (after marking entries read, say) asks the database."""
    prefetched = user.__dict__.pop("_unread", None)
    if prefetched is not None:
        return int(prefetched)
    return run(_UNREAD, {"user_id": user.id}).scalar() or 0


def inbox(user: User, before_id: int | None = None, limit: int = 30) -> tuple[list[dict], int | None]:
    """Inbox entries with what they point at loaded (one query per kind), newest first (keyset on id)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if before_id:
        query = query.where(Notification.id < before_id)
    rows = list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    fb_ids = [n.feedback_id for n in rows if n.feedback_id]
    ask_ids = [n.ask_id for n in rows if n.ask_id]
    feedback = {f.id: f for f in db.session.scalars(
        select(Feedback).where(Feedback.id.in_(fb_ids), Feedback.hidden.is_(False))
        .options(joinedload(Feedback.author), joinedload(Feedback.recipient))
    ).unique()} if fb_ids else {}
    asks = {a.id: a for a in db.session.scalars(
        select(FeedbackAsk).where(FeedbackAsk.id.in_(ask_ids))
        .options(joinedload(FeedbackAsk.request).joinedload(FeedbackRequest.requester))
    ).unique()} if ask_ids else {}
    by_type: dict[str, list[int]] = defaultdict(list)
    for n in rows:
        if n.ref_type in REGISTRY and n.ref_id is not None:
            by_type[n.ref_type].append(n.ref_id)
    refs = {t: REGISTRY[t].load(ids, user) for t, ids in by_type.items()}
    entries = []
    for n in rows:
        obj = refs.get(n.ref_type, {}).get(n.ref_id) if n.ref_type and n.ref_id is not None else None
        entry = {"note": n,
                 "feedback": feedback.get(n.feedback_id) if n.feedback_id is not None else None,
                 "ask": asks.get(n.ask_id) if n.ask_id is not None else None,
                 "obj": obj, "template": REGISTRY[n.ref_type].template if obj is not None and n.ref_type else None}
        if entry["feedback"] or entry["ask"] or obj is not None:
            entries.append(entry)
    return entries, (rows[-1].id if more and rows else None)


def mark_all_read(user: User, upto: int | None = None) -> int:
    """Mark the person's unread entries read (only those up to the id `upto`, when given: what
    the inbox showed); returns how many changed."""
    user.__dict__.pop("_unread", None)  # the count read at login is out of date now
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if upto is not None:
        query = query.where(Notification.id <= upto)
    result = db.session.execute(query.values(read_at=utcnow()))
    return rowcount(result)
