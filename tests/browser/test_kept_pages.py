"""Kept pages in a real browser, zh and en: Home, the praise wall, a profile and a badge wall are
served again while nothing changed, and what changed shows on the very next visit (tab switches
included)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from perfapp.extensions import db
from perfapp.feedback import services
from perfapp.feedback.services import FeedbackInput
from perfapp.onboarding.services import dismiss
from perfapp.people.models import User

LANGS = ["zh", "en"]


@pytest.mark.parametrize("lang", LANGS)
def test_home_and_the_wall_show_what_changed_on_the_next_visit(phone, org, lang, shot, log_in, in_app) -> None:
    def give(author_id: int, recipient_id: int, text: str, public: bool = False) -> None:
        author = db.session.get(User, author_id)
        data = FeedbackInput(recipient_id=recipient_id, text=text, visibility="public" if public else "private")
        services.give_feedback(author, data)
        db.session.commit()

    def setup() -> None:
        dismiss(db.session.get(User, org.lina.id))
        db.session.commit()

    in_app(setup)
    in_app(give, org.emma.id, org.lina.id, "谢谢李娜，发布顺利！", True)
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    expect(page.locator("#feed article.fb")).to_have_count(1)
    page.locator('.tabbar a[data-tab="walls"]').click()
    expect(page.locator("#feed")).to_contain_text("谢谢李娜")
    page.locator('.tabbar a[data-tab="home"]').click()
    expect(page.locator("#feed article.fb")).to_have_count(1)  # unchanged: the kept page

    # Someone else writes while Lina is on Home: her next visits show it.
    in_app(give, org.james.id, org.lina.id, "Thanks for the crisp design review.")
    in_app(give, org.zhang.id, org.emma.id, "Calm under pressure at the launch.", True)
    page.locator('.tabbar a[data-tab="walls"]').click()
    expect(page.locator("#feed")).to_contain_text("Calm under pressure at the launch.")
    # Just written: "now", never "in 1 second" (a phone's clock may run a little behind the server's)
    first_time = page.locator("#feed time.ago").first
    expect(first_time).to_have_text("现在" if lang == "zh" else "now")
    shot(page, "kept-praise-wall", lang)
    page.locator('.tabbar a[data-tab="home"]').click()
    expect(page.locator("#feed article.fb")).to_have_count(2)
    expect(page.locator("#feed")).to_contain_text("Thanks for the crisp design review.")
    expect(page.locator("#unread")).to_be_visible()
    shot(page, "kept-home", lang)
    page.reload()
    expect(page.locator("#feed article.fb")).to_have_count(2)


@pytest.mark.parametrize("lang", LANGS)
def test_a_colleagues_profile_shows_new_praise_next_time(phone, org, lang, shot, log_in, in_app) -> None:
    def give(author_id: int, recipient_id: int, text: str) -> None:
        services.give_feedback(db.session.get(User, author_id), FeedbackInput(recipient_id=recipient_id, text=text))
        db.session.commit()

    in_app(give, org.boss.id, org.emma.id, "谢谢 Emma，方案很清楚。")
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    page.goto(f"/people/{org.emma.id}")
    expect(page.locator(".profile-name")).to_contain_text("Emma Wilson")
    expect(page.locator("#feed article.fb")).to_have_count(1)
    page.goto("/")
    in_app(give, org.zhang.id, org.emma.id, "Calm under pressure at the launch.")
    page.goto(f"/people/{org.emma.id}")
    expect(page.locator("#feed article.fb")).to_have_count(2)
    expect(page.locator("#feed")).to_contain_text("Calm under pressure at the launch.")
    expect(page.locator("#profile-flowers")).to_be_visible()
    shot(page, "kept-profile", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_badge_wall_shows_a_new_badge_next_time_and_opens_its_citation(phone, org, lang, shot, log_in,
                                                                         in_app) -> None:
    from perfapp.recognition.badges import AwardInput, award_badge
    from perfapp.recognition.models import Badge

    def make_badge() -> int:
        badge = Badge(name_zh="热心助人", name_en="Helper", icon="star", colour="#e5484d", awarders="anyone",
                      monthly_limit=5)
        db.session.add(badge)
        db.session.commit()
        return badge.id

    def award(badge_id: int, text: str) -> None:
        award_badge(db.session.get(User, org.boss.id), AwardInput(badge_id, org.emma.id, text))
        db.session.commit()

    badge_id = in_app(make_badge)
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    page.goto(f"/walls/people/{org.emma.id}")
    expect(page.locator(".profile-name")).to_contain_text("Emma Wilson")
    expect(page.locator(".bw-cell")).to_have_count(0)
    page.goto("/")
    in_app(award, badge_id, "Unblocked the release at midnight.")
    page.goto(f"/walls/people/{org.emma.id}")
    cell = page.locator(".bw-cell")
    expect(cell).to_have_count(1)
    expect(cell).to_contain_text("热心助人" if lang == "zh" else "Helper")
    cell.locator("summary").click()
    expect(cell.locator(".bw-citations")).to_contain_text("Unblocked the release at midnight.")
    shot(page, "kept-badge-wall", lang)
