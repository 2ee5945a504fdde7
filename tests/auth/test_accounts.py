"""Account takeover and enumeration defects, without HTTP: invites only before a first password,
reset links that go only to the person, sessions ended by a new password, login that answers the
same for unknown addresses."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perfapp.audit.services import entries
from perfapp.auth import services
from perfapp.auth.models import Invite, LoginFailure, LoginSession, PasswordReset
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.people.accounts import force_reset, resend_invite
from tests.conftest import PASSWORD

RESET_LINK = re.compile(r"http://localhost/auth/reset/([\w-]+)")


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _fail(email: str, password: str = "wrong password") -> str:
    with pytest.raises(FormError) as info:
        services.authenticate(email, password)
    db.session.commit()
    return info.value.errors["form"]


# --- defect 5: login tells which emails have accounts --------------------------------------

def test_an_unknown_address_locks_exactly_like_a_known_one(make_user, app) -> None:
    user = make_user()
    limit = app.config["LOGIN_MAX_FAILURES"]
    known = [_fail(user.email) for _ in range(limit + 1)]
    unknown = [_fail("nobody@example.com") for _ in range(limit + 1)]
    assert known == unknown
    assert known[0] == "Wrong email or password." and "15" in known[-1]
    assert _fail(user.email, PASSWORD) == known[-1]  # locked: even the right password
    # Spelling variants are one address; what strangers typed is stored only as a hash.
    assert _fail("  NOBODY@example.com ") == known[-1]
    assert count(LoginFailure) == 2
    assert all("@" not in row.email_hash for row in db.session.scalars(select(LoginFailure)))


def test_the_window_passes_and_a_success_clears_the_count(make_user, app) -> None:
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _fail(user.email)
    for row in db.session.scalars(select(LoginFailure)):
        row.first_failed_at -= timedelta(minutes=16)
    db.session.commit()
    _fail(user.email)  # a new window: counts from 1 again
    assert db.session.scalars(select(LoginFailure)).one().failures == 1
    assert services.authenticate(user.email, PASSWORD) is user
    db.session.commit()
    assert count(LoginFailure) == 0


class _Spy:
    def __init__(self, hasher) -> None:  # type: ignore[no-untyped-def]
        self.hasher, self.verified = hasher, []

    def verify(self, hash_: str, password: str) -> bool:
        self.verified.append(hash_)
        return self.hasher.verify(hash_, password)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.hasher, name)


@pytest.fixture()
def spy(monkeypatch):  # type: ignore[no-untyped-def]
    real = services._hasher()
    spy = _Spy(real)
    monkeypatch.setattr(services, "_hasher", lambda: spy)
    return spy


def test_a_hash_is_checked_for_unknown_addresses_too(make_user, spy) -> None:
    """Not timed (tests never time): the same argon2 work happens whatever the address."""
    user = make_user()
    invited = make_user(email="invited@example.com")
    invited.password_hash = None
    db.session.commit()
    for email in ("nobody@example.com", "invited@example.com", user.email, ""):
        _fail(email)
    assert len(spy.verified) == 4 and all(h.startswith("$argon2id$") for h in spy.verified)
    assert spy.verified[0] == spy.verified[1] == spy.verified[3] != user.password_hash  # the dummy
    assert spy.verified[2] == user.password_hash


# --- defect 3: invite links only before a first password; resets go to the person -------------

def test_no_invite_for_someone_who_has_a_password(make_user) -> None:
    hr = make_user(role="hr")
    person = make_user(name="Has Password")
    with pytest.raises(FormError) as info:
        resend_invite(hr, person)
    assert "already has a password" in info.value.errors["form"]
    db.session.rollback()
    assert count(Invite) == 0


def test_an_old_invite_dies_once_the_person_has_a_password(make_user) -> None:
    """Links made before the fix (or before the person chose a password) stop working."""
    person = make_user()
    person.password_hash = None
    token = services.create_invite(None, person)
    db.session.commit()
    person.password_hash = services.hash_password("chosen elsewhere")
    db.session.commit()
    assert services.find_invite(token) is None


def test_accepting_an_invite_ends_every_other_session(make_user) -> None:
    person = make_user()
    person.password_hash = None
    token = services.create_invite(None, person)
    services.start_session(person)
    db.session.commit()
    services.accept_invite(services.find_invite(token), "a brand new password")
    db.session.commit()
    assert count(LoginSession, LoginSession.user_id == person.id) == 0
    [row] = entries(action="password.set")[0]
    assert row.entry.details == {"via": "invite"} and row.actor == person


def test_a_reset_request_mails_only_the_person(make_user, outbox) -> None:
    person = make_user(name="Lina", email="lina@example.com")
    services.request_reset("  LINA@example.com ")
    assert outbox == []  # not before the commit
    db.session.commit()
    [mail] = outbox
    assert mail.to == "lina@example.com" and "Lina" in mail.body
    token = RESET_LINK.search(mail.body).group(1)
    reset = services.find_reset(token)
    assert reset is not None and reset.user == person
    # Stored hashed: the token itself is nowhere in the table.
    assert token not in repr(db.session.execute(select(PasswordReset.__table__)).all())
    assert abs(reset.expires_at - reset.created_at - timedelta(hours=1)) < timedelta(seconds=5)
    [row] = entries(action="password.reset_requested")[0]
    assert (row.actor, row.subject) == (None, person)


def test_reset_requests_for_unknown_or_inactive_addresses_do_nothing(make_user, outbox) -> None:
    make_user(email="gone@example.com", active=False)
    for email in ("nobody@example.com", "gone@example.com", "", "x" * 500):
        services.request_reset(email)
    db.session.commit()
    assert outbox == [] and count(PasswordReset) == 0


def test_a_rolled_back_request_sends_nothing(make_user, outbox) -> None:
    make_user(email="lina@example.com")
    services.request_reset("lina@example.com")
    db.session.rollback()
    db.session.commit()
    assert outbox == []


def test_repeated_requests_send_one_mail_every_few_minutes(make_user, outbox) -> None:
    make_user(email="lina@example.com")
    for _ in range(3):
        services.request_reset("lina@example.com")
        db.session.commit()
    assert len(outbox) == 1
    db.session.scalars(select(PasswordReset)).one().created_at -= timedelta(minutes=3)
    db.session.commit()
    services.request_reset("lina@example.com")
    db.session.commit()
    assert len(outbox) == 2 and count(PasswordReset) == 1  # the older link stopped working


@pytest.mark.parametrize(("locale", "words"), [("zh_Hans_CN", "重置"), ("en", "reset")])
def test_the_mail_is_in_the_persons_language(make_user, outbox, locale, words) -> None:
    make_user(email="lina@example.com", locale=locale)
    services.request_reset("lina@example.com")
    db.session.commit()
    [mail] = outbox
    assert words in mail.subject + mail.body
    if locale.startswith("zh"):
        assert "Someone" not in mail.body


def _reset_token(person, outbox) -> str:  # type: ignore[no-untyped-def]
    services.request_reset(person.email)
    db.session.commit()
    return RESET_LINK.search(outbox[-1].body).group(1)


def test_completing_a_reset_ends_every_session_and_spends_the_link(make_user, outbox) -> None:
    person = make_user()
    other = make_user()
    for _ in range(2):
        services.start_session(person)
    services.start_session(other)
    token = _reset_token(person, outbox)
    services.complete_reset(services.find_reset(token), "my new password!")
    db.session.commit()
    assert count(LoginSession, LoginSession.user_id == person.id) == 0
    assert count(LoginSession, LoginSession.user_id == other.id) == 1
    assert services.find_reset(token) is None
    assert services.authenticate(person.email, "my new password!") is person
    assert _fail(person.email, PASSWORD) == "Wrong email or password."
    [row] = entries(action="password.set")[0]
    assert row.entry.details == {"via": "reset"}


@pytest.mark.parametrize("token", ["", "garbage", "x" * 500, "../../etc"])
def test_garbage_tokens_find_nothing(token) -> None:
    assert services.find_reset(token) is None


def test_expired_links_and_deactivated_people_find_nothing(make_user, outbox) -> None:
    person = make_user()
    token = _reset_token(person, outbox)
    db.session.scalars(select(PasswordReset)).one().expires_at -= timedelta(hours=2)
    db.session.commit()
    assert services.find_reset(token) is None
    db.session.scalars(select(PasswordReset)).one().created_at -= timedelta(hours=2)
    db.session.commit()
    token = _reset_token(person, outbox)
    person.active = False
    db.session.commit()
    assert services.find_reset(token) is None


def test_a_forced_reset_locks_the_old_password_and_mails_the_person(make_user, outbox) -> None:
    hr = make_user(role="hr")
    person = make_user(email="lina@example.com")
    services.start_session(person)
    db.session.commit()
    assert force_reset(hr, person) is None  # nothing for HR to pass on
    db.session.commit()
    assert person.must_reset_password and not person.can_be_invited
    assert count(LoginSession, LoginSession.user_id == person.id) == 0
    assert _fail(person.email, PASSWORD) == "Wrong email or password."
    [mail] = outbox
    assert mail.to == "lina@example.com" and "HR has reset" in mail.body
    # Still no invite link for them: the only way back in is the mailed link.
    with pytest.raises(FormError):
        resend_invite(hr, person)
    db.session.rollback()
    token = RESET_LINK.search(mail.body).group(1)
    services.complete_reset(services.find_reset(token), "back in business")
    db.session.commit()
    assert services.authenticate(person.email, "back in business") is person
    actions = [v.entry.action for v in entries()[0]]
    assert actions == ["password.set", "person.reset_forced"]


def test_who_may_force_a_reset(make_user, outbox) -> None:
    hr, boss = make_user(role="hr"), make_user(role="admin")
    employee = make_user()
    invited = make_user()
    invited.password_hash = None
    gone = make_user(active=False)
    db.session.commit()
    with pytest.raises(PermissionError):
        force_reset(employee, hr)
    with pytest.raises(PermissionError):
        force_reset(hr, boss)  # only admins touch HR and admin accounts
    for person in (invited, gone):
        with pytest.raises(FormError):
            force_reset(hr, person)
    db.session.rollback()
    assert outbox == [] and count(PasswordReset) == 0


def test_erasing_a_person_forgets_the_failures_counted_for_their_address(make_user) -> None:
    from perfapp.personal.erasure import erase_person

    admin_person = make_user(role="admin")
    person = make_user(name="Gone Soon", email="gone@example.com")
    _fail("gone@example.com")
    _fail("someone.else@example.com")
    erase_person(admin_person, person, "Gone Soon")
    db.session.commit()
    assert count(LoginFailure) == 1
