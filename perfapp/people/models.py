"""People and the organisation tree."""
from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime
from functools import cache
from typing import Any, Protocol, cast

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import UserMixin
from pypinyin import Style, lazy_pinyin
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    exists,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship, validates

from perfapp.core.db import run, utcnow
from perfapp.extensions import Model

ROLES = ("employee", "hr", "admin")
#: The one shared row that what erased people wrote for others is attributed to
#: (perfapp.personal.erasure). ".invalid" can never be a real address (RFC 2606).
FORMER_COLLEAGUE_EMAIL = "former-colleague@erased.invalid"
# Not an argon2 hash, so nothing verifies against it: the password of someone whose reset HR forced.
DISABLED_PASSWORD = "!reset-forced"
AVATAR_HUES = (4, 24, 45, 140, 170, 200, 220, 260, 290, 330)


class PersonLike(Protocol):
    """A person as services that need only their id take them: a User, or a page's plain
    ProfileHead (perfapp.people.services) when the page never loaded the User."""

    @property
    def id(self) -> int: ...


class Department(Model):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    parent: Mapped[Department | None] = relationship(remote_side=[id])

    @property
    def name(self) -> str:
        """The name in the current request's language."""
        return self.name_zh if str(get_locale() or "en").startswith("zh") else self.name_en


SORT_KEY_LENGTH = 200
#: Compared byte by byte on every engine: PostgreSQL's language collations skip spaces, which
#: would sort "li na" (李娜) after "lin" (Lin).
SORT_KEY_TYPE = String(SORT_KEY_LENGTH).with_variant(String(SORT_KEY_LENGTH, collation="C"), "postgresql")


