"""Rate limits (perfapp.core.ratelimit): over the limit → 429 with Retry-After and a translated
message (JSON, htmx toast or page), and the view never runs: nothing is written.

TestConfig turns limits off; the `limits` fixture turns them on with small values and empties
the counters before and after each test."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from perfapp.extensions import db, limiter
from perfapp.feedback.models import Feedback
from tests.conftest import PASSWORD, htmx_headers

JSON = {"Accept": "application/json"}


@pytest.fixture()
def limits(app: Flask) -> Iterator[Callable[..., None]]:
    saved = dict(app.config)

    def set_limits(**values: str) -> None:
        for name, value in values.items():
            app.config[f"RATELIMIT_{name.upper()}"] = value

    app.config["RATELIMIT_ENABLED"] = True
    limiter.reset()
    yield set_limits
    limiter.reset()
    app.config.clear()
    app.config.update(saved)


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _assert_429(r: Any) -> int:
    assert r.status_code == 429
    seconds = int(r.headers["Retry-After"])
    assert seconds >= 1
    assert r.headers["Cache-Control"] == "no-store"
    return seconds


# --- login ------------------------------------------------------------------------------------

def _login(client: Any, email: str, password: str = "wrong password", address: str = "10.0.0.1") -> Any:
    client.refresh_csrf()
    return client.submit("/auth/login", {"email": email, "password": password},
                         environ_base={"REMOTE_ADDR": address})


def test_login_is_limited_per_account_from_any_address(limits, make_user, client) -> None:
    limits(login_account="3 per 15 minutes", login_address="100 per 15 minutes")
    person = make_user()
    for n in range(3):
        assert _login(client, person.email, address=f"10.0.0.{n}").status_code == 422
    # A fourth try from yet another address, with the right password and the email spelt
    # differently: refused before the password is even looked at, and nobody is logged in.
    r = _login(client, "  " + person.email.upper(), PASSWORD, address="10.0.9.9")
    seconds = _assert_429(r)
    assert 1 <= seconds <= 15 * 60
    assert "Too many requests. Please try again in" in r.get_data(as_text=True)
    assert client.get("/notify/unread", headers=JSON).status_code == 401
    # Another account is not affected.
    assert _login(client, make_user().email, PASSWORD).status_code == 303


def test_login_is_limited_per_address(limits, make_user, client) -> None:
    limits(login_account="100 per 15 minutes", login_address="3 per 15 minutes")
    for n in range(3):
        assert _login(client, f"nobody{n}@example.com").status_code == 422
    _assert_429(_login(client, "nobody9@example.com"))
    # Someone at another address logs in.
    assert _login(client, make_user().email, PASSWORD, address="10.0.0.2").status_code == 303


def test_password_reset_requests_are_limited_per_account_and_address(limits, make_user, client) -> None:
    from perfapp.auth.models import PasswordReset

    limits(reset_account="2 per hour", reset_address="3 per hour")
    person = make_user()
    client.refresh_csrf("/auth/forgot")
    for n in range(2):
        r = client.submit("/auth/forgot", {"email": person.email}, environ_base={"REMOTE_ADDR": f"10.1.0.{n}"})
        assert r.status_code == 303
    made = count(PasswordReset)
    r = client.submit("/auth/forgot", {"email": person.email.upper()}, environ_base={"REMOTE_ADDR": "10.1.0.9"})
    _assert_429(r)
    assert count(PasswordReset) == made  # no third link made (nor mailed)
    # Per address: a third and a fourth account from one address.
    assert client.submit("/auth/forgot", {"email": "x1@example.com"}, environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 303
    assert client.submit("/auth/forgot", {"email": "x2@example.com"}, environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 303
    assert client.submit("/auth/forgot", {"email": "x3@example.com"}, environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 303
    _assert_429(client.submit("/auth/forgot", {"email": "x4@example.com"}, environ_base={"REMOTE_ADDR": "10.2.0.1"}))


def test_the_login_page_itself_is_not_limited(limits, client) -> None:
    limits(login_account="1 per 15 minutes", login_address="1 per 15 minutes")
    for _ in range(5):
        assert client.get("/auth/login").status_code == 200


def test_429_is_translated(limits, make_user, client) -> None:
    limits(login_address="1 per 15 minutes")
    _login(client, "a@example.com")
    client.refresh_csrf()
    r = client.submit("/auth/login", {"email": "a@example.com", "password": "x"},
                      environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"Accept-Language": "zh-CN"})
    _assert_429(r)
    page = r.get_data(as_text=True)
    assert "请求太频繁" in page and "Too many" not in page


# --- writes, per person -----------------------------------------------------------------------

def _feedback(c: Any, recipient: Any, **kw: Any) -> Any:
    return c.submit("/feedback/new", {"recipient_id": recipient.id, "text": "Thanks for the checklist",
                                      "kind": "praise", "visibility": "public"}, **kw)


def test_feedback_over_the_limit_is_429_and_not_saved(limits, make_user, login) -> None:
    limits(feedback="2 per minute")
    author, recipient = make_user(), make_user()
    c = login(author)
    assert _feedback(c, recipient).status_code == 303
    assert _feedback(c, recipient).status_code == 303
    # Page, htmx and JSON senders are all refused, each in its own form.
    page = _feedback(c, recipient)
    _assert_429(page)
    assert "<html" in page.get_data(as_text=True)
    fragment = _feedback(c, recipient, htmx=True, target="compose")
    _assert_429(fragment)
    body = fragment.get_data(as_text=True)
    assert 'class="toast toast-error"' in body and 'data-status="429"' in body and "<html" not in body
    data = _feedback(c, recipient, headers=JSON)
    _assert_429(data)
    assert data.get_json()["error"].startswith("Too many requests.")
    assert count(Feedback) == 2
    # The compose sheet still opens (GETs are not limited), and another person may still give.
    assert c.get("/feedback/new").status_code == 200
    assert _feedback(login(make_user()), recipient).status_code == 303
    assert count(Feedback) == 3


def test_reading_a_limited_form_spends_no_budget(limits, make_user, login) -> None:
    """Limits count writes only: opening the compose page again and again (a GET of a limited
    route, which the limiter skips) leaves the whole budget for sending."""
    limits(feedback="2 per minute")
    recipient = make_user()
    c = login(make_user())
    for _ in range(5):
        assert c.get("/feedback/new").status_code == 200
    assert _feedback(c, recipient).status_code == 303
    assert _feedback(c, recipient).status_code == 303
    _assert_429(_feedback(c, recipient))


def test_flowers_over_the_limit_are_429_and_not_given(limits, make_user, login) -> None:
    from perfapp.recognition.models import FlowerGift

    limits(flowers="1 per minute")
    giver, receiver = make_user(), make_user()
    c = login(giver)
    data = {"receiver_id": receiver.id, "count": 1, "message": "Thanks!"}
    assert c.submit("/recognition/flowers", data).status_code == 303
    _assert_429(c.submit("/recognition/flowers", data, htmx=True, target="flower-form"))
    assert count(FlowerGift) == 1


@pytest.mark.parametrize(("setting", "path", "data"), [
    ("comments", "/reactions/feedback/{id}/comments", {"text": "Agreed"}),
    ("reactions", "/reactions/feedback/{id}/react", {"on": "👍"}),
    ("reports", "/moderation/report/feedback/{id}", {"reason": "Not appropriate here"}),
    ("badges", "/recognition/award", {"receiver_id": "0", "badge_id": "0"}),
])
def test_other_writes_are_limited_per_person(limits, make_user, login, setting: str, path: str,
                                             data: dict) -> None:
    from perfapp.feedback.services import FeedbackInput, give_feedback
    from perfapp.moderation.models import Report
    from perfapp.reactions.models import Comment, Reaction

    limits(**{setting: "2 per minute"})
    author, reader = make_user(), make_user()
    item = give_feedback(author, FeedbackInput(recipient_id=reader.id, kind="praise", text="Good", visibility="public"))
    db.session.commit()
    c = login(reader)
    url = path.format(id=item.id)
    before = (count(Comment), count(Reaction), count(Report))
    first = c.submit(url, data, htmx=True)
    assert first.status_code != 429
    c.submit(url, data, htmx=True)
    after_two = (count(Comment), count(Reaction), count(Report))
    _assert_429(c.submit(url, data, htmx=True))
    assert (count(Comment), count(Reaction), count(Report)) == after_two
    assert after_two >= before
    # Someone else is not affected by this person's budget.
    assert login(author).submit(url, data, htmx=True).status_code != 429


def test_push_subscribe_is_limited_with_json(limits, make_user, login) -> None:
    limits(push="1 per hour")
    c = login(make_user())
    headers = {**JSON, "X-CSRFToken": c.csrf}
    c.post("/notify/push/subscribe", json={"endpoint": "nope"}, headers=headers)
    r = c.post("/notify/push/subscribe", json={"endpoint": "nope"}, headers=headers)
    _assert_429(r)
    assert r.get_json()["error"]


def test_inbound_email_is_limited_per_address(limits, app, client) -> None:
    limits(inbound="2 per minute")
    app.config["INBOUND_EMAIL_SECRET"] = "limit-secret"
    for _ in range(2):
        r = client.post("/integrations/inbound/email", data=b"x", content_type="message/rfc822")
        assert r.status_code == 401  # unsigned
    r = client.post("/integrations/inbound/email", data=b"x", content_type="message/rfc822")
    _assert_429(r)
    assert r.get_json()["error"]
    other = client.post("/integrations/inbound/email", data=b"x", content_type="message/rfc822",
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 401


def test_limits_are_off_in_the_test_configuration(make_user, client) -> None:
    """TestConfig: the rest of the suite logs in and writes freely."""
    for _ in range(15):
        assert _login(client, "someone@example.com").status_code == 422


def test_htmx_429_carries_a_toast(limits, make_user, login) -> None:
    limits(reactions="1 per minute")
    from perfapp.feedback.services import FeedbackInput, give_feedback

    author, reader = make_user(), make_user()
    item = give_feedback(author, FeedbackInput(recipient_id=reader.id, kind="praise", text="Good", visibility="public"))
    db.session.commit()
    c = login(reader)
    c.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}, htmx=True)
    r = c.post(f"/reactions/feedback/{item.id}/react", data={"on": "🎉", "csrf_token": c.csrf},
               headers={**htmx_headers(f"rx-feedback-{item.id}"), "Accept-Language": "zh-CN"})
    _assert_429(r)
    assert "请求太频繁" in r.get_data(as_text=True)


def test_memory_storage_counts_from_many_threads_without_failing() -> None:
    """limits' memory storage replaces its expiry timer unlocked: two threads counting at once
    could both start the second timer ("threads can only be started once", a 500 on the login
    form). Forced here: storing the new timer is slow, so the second thread replaces it before
    the first starts it."""
    from limits.storage import storage_from_string

    from perfapp.core.ratelimit import ThreadSafeMemoryStorage

    assert isinstance(storage_from_string("memory://"), ThreadSafeMemoryStorage)

    class SlowToStore(ThreadSafeMemoryStorage):
        STORAGE_SCHEME = None  # not registered: this test's own

        @property
        def timer(self) -> threading.Timer:
            return self._timer

        @timer.setter
        def timer(self, value: threading.Timer) -> None:
            self._timer = value
            time.sleep(0.05)

    storage = SlowToStore()
    storage.timer.join()  # the first timer has run out: the next count schedules a new one
    failures: list[BaseException] = []

    def count(key: str) -> None:
        try:
            storage.incr(key, 60)
        except RuntimeError as e:
            failures.append(e)

    threads = [threading.Thread(target=count, args=(f"k{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    for thread in threads:
        thread.join()
    assert failures == []
    assert storage.get("k0") == storage.get("k1") == 1
