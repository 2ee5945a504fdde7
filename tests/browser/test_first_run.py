"""A new person's first minutes, on a phone, in Chinese and English: the invite link, a
password, the getting-started cards on Home, hiding them (remembered on the server)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from perfapp.auth.services import create_invite
from perfapp.extensions import db
from perfapp.onboarding.models import GettingStartedDismissal
from perfapp.people.models import User

LANGS = ["zh", "en"]
SHOTS = Path("/tmp/shots/firstrun")
HOME_URL = re.compile(r"://[^/]+/$")  # Home itself; r"/$" would match /walls/ too


@pytest.mark.parametrize("lang", LANGS)
def test_invite_to_first_run_cards_to_hidden(phone, org, lang, shot, tr, in_app) -> None:
    def invite() -> tuple[int, str]:
        person = User(email="new.hire@example.com", title="Designer")
        person.set_name("陈新" if lang == "zh" else "Nina New")
        db.session.add(person)
        db.session.flush()
        token = create_invite(db.session.get(User, org.boss.id), person)
        db.session.commit()
        return person.id, token

    person_id, token = in_app(invite)
    p = phone(lang)
    page = p.page
    page.goto(f"/auth/invite/{token}")
    page.fill("#password", "a long new password")
    page.fill("#password2", "a long new password")
    page.locator("form.card button.btn-primary").click()
    page.wait_for_url(HOME_URL)

    card = page.locator("#getting-started")
    expect(card).to_be_visible()
    expect(card.locator("h2")).to_have_text(tr("Getting started", lang))
    expect(card).to_contain_text(tr("Quiet hours are on: nothing buzzes between %(start)s and %(end)s.", lang,
                                    start="21:00", end="08:00"))
    expect(card).to_contain_text(tr("Your flowers this month", lang))
    # Chromium on a phone, not installed, no install prompt offered (no HTTPS): the generic hint.
    expect(card.locator("[data-install-generic]")).to_be_visible()
    expect(card.locator("[data-install-ios]")).to_be_hidden()
    expect(card.locator("[data-install-button]")).to_be_hidden()
    for link in ("/feedback/new", "/notify/settings", "/recognition/flowers", "/walls/"):
        expect(card.locator(f"a[href='{link}']")).to_have_count(1)
    expect(page.locator(".empty .btn-primary")).to_be_hidden()  # one give action at a time
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(4800)  # the welcome toast fades, for the screenshot
    shot(page, "first-run-home", lang)
    page.screenshot(path=str(SHOTS / f"first-run-home-{lang}.png"), animations="disabled")
    page.screenshot(path=str(SHOTS / f"first-run-home-full-{lang}.png"), animations="disabled", full_page=True)

    # The nudges step leads to the settings, which lead back to Home.
    card.locator("a[href='/notify/settings']").click()
    page.wait_for_url(re.compile(r"/notify/settings$"))
    page.locator("header.appbar a[data-back]").click()
    page.wait_for_url(HOME_URL)

    page.locator("#getting-started form button").click()
    expect(page.locator("#getting-started")).to_have_count(0)
    assert in_app(lambda: db.session.get(GettingStartedDismissal, person_id) is not None)
    expect(page.locator(".empty .btn-primary")).to_be_visible()  # the feed's own Give button is back
    page.reload()
    expect(page.locator("#getting-started")).to_have_count(0)
    page.screenshot(path=str(SHOTS / f"first-run-hidden-{lang}.png"), animations="disabled")


@pytest.mark.parametrize("lang", ["en"])
def test_installed_app_hides_the_install_step(phone, org, lang, log_in) -> None:
    p = phone(lang)
    page = p.page
    page.emulate_media(media=None)
    p.context.add_init_script("window.matchMedia = (q) => ({matches: q.includes('standalone'), media: q,"
                              " addEventListener() {}, removeEventListener() {}});")
    log_in(page, org.james)
    expect(page.locator("#getting-started")).to_be_visible()
    expect(page.locator("[data-install-step]")).to_be_hidden()


IPHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.0 Mobile/15E148 Safari/604.1")


def test_ios_gets_share_steps_and_android_an_install_button(browser, live_server, org, log_in) -> None:
    from tests.browser.conftest import PHONE

    context = browser.new_context(base_url=live_server.url, locale="en-US", user_agent=IPHONE_UA, **PHONE)
    try:
        page = context.new_page()
        log_in(page, org.james)
        expect(page.locator("[data-install-ios]")).to_be_visible()
        expect(page.locator("[data-install-generic]")).to_be_hidden()
        expect(page.locator("[data-install-button]")).to_be_hidden()
    finally:
        context.close()

    context = browser.new_context(base_url=live_server.url, locale="en-US", **PHONE)
    try:
        page = context.new_page()
        log_in(page, org.zhang)
        # What Chrome on Android fires when the app may be installed.
        page.evaluate("""() => { const e = new Event('beforeinstallprompt', {cancelable: true});
            e.prompt = () => { window.__prompted = true; };
            e.userChoice = Promise.resolve({outcome: 'accepted'});
            window.dispatchEvent(e); }""")
        button = page.locator("[data-install-button]")
        expect(button).to_be_visible()
        expect(page.locator("[data-install-generic]")).to_be_hidden()
        button.click()
        assert page.evaluate("() => window.__prompted === true")
        expect(page.locator("[data-install-step]")).to_be_hidden()  # accepted: the step is done
    finally:
        context.close()
