"""Back controls and the highlighted tab, on a phone, in Chinese and English: from a tab into
deeper pages and back out the way one came (an installed app has no browser back button)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.recognition.models import Badge, BadgeAward

LANGS = ["zh", "en"]
SHOTS = Path("/tmp/shots/firstrun")
HOME_URL = re.compile(r"://[^/]+/$")  # Home itself; r"/$" would match /walls/ too


def snap(page: Page, name: str, lang: str, shot) -> None:  # type: ignore[no-untyped-def]
    shot(page, name, lang)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{lang}.png"), animations="disabled")


def current_tab(page: Page, tab: str) -> None:
    expect(page.locator("nav.tabbar a[aria-current=page]")).to_have_attribute("data-tab", tab)


def back(page: Page) -> None:
    control = page.locator("header.appbar a[data-back]")
    expect(control).to_have_count(1)
    expect(control).to_be_visible()
    box = control.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44
    control.click()


@pytest.mark.parametrize("lang", LANGS)
def test_tab_to_deeper_pages_and_back(phone, org, lang, shot, tr, log_in, in_app) -> None:
    def recognise() -> tuple[int, int]:
        item = Feedback(author_id=org.emma.id, recipient_id=org.lina.id, kind="praise", visibility="public",
                        text="谢谢李娜，发布顺利！ Thanks for the smooth release!")
        badge = Badge(name_zh="热心助人", name_en="Helper", icon="star", colour="#e5484d")
        db.session.add_all([item, badge])
        db.session.flush()
        db.session.add(BadgeAward(badge_id=badge.id, giver_id=org.emma.id, receiver_id=org.lina.id,
                                  citation="Always there.", month="2026-11"))
        db.session.commit()
        return item.id, badge.id

    feedback_id, badge_id = in_app(recognise)
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    current_tab(page, "home")
    expect(page.locator("header.appbar a[data-back]")).to_have_count(0)  # a tab: nothing to go back to

    # Walls tab → the badges → one badge: two levels deep, the Walls tab stays lit.
    page.locator("nav.tabbar a[data-tab=walls]").click()
    page.wait_for_url(re.compile(r"/walls/$"))
    page.locator(".wall-tabs a[href='/walls/badges']").click()
    page.wait_for_url(re.compile(r"/walls/badges$"))
    current_tab(page, "walls")
    page.locator(f"a[href='/walls/badges/{badge_id}']").first.click()
    page.wait_for_url(re.compile(rf"/walls/badges/{badge_id}$"))
    current_tab(page, "walls")
    expect(page.locator("header.appbar a[data-back]")).to_have_attribute("aria-label", tr("Back", lang))
    snap(page, "nav-badge-page", lang, shot)
    back(page)
    page.wait_for_url(re.compile(r"/walls/badges$"))
    # The URL changes as soon as the history moves; wait for the restored page itself.
    expect(page.locator(".wall-tabs a[aria-current=page]")).to_have_attribute("href", "/walls/badges")
    back(page)
    page.wait_for_url(re.compile(r"/walls/$"))
    expect(page.locator(".wall-tabs a[aria-current=page]")).to_have_attribute("href", "/walls/")
    current_tab(page, "walls")

    # Back means where one came from, not the page's usual parent: an item's parent is Home,
    # but opened from the Walls it goes back to the Walls.
    page.goto(f"/feedback/{feedback_id}")
    expect(page.locator("header.appbar a[data-back]")).to_have_attribute("href", "/")
    back(page)
    page.wait_for_url(re.compile(r"/walls/$"))
    expect(page.locator(".wall-tabs a[aria-current=page]")).to_have_attribute("href", "/walls/")

    # Home → a feedback item (the card's time links to it) → back lands on Home again.
    page.locator("nav.tabbar a[data-tab=home]").click()
    page.wait_for_url(HOME_URL)
    page.locator(f"a[href='/feedback/{feedback_id}']").first.click()
    page.wait_for_url(re.compile(rf"/feedback/{feedback_id}$"))
    current_tab(page, "home")
    snap(page, "nav-feedback-item", lang, shot)
    back(page)
    page.wait_for_url(HOME_URL)
    expect(page.locator("#feed")).to_be_visible()  # the restored Home itself, not just its URL
    current_tab(page, "home")

    # Me → settings → back to Me.
    page.locator("nav.tabbar a[data-tab=me]").click()
    page.wait_for_url(re.compile(r"/people/me$"))
    page.locator("a[href='/people/settings']").first.click()
    page.wait_for_url(re.compile(r"/people/settings$"))
    current_tab(page, "me")
    back(page)
    page.wait_for_url(re.compile(r"/people/me$"))

    # Opened from outside (a notification, a link): no in-app history, the control follows its href.
    fresh = p.context.new_page()
    fresh.goto(f"/walls/badges/{badge_id}")
    current_tab(fresh, "walls")
    back(fresh)
    fresh.wait_for_url(re.compile(r"/walls/badges$"))
    fresh.close()
