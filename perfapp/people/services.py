"""People: the picker's search, profiles and personal settings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, bindparam, case, func, or_, select
from sqlalchemy.orm import joinedload

from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.people.models import User

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
PROFILE_SECTIONS: dict[str, tuple[str, Callable[[User], Any]]] = {}


def profile_section(slot: str, template: str) -> Callable[[Callable[[User], Any]], Callable[[User], Any]]:
    """Register what a domain shows on every profile, in `slot` (see PROFILE_SECTIONS)."""
    def register(provide: Callable[[User], Any]) -> Callable[[User], Any]:
        PROFILE_SECTIONS[slot] = (template, provide)
        return provide

    return register


def profile_section_html(slot: str, person: User) -> Any:
    """What one slot shows of this person, when its value is HTML (the badge wall shows the
    profile's customer praise too); empty when no domain filled the slot."""
    found = PROFILE_SECTIONS.get(slot)
    return found[1](person) if found else ""


def profile_sections(person: User) -> dict[str, tuple[str, Any]]:
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


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    name: str


@dataclass(frozen=True)
class ProfileHead:
    """What a profile's head shows of the person, in the page's language."""

    id: int
    name: str
    title: str | None
    active: bool
    initials: str
    avatar_hue: int
    department: DepartmentRef | None
    manager: PersonRef | None

    @classmethod
    def of(cls, person: User) -> ProfileHead:
        department = person.department
        return cls(person.id, person.name, person.title, person.active, person.initials, person.avatar_hue,
                   DepartmentRef(department.id, department.name) if department else None,
                   PersonRef.of(person.manager) if person.manager else None)


def get_person(person_id: int) -> User | None:
    """The person with their manager (the profile names them) in one statement."""
    return db.session.scalars(_person_with_manager(), {"person_id": person_id}).first()


@cache
def _person_with_manager() -> Select:
    return select(User).where(User.id == bindparam("person_id")).options(joinedload(User.manager))


def direct_reports(manager: User) -> list[User]:
    return list(db.session.scalars(_direct_reports(), {"manager_id": manager.id}))


@cache
def _direct_reports() -> Select:
    """Built once: every profile asks."""
    return (select(User).where(User.manager_id == bindparam("manager_id"), User.active.is_(True))
            .order_by(User.sort_key, User.id))


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
