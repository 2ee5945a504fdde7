"""Forgot password, reset links, forced resets and invites over HTTP (with and without htmx),
login answers that don't tell which addresses have accounts."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from perfapp.audit.models import AuditEntry
from perfapp.auth import services
from perfapp.auth.models import Invite, LoginSession, PasswordReset
from perfapp.extensions import db
from perfapp.people.models import User
from tests.conftest import PASSWORD, htmx_headers

RESET_PATH = re.compile(r"http://localhost(/auth/reset/[\w-]+)")
NEW_PASSWORD = "a fresh password 42"


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# --- defect 5 over HTTP ---------------------------------------------------------------------

def test_unknown_and_known_addresses_get_the_same_answer(make_user, client) -> None:
    user = make_user(email="known@example.com")
    client.refresh_csrf()
    known = client.submit("/auth/login", {"email": user.email, "password": "not it"})
    unknown = client.submit("/auth/login", {"email": "other@example.com", "password": "not it"})
    assert known.status_code == unknown.status_code == 422
    assert text(known).replace("known@", "X@") == text(unknown).replace("other@", "X@")


def test_an_unknown_address_locks_over_http_too(client, app) -> None:
    client.refresh_csrf()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.submit("/auth/login", {"email": "ghost@example.com", "password": "x"})
    r = client.submit("/auth/login", {"email": "ghost@example.com", "password": "x"},
                      headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422 and "失败次数过多" in text(r)


# --- forgot password ---------------------------------------------------------------------

def test_the_login_page_links_to_forgot_password(client) -> None:
    assert 'href="/auth/forgot"' in text(client.get("/auth/login"))
    zh = text(client.get("/auth/forgot", headers={"Accept-Language": "zh-CN"}))
    assert "忘记密码" in zh and "Forgot" not in zh


@pytest.mark.parametrize("htmx", [False, True])
def test_forgot_answers_the_same_whether_or_not_the_address_exists(make_user, client, outbox, htmx) -> None:
    make_user(email="lina@example.com")
    client.refresh_csrf("/auth/forgot")
    headers = htmx_headers() if htmx else {}
    known = client.submit("/auth/forgot", {"email": "lina@example.com"}, headers=headers)
    unknown = client.submit("/auth/forgot", {"email": "nobody@example.com"}, headers=headers)
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/auth/forgot?sent=1"
    page = text(client.get("/auth/forgot?sent=1"))
    assert "If an account uses that address" in page and "nobody@" not in page
    assert [m.to for m in outbox] == ["lina@example.com"]
    assert count(PasswordReset) == 1


@pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "@"])
def test_forgot_with_a_bad_address_is_a_translated_422(client, outbox, email) -> None:
    client.refresh_csrf("/auth/forgot")
    r = client.submit("/auth/forgot", {"email": email}, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422 and "邮箱" in text(r)
    assert outbox == [] and count(PasswordReset) == 0


def test_forgot_without_csrf_is_refused(client, outbox, make_user) -> None:
    make_user(email="lina@example.com")
    r = client.submit("/auth/forgot", {"email": "lina@example.com"}, csrf=False)
    assert r.status_code == 400 and outbox == []


# --- the reset link -------------------------------------------------------------------------

def _reset_path(client, outbox, email: str) -> str:  # type: ignore[no-untyped-def]
    client.refresh_csrf("/auth/forgot")
    client.submit("/auth/forgot", {"email": email})
    return RESET_PATH.search(outbox[-1].body).group(1)


def test_a_reset_ends_every_other_session_including_remember_me(make_user, app, login, outbox) -> None:
    """Defect 4: the phone left logged in (and the browser remembered) are logged out."""
    person = make_user(email="lina@example.com")
    phone = login(person)
    remembered = app.test_client()
    remembered.refresh_csrf()
    remembered.submit("/auth/login", {"email": person.email, "password": PASSWORD, "remember": "1"})
    remembered.delete_cookie("session")  # only the remember-me cookie left
    assert phone.get("/").status_code == 200 and remembered.get("/").status_code == 200

    browser = app.test_client()
    path = _reset_path(browser, outbox, "lina@example.com")
    page = browser.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    browser.refresh_csrf(path)
    r = browser.submit(path, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert browser.get("/").status_code == 200  # logged in here, with a new session
    assert phone.get("/").status_code == 302
    assert remembered.get("/").status_code == 302
    assert count(LoginSession, LoginSession.user_id == person.id) == 1
    # Used once: the same link again is a translated 404 that changes nothing.
    again = browser.get(path, headers={"Accept-Language": "zh-CN"})
    assert again.status_code == 404 and "链接" in text(again)


@pytest.mark.parametrize(("form", "field"), [
    ({"password": NEW_PASSWORD, "password2": "something else"}, "match"),
    ({"password": "short", "password2": "short"}, "8"),
    ({"password": "x" * 201, "password2": "x" * 201}, "too long"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_new_passwords_change_nothing(make_user, client, login, outbox, form, field, htmx) -> None:
    person = make_user(email="lina@example.com")
    elsewhere = login(person)
    path = _reset_path(client, outbox, "lina@example.com")
    client.refresh_csrf(path)
    r = client.submit(path, form, headers=htmx_headers() if htmx else {})
    assert r.status_code == 422 and field in text(r)
    db.session.expire_all()
    assert services.authenticate(person.email, PASSWORD).id == person.id
    assert elsewhere.get("/").status_code == 200
    assert client.get(path).status_code == 200  # the link still works


@pytest.mark.parametrize("token", ["garbage", "x" * 300, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_garbage_links_are_a_translated_404(client, token) -> None:
    r = client.get(f"/auth/reset/{token}", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 404 and "此链接已失效" in text(r)
    client.refresh_csrf()
    r = client.submit(f"/auth/reset/{token}", {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert r.status_code == 404 and "no longer works" in text(r)


def test_an_expired_link_is_a_404_and_changes_nothing(make_user, client, outbox) -> None:
    from datetime import timedelta

    person = make_user(email="lina@example.com")
    path = _reset_path(client, outbox, "lina@example.com")
    db.session.scalars(select(PasswordReset)).one().expires_at -= timedelta(hours=2)
    db.session.commit()
    client.refresh_csrf()
    r = client.submit(path, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert r.status_code == 404
    db.session.expire_all()
    assert services.authenticate(person.email, PASSWORD).id == person.id


def test_reset_links_are_built_from_public_url_not_the_host_header(make_user, outbox, app, monkeypatch) -> None:
    """A request with a forged Host must not send the victim a link to the forger's host."""
    make_user(email="lina@example.com")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://perfapp.example.com")
    with app.test_request_context("/auth/forgot", method="POST", headers={"Host": "evil.example"}):
        services.request_reset("lina@example.com")
        db.session.commit()
    [mail] = outbox
    assert "https://perfapp.example.com/auth/reset/" in mail.body and "evil.example" not in mail.body


