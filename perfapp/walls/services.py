"""Walls: the praise wall (public praise, flowers and badges in one stream), each person's badge
wall and the company's badges with their holders.

Only public praise that is not development-only ever reaches a wall, a count or a strip;
reported (hidden) flowers and badges are left out for everyone but HR.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import joinedload

from perfapp.core.db import as_datetime, run, utcnow
from perfapp.core.validation import bounded_int
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackTag, Tag
from perfapp.feedback.services import decode_cursor as decode_pair_cursor
from perfapp.people.models import Department, PersonLike, User
from perfapp.recognition.badges import load_awards
from perfapp.recognition.checks import visible_to
from perfapp.recognition.models import Badge, BadgeAward, BadgeHolding, FlowerGift
from perfapp.recognition.months import month_start

# Ten cards fill three or four phone screens; the infinite scroll brings the next ten.
PAGE_SIZE = 10
HOLDERS_PAGE_SIZE = 12  # a phone screen and a half; the infinite scroll brings more
# Kinds in the merged stream; the rank breaks ties between rows of the same instant.
RANKS = {"praise": 0, "flower": 1, "badge": 2}
PERIODS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}

Cursor = tuple[datetime, int, int]  # (created_at, kind rank, id)


@dataclass(frozen=True)
class WallItem:
    """One entry of the praise wall: what the page needs to fetch its card."""

    kind: str  # praise | flower | badge
    id: int
    created_at: datetime

    @property
    def cursor(self) -> str:
        return f"{self.created_at.isoformat()}_{RANKS[self.kind]}_{self.id}"


@dataclass(frozen=True)
class WallFilter:
    department_id: int | None = None
    tag_id: int | None = None
    badge_id: int | None = None
    period: str = ""

    @property
    def active(self) -> bool:
        return bool(self.department_id or self.tag_id or self.badge_id or self.period)

    def args(self) -> dict[str, Any]:
        """The filter as query-string arguments (for the next page's URL)."""
        pairs = {"department": self.department_id, "tag": self.tag_id, "badge": self.badge_id,
                 "period": self.period}
        return {k: str(v) for k, v in pairs.items() if v}


def decode_cursor(raw: str | None) -> Cursor | None:
    """Parse a wall cursor; a malformed one means the first page."""
    if not raw:
        return None
    try:
        stamp, rank, ident = raw.rsplit("_", 2)
        return datetime.fromisoformat(stamp), int(rank), bounded_int(ident)
    except ValueError:
        return None


def public_praise() -> ColumnElement[bool]:
    """The feedback a wall may show: public praise, never constructive, development-only or reported."""
    return and_(Feedback.visibility == "public", Feedback.kind == "praise",
                Feedback.development_only.is_(False), Feedback.hidden.is_(False))


def _before(model: Any, rank: int, cursor: Cursor | None) -> ColumnElement[bool]:
    """Rows after the cursor in the order (created_at, rank, id) descending, on one kind's index.
    The cursor's time and id may be bind parameters (a statement built once)."""
    if cursor is None:
        return true()
    at, c_rank, c_id = cursor
    at_sql = at if isinstance(at, BindParameter) else literal(at)
    id_sql = c_id if isinstance(c_id, BindParameter) else literal(c_id)
    if rank < c_rank:
        return model.created_at <= at_sql
    if rank > c_rank:
        return model.created_at < at_sql
    return tuple_(model.created_at, model.id) < tuple_(at_sql, id_sql)


def _department_ids(department_id: int) -> list[int]:
    """The department and everything under it (the tree is small: walk it in Python)."""
    children: dict[int | None, list[int]] = {}
    for dep_id, parent_id in db.session.execute(select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dep_id)
    found, todo = [], [department_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _branches(f: WallFilter, viewer: User | _Role) -> list[tuple[str, Any, list[ColumnElement[bool]]]]:
    """(kind, model, conditions) for every kind the filter lets through."""
    since = utcnow() - timedelta(days=PERIODS[f.period]) if f.period in PERIODS else None
    people = None
    if f.department_id:
        people = select(User.id).where(User.department_id.in_(_department_ids(f.department_id)))
    out: list[tuple[str, Any, list[ColumnElement[bool]]]] = []
    if not f.badge_id:
        praise: list[ColumnElement[bool]] = [public_praise()]
        flower: list[ColumnElement[bool]] = [] if viewer.is_hr else [FlowerGift.hidden.is_(False)]
        if people is not None:
            praise.append(Feedback.recipient_id.in_(people))
            flower.append(FlowerGift.receiver_id.in_(people))
        if f.tag_id:
            praise.append(exists().where(FeedbackTag.feedback_id == Feedback.id, FeedbackTag.tag_id == f.tag_id))
            flower.append(FlowerGift.tag_id == f.tag_id)
        out += [("praise", Feedback, praise), ("flower", FlowerGift, flower)]
    badge: list[ColumnElement[bool]] = [] if viewer.is_hr else [BadgeAward.hidden.is_(False)]
    if people is not None:
        badge.append(BadgeAward.receiver_id.in_(people))
    if f.badge_id:
        badge.append(BadgeAward.badge_id == f.badge_id)
    if f.tag_id:
        badge.append(BadgeAward.badge_id.in_(select(Badge.id).where(Badge.tag_id == f.tag_id)))
    out.append(("badge", BadgeAward, badge))
    if since is not None:
        for _kind, model, conds in out:
            conds.append(model.created_at >= since)
    return out


def praise_wall(viewer: User, f: WallFilter | None = None, cursor: Cursor | None = None,
                limit: int = PAGE_SIZE) -> tuple[list[WallItem], str | None]:
    """Public praise, flowers and badge awards, newest first, one keyset page (a constant number
    of queries: one to merge the kinds' top rows, one to load each kind)."""
    f = f or WallFilter()
    if f.active:
        rows = run(_wall_page(_branches(f, viewer), cursor, limit + 1)).all()
    else:  # the wall as most people see it: its statement is built once (per cursor rank)
        params: dict[str, Any] = {"n": limit + 1}
        if cursor is not None:
            params["at"], params["c_id"] = cursor[0], cursor[2]
        stmt = _unfiltered_page(viewer.is_hr, cursor[1] if cursor is not None else None)
        rows = run(stmt, params).all()
    kinds = {rank: kind for kind, rank in RANKS.items()}
    items = [WallItem(kinds[r], i, t) for r, i, t in rows[:limit]]
    next_cursor = items[-1].cursor if len(rows) > limit and items else None
    return items, next_cursor




def _wall_page(branches: list[tuple[str, Any, list[ColumnElement[bool]]]], cursor: Any,
               limit: Any) -> Select[Any]:
    parts = []
    for kind, model, conds in branches:
        rank = RANKS[kind]
        parts.append(
            select(literal(rank).label("rank"), model.id.label("id"), model.created_at.label("created_at"))
            .where(*conds, _before(model, rank, cursor))
            .order_by(model.created_at.desc(), model.id.desc()).limit(limit).subquery().select()
        )
    merged = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return (select(merged.c.rank, merged.c.id, merged.c.created_at)
            .order_by(merged.c.created_at.desc(), merged.c.rank.desc(), merged.c.id.desc()).limit(limit))


@lru_cache(maxsize=16)
def _unfiltered_page(is_hr: bool, cursor_rank: int | None) -> Select[Any]:
    """The unfiltered wall's page statement, with the cursor and size as bind parameters."""
    cursor: tuple[Any, int, Any] | None = (
        None if cursor_rank is None else (bindparam("at"), cursor_rank, bindparam("c_id")))
    return _wall_page(_branches(WallFilter(), _Role(is_hr)), cursor, bindparam("n"))


class _Role(NamedTuple):
    """What _branches reads of a viewer (the statement is shared by all viewers of a role)."""

    is_hr: bool


# --- strips ------------------------------------------------------------------------------

_cache: dict[str, tuple[float, Any]] = {}
CACHE_ENTRIES = 4096


def _cached(key: str, compute: Any) -> Any:
    """A per-process cache for company-wide aggregates that may be a few minutes old."""
    ttl = current_app.config["WALL_STRIP_TTL"]
    hit = _cache.get(key)
    now = time.monotonic()
    if ttl and hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    if len(_cache) >= CACHE_ENTRIES:
        _cache.clear()  # crude but bounded: it refills with what people look at
    _cache[key] = (now + ttl, value)
    return value


def _value_counts(since: datetime) -> list[tuple[int, int]]:
    """(value tag id, count) over this month's public praise, flowers and badges."""
    counts: dict[int, int] = {}
    queries = [
        select(FeedbackTag.tag_id, func.count()).join(Feedback, Feedback.id == FeedbackTag.feedback_id)
        .join(Tag, Tag.id == FeedbackTag.tag_id)
        .where(public_praise(), Feedback.created_at >= since, Tag.kind == "value").group_by(FeedbackTag.tag_id),
        select(FlowerGift.tag_id, func.count()).where(
            FlowerGift.hidden.is_(False), FlowerGift.created_at >= since, FlowerGift.tag_id.is_not(None))
        .group_by(FlowerGift.tag_id),
        select(Badge.tag_id, func.count()).select_from(BadgeAward).join(Badge, Badge.id == BadgeAward.badge_id).where(
            BadgeAward.hidden.is_(False), BadgeAward.created_at >= since, Badge.tag_id.is_not(None))
        .group_by(Badge.tag_id),
    ]
    for query in queries:
        for tag_id, n in db.session.execute(query):
            if tag_id is not None:
                counts[tag_id] = counts.get(tag_id, 0) + n
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


@cache
def _tags_by_id() -> Select[Any]:
    return select(Tag).where(Tag.id.in_(bindparam("ids", expanding=True)))


def _labelled(counts: list[tuple[int, int]]) -> list[tuple[Tag, int]]:
    """(tag, count) for (tag id, count), the tags as copies outside any session: they are kept
    with the counts in `_cached` (as old as the counts, at most WALL_STRIP_TTL), so a page
    reads neither the counts nor the names; a copy has no state a later request could expire."""
    if not counts:
        return []
    tags = {t.id: t for t in db.session.scalars(_tags_by_id(), {"ids": [t for t, _n in counts]})}
    return [(Tag(id=tag.id, kind=tag.kind, name_zh=tag.name_zh, name_en=tag.name_en, key=tag.key, active=tag.active), n)
            for t, n in counts if (tag := tags.get(t)) is not None]


def top_values(limit: int = 5) -> list[tuple[Tag, int]]:
    """This month's most used values (counts of values, never ranks of people)."""
    since = month_start()
    return _cached(f"values:{since.isoformat()}:{limit}", lambda: _labelled(_value_counts(since)[:limit]))


NEWEST_AWARDS = 8


def newest_award_versions(limit: int = NEWEST_AWARDS) -> tuple[tuple[int, int, datetime], ...]:
    """(id, version, created_at) of the latest badge awards: the strip's cache key (a receiver's or
    badge's rename moves the award's version, perfapp.recognition.cards)."""
    return tuple((i, v, t) for i, v, t in run(_newest_awards(), {"n": limit}))


@cache
def _newest_awards() -> Select[int, int, datetime]:
    return (select(BadgeAward.id, BadgeAward.version, BadgeAward.created_at).where(BadgeAward.hidden.is_(False))
            .order_by(BadgeAward.created_at.desc(), BadgeAward.id.desc()).limit(bindparam("n")))


def newest_awards(limit: int = NEWEST_AWARDS) -> list[BadgeAward]:
    """The latest badge awards, for the strip on top of the praise wall."""
    ids = [i for i, _v, _t in newest_award_versions(limit)]
    by_id = {a.id: a for a in load_awards(ids)}
    return [by_id[i] for i in ids if i in by_id]


def filter_options() -> dict[str, list[Any]]:
    """What the filter sheet offers: departments, values, badges."""
    return {
        "departments": list(db.session.scalars(select(Department).order_by(Department.name_en))),
        "tags": list(db.session.scalars(select(Tag).where(Tag.kind == "value", Tag.active.is_(True)).order_by(Tag.id))),
        "badges": list(db.session.scalars(select(Badge).where(Badge.active.is_(True)).order_by(Badge.id))),
    }


# --- a person's badge wall --------------------------------------------------------------------

def person_top_tags(person: PersonLike, limit: int = 8) -> list[tuple[Tag, int]]:
    """Tags on this person's public praise and flowers (never private or development-only),
    counted at most every few minutes per person: someone praised thousands of times would
    otherwise cost a scan of it all on every visit to their wall."""
    return _cached(f"tags:{person.id}:{limit}", lambda: _labelled(_person_tag_counts(person.id)[:limit]))


def _person_tag_counts(person_id: int) -> list[tuple[int, int]]:
    counts: dict[int, int] = {}
    for query in (
        select(FeedbackTag.tag_id, func.count()).join(Feedback, Feedback.id == FeedbackTag.feedback_id)
        .where(Feedback.recipient_id == person_id, public_praise()).group_by(FeedbackTag.tag_id),
        select(FlowerGift.tag_id, func.count()).where(
            FlowerGift.receiver_id == person_id, FlowerGift.hidden.is_(False), FlowerGift.tag_id.is_not(None))
        .group_by(FlowerGift.tag_id),
    ):
        for tag_id, n in db.session.execute(query):
            if tag_id is not None:
                counts[tag_id] = counts.get(tag_id, 0) + n
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def citations(person: User, badge: Badge, viewer: User, limit: int = 20) -> list[BadgeAward]:
    """Why this person holds this badge: each award, newest first."""
    ids = list(db.session.scalars(
        select(BadgeAward.id).where(BadgeAward.receiver_id == person.id, BadgeAward.badge_id == badge.id,
                                    visible_to(BadgeAward, viewer))
        .order_by(BadgeAward.created_at.desc(), BadgeAward.id.desc()).limit(limit)))
    by_id = {a.id: a for a in load_awards(ids)}
    return [by_id[i] for i in ids if i in by_id]


# --- the company's badges -------------------------------------------------------------------

def holder_counts() -> dict[int, int]:
    """People holding each badge (a few minutes old at most)."""
    def compute() -> dict[int, int]:
        return dict(db.session.execute(
            select(BadgeHolding.badge_id, func.count()).group_by(BadgeHolding.badge_id)).all())
    return _cached("holders", compute)


def badge_categories(badges: list[Badge]) -> list[tuple[str, Tag | None, list[Badge]]]:
    """Badges grouped for browsing: by linked value, then the rest, then the automatic ones."""
    by_value: dict[int, tuple[Tag, list[Badge]]] = {}
    other: list[Badge] = []
    auto: list[Badge] = []
    for b in badges:
        if b.automatic:
            auto.append(b)
        elif b.tag is not None:
            by_value.setdefault(b.tag.id, (b.tag, []))[1].append(b)
        else:
            other.append(b)
    groups: list[tuple[str, Tag | None, list[Badge]]] = [("value", t, bs) for t, bs in by_value.values()]
    if other:
        groups.append(("other", None, other))
    if auto:
        groups.append(("automatic", None, auto))
    return groups


@dataclass
class Holder:
    person: User
    count: int
    last: datetime
    latest: BadgeAward | None

    @property
    def cursor(self) -> str:
        return f"{self.last.isoformat()}_{self.person.id}"


def decode_holder_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """Holder cursors have the feedback feeds' "<iso time>_<id>" shape."""
    return decode_pair_cursor(raw)


def holders(badge: Badge, viewer: User, cursor: tuple[datetime, int] | None = None,
            limit: int = HOLDERS_PAGE_SIZE) -> tuple[list[Holder], str | None]:
    """People holding the badge, most recently earned first (keyset on (last earned, person))."""
    rows: Sequence[Any]
    if viewer.is_hr:
        rows = _holders_with_reported(badge, cursor, limit)
    else:
        query = (select(BadgeHolding.user_id, BadgeHolding.count, BadgeHolding.last_at, BadgeHolding.last_award_id)
                 .where(BadgeHolding.badge_id == badge.id))
        if cursor is not None:
            query = query.where(tuple_(BadgeHolding.last_at, BadgeHolding.user_id)
                                < tuple_(literal(cursor[0]), literal(cursor[1])))
        rows = db.session.execute(query.order_by(BadgeHolding.last_at.desc(), BadgeHolding.user_id.desc())
                                  .limit(limit + 1)).all()
    page = rows[:limit]
    if not page:
        return [], None
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in page])))}
    latest = {a.id: a for a in db.session.scalars(
        select(BadgeAward).where(BadgeAward.id.in_([r[3] for r in page])).options(joinedload(BadgeAward.giver)))}
    result = [Holder(people[r[0]], r[1], as_datetime(r[2]), latest.get(r[3])) for r in page if r[0] in people]
    return result, (result[-1].cursor if len(rows) > limit and result else None)


def _holders_with_reported(badge: Badge, cursor: tuple[datetime, int] | None, limit: int) -> list[Any]:
    """HR's holder list counts reported awards too, so it groups the awards themselves."""
    last = func.max(BadgeAward.created_at)
    query = (select(BadgeAward.receiver_id, func.count(), last, func.max(BadgeAward.id))
             .where(BadgeAward.badge_id == badge.id).group_by(BadgeAward.receiver_id))
    if cursor is not None:
        query = query.having(tuple_(last, BadgeAward.receiver_id) < tuple_(literal(cursor[0]), literal(cursor[1])))
    return list(db.session.execute(query.order_by(last.desc(), BadgeAward.receiver_id.desc()).limit(limit + 1)))


def holder_total(badge: Badge, viewer: User) -> int:
    if viewer.is_hr:
        return db.session.scalar(select(func.count(func.distinct(BadgeAward.receiver_id)))
                                 .where(BadgeAward.badge_id == badge.id)) or 0
    return db.session.scalar(select(func.count()).select_from(BadgeHolding)
                             .where(BadgeHolding.badge_id == badge.id)) or 0
