"""The praise wall found again (perfapp.core.pages, a part joined into the page kept around it) is
the page Chromium shows the first time: sent gzipped from pieces compressed once each, decoded by
the browser like any page, with the viewer's own reaction still theirs after a reload."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from perfapp.core import pages
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback

LANGS = ["zh", "en"]


@pytest.mark.parametrize("lang", LANGS)
def test_the_praise_wall_found_again_is_the_same_page(phone, org, lang, shot, log_in, in_app) -> None:  # type: ignore[no-untyped-def]
    def praise() -> None:
        for author, recipient, text in ((org.lina, org.emma, "Thanks for the calm release" if lang == "en"
                                         else "谢谢你让发布这么顺利"),
                                        (org.emma, org.lina, "Great launch" if lang == "en" else "发布会很精彩")):
            db.session.add(Feedback(author_id=author.id, recipient_id=recipient.id, kind="praise",
                                    visibility="public", text=text, created_at=utcnow()))
        db.session.commit()

    in_app(praise)
    page = phone(lang).page
    log_in(page, org.emma)
    page.goto("/walls/")
    cards = page.locator("#feed article.card")
    expect(cards.first).to_be_visible()
    count, first = cards.count(), page.locator("#feed").inner_html()
    assert count > 0

    found = pages.stats["found by its changes"]
    page.reload()  # the page around the wall is kept: joined, not rendered (the server runs in this process)
    assert pages.stats["found by its changes"] > found
    expect(cards).to_have_count(count)
    assert page.locator("#feed").inner_html() == first

    like = cards.first.locator("button.rx-like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(cards.first.locator("button.rx-like")).to_have_attribute("aria-pressed", "true")
    page.reload()
    page.reload()  # the second time surely from the kept page around the wall and the shared rows
    expect(cards.first.locator("button.rx-like")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".wall-actions")).to_be_visible()
    shot(page, "praise-wall-found-again", lang)
