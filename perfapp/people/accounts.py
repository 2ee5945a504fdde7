"""People's accounts, as HR manages them: the directory, adding (with an invite), editing,
roles, password resets, deactivating. Every function takes the acting person explicitly; the
view checks the page is HR-only and these re-check what depends on who is acting (only admins
touch HR and admin accounts)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from math import ceil
from typing import Generic, TypeVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from perfapp.audit.services import record
from perfapp.auth import services as auth
from perfapp.core.db import add_row, get_row
from perfapp.core.validation import FormError, clean_text
from perfapp.extensions import db
from perfapp.people.models import FORMER_COLLEAGUE_EMAIL, ROLES, Department, User
from perfapp.people.services import escape_like, timezones

MAX_PERSON_NAME = 80
MAX_TITLE = 120
MAX_EMAIL = 254
PAGE_SIZE = 20
PRIVILEGED_ROLES = frozenset({"hr", "admin"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")

T = TypeVar("T")


def _require_hr(actor: User) -> None:
    if not actor.is_hr:
        raise PermissionError("HR or admin only")


@dataclass
class Page(Generic[T]):
    """One page of a longer list."""

    items: list[T]
    number: int
    total: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


@dataclass
class PersonInput:
    """The add/edit person form, split into fields (see forms.parse_person)."""

    name: str = ""
    email: str = ""
    title: str = ""
    department_id: int | None = None
    manager_id: int | None = None
    role: str = "employee"
    locale: str = ""  # "" follows the browser's language
    timezone: str = "Asia/Shanghai"


def can_manage(actor: User, person: User) -> bool:
    """HR manages employees and themselves; only admins manage HR and admin accounts."""
    return actor.is_admin or person.role not in PRIVILEGED_ROLES or person.id == actor.id


def _require_manage(actor: User, person: User) -> None:
    _require_hr(actor)
    if not can_manage(actor, person):
        raise PermissionError("only an admin can change HR and admin accounts")


def list_people(query: str = "", page: int = 1, size: int = PAGE_SIZE) -> Page[User]:
    """Everyone matching the query (name, pinyin, email, title), active people first."""
    # The stand-in for erased people (perfapp.personal.erasure) is nobody HR can manage.
    stmt = select(User).where(User.email != FORMER_COLLEAGUE_EMAIL)
    raw = " ".join(query.lower().split())[:80]
    if raw:
        compact = escape_like(raw.replace(" ", ""))
        spaced = escape_like(raw)
        stmt = stmt.where(or_(
            User.search_key.like(f"%{compact}%", escape="\\"),
            func.lower(User.email).like(f"%{spaced}%", escape="\\"),
            func.lower(User.title).like(f"%{spaced}%", escape="\\"),
        ))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number = min(max(1, page), max(1, ceil(total / size)))
    items = db.session.scalars(
        stmt.order_by(User.active.desc(), User.sort_key, User.id).limit(size).offset((number - 1) * size)
    ).all()
    return Page(list(items), number, total, size)


def _check_manager(person: User | None, manager_id: int | None, errors: dict[str, str]) -> None:
    if manager_id is None:
        return
    manager = get_row(User, manager_id)
    if manager is None:
        errors["manager_id"] = _("We couldn't find that person.")
        return
    if person is not None and manager.id == person.id:
        errors["manager_id"] = _("A person can't be their own manager.")
        return
    if not manager.active and (person is None or person.manager_id != manager.id):
        errors["manager_id"] = _("%(name)s has been deactivated.", name=manager.name)
        return
    seen: set[int] = set()
    boss: User | None = manager
    while boss is not None and boss.id not in seen:
        if person is not None and boss.id == person.id:
            errors["manager_id"] = _("%(name)s already reports to this person, directly or not.",
                                     name=manager.name)
            return
        seen.add(boss.id)
        boss = boss.manager


def _check_role(actor: User, person: User | None, role: str, errors: dict[str, str]) -> None:
    current = person.role if person is not None else "employee"
    if role not in ROLES:
        errors["role"] = _("Choose a role from the list.")
    elif role == current:
        return
    elif person is not None and person.id == actor.id:
        errors["role"] = _("You can't change your own role.")
    elif not actor.is_admin and (role in PRIVILEGED_ROLES or current in PRIVILEGED_ROLES):
        errors["role"] = _("Only an admin can grant or change the HR and admin roles.")


def _clean_person(actor: User, person: User | None, data: PersonInput) -> PersonInput:
    errors: dict[str, str] = {}
    name = clean_text(data.name, "name", MAX_PERSON_NAME, errors)
    email = (data.email or "").strip().lower()
    if not email:
        errors["email"] = _("Please fill this in.")
    elif len(email) > MAX_EMAIL or not _EMAIL.match(email):
        errors["email"] = _("Enter an email address like name@example.com.")
    else:
        taken = select(User.id).where(func.lower(User.email) == email)
        if person is not None:
            taken = taken.where(User.id != person.id)
        if db.session.scalar(taken.limit(1)) is not None:
            errors["email"] = _("Someone already uses %(email)s.", email=email)
    title = clean_text(data.title, "title", MAX_TITLE, errors, required=False)
    if data.department_id is not None and get_row(Department, data.department_id) is None:
        errors["department_id"] = _("We couldn't find that department.")
    _check_manager(person, data.manager_id, errors)
    _check_role(actor, person, data.role, errors)
    locale = data.locale or ""
    if locale and locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = _("Choose a language from the list.")
    if data.timezone not in timezones():
        errors["timezone"] = _("Choose a timezone from the list.")
    if errors:
        raise FormError(errors)
    return PersonInput(name=name, email=email, title=title, department_id=data.department_id,
                       manager_id=data.manager_id, role=data.role, locale=locale,
                       timezone=data.timezone)


def _apply_person(person: User, data: PersonInput) -> None:
    person.email = data.email
    person.set_name(data.name)  # after the email: the picker's search key includes it
    person.title = data.title
    person.department_id = data.department_id
    person.manager_id = data.manager_id
    person.role = data.role
    person.locale = data.locale or None
    person.timezone = data.timezone


def create_person(actor: User, data: PersonInput) -> tuple[User, str]:
    """Add a person and an invite for them; returns the person and the invite token."""
    _require_hr(actor)
    clean = _clean_person(actor, None, data)
    person = User(active=True)
    _apply_person(person, clean)
    add_row(person)
    token = auth.create_invite(actor, person)
    record("person.invited", actor=actor, subject=person, details={"new": True})
    if person.role != "employee":
        record("person.role_changed", actor=actor, subject=person, details={"old": None, "new": person.role})
    return person, token


def update_person(actor: User, person: User, data: PersonInput) -> None:
    """Change a person's details, role, manager, language or timezone."""
    _require_manage(actor, person)
    old_role = person.role
    _apply_person(person, _clean_person(actor, person, data))
    db.session.flush()
    if person.role != old_role:
        record("person.role_changed", actor=actor, subject=person, details={"old": old_role, "new": person.role})


