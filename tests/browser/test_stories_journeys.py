"""Story library and customer praise on a phone, in Chinese and English: a manager promotes public
praise into a story that is published once the person in it accepts; an employee uploads a customer's
.eml and confirms who it praises."""
from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback, Tag
from perfapp.integrations.models import CustomerPraise
from perfapp.notify.models import Notification
from perfapp.stories.models import Story
from tests.browser.test_journeys import tap_tab

LANGS = ["zh", "en"]


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("lang", LANGS)
def test_promote_praise_to_a_story_published_after_consent(phone, org, lang, shot, tr, log_in, in_app) -> None:
    text = "李娜连夜修好了发布流水线，周一准时上线。" if lang == "zh" else "Li Na fixed the release pipeline overnight."

    def seed() -> int:
        item = Feedback(author_id=org.emma.id, recipient_id=org.lina.id, kind="praise", visibility="public",
                        text=text)
        item.tags = [db.session.get(Tag, org.tag_id)]
        db.session.add(item)
        db.session.commit()
        return item.id

    feedback_id = in_app(seed)
    manager = phone(lang)
    page = manager.page
    log_in(page, org.boss)
    tap_tab(page, "walls")
    card = page.locator(f"#fb-{feedback_id}")
    expect(card).to_contain_text(text)
    promote = card.locator("a.promote-link")
    expect(promote).to_have_text(re.compile(tr("Promote to story", lang)))
    shot(page, "story-praise-wall", lang)
    promote.click()
    page.wait_for_url(re.compile(r"/stories/new\?"))
    expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()
    expect(page.locator("#story-text")).to_have_value(text)
    expect(page.locator(f"input[name=tag_ids][value='{org.tag_id}']")).to_be_checked()
    title = "挽救发布的那个夜晚" if lang == "zh" else "The night the release was saved"
    page.locator("#story-title").fill(title)
    no_horizontal_scroll(page)
    shot(page, "story-promote-form", lang)
    page.locator("#story-form button[type=submit]").click()
    saved = page.locator("#story-form.sent")
    expect(saved).to_contain_text(tr("Story saved", lang))
    shot(page, "story-promoted", lang)
    story_id = in_app(lambda: db.session.scalar(select(Story.id)))
    assert in_app(lambda: db.session.get(Story, story_id).status) == "pending"

    # Until 李娜 says yes it waits: the manager sees it with her consent still open.
    saved.locator("a.btn-primary").click()
    page.wait_for_url(f"**/stories/{story_id}")
    expect(page.locator(".story-consent .status-pending")).to_contain_text(tr("Waiting", lang))
    shot(page, "story-waiting", lang)

    person = phone(lang)
    page = person.page
    log_in(page, org.lina)
    expect(page.locator("nav.tabbar #unread")).to_be_visible()
    page.goto("/notify/")
    entry = page.locator(".story-note", has_text=title)
    expect(entry).to_contain_text(tr("%(name)s would like to feature you in a story", lang, name=org.boss.name))
    no_horizontal_scroll(page)
    shot(page, "story-consent-request", lang)
    entry.locator("button[data-consent=accept]").click()
    expect(entry).to_contain_text(tr("You agreed to this story.", lang))
    assert in_app(lambda: db.session.get(Story, story_id).status) == "published"
    shot(page, "story-consent-given", lang)

    # Published: in the library for everyone, filterable by value, linking back to the praise.
    reader = phone(lang)
    page = reader.page
    log_in(page, org.zhang)
    page.goto("/stories/")
    expect(page.locator("nav.tabbar a[aria-current=page]")).to_have_attribute("data-tab", "walls")
    value = "担当" if lang == "zh" else "Ownership"
    page.locator("a.filter-chip", has_text=f"#{value}").click()
    page.wait_for_url(re.compile(rf"/stories/\?value={org.tag_id}$"))
    story_card = page.locator(f"#story-{story_id}")
    expect(story_card).to_contain_text(title)
    no_horizontal_scroll(page)
    shot(page, "story-library", lang)
    story_card.locator("h3 a").click()
    page.wait_for_url(f"**/stories/{story_id}")
    expect(page.locator("article.story")).to_contain_text(title)
    shot(page, "story-page", lang)
    page.emulate_media(color_scheme="dark")
    shot(page, "story-page-dark", lang)
    page.emulate_media(color_scheme="light")
    page.locator("a.story-origin").click()
    page.wait_for_url(f"**/feedback/{feedback_id}")
    expect(page.locator(f"#fb-{feedback_id}")).to_contain_text(text)


