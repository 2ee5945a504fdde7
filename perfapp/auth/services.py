"""Accounts: passwords, login throttling, server-side sessions, invitations."""
from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from perfapp.auth.models import Invite, LoginSession
from perfapp.auth.session import token_hash
from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.people.models import User

_hashers: dict[bool, PasswordHasher] = {}
MIN_PASSWORD = 8


def _hasher() -> PasswordHasher:
    fast = bool(current_app.config.get("PASSWORD_HASH_FAST"))
    if fast not in _hashers:
        _hashers[fast] = (
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
        )
    return _hashers[fast]


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher().hash(password)


def set_password(user: User, password: str) -> None:
    """Validate and set a new password."""
    if len(password) < MIN_PASSWORD:
        raise FormError({"password": _("Use at least %(n)d characters.", n=MIN_PASSWORD)})
    if len(password) > 200:
        raise FormError({"password": _("That password is too long.")})
    user.password_hash = hash_password(password)


def _locked(user: User) -> bool:
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    if user.first_failed_at is None or utcnow() - user.first_failed_at > window:
        return False
    return user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]


def authenticate(email: str, password: str) -> User:
    """Check a login; count failures per account and refuse once over the limit."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    bad = FormError({"form": _("Wrong email or password.")})
    if user is None or not user.password_hash:
        raise bad
    if _locked(user):
        raise FormError({"form": _("Too many failed attempts. Try again in 15 minutes.")})
    try:
        _hasher().verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
        if user.first_failed_at is None or utcnow() - user.first_failed_at > window:
            user.first_failed_at = utcnow()
            user.failed_logins = 0
        user.failed_logins += 1
        db.session.flush()
        raise bad from None
    if not user.active:
        raise FormError({"form": _("This account has been deactivated.")})
    user.failed_logins = 0
    user.first_failed_at = None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User, user_agent: str = "") -> str:
    """Create a fresh server-side session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token_hash=token_hash(token), user_id=user.id, user_agent=user_agent[:200]))
    db.session.flush()
    user.session_token = token
    return token


def end_session(token: str | None) -> None:
    """Forget one server-side session, so its cookie (and remember cookie) stop working."""
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def end_all_sessions(user: User) -> None:
    """Log a person out everywhere (deactivation, password change)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def create_invite(inviter: User | None, user: User) -> str:
    """A one-time link token for `user` to set a password; older invites stop working."""
    db.session.execute(delete(Invite).where(Invite.user_id == user.id, Invite.used_at.is_(None)))
    token = secrets.token_urlsafe(24)
    ttl = timedelta(days=current_app.config["INVITE_TTL_DAYS"])
    db.session.add(Invite(token_hash=token_hash(token), user_id=user.id,
                          invited_by_id=inviter.id if inviter else None, expires_at=utcnow() + ttl))
    db.session.flush()
    return token


def find_invite(token: str) -> Invite | None:
    """The open, unexpired invite for this token, if any."""
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == token_hash(token or "")))
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        return None
    if not invite.user.active:
        return None
    return invite


def accept_invite(invite: Invite, password: str) -> User:
    """Set the invited person's password and spend the invite."""
    set_password(invite.user, password)
    invite.used_at = utcnow()
    db.session.flush()
    return invite.user
