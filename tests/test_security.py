"""perfapp.core.security: who gets 302 and who gets 401 without a session; the headers served;
the __Host- cookies behind HTTPS."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.core.security import CSP, PERMISSIONS_POLICY
from perfapp.extensions import db
from tests.conftest import htmx_headers

NAVIGATE = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "none",
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PAGES = ("/", "/walls/", "/people/me", "/notify/", "/feedback/new", "/admin/")


# --- without a session: 302 for a page, 401 for everything else ------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_a_page_navigation_is_sent_to_log_in(client, path: str) -> None:
    for headers in (NAVIGATE, {}, {"Accept": "*/*"}):
        r = client.get(path, headers=headers)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"], (path, headers)


def test_the_page_comes_back_after_logging_in(client) -> None:
    r = client.get("/walls/?kind=praise", headers=NAVIGATE)
    assert r.headers["Location"] == "/auth/login?next=/walls/?kind%3Dpraise"


@pytest.mark.parametrize("path", PAGES)
def test_an_htmx_request_gets_401_and_hx_redirect(client, path: str) -> None:
    r = client.get(path, headers={**htmx_headers("main"), "HX-Current-URL": "http://localhost/walls/"})
    assert r.status_code == 401
    assert r.headers["HX-Redirect"] == "/auth/login?next=/walls/"
    assert "Location" not in r.headers and r.headers["Cache-Control"] == "no-store"


def test_htmx_redirect_never_points_off_site(client) -> None:
    r = client.get("/", headers={**htmx_headers("main"), "HX-Current-URL": "https://evil.example/x"})
    assert r.status_code == 401 and r.headers["HX-Redirect"] == "/auth/login"


@pytest.mark.parametrize("path", ["/notify/unread", "/feedback/1/voice", "/recognition/badge-images/x.png"])
def test_resources_get_401_whatever_the_browser_says(client, path: str) -> None:
    """Files and JSON are never pages: even a navigation to them gets 401, not the login page."""
    for headers in ({}, NAVIGATE, {"Accept": "*/*", "Sec-Fetch-Dest": "audio"}):
        r = client.get(path, headers=headers)
        assert r.status_code == 401 and "Location" not in r.headers, (path, headers)
        assert r.headers["Cache-Control"] == "no-store"


def test_a_script_asking_for_json_gets_json_401(client) -> None:
    r = client.get("/feedback/1", headers={"Accept": "application/json", "Sec-Fetch-Mode": "cors",
                                           "Sec-Fetch-Dest": "empty"})
    assert r.status_code == 401 and r.get_json() == {"error": "Please log in to continue."}


def test_the_401_message_is_translated(client) -> None:
    r = client.get("/notify/unread", headers={"Accept": "application/json", "Accept-Language": "zh-CN"})
    assert r.status_code == 401 and r.get_json()["error"] == "请先登录。"


@pytest.mark.parametrize("dest", ["audio", "video", "image", "script", "empty", "iframe", "style"])
def test_a_subresource_load_of_a_page_url_gets_401(client, dest: str) -> None:
    """<audio src="/"> or fetch("/") without a session: 401 (fetch metadata says it isn't a page)."""
    r = client.get("/", headers={"Sec-Fetch-Dest": dest, "Accept": "*/*"})
    assert r.status_code == 401 and "Location" not in r.headers


def test_fetch_without_navigation_gets_401(client) -> None:
    r = client.get("/walls/", headers={"Sec-Fetch-Mode": "cors", "Accept": "text/html"})
    assert r.status_code == 401


def test_push_subscribe_without_a_session_is_401(client) -> None:
    client.refresh_csrf()
    r = client.post("/notify/push/subscribe", json={"endpoint": "https://fcm.googleapis.com/x"},
                    headers={"X-CSRFToken": client.csrf, "Accept": "application/json",
                             "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"})
    assert r.status_code == 401 and r.get_json()["error"]


def test_a_plain_form_post_after_the_session_ended_goes_to_login(client) -> None:
    client.refresh_csrf()
    r = client.submit("/feedback/new", {"text": "hi"},
                      headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/login"


def test_logged_in_resources_still_work(make_user, login) -> None:
    c = login(make_user())
    r = c.get("/notify/unread", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.get_json()["count"] == 0


# --- headers ------------------------------------------------------------------------------------

def _assert_common(headers) -> None:  # type: ignore[no-untyped-def]
    csp = headers["Content-Security-Policy"]
    assert csp == CSP and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    for word in ("unsafe-inline", "unsafe-eval", "*"):
        assert word not in csp.replace("'self'", "")
    assert headers["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "microphone=(self)" in headers["Permissions-Policy"] and "camera=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http: never HSTS


def test_headers_on_pages_json_and_errors(make_user, login) -> None:
    c = login(make_user())
    page = c.get("/")
    _assert_common(page.headers)
    assert page.headers["Cache-Control"] == "no-cache, private"
    data = c.get("/notify/unread", headers={"Accept": "application/json"})
    _assert_common(data.headers)
    assert data.headers["Cache-Control"] == "no-store"
    missing = c.get("/nowhere")
    assert missing.status_code == 404
    _assert_common(missing.headers)
    login_page = c.get("/auth/login")
    _assert_common(login_page.headers)


def test_personal_json_is_no_store(make_user, login) -> None:
    from perfapp.extensions import db
    from perfapp.feedback.services import FeedbackInput, give_feedback

    author, recipient = make_user(), make_user()
    item = give_feedback(author, FeedbackInput(recipient_id=recipient.id, kind="praise", text="Well done",
                                               visibility="private"))
    db.session.commit()
    r = login(recipient).get(f"/feedback/{item.id}", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    _assert_common(r.headers)


@pytest.fixture()
def secure_app(app: Flask) -> Iterator[Flask]:
    """The app as deployed behind HTTPS (SESSION_COOKIE_SECURE=1), on the same database."""

    class SecureConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        SESSION_COOKIE_SECURE = True
        REMEMBER_COOKIE_SECURE = True

    secure = create_app(SecureConfig)
    yield secure
    with secure.app_context():
        db.engine.dispose()


def test_behind_https_hsts_and_host_prefixed_cookies(secure_app: Flask, make_user) -> None:
    import re

    email = make_user().email
    db.session.commit()  # end the test's transaction: the second app has its own engine
    c = secure_app.test_client()
    page = c.get("https://localhost/auth/login")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    r = c.post("https://localhost/auth/login", data={"csrf_token": token, "email": email,
                                                      "password": "correct horse battery", "remember": "1"},
               headers={"Referer": "https://localhost/auth/login"})
    assert r.status_code == 303
    cookies = r.headers.getlist("Set-Cookie")
    session_cookie = next(v for v in cookies if v.startswith("__Host-session="))
    for attribute in ("Secure", "Path=/", "HttpOnly", "SameSite=Lax"):
        assert attribute in session_cookie
    assert "Domain" not in session_cookie
    assert not any(v.startswith("session=") for v in cookies)
    remember = [v for v in cookies if v.startswith("__Host-remember=")]
    assert remember
    for cookie in remember:
        assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    # The session works under its new name.
    assert c.get("https://localhost/notify/unread").status_code == 200


# --- nothing inline for the CSP to refuse ---------------------------------------------------------

def _templates() -> list[tuple[str, str]]:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    comment = re.compile(r"{#.*?#}", re.S)  # comments may name what they avoid
    return [(str(p.relative_to(root)), comment.sub("", p.read_text())) for p in sorted(root.rglob("*.html"))]


def test_templates_hold_no_inline_script_style_or_handler() -> None:
    """Pages are cached per viewer (no per-request nonce), so the CSP admits no inline code:
    no style attribute, no <style>, no on*= handler, no inline or data <script> (htmx drops
    those from swapped pages), no javascript: URL, no hx-on (it needs eval)."""
    import re

    patterns = {
        "style attribute": re.compile(r"\sstyle\s*=", re.I),
        "<style>": re.compile(r"<style", re.I),
        "event handler": re.compile(r"\son[a-z]+\s*=", re.I),
        "inline script": re.compile(r"<script(?![^>]*\ssrc=)", re.I),
        "javascript: URL": re.compile(r"javascript:", re.I),
        "hx-on": re.compile(r"hx-on|hx-vals=['\"]js:|hx-vars", re.I),
    }
    found = [(name, kind) for name, source in _templates() for kind, pattern in patterns.items()
             if pattern.search(source)]
    assert not found, found


def test_htmx_is_configured_strictly(client) -> None:
    import json
    import re

    page = client.get("/auth/login").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1))  # type: ignore[union-attr]
    assert config["includeIndicatorStyles"] is False and config["selfRequestsOnly"] is True
    assert config["allowScriptTags"] is False and config["allowEval"] is False
    # Settling copies these attributes with setAttribute, which the CSP refuses for "style".
    assert "style" not in config["attributesToSettle"]


def test_user_content_is_rendered_inside_hx_disable(make_user, login) -> None:
    """Feedback text goes out escaped and inside hx-disable: even an hx- attribute that got
    through would do nothing."""
    from perfapp.feedback.services import FeedbackInput, give_feedback

    author, recipient = make_user(), make_user()
    text = '<b hx-get="/admin/" hx-trigger="load">x</b> {{7*7}}'
    give_feedback(author, FeedbackInput(recipient_id=recipient.id, kind="praise", text=text, visibility="public"))
    db.session.commit()
    page = login(recipient).get("/").get_data(as_text=True)
    assert '<p class="fb-text" hx-disable>&lt;b hx-get=' in page
    assert "<b hx-get" not in page and "{{7*7}}" in page


@pytest.mark.parametrize("path", ["/", "/walls/", "/walls/badges", "/people/me", "/feedback/new", "/notify/settings"])
def test_rendered_pages_have_no_style_attributes(make_user, login, path: str) -> None:
    import re

    page = login(make_user(role="hr")).get(path).get_data(as_text=True)
    assert not re.search(r"\sstyle\s*=|\son[a-z]+\s*=", page, re.I), path


def test_badge_colours_are_palette_classes(app) -> None:
    from perfapp.recognition.models import BADGE_COLOURS
    from perfapp.recognition.views import badge_colour

    assert [badge_colour(c) for c in BADGE_COLOURS] == [f"bc-{c[1:]}" for c in BADGE_COLOURS]
    assert badge_colour("#123456") == "" and badge_colour('"><x') == "" and badge_colour(None) == ""
    css = (app.static_folder + "/css/app.css")
    with open(css) as fh:
        sheet = fh.read()
    for colour in BADGE_COLOURS:
        assert f".bc-{colour[1:]} {{ --badge: {colour}; }}" in sheet


def test_an_unchanged_page_answers_304_and_a_changed_one_200(make_user, login) -> None:  # type: ignore[no-untyped-def]
    from perfapp.feedback.models import Feedback

    lina, emma = make_user(name="李娜"), make_user(name="Emma Wilson")
    client = login(lina)
    first = client.get("/")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    db.session.add(Feedback(author_id=emma.id, recipient_id=lina.id, kind="praise", visibility="public",
                            text="Thanks for the demo"))
    db.session.commit()
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Thanks for the demo" in changed.get_data(as_text=True)
    # Another person's copy is never theirs: the ETag is of the body, which names its viewer.
    assert login(emma).get("/", headers={"If-None-Match": etag}).status_code == 200


# --- cookie sessions, each cookie's signature checked once per worker --------------------------

@pytest.fixture()
def cookie_app() -> Flask:
    from datetime import timedelta

    from perfapp.core.security import VerifiedCookieSessions

    bare = Flask(__name__)
    bare.secret_key = "a secret long enough for the test " * 2
    bare.permanent_session_lifetime = timedelta(hours=1)
    bare.session_interface = VerifiedCookieSessions()
    return bare


def _cookie(app: Flask, data: dict, age: int = 0) -> str:  # type: ignore[type-arg]
    from unittest import mock

    from itsdangerous.timed import TimestampSigner

    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda _self: int(__import__("time").time()) - age):
        return str(signer.dumps(data))


def _opened(app: Flask, cookie: str) -> dict:  # type: ignore[type-arg]
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}) as ctx:
        return ctx.session  # type: ignore[return-value]