def test_smtp_without_public_url_refuses_to_start() -> None:
    from perfapp import create_app
    from perfapp.config import TestConfig

    class Smtp(TestConfig):
        MAIL_SENDER = "smtp"
        SMTP_URL = "smtp://mail.example.com:587"

    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        create_app(Smtp)


# --- defect 3: HR and admins can't take over accounts ---------------------------------------------

@pytest.fixture()
def hr(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="Hannah HR", role="hr")


@pytest.mark.parametrize("htmx", [False, True])
def test_hr_gets_no_invite_link_for_someone_with_a_password(make_user, hr, login, htmx) -> None:
    person = make_user(name="Lina", email="lina@example.com")
    c = login(hr)
    page = text(c.get(f"/admin/people/{person.id}"))
    assert "New invite link" not in page and "Force a password reset" in page
    r = c.submit(f"/admin/people/{person.id}/invite", htmx=htmx, target="person-account",
                 headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422 and "/auth/invite/" not in text(r) and "已有密码" in text(r)
    assert count(Invite) == 0
    assert "/auth/invite/" not in text(c.get(f"/admin/people/{person.id}"))


def test_an_invite_is_still_offered_to_someone_who_never_chose_a_password(make_user, hr, login) -> None:
    person = make_user(name="Newbie")
    person.password_hash = None
    db.session.commit()
    c = login(hr)
    page = text(c.get(f"/admin/people/{person.id}"))
    assert "New invite link" in page and "Force a password reset" not in page
    r = c.submit(f"/admin/people/{person.id}/invite", htmx=True, target="person-account")
    assert r.status_code == 200 and "/auth/invite/" in text(r)


@pytest.mark.parametrize("htmx", [False, True])
def test_hr_forces_a_reset_and_never_sees_the_link(make_user, hr, login, outbox, htmx) -> None:
    person = make_user(name="Lina", email="lina@example.com")
    theirs = login(person)
    c = login(hr)
    r = c.submit(f"/admin/people/{person.id}/reset", htmx=htmx, target="person-account")
    if htmx:
        assert r.status_code == 200 and 'id="person-account"' in text(r) and "<html" not in text(r)
        shown = text(r)
    else:
        assert r.status_code == 303
        shown = text(c.get(r.headers["Location"]))
    assert "emailed them a link" in shown or "must choose a new password" in shown
    assert "/auth/reset/" not in shown and "/auth/invite/" not in shown
    assert theirs.get("/").status_code == 302  # logged out everywhere
    [mail] = outbox
    assert mail.to == "lina@example.com"
    # HR can't log in as them with the old password, nor with any link HR could get.
    hr_tries = c.application.test_client()
    hr_tries.refresh_csrf()
    assert hr_tries.submit("/auth/login", {"email": person.email, "password": PASSWORD}).status_code == 422
    assert c.submit(f"/admin/people/{person.id}/invite").status_code == 422
    assert count(Invite) == 0
    db.session.expire_all()
    actions = list(db.session.scalars(select(AuditEntry.action)))
    assert "person.reset_forced" in actions


@pytest.mark.parametrize("who", ["employee", "manager"])
def test_only_hr_forces_resets(make_user, login, outbox, who) -> None:
    boss = make_user()
    target = make_user(manager=boss)
    actor = make_user() if who == "employee" else boss
    c = login(actor)
    assert c.submit(f"/admin/people/{target.id}/reset").status_code == 403
    assert c.submit(f"/admin/people/{target.id}/reset", htmx=True, target="person-account").status_code == 403
    db.session.expire_all()
    assert outbox == [] and services.authenticate(target.email, PASSWORD).id == target.id
    assert count(AuditEntry, AuditEntry.action == "access.denied") == 2


def test_hr_cannot_force_an_admins_reset(make_user, hr, login, outbox) -> None:
    admin = make_user(role="admin")
    c = login(hr)
    assert c.submit(f"/admin/people/{admin.id}/reset").status_code == 403
    assert outbox == []
    assert "Force a password reset" not in text(c.get(f"/admin/people/{admin.id}"))


def test_forcing_a_reset_of_a_deactivated_person_is_a_422(make_user, hr, login, outbox) -> None:
    gone = make_user(name="Gone", active=False)
    c = login(hr)
    r = c.submit(f"/admin/people/{gone.id}/reset", htmx=True, target="person-account")
    assert r.status_code == 422 and "Reactivate Gone first." in text(r)
    assert outbox == [] and db.session.get(User, gone.id).password_hash != "!reset-forced"


def test_accepting_an_invite_ends_other_sessions(make_user, app, login) -> None:
    """Defect 4 for invites: a session started before the first password (e.g. by an old
    takeover) doesn't survive it."""
    person = make_user()
    stale = login(person)
    person.password_hash = None
    token = services.create_invite(None, person)
    db.session.commit()
    c = app.test_client()
    c.refresh_csrf(f"/auth/invite/{token}")
    r = c.submit(f"/auth/invite/{token}", {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert r.status_code == 303 and c.get("/").status_code == 200
    assert stale.get("/").status_code == 302
