"""Login, logout, remember me, invitations over HTTP."""
from __future__ import annotations

from sqlalchemy import func, select

from perfapp.auth import services
from perfapp.auth.models import LoginSession
from perfapp.extensions import db
from tests.conftest import PASSWORD


def test_login_page_follows_browser_language(client) -> None:
    zh = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    en = client.get("/auth/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in zh and "登录" in zh
    assert 'lang="en"' in en and "Log in" in en


def test_login_rotates_the_session_and_logout_invalidates_it(make_user, client) -> None:
    user = make_user()
    client.refresh_csrf()
    before = client.get_cookie("session").value
    r = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 303
    after = client.get_cookie("session").value
    assert before != after
    stolen = after
    client.refresh_csrf("/")
    assert client.submit("/auth/logout").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    # Replaying the old cookie no longer logs anyone in.
    client.set_cookie("session", stolen)
    assert client.get("/").status_code == 302


def test_wrong_password_is_422_with_a_translated_message(make_user, client) -> None:
    user = make_user()
    client.refresh_csrf()
    r = client.submit("/auth/login", {"email": user.email, "password": "nope"},
                      headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422 and "邮箱或密码" in r.get_data(as_text=True)
    assert user.email in r.get_data(as_text=True)  # the email stays typed


def test_lockout_message_after_ten_failures(make_user, client) -> None:
    user = make_user()
    client.refresh_csrf()
    for _ in range(10):
        client.submit("/auth/login", {"email": user.email, "password": "nope"})
    r = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 422 and "15" in r.get_data(as_text=True)


def test_remember_me_sets_a_lasting_cookie(make_user, client) -> None:
    user = make_user()
    client.refresh_csrf()
    client.submit("/auth/login", {"email": user.email, "password": PASSWORD, "remember": "1"})
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.expires is not None
    # The session cookie gone (browser restarted), the remember cookie logs in again.
    client.delete_cookie("session")
    assert client.get("/").status_code == 200


def test_no_open_redirect_after_login(make_user, client) -> None:
    user = make_user()
    client.refresh_csrf()
    for target in ("https://evil.example/", "//evil.example/"):
        r = client.submit(f"/auth/login?next={target}", {"email": user.email, "password": PASSWORD})
        assert r.headers["Location"] == "/"
        client.refresh_csrf("/")
        client.submit("/auth/logout")
        client.refresh_csrf()


def test_deactivation_logs_out_existing_sessions(make_user, login) -> None:
    user = make_user()
    c = login(user)
    user.active = False
    db.session.commit()
    assert c.get("/").status_code == 302


def test_invite_link_sets_password_once(make_user, client) -> None:
    newbie = make_user(name="新同事")
    newbie.password_hash = None
    token = services.create_invite(None, newbie)
    db.session.commit()
    page = client.get(f"/auth/invite/{token}")
    assert page.status_code == 200 and "新同事" in page.get_data(as_text=True)
    client.refresh_csrf(f"/auth/invite/{token}")
    r = client.submit(f"/auth/invite/{token}", {"password": "long enough pw", "password2": "different"})
    assert r.status_code == 422
    r = client.submit(f"/auth/invite/{token}", {"password": "long enough pw", "password2": "long enough pw"})
    assert r.status_code == 303
    assert client.get("/").status_code == 200
    assert client.get(f"/auth/invite/{token}").status_code == 404
