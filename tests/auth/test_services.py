"""Accounts without HTTP: passwords, throttling, sessions, invitations."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perfapp.auth import services
from perfapp.auth.models import LoginFailure, LoginSession
from perfapp.core.validation import FormError
from perfapp.extensions import db
from tests.conftest import PASSWORD


def test_passwords_are_argon2(make_user) -> None:
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert services.authenticate(user.email.upper(), PASSWORD).id == user.id


def test_wrong_password_and_unknown_email_look_the_same(make_user) -> None:
    user = make_user()
    messages = set()
    for email, pw in ((user.email, "nope"), ("nobody@example.com", PASSWORD)):
        with pytest.raises(FormError) as info:
            services.authenticate(email, pw)
        messages.add(info.value.errors["form"])
    assert len(messages) == 1


def test_ten_failures_in_15_minutes_lock_the_account(make_user, app) -> None:
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        with pytest.raises(FormError):
            services.authenticate(user.email, "wrong")
    db.session.commit()
    with pytest.raises(FormError) as info:
        services.authenticate(user.email, PASSWORD)  # even the right password
    assert "15" in info.value.errors["form"]
    for row in db.session.scalars(select(LoginFailure)):
        row.first_failed_at -= timedelta(minutes=16)
    db.session.commit()
    assert services.authenticate(user.email, PASSWORD).id == user.id
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0  # success clears it


def test_deactivated_people_cannot_log_in(make_user) -> None:
    user = make_user(active=False)
    with pytest.raises(FormError):
        services.authenticate(user.email, PASSWORD)


def test_sessions_end_one_or_all(make_user) -> None:
    user = make_user()
    t1 = services.start_session(user)
    services.start_session(user)
    services.end_session(t1)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1
    services.end_all_sessions(user)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_invite_is_one_time(make_user) -> None:
    admin = make_user(role="admin")
    newbie = make_user(password_hash=None)
    newbie.password_hash = None
    token = services.create_invite(admin, newbie)
    db.session.commit()
    invite = services.find_invite(token)
    assert invite is not None
    with pytest.raises(FormError):
        services.accept_invite(invite, "short")
    services.accept_invite(invite, "a long enough password")
    db.session.commit()
    assert services.find_invite(token) is None
    assert services.authenticate(newbie.email, "a long enough password").id == newbie.id


def test_a_new_invite_replaces_the_old_and_expiry_counts(make_user) -> None:
    user = make_user()
    user.password_hash = None
    old = services.create_invite(None, user)
    new = services.create_invite(None, user)
    db.session.commit()
    assert services.find_invite(old) is None
    invite = services.find_invite(new)
    invite.expires_at -= timedelta(days=30)
    db.session.commit()
    assert services.find_invite(new) is None
