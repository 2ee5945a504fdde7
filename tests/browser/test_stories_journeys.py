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
    page.locator("details.import-more > summary").click()  # the whole-email way, folded under the text one
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


def flower_gift(org, message: str) -> int:  # type: ignore[no-untyped-def]
    from perfapp.recognition.models import FlowerGift

    gift = FlowerGift(giver_id=org.emma.id, receiver_id=org.lina.id, count=3, message=message,
                      tag_id=org.tag_id, month="2026-11")
    db.session.add(gift)
    db.session.commit()
    return gift.id


@pytest.mark.parametrize("lang", LANGS)
def test_flowers_become_a_story_then_a_report_and_hr_decides(phone, org, lang, shot, tr, log_in, in_app) -> None:
    from perfapp.moderation.models import ModerationDecision
    from tests.browser.test_reactions_moderation import hr_person

    message = "谢谢李娜周末赶来修好支付故障！" if lang == "zh" else "Thank you for fixing the payments outage on Sunday!"
    gift_id = in_app(flower_gift, org, message)
    hr = in_app(hr_person)

    # HR sees the flowers on the praise wall and promotes them.
    page = phone(lang).page
    log_in(page, hr)
    tap_tab(page, "walls")
    card = page.locator(f"#flower-{gift_id}")
    expect(card).to_contain_text(message)
    promote = card.locator("a.promote-link")
    expect(promote).to_have_text(re.compile(tr("Promote to story", lang)))
    card.scroll_into_view_if_needed()
    no_horizontal_scroll(page)
    shot(page, "story-flower-wall", lang)
    promote.click()
    page.wait_for_url(re.compile(r"/stories/new\?source_type=flower"))
    expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()
    expect(page.locator("#story-text")).to_have_value(message)
    expect(page.locator(f"input[name=tag_ids][value='{org.tag_id}']")).to_be_checked()
    title = "周日的支付故障" if lang == "zh" else "The Sunday payments outage"
    page.locator("#story-title").fill(title)
    page.locator("#story-form button[type=submit]").click()
    expect(page.locator("#story-form.sent")).to_contain_text(tr("Story saved", lang))
    story_id = in_app(lambda: db.session.scalar(select(Story.id)))

    # 李娜 accepts from her inbox: published.
    lina = phone(lang).page
    log_in(lina, org.lina)
    lina.goto("/notify/")
    entry = lina.locator(".story-note", has_text=title)
    entry.locator("button[data-consent=accept]").click()
    expect(entry).to_contain_text(tr("You agreed to this story.", lang))
    assert in_app(lambda: db.session.get(Story, story_id).status) == "published"

    # 张敏 reads it, with the flowers it started from, and reports it.
    reader = phone(lang).page
    log_in(reader, org.zhang)
    reader.goto(f"/stories/{story_id}")
    expect(reader.locator("article.story")).to_contain_text(title)
    expect(reader.locator(f"#flower-{gift_id}")).to_contain_text(message)
    expect(reader.locator(f"#flower-{gift_id} a.promote-link")).to_have_count(0)
    no_horizontal_scroll(reader)
    shot(reader, "story-flower-page", lang)
    reader.locator(f"#story-{story_id} a[href='/moderation/report/story/{story_id}']").click()
    sheet = reader.locator(f"#sheet-story-{story_id} dialog.sheet")
    expect(sheet.locator(".sheet-title")).to_have_text(tr("Report this story", lang))
    sheet.locator("button.btn-primary").click()
    expect(sheet.locator(".field-error")).to_have_text(tr("Say briefly what is wrong with it.", lang))
    reason = "故事内容与事实不符" if lang == "zh" else "This isn't what happened"
    sheet.locator("textarea").fill(reason)
    shot(reader, "story-report-sheet", lang)
    sheet.locator("button.btn-primary").click()
    expect(reader.locator(f"#story-{story_id}.rx-reported")).to_contain_text(
        tr("Thank you. It is hidden for you while HR looks at your report.", lang))
    # Hidden for its reporter only (one report isn't a verdict): 李娜 (in it) still reads it.
    assert in_app(lambda: db.session.get(Story, story_id).hidden) is False
    lina.goto(f"/stories/{story_id}")
    expect(lina.locator("article.story")).to_contain_text(title)

    # HR decides in the moderation queue.
    page.goto("/moderation/")
    case = page.locator(f"#case-story-{story_id}")
    expect(case).to_contain_text(title)
    expect(case).to_contain_text(reason)
    no_horizontal_scroll(page)
    shot(page, "moderation-queue-story", lang)
    if lang == "en":
        case.locator("button[value=restore]").click()
        expect(case.locator(".admin-done")).to_contain_text(
            tr("Restored. Everyone who could see it before sees it again.", lang))
        lina.goto(f"/stories/{story_id}")
        expect(lina.locator("article.story")).to_contain_text(title)
    else:
        case.locator("textarea[name=reason]").fill("内容不实")
        case.locator("button[value=delete]").click()
        case.locator(".mod-confirm button[value=delete]").click()  # asked once more: it can't be undone
        expect(page.locator(f"#case-story-{story_id} .admin-done")).to_contain_text(tr("Deleted.", lang))
        assert in_app(lambda: db.session.get(Story, story_id)) is None
        page.locator("a.appbar-action", has_text=tr("Audit log", lang)).click()
        log = page.locator(".mod-log")
        expect(log).to_contain_text(f"{tr('Story', lang)} #{story_id}")
        expect(log).not_to_contain_text(title)
        shot(page, "moderation-log-story", lang)
    assert in_app(lambda: db.session.scalar(select(ModerationDecision.target_type))) == "story"


