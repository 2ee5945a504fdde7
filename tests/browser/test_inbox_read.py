"""Opening the inbox reads it without its GET writing: the page posts back the newest entry it
showed once it has loaded (htmx, with the page's CSRF header), and the Home tab's count goes."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.notify.services import unread_count
from perfapp.people.models import User
from tests.browser.test_journeys import tap_tab

SHOTS = Path("/tmp/shots-layout")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_opening_the_inbox_reads_it(phone, org, lang, log_in, in_app) -> None:
    def give() -> None:
        emma, lina = db.session.get(User, org.emma.id), db.session.get(User, org.lina.id)
        give_feedback(emma, FeedbackInput(recipient_id=lina.id, text="Thanks for the review"))
        db.session.commit()

    in_app(give)
    page = phone(lang).page
    log_in(page, org.lina)
    expect(page.locator("nav.tabbar #unread")).to_have_text("1")
    with page.expect_response("**/notify/read") as read:
        page.locator("nav.segmented a[href='/notify/']").click()
    assert read.value.status == 204
    expect(page.locator(".inbox-entry.unread")).to_have_count(1)  # what is new stays marked on this page
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"inbox-{lang}.png"))
    assert in_app(lambda: unread_count(db.session.get(User, org.lina.id))) == 0
    tap_tab(page, "home")
    expect(page.locator("nav.tabbar #unread")).to_be_hidden()