def resend_invite(actor: User, person: User) -> str:
    """A fresh one-time invite link for the person (older links stop working)."""
    _require_manage(actor, person)
    if not person.active:
        raise FormError({"form": _("Reactivate %(name)s before inviting them.", name=person.name)})
    token = auth.create_invite(actor, person)
    record("person.invited", actor=actor, subject=person)
    return token


def force_reset(actor: User, person: User) -> None:
    """Switch off the person's password and sessions; a reset link goes to their email, not to HR."""
    _require_manage(actor, person)
    if not person.active:
        raise FormError({"form": _("Reactivate %(name)s first.", name=person.name)})
    if person.can_be_invited:
        raise FormError({"form": _("%(name)s hasn't chosen a password yet: send them a new invite link instead.",
                                   name=person.name)})
    auth.force_reset(actor, person)


def deactivate_person(actor: User, person: User) -> None:
    """Switch a person off: they are logged out everywhere and can no longer log in."""
    _require_manage(actor, person)
    if person.id == actor.id:
        raise FormError({"form": _("You can't deactivate yourself.")})
    person.active = False
    auth.end_all_sessions(person)
    db.session.flush()
    record("person.deactivated", actor=actor, subject=person)


def reactivate_person(actor: User, person: User) -> None:
    """Let a deactivated person log in again."""
    _require_manage(actor, person)
    person.active = True
    db.session.flush()
    record("person.reactivated", actor=actor, subject=person)
