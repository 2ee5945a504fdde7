"""Accounts: passwords, login throttling, server-side sessions, invitations, password resets."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from perfapp.audit.services import record
from perfapp.auth.models import Invite, LoginFailure, LoginSession, PasswordReset
from perfapp.auth.session import token_hash
from perfapp.core.db import utcnow
from perfapp.core.mail import Message, absolute_url, send_after_commit
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.people.models import DISABLED_PASSWORD, User

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


# --- logging in -----------------------------------------------------------------------
#
# Every answer must look the same whether or not the address has an account: the same message,
# the same locking (failures are counted per submitted address, see LoginFailure), and about
# the same time (a password is always checked against a hash, a dummy one if need be).

_dummy_hashes: dict[bool, str] = {}


def _dummy_hash() -> str:
    """A real hash of a random password, made with the current cost settings (once per process)."""
    fast = bool(current_app.config.get("PASSWORD_HASH_FAST"))
    if fast not in _dummy_hashes:
        _dummy_hashes[fast] = hash_password(secrets.token_urlsafe(16))
    return _dummy_hashes[fast]


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def _email_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def _window() -> timedelta:
    return timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])


def _locked(key: str) -> bool:
    row = db.session.get(LoginFailure, key)
    if row is None or utcnow() - row.first_failed_at > _window():
        return False
    return row.failures >= current_app.config["LOGIN_MAX_FAILURES"]


def forget_login_failures(email: str) -> None:
    """Drop the failure count kept for this address (a person's erasure: even hashed, it's theirs)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email_hash == _email_key(normalise_email(email))))


def _count_failure(key: str) -> None:
    """One more failure for this address, atomically (an upsert: two at once both count)."""
    now = utcnow()
    stale = LoginFailure.first_failed_at < now - _window()
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(LoginFailure).values(email_hash=key, failures=1, first_failed_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[LoginFailure.email_hash], set_={
        "failures": case((stale, 1), else_=LoginFailure.failures + 1),
        "first_failed_at": case((stale, now), else_=LoginFailure.first_failed_at),
    })
    db.session.execute(stmt)


def _password_matches(user: User | None, password: str) -> bool:
    """Verify against the person's hash, or a dummy one (unknown address, no or disabled password)."""
    stored = user.password_hash if user is not None else None
    usable = bool(stored) and stored != DISABLED_PASSWORD
    try:
        _hasher().verify(stored if stored and usable else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return usable


def authenticate(email: str, password: str) -> User:
    """Check a login; count failures per submitted address and refuse once over the limit."""
    email = normalise_email(email)
    key = _email_key(email)
    if _locked(key):
        raise FormError({"form": _("Too many failed attempts. Try again in 15 minutes.")})
    user = db.session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if not _password_matches(user, password or ""):
        _count_failure(key)
        db.session.flush()
        raise FormError({"form": _("Wrong email or password.")})
    assert user is not None and user.password_hash
    if not user.active:
        raise FormError({"form": _("This account has been deactivated.")})
    db.session.execute(delete(LoginFailure).where(LoginFailure.email_hash == key))
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
    """A one-time link token for `user` to choose a first password; older invites stop working.

    Only for someone who has never chosen a password: the link sets one without the old one,
    so for anyone else it would hand their account to whoever holds the link (HR).
    """
    if not user.can_be_invited:
        raise FormError({"form": _("%(name)s already has a password. Invite links are only for people "
                                   "who haven't chosen one; force a password reset instead.", name=user.name)})
    db.session.execute(delete(Invite).where(Invite.user_id == user.id, Invite.used_at.is_(None)))
    token = secrets.token_urlsafe(24)
    ttl = timedelta(days=current_app.config["INVITE_TTL_DAYS"])
    db.session.add(Invite(token_hash=token_hash(token), user_id=user.id,
                          invited_by_id=inviter.id if inviter else None, expires_at=utcnow() + ttl))
    db.session.flush()
    return token


def find_invite(token: str) -> Invite | None:
    """The open, unexpired invite for this token, if any (and only while its person has no password)."""
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == token_hash(token or "")))
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        return None
    if not invite.user.active or not invite.user.can_be_invited:
        return None
    return invite


def _password_from_link(link: Invite | PasswordReset, password: str, via: str) -> User:
    """Set the link's person's password, spend the link, end every session, audit it."""
    user = link.user
    set_password(user, password)
    link.used_at = utcnow()
    end_all_sessions(user)
    record("password.set", actor=user, subject=user, details={"via": via})
    db.session.flush()
    return user


def accept_invite(invite: Invite, password: str) -> User:
    """Set the invited person's first password, spend the invite, end any other session."""
    return _password_from_link(invite, password, "invite")


# --- password resets ------------------------------------------------------------------

RESEND_AFTER = timedelta(minutes=2)


def _reset_link(user: User, forced: bool) -> str:
    """A new reset token for the person (their older open links stop working); mailed after commit."""
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id,
                                                   PasswordReset.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    ttl = timedelta(minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"])
    db.session.add(PasswordReset(token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + ttl))
    db.session.flush()
    _mail_reset(user, absolute_url("auth.reset_password", token=token), forced)
    return token


def _mail_reset(user: User, link: str, forced: bool) -> None:
    locale = user.locale or (str(get_locale()) if has_request_context() and not forced else None)
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        minutes = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
        subject = _("Choose a new perfapp password")
        body = render_template("auth/mail/reset.txt", user=user, link=link, forced=forced, minutes=minutes)
    send_after_commit(Message(to=user.email, subject=subject, body=body))


def request_reset(email: str) -> None:
    """Mail a reset link to the address if an active person has it; say nothing either way.

    At most one mail per person every couple of minutes, so the form can't flood an inbox.
    """
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None or not user.active:
        return
    recent = db.session.scalar(select(PasswordReset.id).where(
        PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None),
        PasswordReset.created_at > utcnow() - RESEND_AFTER).limit(1))
    if recent is not None:
        return
    _reset_link(user, forced=False)
    record("password.reset_requested", actor=None, subject=user)


def force_reset(actor: User, user: User) -> None:
    """HR: the current password stops working, every session ends, a reset link goes to the person.

    HR never sees the link. (Permission checks are the caller's: people.accounts.force_reset.)
    """
    user.password_hash = DISABLED_PASSWORD
    end_all_sessions(user)
    _reset_link(user, forced=True)
    record("person.reset_forced", actor=actor, subject=user)


def find_reset(token: str) -> PasswordReset | None:
    """The open, unexpired reset for this token, if any."""
    if not token or len(token) > 100:
        return None
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.user.active:
        return None
    return reset


def complete_reset(reset: PasswordReset, password: str) -> User:
    """Set the new password, spend the link, end every session (remember-me ones too)."""
    user = _password_from_link(reset, password, "reset")
    # The person proved they read the mail: the address is theirs, its failure count can go.
    forget_login_failures(user.email)
    return user