def test_a_kept_cookie_opens_as_a_copy_of_its_own(cookie_app: Flask) -> None:
    cookie = _cookie(cookie_app, {"_user_id": "token", "_flashes": [["info", "Saved"]]})
    first = _opened(cookie_app, cookie)
    assert first == {"_user_id": "token", "_flashes": [["info", "Saved"]]}
    first["_flashes"].append(["info", "Changed in place"])  # flash() appends to the list it finds
    first["_user_id"] = "another"
    assert _opened(cookie_app, cookie) == {"_user_id": "token", "_flashes": [["info", "Saved"]]}


def test_a_tampered_or_foreign_cookie_is_refused_after_the_real_one_was_kept(cookie_app: Flask) -> None:
    cookie = _cookie(cookie_app, {"_user_id": "token"})
    assert _opened(cookie_app, cookie) == {"_user_id": "token"}
    payload, _dot, rest = cookie.partition(".")
    forged = _cookie(cookie_app, {"_user_id": "someone else"}).partition(".")[0] + "." + rest
    assert _opened(cookie_app, forged) == {}
    assert _opened(cookie_app, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) == {}
    cookie_app.secret_key = "the secret was changed " * 3  # every cookie signed before is void
    assert _opened(cookie_app, cookie) == {}


def test_a_kept_cookie_still_expires(cookie_app: Flask) -> None:
    from datetime import timedelta

    cookie = _cookie(cookie_app, {"_user_id": "token"}, age=120)
    assert _opened(cookie_app, cookie) == {"_user_id": "token"}  # kept: two minutes old, an hour allowed
    cookie_app.permanent_session_lifetime = timedelta(seconds=60)
    assert _opened(cookie_app, cookie) == {}


