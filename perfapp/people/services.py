"""People: the picker's search, profiles and personal settings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased

from perfapp.core.db import rows
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.people.models import (
    AVATAR_HUES,
    FORMER_COLLEAGUE_EMAIL,
    Department,
    PersonLike,
    User,
    initials_of,
)

_TIMEZONES: frozenset[str] | None = None


# The zones offered first in the settings (the person's own, if another, is added).
COMMON_TIMEZONES = (
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
    "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC",
)


def timezones() -> frozenset[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(available_timezones())
    return _TIMEZONES


def escape_like(q: str) -> str:
    """q for a LIKE pattern escaped with a backslash: its own %, _ and backslashes match themselves."""
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_people(viewer: User, query: str, limit: int = 8, exclude_self: bool = True) -> list[User]:
    """Active people whose name, pinyin, initials or email start with the query (then contain it)."""
    q = "".join(query.lower().split())
    if not q:
        return []
    email = q if "@" in q else None
    q = escape_like(q[:40])
    # search_key holds space-separated tokens with a leading space, so " q%" is a token prefix.
    rank = case((User.search_key.like(f"% {q}%", escape="\\"), 0), else_=1).label("rank")
    # search_key keeps only an address's local part: a whole address pasted in finds its owner.
    matches: ColumnElement[bool] = User.search_key.like(f"%{q}%", escape="\\")
    if email:
        matches = or_(matches, func.lower(User.email) == email)
    hits = (
        select(User.id, rank, User.sort_key)
        .where(User.active.is_(True), matches)
        .order_by(rank, User.sort_key, User.id)
        .limit(limit)
    )
    if exclude_self:
        hits = hits.where(User.id != viewer.id)
    # Rank on the narrow ix_person_search (a covering scan), then load only the few hits.
    found = hits.subquery()
    stmt = select(User).join(found, found.c.id == User.id).order_by(found.c.rank, found.c.sort_key, found.c.id)
    return list(db.session.scalars(stmt))


def is_self_query(viewer: User, query: str) -> bool:
    """Whether a picker query that found no one else names the viewer (the picker says "That's you")."""
    q = "".join(query.lower().split())
    if not q:
        return False
    return q == viewer.email.lower() or q in (viewer.search_key or "")


#: What other domains add to a profile: slot ("top", "before_praise") -> (template, provide), where
#: provide(person) returns a plain value (perfapp.core.pages: the kept profile's key holds it) that
#: the template shows as `section`. Registered by those domains with @profile_section.
PROFILE_SECTIONS: dict[str, tuple[str, Callable[[PersonLike], Any]]] = {}


def profile_section(slot: str, template: str) -> Callable[[Callable[[PersonLike], Any]], Callable[[PersonLike], Any]]:
    """Register what a domain shows on every profile, in `slot` (see PROFILE_SECTIONS)."""
    def register(provide: Callable[[PersonLike], Any]) -> Callable[[PersonLike], Any]:
        PROFILE_SECTIONS[slot] = (template, provide)
        return provide

    return register


def profile_section_html(slot: str, person: PersonLike) -> Any:
    """What one slot shows of this person, when its value is HTML (the badge wall shows the
    profile's customer praise too); empty when no domain filled the slot."""
    found = PROFILE_SECTIONS.get(slot)
    return found[1](person) if found else ""


def profile_sections(person: PersonLike) -> dict[str, tuple[str, Any]]:
    """Each slot's template and what it shows of this person (for the profile view)."""
    return {slot: (template, provide(person)) for slot, (template, provide) in PROFILE_SECTIONS.items()}


@dataclass(frozen=True)
class PersonRef:
    """A person as a link with an avatar shows them (a plain value: kept pages take these)."""

    id: int
    name: str
    initials: str
    avatar_hue: int

    @classmethod
    def of(cls, person: User) -> PersonRef:
        return cls(person.id, person.name, person.initials, person.avatar_hue)

    @classmethod
    def of_row(cls, person_id: int, stored_name: str, email: str) -> PersonRef:
        """From the columns (a Core row): what `of` shows of the person, without loading them."""
        former = email == FORMER_COLLEAGUE_EMAIL
        name = _("A former colleague") if former else stored_name
        return cls(person_id, name, initials_of(name, former), AVATAR_HUES[person_id % len(AVATAR_HUES)])


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    name: str


@dataclass(frozen=True)
class ProfileHead:
    """What a profile's head shows of the person, in the page's language (`profile_head`)."""

    id: int
    name: str
    title: str | None
    active: bool
    initials: str
    avatar_hue: int
    department: DepartmentRef | None
    manager: PersonRef | None


def profile_head(person_id: int) -> ProfileHead | None:
    """What a profile's or badge wall's head shows of the person, from one Core row (no User,
    department or manager loaded); None for no one, or for the stand-in for erased people (who
    has no page)."""
    found = profile_head_and_team(person_id, with_team=False)
    return found[0] if found else None


def profile_head_and_team(person_id: int, with_team: bool = True) -> tuple[ProfileHead, list[PersonRef]] | None:
    """`profile_head` and the person's active direct reports by name (empty without `with_team`),
    in one statement: the head's row once per report (outer-joined: one row, its report NULL, for
    no one)."""
    found = rows(_profile_head(with_team), {"person_id": person_id})
    if not found:
        return None
    (pid, name, email, title, active, dept_id, dept_zh, dept_en, manager_id, manager_name, manager_email,
     *_report) = found[0]
    if email == FORMER_COLLEAGUE_EMAIL:
        return None
    zh = str(get_locale() or "en").startswith("zh")
    head = ProfileHead(pid, name, title, active, initials_of(name), AVATAR_HUES[pid % len(AVATAR_HUES)],
                       DepartmentRef(dept_id, dept_zh if zh else dept_en) if dept_id is not None else None,
                       PersonRef.of_row(manager_id, manager_name, manager_email) if manager_id is not None else None)
    team = [PersonRef.of_row(*row[-3:]) for row in found if row[-3] is not None] if with_team else []
    return head, team


@cache
def _profile_head(with_team: bool) -> Select:
    manager, report = aliased(User), aliased(User)
    head = (select(User.id, User.stored_name, User.email, User.title, User.active,
                   Department.id, Department.name_zh, Department.name_en,
                   manager.id, manager.stored_name, manager.email)
            .outerjoin(Department, Department.id == User.department_id)
            .outerjoin(manager, manager.id == User.manager_id)
            .where(User.id == bindparam("person_id")))
    if not with_team:
        return head
    return (head.add_columns(report.id, report.stored_name, report.email)
            .outerjoin(report, and_(report.manager_id == User.id, report.active.is_(True)))
            .order_by(report.sort_key, report.id))


def update_settings(user: User, locale: str | None, timezone: str | None) -> None:
    """Change the person's language and timezone."""
    errors: dict[str, str] = {}
    if locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = _("Choose a language from the list.")
    if timezone not in timezones():
        errors["timezone"] = _("Choose a timezone from the list.")
    if errors or timezone is None:  # None only with an error said
        raise FormError(errors)
    user.locale = locale
    user.timezone = timezone
    db.session.flush()


def picked_people(ids: list[int], most: int) -> tuple[list[User], str | None]:
    """The active people a multi-person picker sent (in order, repeats dropped), or why not (translated)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return [], _("Choose at least one person.")
    if len(ids) > most:
        return [], _("Choose at most %(n)d people.", n=most)
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    for pid in ids:
        if pid not in found:
            return [], _("We couldn't find that person.")
        if not found[pid].active:
            return [], _("%(name)s is no longer active.", name=found[pid].name)
    return [found[pid] for pid in ids], None
