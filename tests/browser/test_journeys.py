"""The main journeys on a phone, in Chinese and English: log in, give, receive, ask, settings."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk
from tests.browser.conftest import PHONE

LANGS = ["zh", "en"]
HTML_LANG = {"zh": "zh-Hans", "en": "en"}


def pick_person(page: Page, query: str, name: str) -> None:
    """Type into the person picker (name, pinyin or initials) and tap the match."""
    page.locator("#picker-q").fill(query)
    option = page.locator("#picker-results [data-pick]", has_text=name)
    expect(option).to_have_count(1)
    option.click()
    expect(page.locator("#picked .picked-chip", has_text=name)).to_be_visible()


def tap_tab(page: Page, tab: str) -> None:
    """Tap a tab in the bottom bar and wait until its page is the current one."""
    page.locator(f"nav.tabbar a[data-tab={tab}]").click()
    expect(page.locator("nav.tabbar a[aria-current=page]")).to_have_attribute("data-tab", tab)


def only_row(model, **where):  # type: ignore[no-untyped-def]
    rows = list(db.session.scalars(select(model).filter_by(**where)))
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("lang", LANGS)
def test_log_in(phone, org, lang, shot, tr) -> None:
    p = phone(lang)
    page = p.page
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    page.fill("#email", org.emma.email)
    page.fill("#password", "not my password")
    page.locator("form.card button.btn-primary").click()
    expect(page.locator(".form-error")).to_be_visible()
    shot(page, "login-error", lang)
    expect(page.locator("#email")).to_have_value(org.emma.email)
    page.fill("#password", "correct horse battery")
    shot(page, "login", lang)
    page.locator("form.card button.btn-primary").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("nav.tabbar")).to_be_visible()
    expect(page.locator("nav.tabbar a[aria-current=page]")).to_have_attribute("data-tab", "home")
    expect(page).to_have_title(re.compile(re.escape(tr("Home", lang))))
    shot(page, "home-empty", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_give_feedback_and_the_recipient_sees_it(phone, org, lang, shot, tr, log_in, in_app) -> None:
    author = phone(lang)
    page = author.page
    log_in(page, org.emma)
    tap_tab(page, "give")
    expect(page).to_have_url(re.compile(r"/feedback/new$"))

    page.locator("#picker-q").fill("lina")
    expect(page.locator("#picker-results [data-pick]")).to_have_count(1)
    shot(page, "compose-picker", lang)
    page.locator("#picker-results [data-pick]", has_text=org.lina.name).click()
    expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()
    expect(page.locator(".picker-search")).to_be_hidden()
    expect(page.locator("#text")).to_be_focused()

    text = "谢谢你把发布演示讲得这么清楚" if lang == "zh" else "Your launch demo was crystal clear"
    page.locator("#text").fill(text)
    page.locator("label.emoji-toggle", has_text="🔥").click()
    expect(page.locator("input[name=emoji][value='🔥']")).to_be_checked()
    shot(page, "compose-filled", lang)
    page.locator("summary.more-summary").click()
    tag_name = "担当" if lang == "zh" else "Ownership"
    page.locator("label.tag-toggle", has_text=f"#{tag_name}").click()
    expect(page.locator(f"input[name=tag_ids][value='{org.tag_id}']")).to_be_checked()
    shot(page, "compose-more", lang)
    page.locator(".sendbar button[type=submit]").click()

    sent = page.locator("#compose.sent")
    expect(sent).to_be_visible()
    expect(sent).to_contain_text(tr("Sent to %(name)s", lang, name=org.lina.name))
    shot(page, "compose-sent", lang)

    def saved() -> tuple[str, str, list[str], int]:
        fb = only_row(Feedback, author_id=org.emma.id)
        return fb.text, fb.emoji, [t.key for t in fb.tags], fb.recipient_id

    assert in_app(saved) == (text, "🔥", ["ownership"], org.lina.id)

    # The recipient, on her own phone: the feed shows it, the Home tab counts it as unread.
    recipient = phone(lang)
    page = recipient.page
    log_in(page, org.lina)
    item = page.locator("#main article.fb", has_text=text)
    expect(item).to_be_visible()
    expect(item).to_contain_text(org.emma.name)
    expect(item).to_contain_text("🔥")
    expect(item).to_contain_text(f"#{tag_name}")
    badge = page.locator("nav.tabbar #unread")
    expect(badge).to_be_visible()
    expect(badge).to_have_text("1")
    shot(page, "feed-received", lang)
    page.emulate_media(color_scheme="dark")
    shot(page, "feed-received-dark", lang)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 820, "height": 1180})
    shot(page, "feed-received-tablet", lang)
    page.set_viewport_size(PHONE["viewport"])
    # Opening the inbox reads it (the page posts back what it showed); the count goes away on the next page.
    with page.expect_response("**/notify/read"):
        page.locator("nav.segmented a[href='/notify/']").click()
    page.wait_for_url("**/notify/")
    tap_tab(page, "home")
    expect(page.locator("nav.tabbar #unread")).to_be_hidden()


def test_confidential_feedback_hides_the_author(phone, org, shot, log_in, in_app) -> None:
    lang = "en"
    author = phone(lang)
    page = author.page
    log_in(page, org.emma)
    page.goto("/feedback/new")
    pick_person(page, "ln", org.lina.name)
    page.locator("#text").fill("A quiet word: the handover notes were hard to follow.")
    page.locator(".kind-choice label", has_text="Suggestion").click()
    page.locator("label.switch-row", has_text="Show my name").click()  # on by default: now off
    expect(page.locator("input[name=show_name]")).not_to_be_checked()
    expect(page.locator("[data-audience-name]")).to_have_text("Your name is hidden from them.")
    shot(page, "compose-confidential", lang)
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#compose.sent")).to_be_visible()
    feedback_id = in_app(lambda: only_row(Feedback, author_id=org.emma.id).id)
    assert in_app(lambda: db.session.get(Feedback, feedback_id).confidential)

    recipient = phone(lang)
    page = recipient.page
    log_in(page, org.lina)
    item = page.locator("#main article.fb", has_text="handover notes")
    expect(item).to_be_visible()
    expect(item).to_contain_text("confidential")
    shot(page, "feed-confidential", lang)
    for url in ("/", f"/feedback/{feedback_id}", "/notify/"):
        response = page.goto(url)
        assert response is not None and response.ok, url
        html = page.content()
        assert "handover notes" in html, url
        for leak in (org.emma.name, "Emma", org.emma.email, f"/people/{org.emma.id}\""):
            assert leak not in html, (url, leak)
    shot(page, "detail-confidential", lang)

    # The author still sees herself as its author: "You", her avatar named for screen readers.
    page = author.page
    page.goto(f"/feedback/{feedback_id}")
    expect(page.locator("article.fb .fb-names")).to_contain_text("You")
    expect(page.locator("article.fb a.fb-avatar")).to_have_attribute("aria-label", org.emma.name)


@pytest.mark.parametrize("lang", LANGS)
def test_ask_answer_and_decline(phone, org, lang, shot, tr, log_in, in_app) -> None:
    asker = phone(lang)
    page = asker.page
    log_in(page, org.emma)
    tap_tab(page, "me")
    page.locator("a[href='/feedback/ask']").click()
    page.wait_for_url("**/feedback/ask")
    pick_person(page, "lina", org.lina.name)
    pick_person(page, "zm", org.zhang.name)
    about = "我周五的评审演示" if lang == "zh" else "My demo at Friday's review"
    page.locator("#about").fill(about)
    page.locator("#ask_project").select_option(str(org.project_id))
    shot(page, "ask-form", lang)
    page.locator("#ask-form button[type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text(tr("Asked %(n)d people for feedback.", lang, n=2))
    waiting = tr("Waiting", lang)
    expect(page.locator(".ask-status .status-open")).to_have_count(2)
    expect(page.locator(".ask-status").first).to_contain_text(waiting)
    shot(page, "ask-sent", lang)

    # 李娜 answers in one tap: the compose sheet opens addressed to the asker, context filled in.
    answerer = phone(lang)
    page = answerer.page
    log_in(page, org.lina)
    # Home folds requests into one line ("1 person asked for your feedback") that opens.
    summary = page.locator("#asks > summary")
    expect(summary).to_contain_text(tr("%(num)d person asked for your feedback", lang, num=1))
    summary.click()
    card = page.locator("#main article.ask", has_text=about)
    expect(card).to_be_visible()
    expect(page.locator("nav.tabbar #unread")).to_have_text("1")
    shot(page, "ask-received", lang)
    card.locator("a.btn-primary").click()
    page.wait_for_url(re.compile(r"/feedback/new\?ask=\d+$"))
    expect(page.locator("#picked .picked-chip", has_text=org.emma.name)).to_be_visible()
    expect(page.locator(".picker-search")).to_be_hidden()
    expect(page.locator("#compose .notice")).to_contain_text(about)
    expect(page.locator("#project_id")).to_have_value(str(org.project_id))
    expect(page.locator("input[name=kind][value=suggestion]")).to_be_checked()
    shot(page, "ask-answer-compose", lang)
    page.locator("#text").fill("清楚、简短，节奏很好" if lang == "zh" else "Clear and short, good pace.")
    page.locator("label.emoji-toggle", has_text="👍").click()
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#compose.sent")).to_contain_text(org.emma.name)

    # 张敏 declines from the same card.
    decliner = phone(lang)
    page = decliner.page
    log_in(page, org.zhang)
    page.locator("#asks > summary").click()
    card = page.locator("#main article.ask", has_text=about)
    card.locator("button.btn-ghost").click()
    expect(card).to_contain_text(tr("Declined", lang))
    expect(card.locator("a.btn-primary")).to_have_count(0)
    shot(page, "ask-declined", lang)

    def statuses() -> dict[int, str]:
        return {a.recipient_id: a.status for a in db.session.scalars(select(FeedbackAsk))}

    assert in_app(statuses) == {org.lina.id: "answered", org.zhang.id: "declined"}

    page = asker.page
    page.reload()
    expect(page.locator(".ask-status li", has_text=org.lina.name)).to_contain_text(tr("Answered", lang))
    expect(page.locator(".ask-status li", has_text=org.zhang.name)).to_contain_text(tr("Declined", lang))
    shot(page, "ask-statuses", lang)


@pytest.mark.parametrize(("start", "switch_to", "label"), [("en", "zh", "简体中文"), ("zh", "en", "English")])
def test_switch_language_in_settings(phone, org, start, switch_to, label, shot, tr, log_in) -> None:
    p = phone(start)
    page = p.page
    log_in(page, org.james)
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[start])
    tap_tab(page, "me")
    page.locator("a[href='/people/settings']").click()
    page.wait_for_url("**/people/settings")
    expect(page.locator(".appbar-title")).to_have_text(tr("Settings", start))
    shot(page, "settings", start)
    page.locator("label.radio-row", has_text=label).click()
    page.locator("form.card button.btn-primary").click()
    page.wait_for_url("**/people/settings")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[switch_to])
    expect(page.locator(".appbar-title")).to_have_text(tr("Settings", switch_to))
    expect(page.locator("#toasts")).to_contain_text(tr("Settings saved.", switch_to))
    expect(page.locator("nav.tabbar a[data-tab=give]")).to_contain_text(tr("Give", switch_to))
    shot(page, "settings-switched", switch_to)
    # It sticks: other pages and a new visit use it too.
    tap_tab(page, "home")
    expect(page).to_have_title(re.compile(re.escape(tr("Home", switch_to))))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_page_opens_at_the_top(phone, org, lang, log_in) -> None:
    """Boosted links swap the page in place: the next page must not open where the last was scrolled."""
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    page.goto("/walls/")
    # However long the wall is with this small organisation: make it long, and scroll down.
    page.evaluate("document.body.style.minHeight = '4000px'; window.scrollTo(0, 1500)")
    page.wait_for_function("() => window.scrollY > 300")
    page.locator("nav.tabbar a[data-tab=me]").click()
    page.wait_for_url("**/people/me")
    page.wait_for_function("() => window.scrollY === 0")
