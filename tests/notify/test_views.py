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
    assert unread_badge(inbox) is None  # opening the inbox reads it
    assert unread_badge(c.get("/").get_data(as_text=True)) is None
    assert services.unread_count(me) == 0


def test_inbox_is_personal(make_user, login) -> None:
    me, lina, other = make_user(), make_user(name="李娜"), make_user(name="张敏")
    give_feedback(lina, FeedbackInput(recipient_id=me.id, text="only for me", kind="suggestion",
                                      visibility="private"))
    db.session.commit()
    assert "only for me" not in login(other).get("/notify/").get_data(as_text=True)
    assert services.unread_count(other) == 0