def sort_key_for(name: str) -> str:
    """How a name sorts in a list: Chinese by pinyin (李娜 as "li na", between Lewis and Lin)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.strip()) if not unicodedata.combining(c))
    return " ".join(lazy_pinyin(plain, errors="default")).lower()[:SORT_KEY_LENGTH]


def search_key_for(name: str, email: str = "") -> str:
    """Lower-case tokens a picker query can match: name, pinyin, initials, email local part."""
    tokens: list[str] = [name.lower(), name.lower().replace(" ", "")]
    syllables = [s for s in lazy_pinyin(name, errors="ignore") if s.strip()]
    if syllables:
        tokens.append("".join(syllables).lower())
        tokens.append("".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower())
    parts = name.split()
    if len(parts) > 1:
        tokens.append("".join(p[0] for p in parts).lower())
    if email:
        tokens.append(email.split("@")[0].lower())
    seen: dict[str, None] = {}
    for t in tokens:
        if t:
            seen.setdefault(t, None)
    return " " + " ".join(seen) + " "


class User(UserMixin, Model):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Read through `name`, which shows the former-colleague row in the viewer's language.
    stored_name: Mapped[str] = mapped_column("name", String(80))
    search_key: Mapped[str] = mapped_column(String(400), default="")
    # What every people list orders by (pinyin for Chinese names); kept by _keep_sort_key.
    sort_key: Mapped[str] = mapped_column(SORT_KEY_TYPE, default="")
    title: Mapped[str] = mapped_column(String(120), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    role: Mapped[str] = mapped_column(String(16), default="employee")
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # None: never chose one (invited). DISABLED_PASSWORD: HR forced a reset (perfapp.auth.services).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # No longer used: failures are counted per submitted address (perfapp.auth.models.LoginFailure).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The person's pseudonym in the audit log (perfapp.audit); erasure replaces it, which
    # unlinks their audit entries from them for good. Random, so it reveals nothing.
    audit_ref: Mapped[str] = mapped_column(String(32), unique=True, index=True,
                                           default=lambda: secrets.token_hex(16))

    department: Mapped[Department | None] = relationship(lazy="joined")
    manager: Mapped[User | None] = relationship(remote_side=[id])

    __table_args__ = (
        Index("ix_person_active_sort", "active", "sort_key", "id"),
        # A manager's reports in name order: without it SQLite walks everyone by name instead.
        Index("ix_person_manager_sort", "manager_id", "sort_key", "id"),
        # Covers the picker's scan (search_people ranks on these columns alone).
        Index("ix_person_search", "active", "search_key", "sort_key", "id"),
    )

    # Set by the login loader; Flask-Login stores it, not the id. Not a column, so no annotation
    # (the ORM would read one as a mapping): the cast tells mypy what it holds.
    session_token = cast("str | None", None)

    # UserMixin compares by get_id(), which is the session token here: use identity instead
    # (SQLAlchemy's identity map already guarantees one object per row in a session).
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("log in through perfapp.auth.services.start_session")
        return self.session_token

    @hybrid_property
    def name(self) -> str:
        """The display name; the former-colleague row says "A former colleague" in the viewer's language."""
        if self.email == FORMER_COLLEAGUE_EMAIL:
            return _("A former colleague")
        return self.stored_name

    @name.inplace.setter
    def _name_setter(self, value: str) -> None:
        self.stored_name = value

    @name.inplace.expression
    @classmethod
    def _name_expression(cls):  # SQL: the column itself (ordering, search)
        return cls.stored_name

    @property
    def is_former_colleague(self) -> bool:
        """The shared stand-in for erased people: no profile, no link, no login."""
        return self.email == FORMER_COLLEAGUE_EMAIL

    def set_name(self, name: str) -> None:
        """Set the display name and the picker's search key together."""
        self.name = name.strip()
        self.search_key = search_key_for(self.name, self.email or "")

    @validates("stored_name")
    def _keep_sort_key(self, _key: str, value: str) -> str:
        """Whoever sets a name (constructor, set_name, a bulk of ORM edits) moves its sort key along."""
        self.sort_key = sort_key_for(value or "")
        return value

    @property
    def sort_name(self) -> str:
        return self.sort_key or sort_key_for(self.name)

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated people cannot log in
        return bool(self.active)

    @property
    def can_be_invited(self) -> bool:
        """Only someone who has never chosen a password: an invite link sets one without the old."""
        return self.password_hash is None

    @property
    def must_reset_password(self) -> bool:
        """HR forced a reset: the old password is off until they use the link mailed to them."""
        return self.password_hash == DISABLED_PASSWORD

    @property
    def is_hr(self) -> bool:
        return self.role in ("hr", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        """Manager is derived: anyone with at least one active direct report."""
        if not hasattr(self, "_is_manager"):
            self._is_manager = bool(run(_has_reports(), {"person_id": self.id}).scalar())
        return self._is_manager

    @property
    def initials(self) -> str:
        return initials_of(self.name, self.is_former_colleague)

    @property
    def avatar_hue(self) -> int:
        return AVATAR_HUES[self.id % len(AVATAR_HUES)]

    def manages(self, other: User) -> bool:
        return other.manager_id == self.id


def initials_of(name: str, former: bool = False) -> str:
    """What an avatar shows of a name ("?" for the stand-in for erased people)."""
    if former:
        return "?"
    parts = name.split()
    if len(parts) > 1:
        return (parts[0][0] + parts[-1][0]).upper()
    # Chinese names: the given name (last one or two characters) is what colleagues use.
    return name[-2:] if len(name) > 2 and not name.isascii() else name[:2].upper()


def prefetch_viewer_state(user: User, *, is_manager: bool, unread: int) -> None:
    """What the login query read along with the person (perfapp.auth.session): whether they manage
    anyone, and their unread count as of the start of the request (taken once: see unread_count)."""
    user._is_manager = is_manager
    user._unread = unread


@cache
def _has_reports():
    """Built once: most pages ask whether the viewer manages anyone (statement building costs more
    than SQLite running it)."""
    return select(manages_anyone(bindparam("person_id")))


def manages_anyone(person_id: Any) -> Any:
    """Whether the person `person_id` names (a bind parameter, or a column of an outer query: the
    login query reads it with the person) has an active direct report, as an EXISTS."""
    reports = aliased(User)
    return exists().where(reports.manager_id == person_id, reports.active.is_(True))
