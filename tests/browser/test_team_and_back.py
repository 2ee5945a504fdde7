"""A manager finds their team, and every page that isn't a tab has a way back: on a phone, in
Chinese and English. Screenshots go to test-results/screens and /tmp/shots-journeys."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from perfapp.extensions import db
from perfapp.feedback import services as feedback
from perfapp.people.models import User

LANGS = ["zh", "en"]
SHOTS = Path("/tmp/shots-journeys")


def snap(page: Page, name: str, lang: str, shot) -> None:  # type: ignore[no-untyped-def]
    shot(page, name, lang)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{lang}.png"), animations="disabled", full_page=True)


def back_control(page: Page):  # type: ignore[no-untyped-def]
    control = page.locator("header.appbar a[data-back]")
    expect(control).to_have_count(1)
    expect(control).to_be_visible()
    # Right after a history.back() the restored page may still be swapping in (the control is
    # replaced once more, and a replaced element has no box): measure again then.
    box = None
    for _try in range(10):
        box = control.bounding_box()
        if box:
            break
        page.wait_for_timeout(200)
    assert box and box["width"] >= 44 and box["height"] >= 44
    return control


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def give_some_feedback(org) -> None:  # type: ignore[no-untyped-def]
    for author, recipient, text in ((org.emma, org.lina, "Thanks for the clear launch demo"),
                                    (org.lina, org.emma, "Your review caught the bug before release")):
        feedback.give_feedback(db.session.get(User, author.id),
                               feedback.FeedbackInput(recipient_id=recipient.id, text=text, kind="praise",
                                                      visibility="public", tag_ids=[org.tag_id]))
    db.session.commit()


@pytest.mark.parametrize("lang", LANGS)
def test_a_manager_finds_their_team_from_me_and_comes_back(phone, org, lang, shot, tr, log_in, in_app) -> None:
    in_app(give_some_feedback, org)
    p = phone(lang)
    page = p.page
    log_in(page, org.boss)  # 王伟 manages 李娜 and Emma
    page.locator("nav.tabbar a[data-tab=me]").click()
    page.wait_for_url(re.compile(r"/people/me$"))
    team_link = page.locator("a[href='/coaching/team']")
    expect(team_link).to_contain_text(tr("My team", lang))
    team_link.click()
    page.wait_for_url(re.compile(r"/coaching/team$"))
    expect(page.locator("nav.tabbar a[aria-current=page]")).to_have_attribute("data-tab", "me")
    cards = page.locator("article.team-card .person-name")
    expect(cards).to_have_text(["Emma Wilson", "李娜"])  # by pinyin: "emma wilson" < "li na"
    no_sideways_scroll(page)
    snap(page, "team", lang, shot)

    page.locator(f"#report-{org.lina.id} a.team-open").click()
    page.wait_for_url(re.compile(rf"/coaching/team/{org.lina.id}$"))
    expect(page.locator("main")).to_contain_text("Thanks for the clear launch demo")
    no_sideways_scroll(page)
    snap(page, "team-member", lang, shot)
    back_control(page).click()
    page.wait_for_url(re.compile(r"/coaching/team$"))
    back_control(page).click()
    page.wait_for_url(re.compile(r"/people/me$"))

    # Typing HR's signals address says whose page it is and leads to the team instead of a dead end.
    page.goto("/recognition/signals")
    expect(page.locator("main")).to_contain_text(tr("This page is for HR.", lang))
    snap(page, "signals-refused-manager", lang, shot)
    page.locator("main a[href='/coaching/team']").click()
    page.wait_for_url(re.compile(r"/coaching/team$"))


@pytest.mark.parametrize("lang", LANGS)
def test_an_employee_has_no_team_entry(phone, org, lang, log_in) -> None:
    p = phone(lang)
    log_in(p.page, org.emma)
    p.page.goto("/people/me")
    expect(p.page.locator("main")).to_be_visible()
    expect(p.page.locator("a[href='/coaching/team']")).to_have_count(0)
    expect(p.page.locator("a[href='/recognition/signals']")).to_have_count(0)


def _story(org) -> int:  # type: ignore[no-untyped-def]
    from perfapp.recognition.badges import AwardInput, award_badge
    from perfapp.recognition.models import Badge
    from perfapp.stories import services as stories

    badge = Badge(name_zh="热心助人", name_en="Helper", icon="star", colour="#e5484d", awarders="anyone")
    db.session.add(badge)
    db.session.flush()
    boss = db.session.get(User, org.boss.id)
    award = award_badge(boss, AwardInput(badge.id, org.lina.id, "Always there."))
    story = stories.promote(boss, stories.StoryInput("badge_award", award.id, "Helper of the month",
                                                     "She helped everyone ship.", [], [org.lina.id]))
    stories.respond(db.session.get(User, org.lina.id), story.id, True)
    db.session.commit()
    return story.id


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_that_isnt_a_tab_leads_back(phone, org, lang, shot, log_in, in_app) -> None:
    """Opened straight from a link (no history in the app), each deeper page's back control leads
    to its parent, and its tab stays lit: the pages people named as dead ends, and more."""
    story_id = in_app(_story, org)
    in_app(give_some_feedback, org)
    p = phone(lang)
    page = p.page
    log_in(page, org.boss)
    pages = [  # (page, its tab, where back leads)
        ("/walls/filter", "walls", "/walls/"),
        (f"/walls/people/{org.emma.id}", "walls", "/walls/"),
        ("/walls/badges", "walls", "/walls/"),
        (f"/stories/{story_id}", "walls", "/stories/"),
        ("/stories/", "walls", "/walls/"),
        (f"/people/{org.emma.id}", "home", "/"),
        ("/notify/", "home", "/"),
        ("/feedback/given", "home", "/"),
        ("/feedback/ask", "give", "/feedback/new"),
        ("/recognition/flowers", "give", "/feedback/new"),
        ("/recognition/award", "give", "/feedback/new"),
        ("/people/settings", "me", "/people/me"),
        ("/notify/settings", "me", "/people/me"),
        ("/coaching/team", "me", "/people/me"),
        (f"/coaching/team/{org.lina.id}", "me", "/coaching/team"),
        ("/integrations/praise/new", "me", "/people/me"),
    ]
    for path, tab, parent in pages:
        fresh = p.context.new_page()
        fresh.goto(path)
        expect(fresh.locator("nav.tabbar a[aria-current=page]")).to_have_attribute("data-tab", tab)
        control = back_control(fresh)
        expect(control).to_have_attribute("href", parent)
        if path == f"/stories/{story_id}":
            snap(fresh, "story", lang, shot)
        control.click()
        fresh.wait_for_url(re.compile(re.escape(parent) + "$"))
        fresh.close()


@pytest.mark.parametrize("lang", LANGS)
def test_hrs_deeper_pages_lead_back_too(phone, org, lang, shot, log_in, in_app) -> None:
    """HR's customer-praise queue (named in the issue as a dead end) and the other pages of HR's menu."""

    def make_hr() -> None:
        db.session.get(User, org.james.id).role = "hr"
        db.session.commit()

    in_app(make_hr)
    p = phone(lang)
    log_in(p.page, org.james)
    for path in ("/integrations/queue", "/moderation/", "/moderation/log", "/recognition/signals",
                 "/recognition/admin/flowers", "/recognition/admin/badges", "/audit/", "/notify/organisation"):
        fresh = p.context.new_page()
        fresh.goto(path)
        expect(fresh.locator("nav.tabbar a[aria-current=page]")).to_have_attribute("data-tab", "me")
        control = back_control(fresh)
        parent = control.get_attribute("href")
        assert parent and parent != path
        if path == "/integrations/queue":
            snap(fresh, "customer-praise-queue", lang, shot)
        control.click()
        fresh.wait_for_url(re.compile(re.escape(parent) + "$"))
        fresh.close()
