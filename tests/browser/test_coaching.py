"""A manager runs a 1:1 on a phone: from My team to the 1:1, an agenda item pulled from feedback, a
private note, an action item, then the 1:1 is finished and the action item is carried to the next
one; the report sees the shared parts and never the manager's note. A promotion review is written,
signed by the manager and by HR. In Chinese and English at 360×740; screenshots in
test-results/screens and /tmp/shots-coaching."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.people.models import User
from tests.browser.test_team_and_back import back_control, no_sideways_scroll

LANGS = ["zh", "en"]
SHOTS = Path("/tmp/shots-coaching")
NOTE = "Private: ask about the raise later"
PRAISE = "Thanks for the clear launch demo"


def snap(page: Page, name: str, lang: str, shot) -> None:  # type: ignore[no-untyped-def]
    shot(page, name, lang)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{lang}.png"), animations="disabled", full_page=True)


def set_up(org) -> int:  # type: ignore[no-untyped-def]
    from perfapp.coaching import one_on_ones
    from perfapp.feedback import services as feedback

    emma, lina, boss = (db.session.get(User, p.id) for p in (org.emma, org.lina, org.boss))
    feedback.give_feedback(emma, feedback.FeedbackInput(recipient_id=lina.id, text=PRAISE, kind="praise",
                                                        visibility="public", tag_ids=[org.tag_id]))
    day = (utcnow() + timedelta(days=2)).date().isoformat()
    series = one_on_ones.start_series(boss, lina.id, "weekly", day, "10:00")
    db.session.commit()
    return series.id


@pytest.mark.parametrize("lang", LANGS)
def test_a_manager_runs_a_one_on_one_and_the_action_item_carries_over(phone, org, lang, shot, tr, log_in,
                                                                       in_app) -> None:
    series_id = in_app(set_up, org)
    page = phone(lang).page
    log_in(page, org.boss)
    page.locator("nav.tabbar a[data-tab=me]").click()
    page.locator("a[href='/coaching/team']").click()
    page.wait_for_url(re.compile(r"/coaching/team$"))
    link = page.locator(f"article#report-{org.lina.id} a[href='/coaching/1on1/{series_id}']")
    expect(link).to_contain_text(tr("Next 1:1", lang))
    no_sideways_scroll(page)
    snap(page, "coaching-team", lang, shot)
    link.click()
    page.wait_for_url(re.compile(rf"/coaching/1on1/{series_id}$"))
    back_control(page)
    expect(page.locator("h1.appbar-title")).to_contain_text(tr("1:1 with %(name)s", lang, name="李娜"))
    # The suggestion shows the feedback card; adding it puts a line on the shared agenda.
    suggestion = page.locator(".one-suggestion").filter(has_text=PRAISE)
    expect(suggestion).to_have_count(1)
    snap(page, "coaching-1on1-suggested", lang, shot)
    suggestion.locator("button[type=submit]").click()
    agenda = page.locator("#agenda + section .one-list")
    expect(agenda.locator(".one-item")).to_have_count(1)
    expect(agenda).to_contain_text(PRAISE)  # the card under the line
    expect(page.locator(".one-suggestion").filter(has_text=PRAISE)).to_have_count(0)
    page.fill("#f-agenda", "Next quarter's goals")
    page.locator("form.one-add:has(#f-agenda) button[type=submit]").click()
    expect(agenda.locator(".one-item")).to_have_count(2)
    # A private note.
    page.fill("#f-note", NOTE)
    page.locator("form:has(#f-note) button[type=submit]").click()
    expect(page.locator(".flash, [role=status]").first).to_be_visible()
    expect(page.locator("#f-note")).to_have_value(NOTE)
    # An action item for Li Na, due in three days; first without a date: a translated refusal.
    page.locator(".one-new-action > summary").click()
    page.fill("#f-action_text", "Write up the launch lessons")
    page.select_option("#f-owner_id", str(org.lina.id))
    page.locator("form:has(#f-action_text) button[type=submit]").click()
    expect(page.locator("#err-due_on")).to_have_text(tr("Choose a due date.", lang))
    due = (utcnow() + timedelta(days=3)).date().isoformat()
    page.fill("#f-due_on", due)
    page.locator("form:has(#f-action_text) button[type=submit]").click()
    actions = page.locator("#actions + section .one-list")
    expect(actions).to_contain_text("Write up the launch lessons")
    no_sideways_scroll(page)
    snap(page, "coaching-1on1-running", lang, shot)
    # Finish: the next 1:1 starts empty, the open action item is carried to it.
    page.locator("form.one-finish button[type=submit]").click()
    expect(page.locator("#agenda + section .one-list")).to_have_count(0)
    expect(actions).to_contain_text("Write up the launch lessons")
    expect(actions.locator(".chip")).to_contain_text(tr("Carried over", lang))
    expect(page.locator("details.one-past")).to_have_count(1)
    expect(page.locator("#f-note")).to_have_value("")  # a new note for the new 1:1
    page.locator("details.one-past > summary").click()
    expect(page.locator("details.one-past")).to_contain_text(NOTE)  # my own note stays mine to read
    snap(page, "coaching-1on1-next", lang, shot)

    # Li Na sees the carried action item and the agenda history, never her manager's note.
    lina = phone(lang).page
    log_in(lina, org.lina)
    lina.locator("nav.tabbar a[data-tab=me]").click()
    lina.locator("a[href='/coaching/1on1']").click()
    lina.locator(f"a[href='/coaching/1on1/{series_id}']").click()
    lina.wait_for_url(re.compile(rf"/coaching/1on1/{series_id}$"))
    expect(lina.locator("#actions + section")).to_contain_text("Write up the launch lessons")
    lina.locator("details.one-past > summary").click()
    expect(lina.locator("details.one-past")).to_contain_text("Next quarter's goals")
    assert NOTE not in lina.content()
    back_control(lina)
    snap(lina, "coaching-1on1-report", lang, shot)


def _hr(org) -> None:  # type: ignore[no-untyped-def]
    from perfapp.auth.services import hash_password
    from tests.browser.conftest import PASSWORD

    hr = User(email="hr@example.com", title="People partner", role="hr", password_hash=hash_password(PASSWORD))
    hr.set_name("陈HR")
    db.session.add(hr)
    db.session.commit()


@pytest.mark.parametrize("lang", LANGS)
def test_a_promotion_review_is_written_and_signed_by_manager_and_hr(phone, org, lang, shot, tr, log_in,
                                                                     in_app) -> None:
    from tests.browser.conftest import Person

    in_app(set_up, org)
    in_app(_hr, org)
    page = phone(lang).page
    log_in(page, org.boss)
    page.goto(f"/coaching/team/{org.lina.id}")
    no_sideways_scroll(page)
    snap(page, "coaching-member", lang, shot)
    page.locator(f"a[href='/coaching/records/new/{org.lina.id}?kind=promotion']").click()
    back_control(page)
    page.fill("#f-summary", "")
    page.locator("form.admin-form button[type=submit]").click()
    expect(page.locator("#err-summary")).to_have_text(tr("Please fill this in.", lang))
    page.fill("#f-summary", "Ready for senior designer.")
    page.fill("#f-strengths", "Ownership of the launch")
    no_sideways_scroll(page)
    snap(page, "coaching-record-edit", lang, shot)
    page.locator("form.admin-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/coaching/records/\d+$"))
    expect(page.locator(".feed")).to_contain_text(PRAISE)  # the period's feedback, pulled in
    page.locator("form[action$='/sign'] button").click()
    expect(page.locator(".chip").filter(has_text=tr("Waiting for HR", lang))).to_have_count(1)
    expect(page.locator("a[href$='/edit']")).to_have_count(0)
    url = page.url
    hr = phone(lang).page
    log_in(hr, Person(0, "陈HR", "hr@example.com"))
    hr.locator("nav.tabbar a[data-tab=me]").click()
    hr.locator("a[href='/coaching/records']").click()
    hr.locator("a.record-row").first.click()
    hr.wait_for_url(url)
    sign = hr.locator("form[action$='/sign'] button")
    expect(sign).to_be_visible()
    back_control(hr)
    sign.click()
    expect(hr.locator(".chip").filter(has_text=tr("Signed", lang))).to_have_count(1)
    no_sideways_scroll(hr)
    snap(hr, "coaching-record-signed", lang, shot)
