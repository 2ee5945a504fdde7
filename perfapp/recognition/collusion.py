"""Collusion signals for HR: unusual patterns of who gives flowers and badges to whom."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, union_all

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.recognition.checks import require_hr
from perfapp.recognition.models import BadgeAward, FlowerGift

SIGNAL_DAYS = 30
SIGNAL_REPEAT = 5


@dataclass
class Signals:
    """Unusual giver→receiver patterns in the window. Signals only: nothing is blocked."""

    since: datetime
    repeated: list[tuple[User, User, int]] = field(default_factory=list)
    reciprocal: list[tuple[User, User, int, int]] = field(default_factory=list)
    rings: list[tuple[User, User, User]] = field(default_factory=list)


def collusion_signals(actor: User, days: int = SIGNAL_DAYS, limit: int = 50) -> Signals:
    """HR: pairs giving each other flowers/badges ≥ 5 times, reciprocal pairs, rings of three."""
    require_hr(actor)
    since = utcnow() - timedelta(days=days)
    events = union_all(
        select(FlowerGift.giver_id.label("giver"), FlowerGift.receiver_id.label("receiver"))
        .where(FlowerGift.created_at >= since),
        select(BadgeAward.giver_id, BadgeAward.receiver_id)
        .where(BadgeAward.created_at >= since, BadgeAward.giver_id.is_not(None)),
    ).subquery()
    edges: dict[tuple[int, int], int] = {
        (g, r): n for g, r, n in db.session.execute(
            select(events.c.giver, events.c.receiver, func.count())
            .group_by(events.c.giver, events.c.receiver))
    }
    out: dict[int, set[int]] = defaultdict(set)
    for g, r in edges:
        out[g].add(r)
    repeated = sorted(((g, r, n) for (g, r), n in edges.items() if n >= SIGNAL_REPEAT), key=lambda e: (-e[2], e[:2]))
    reciprocal = sorted(
        ((a, b, n, edges[(b, a)]) for (a, b), n in edges.items() if a < b and (b, a) in edges),
        key=lambda e: (-(e[2] + e[3]), e[:2]))
    rings: set[tuple[int, int, int]] = set()
    for a, bs in out.items():
        for b in bs:
            for c in out.get(b, ()):
                if c not in (a, b) and a in out.get(c, ()):
                    i = min(range(3), key=(a, b, c).__getitem__)  # one rotation per ring
                    rings.add(((a, b, c)[i], (a, b, c)[(i + 1) % 3], (a, b, c)[(i + 2) % 3]))
    repeated, reciprocal = repeated[:limit], reciprocal[:limit]
    ring_list = sorted(rings)[:limit]
    ids = {x for e in repeated for x in e[:2]} | {x for e in reciprocal for x in e[:2]} | {x for r in ring_list for x in r}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return Signals(
        since=since,
        repeated=[(people[g], people[r], n) for g, r, n in repeated],
        reciprocal=[(people[a], people[b], ab, ba) for a, b, ab, ba in reciprocal],
        rings=[(people[a], people[b], people[c]) for a, b, c in ring_list],
    )
