"""The in-app inbox and the unread count in the tab bar."""
from __future__ import annotations

import re

from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback, request_feedback
from perfapp.notify import services


def unread_badge(html: str) -> str | None:
    match = re.search(r'<span id="unread" class="badge"( hidden)?[^>]*>([^<]*)</span>', html)
    assert match
    return None if match.group(1) else match.group(2)


def test_unread_count_and_reading_the_inbox(make_user, login) -> None:
    me, lina = make_user(), make_user(name="李娜")
    for i in range(3):
        give_feedback(lina, FeedbackInput(recipient_id=me.id, text=f"note {i}"))
    request_feedback(lina, [me.id], "my slides")
    db.session.commit()
    c = login(me)
    assert unread_badge(c.get("/").get_data(as_text=True)) == "4"
    inbox = c.get("/notify/").get_data(as_text=True)
    assert inbox.count('class="inbox-entry unread"') == 4 and "my slides" in inbox
    assert unread_badge(inbox) is None  # the page it shows is read
    assert services.unread_count(me) == 4  # but a GET writes nothing: the page posts back what it showed
    upto = re.search(r'hx-post="/notify/read" hx-vals=\'\{"upto": "(\d+)"\}\' hx-trigger="load"', inbox)
    assert upto is not None
    give_feedback(lina, FeedbackInput(recipient_id=me.id, text="arrived meanwhile"))
    db.session.commit()
    assert c.submit("/notify/read", {"upto": upto.group(1)}, htmx=True).status_code == 204
    assert services.unread_count(me) == 1  # not the one the page never showed
    assert unread_badge(c.get("/").get_data(as_text=True)) == "1"
    assert "hx-post=\"/notify/read\"" in c.get("/notify/").get_data(as_text=True)
    c.submit("/notify/read", {}, htmx=True)
    assert services.unread_count(me) == 0
    assert "/notify/read" not in c.get("/notify/").get_data(as_text=True)  # nothing left to read


def test_reading_the_inbox_needs_a_login_and_the_csrf_token(make_user, login, client) -> None:
    me, lina = make_user(), make_user(name="李娜")
    give_feedback(lina, FeedbackInput(recipient_id=me.id, text="note"))
    db.session.commit()
    assert client.post("/notify/read").status_code in (302, 400, 401)
    assert login(me).submit("/notify/read", {}, csrf=False).status_code == 400
    assert services.unread_count(me) == 1


def test_inbox_is_personal(make_user, login) -> None:
    me, lina, other = make_user(), make_user(name="李娜"), make_user(name="张敏")
    give_feedback(lina, FeedbackInput(recipient_id=me.id, text="only for me", kind="suggestion",
                                      visibility="private"))
    db.session.commit()
    assert "only for me" not in login(other).get("/notify/").get_data(as_text=True)
    assert services.unread_count(other) == 0