def badge_with_stories(org, lang: str) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """A badge awarded four times, each award retold as a published story (the newest last)."""
    from datetime import timedelta

    from perfapp.core.db import utcnow
    from perfapp.recognition.models import Badge, BadgeAward
    from perfapp.stories.models import StoryPerson

    badge = Badge(name_zh="客户守护者", name_en="Customer guardian", icon="shield-check", colour="#30a46c",
                  description_zh="把客户的事当成自己的事。", description_en="Treats customers' problems as their own.",
                  tag_id=org.tag_id)
    db.session.add(badge)
    db.session.flush()
    titles = (["周末抢修支付故障", "陪客户熬过上线夜", "一通电话留住大客户", "把投诉变成表扬"] if lang == "zh" else
              ["The weekend payments fix", "A launch night with the customer", "One call that kept a client",
               "A complaint turned into praise"])
    now = utcnow()
    for i, (receiver, title) in enumerate(zip((org.lina, org.emma, org.james, org.lina), titles, strict=True)):
        award = BadgeAward(badge_id=badge.id, giver_id=org.boss.id, receiver_id=receiver.id, citation=title,
                           month="2026-11", created_at=now - timedelta(days=10 - i))
        db.session.add(award)
        db.session.flush()
        story = Story(source_type="badge_award", source_id=award.id, title=title, text=title,
                      promoter_id=org.boss.id, status="published", published_at=now - timedelta(days=4 - i))
        story.people = [StoryPerson(user_id=receiver.id, consent="accepted", responded_at=now)]
        db.session.add(story)
    db.session.commit()
    return badge.id, titles


@pytest.mark.parametrize("lang", LANGS)
def test_a_badge_shows_the_stories_behind_it(phone, org, lang, shot, tr, log_in, in_app) -> None:
    from pathlib import Path

    badge_id, titles = in_app(badge_with_stories, org, lang)
    page = phone(lang).page
    log_in(page, org.zhang)
    tap_tab(page, "walls")
    page.locator("nav.wall-tabs a[href='/walls/badges']").click()
    page.wait_for_url("**/walls/badges")
    page.locator(".bw-tile", has_text="客户守护者" if lang == "zh" else "Customer guardian").click()
    page.wait_for_url(f"**/walls/badges/{badge_id}")

    # The three newest stories, above the holders, and a way to all four.
    section = page.locator("section[aria-labelledby=stories-behind-title]")
    expect(section.locator("h2")).to_have_text(tr("Stories behind this badge", lang))
    links = section.locator("a[id^=story-link-]")
    expect(links).to_have_count(3)
    for n, title in enumerate(reversed(titles[1:])):
        expect(links.nth(n)).to_contain_text(title)
    expect(links.first).to_contain_text(org.lina.name)
    expect(section).not_to_contain_text(titles[0])
    expect(page.locator("article.holder")).to_have_count(3)
    no_horizontal_scroll(page)
    shot(page, "badge-stories", lang)
    Path("/tmp/shots").mkdir(exist_ok=True)
    page.screenshot(path=f"/tmp/shots/badge-stories-{lang}.png")

    see_all = section.locator("a.story-links-all")
    expect(see_all).to_have_text(tr("See all stories", lang))
    see_all.click()
    page.wait_for_url(f"**/stories/?badge={badge_id}")
    heading = "“客户守护者”徽章背后的案例" if lang == "zh" else "Stories behind the badge “Customer guardian”"
    expect(page.locator("#published-title")).to_have_text(heading)
    expect(page.locator("article.story-card")).to_have_count(4)
    no_horizontal_scroll(page)
    # The heading says which badge, so it must be in view (htmx scrolls the swapped page to the
    # top after it settles: wait for that instead of reading the position once, which was flaky).
    page.wait_for_function("window.scrollY === 0")
    page.screenshot(path=f"/tmp/shots/badge-stories-library-{lang}.png")

    page.go_back()
    page.wait_for_url(f"**/walls/badges/{badge_id}")
    page.locator("section[aria-labelledby=stories-behind-title] a[id^=story-link-]").first.click()
    page.wait_for_url(re.compile(r"/stories/\d+$"))
    expect(page.locator("article.story")).to_contain_text(titles[3])
