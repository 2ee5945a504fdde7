"""Keep badge_holding in step with badge_award.

A new award adds one to its holding with an atomic upsert (safe when two awards to the same
person land at once); a reported (hidden), restored or deleted award recomputes its holding
from the awards. Runs after every flush, whoever changed the rows (services, moderation).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, delete, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from perfapp.core.db import table_of
from perfapp.recognition.models import BadgeAward, BadgeHolding


def _upsert(conn: Connection):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(BadgeHolding)


def add_award(conn: Connection, award: BadgeAward) -> None:
    """One more (visible) award: count + 1, first and last earned widened."""
    stmt = _upsert(conn).values(badge_id=award.badge_id, user_id=award.receiver_id, count=1,
                                first_at=award.created_at, last_at=award.created_at, last_award_id=award.id)
    new = stmt.excluded
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[BadgeHolding.badge_id, BadgeHolding.user_id],
        set_={
            "count": BadgeHolding.count + 1,
            "first_at": case((new.first_at < BadgeHolding.first_at, new.first_at), else_=BadgeHolding.first_at),
            "last_at": case((new.last_at > BadgeHolding.last_at, new.last_at), else_=BadgeHolding.last_at),
            "last_award_id": case((new.last_award_id > BadgeHolding.last_award_id, new.last_award_id),
                                  else_=BadgeHolding.last_award_id),
        },
    ))


def recompute(conn: Connection, badge_id: int, user_id: int) -> None:
    """The holding from scratch, from the person's visible awards of the badge (none: no holding)."""
    row = conn.execute(
        select(func.count(), func.min(BadgeAward.created_at), func.max(BadgeAward.created_at), func.max(BadgeAward.id))
        .where(BadgeAward.badge_id == badge_id, BadgeAward.receiver_id == user_id, BadgeAward.hidden.is_(False))
    ).one()
    conn.execute(delete(BadgeHolding).where(BadgeHolding.badge_id == badge_id, BadgeHolding.user_id == user_id))
    if row[0]:
        conn.execute(table_of(BadgeHolding).insert().values(
            badge_id=badge_id, user_id=user_id, count=row[0], first_at=_dt(row[1]), last_at=_dt(row[2]),
            last_award_id=row[3]))


def rebuild(conn: Connection) -> None:
    """Every holding from the awards (after bulk loads that bypass the session)."""
    conn.execute(delete(BadgeHolding))
    conn.execute(table_of(BadgeHolding).insert().from_select(
        ["badge_id", "user_id", "count", "first_at", "last_at", "last_award_id"],
        select(BadgeAward.badge_id, BadgeAward.receiver_id, func.count(), func.min(BadgeAward.created_at),
               func.max(BadgeAward.created_at), func.max(BadgeAward.id))
        .where(BadgeAward.hidden.is_(False)).group_by(BadgeAward.badge_id, BadgeAward.receiver_id)))


def _dt(value: Any) -> Any:
    from datetime import datetime

    return value if value is None or isinstance(value, datetime) else datetime.fromisoformat(value)


def _after_flush(session: Session, _context: Any) -> None:
    added = [o for o in session.new if isinstance(o, BadgeAward)]
    changed: set[tuple[int, int]] = set()
    for obj in session.dirty:
        if isinstance(obj, BadgeAward):
            state = inspect(obj)
            if any(state.attrs[k].history.has_changes() for k in ("hidden", "badge_id", "receiver_id")):
                changed.add((obj.badge_id, obj.receiver_id))
                for key in ("badge_id", "receiver_id"):  # moved away from an old holding too
                    old = state.attrs[key].history.deleted
                    if old:
                        changed.add((old[0] if key == "badge_id" else obj.badge_id,
                                     old[0] if key == "receiver_id" else obj.receiver_id))
    changed |= {(o.badge_id, o.receiver_id) for o in session.deleted if isinstance(o, BadgeAward)}
    if not (added or changed):
        return
    conn = session.connection()
    for award in added:
        if not award.hidden and (award.badge_id, award.receiver_id) not in changed:
            add_award(conn, award)
    for badge_id, user_id in changed:
        recompute(conn, badge_id, user_id)


def install() -> None:
    """Listen on every session (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