def customer_email(lang: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "陈经理 <chen@client.example>" if lang == "zh" else "Dana Client <dana@client.example>"
    msg["To"] = "support@example.com"
    msg["Subject"] = "感谢李娜的出色支持" if lang == "zh" else "Thank you, Li Na!"
    msg["Date"] = "Tue, 25 Nov 2025 10:00:00 +0800"
    body = ("你们的李娜耐心帮我们排查了三天的问题，项目终于按时上线。请转达我们的谢意！\n\n陈经理"
            if lang == "zh" else
            "Li Na spent three days helping us track down the problem and the project went live on time.\n\nDana")
    msg.set_content(body, charset="gb18030" if lang == "zh" else "utf-8")
    return msg.as_bytes(policy=policy.SMTP)


@pytest.mark.parametrize("lang", LANGS)
def test_upload_customer_praise_and_confirm_the_employee(phone, org, lang, shot, tr, log_in, in_app) -> None:
    employee = phone(lang)
    page = employee.page
    log_in(page, org.emma)
    tap_tab(page, "me")
    page.locator("a[href='/integrations/praise/new']").click()
    page.wait_for_url("**/integrations/praise/new")
    page.locator("#eml").set_input_files(files=[{"name": "praise.eml", "mimeType": "message/rfc822",
                                                 "buffer": customer_email(lang)}])
    no_horizontal_scroll(page)
    shot(page, "customer-praise-upload", lang)
    page.locator("#praise-import button[type=submit]").click()

    review = page.locator("#praise-review")
    subject = "感谢李娜的出色支持" if lang == "zh" else "Thank you, Li Na!"
    expect(review.locator(".mail-subject")).to_have_text(subject)
    expect(review.locator(".mail-body")).to_contain_text("按时上线" if lang == "zh" else "went live on time")
    page.wait_for_url(re.compile(r"/integrations/praise/\d+$"))
    suggestion = review.locator(f"input[name=person_ids][value='{org.lina.id}']")
    expect(suggestion).to_be_checked()  # found by her name (Chinese) or its pinyin (English)
    no_horizontal_scroll(page)
    shot(page, "customer-praise-review", lang)
    page.emulate_media(color_scheme="dark")
    shot(page, "customer-praise-review-dark", lang)
    page.emulate_media(color_scheme="light")
    review.locator(".sendbar button[type=submit]").click()
    done = page.locator("#praise-review.sent")
    expect(done).to_contain_text(tr("Customer praise confirmed", lang))
    shot(page, "customer-praise-confirmed", lang)

    def outcome() -> tuple[str, list[int], set[tuple[int, str]]]:
        item = db.session.scalar(select(CustomerPraise))
        told = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
        return item.status, [p.id for p in item.people], told

    status, people, told = in_app(outcome)
    assert status == "confirmed" and people == [org.lina.id]
    assert told == {(org.lina.id, "customer_praise"), (org.boss.id, "customer_praise_team")}

    # On 李娜's profile for everyone to see.
    page.goto(f"/people/{org.lina.id}")
    section = page.locator("section", has=page.locator("#customer-praise-title"))
    expect(section).to_contain_text(subject)
    expect(section).to_contain_text("client.example")
    no_horizontal_scroll(page)
    section.scroll_into_view_if_needed()
    shot(page, "customer-praise-profile", lang)