def test_a_tampered_session_cookie_logs_out(make_user, login) -> None:
    c = login(make_user())
    assert c.get("/people/me").status_code == 200
    cookie = c.get_cookie("session")
    assert cookie is not None
    c.set_cookie("session", cookie.value[:-3] + ("xyz" if not cookie.value.endswith("xyz") else "abc"))
    assert c.get("/people/me").status_code == 302


def test_a_kept_session_is_found_by_the_whole_cookie_header(cookie_app: Flask) -> None:
    """Kept by the whole Cookie header: other cookies beside the session's make another entry,
    verified on its own, and a forged session cookie among the same others is still refused."""
    cookie = _cookie(cookie_app, {"_user_id": "token"})
    forged = _cookie(cookie_app, {"_user_id": "someone else"}).partition(".")[0] + "." + cookie.partition(".")[2]

    def opened(header: str) -> dict:  # type: ignore[type-arg]
        with cookie_app.test_request_context(headers={"Cookie": header}) as ctx:
            return dict(ctx.session)

    for _ in range(2):  # the second time from what was kept
        assert opened(f"session={cookie}") == {"_user_id": "token"}
        assert opened(f"lang=zh; session={cookie}") == {"_user_id": "token"}
        assert opened(f"session={forged}; lang=zh") == {}
        assert opened("lang=zh") == {}
