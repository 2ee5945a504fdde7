"""Reacting, commenting and reporting on a phone, and HR resolving the report (zh and en)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.moderation.models import ModerationDecision, PostingSuspension
from perfapp.reactions.models import Comment, Reaction
from tests.browser.conftest import PASSWORD, Org, Person

LANGS = ["zh", "en"]


def praise(org: Org, text: str) -> int:
    item = Feedback(author_id=org.emma.id, recipient_id=org.lina.id, kind="praise", visibility="public",
                    text=text, emoji="🎯")
    db.session.add(item)
    db.session.commit()
    return item.id


def hr_person() -> Person:
    from perfapp.auth.services import hash_password
    from perfapp.people.models import User

    user = User(email="hr@example.com", role="hr", password_hash=hash_password(PASSWORD))
    user.set_name("周婷")
    db.session.add(user)
    db.session.commit()
    return Person(user.id, user.name, user.email)


def no_reload_since_mark(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


@pytest.mark.parametrize("lang", LANGS)
def test_react_comment_report_and_resolve(phone, org, lang, shot, tr, log_in, in_app) -> None:
    text = "发布演示讲得非常清楚，谢谢你！" if lang == "zh" else "The launch demo was crystal clear, thank you!"
    comment = "完全同意 👏" if lang == "zh" else "Couldn't agree more 👏"
    reason = "这条内容不属实" if lang == "zh" else "This isn't true"
    feedback_id = in_app(praise, org, text)
    hr = in_app(hr_person)
    key = f"feedback-{feedback_id}"

    # 张敏 sees the praise on the wall and likes it: the count changes in place.
    page = phone(lang).page
    log_in(page, org.zhang)
    page.goto("/walls/")
    card = page.locator(f"#fb-{feedback_id}")
    expect(card).to_contain_text(text)
    page.evaluate("window.__sameDocument = true")
    like = card.locator(".rx-like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator(".rx-n")).to_have_text("1")
    expect(page.locator(f"#rx-said-{key}")).to_have_text(tr("You reacted with %(emoji)s.", lang, emoji="👍"))
    # Another emoji from the picker.
    card.locator("details.rx-add > summary").click()
    card.locator(".rx-pick", has_text="🔥").click()
    fire = card.locator(".rx-btn[value='🔥']")
    expect(fire).to_have_attribute("aria-pressed", "true")
    expect(fire.locator(".rx-n")).to_have_text("1")
    assert no_reload_since_mark(page)
    shot(page, "reactions-bar", lang)
    assert in_app(lambda: sorted(db.session.scalars(select(Reaction.emoji)))) == sorted(["👍", "🔥"])

    # A comment: the thread opens in place, an empty one is refused, a real one appears with the count.
    card.locator("details.rx-comments > summary").click()
    box = card.locator(f"#comment-text-{key}")
    expect(box).to_be_visible()
    card.locator(".comment-send").click()
    expect(card.locator(f"#err-comment-{key}")).to_have_text(tr("Write a comment first.", lang))
    card.locator(f"#comment-text-{key}").fill(comment)
    card.locator(".comment-send").click()
    expect(card.locator(".comment", has_text=comment)).to_be_visible()
    expect(page.locator(f"#rx-n-{key} .rx-n")).to_have_text("1")
    expect(card.locator(f"#comment-text-{key}")).to_have_value("")
    assert no_reload_since_mark(page)
    shot(page, "reactions-thread", lang)
    assert in_app(lambda: list(db.session.scalars(select(Comment.text)))) == [comment]

    # Report the post: the bottom sheet asks for a reason, then the post is replaced by a notice.
    card.locator(f"a[href='/moderation/report/feedback/{feedback_id}']").click()
    sheet = page.locator(f"#sheet-{key} dialog.sheet")
    expect(sheet).to_be_visible()
    sheet.locator("button.btn-primary").click()
    expect(sheet.locator(".field-error")).to_have_text(tr("Say briefly what is wrong with it.", lang))
    sheet.locator("textarea").fill(reason)
    shot(page, "report-sheet", lang)
    sheet.locator("button.btn-primary").click()
    notice = page.locator(f"#fb-{feedback_id}.rx-reported")
    expect(notice).to_contain_text(tr("Thank you. It is hidden for you while HR looks at your report.", lang))
    assert no_reload_since_mark(page)
    shot(page, "report-done", lang)
    # Hidden for the reporter only: one report can't take praise off the wall for everyone.
    assert in_app(lambda: db.session.get(Feedback, feedback_id).hidden) is False
    page.reload()
    expect(page.locator("#main .mod-hidden-for-you")).to_have_count(1)
    expect(page.locator("#main")).not_to_contain_text(text)
    recipient = phone(lang).page
    log_in(recipient, org.lina)
    expect(recipient.locator(f"#fb-{feedback_id}")).to_contain_text(text)

    # HR, on a phone: Me → Administration → Moderation, then a decision.
    page = phone(lang).page
    log_in(page, hr)
    page.locator("nav.tabbar a[data-tab=me]").click()
    page.locator("a[href='/admin/']").click()
    page.locator("a[href='/moderation/']").click()
    case = page.locator(f"#case-{key}")
    expect(case).to_contain_text(text)
    expect(case).to_contain_text(reason)
    expect(case).to_contain_text(org.emma.name)
    shot(page, "moderation-queue", lang)
    if lang == "en":
        case.locator("button[value=restore]").click()
        expect(case.locator(".admin-done")).to_contain_text(
            tr("Restored. Everyone who could see it before sees it again.", lang))
        shot(page, "moderation-restored", lang)
        assert in_app(lambda: db.session.get(Feedback, feedback_id).hidden) is False
        recipient.goto("/")
        expect(recipient.locator(f"#fb-{feedback_id}")).to_contain_text(text)
    else:
        case.locator(".mod-suspend summary").click()
        case.locator("button[value=suspend]").click()  # no reason yet: refused, in Chinese
        expect(case.locator(f"#err-mod-reason-{key}")).to_have_text(tr("Say why, for the audit log.", lang))
        case.locator("textarea[name=reason]").fill("不实信息，屡次发生")
        case.locator(".mod-suspend summary").click()
        case.locator("input[name=days]").fill("3")
        case.locator("button[value=suspend]").click()
        # It can't be undone, so it is asked once more; nothing has happened yet.
        confirm = case.locator(".mod-confirm")
        expect(confirm).to_be_visible()
        shot(page, "moderation-confirm", lang)
        assert in_app(lambda: db.session.get(Feedback, feedback_id)) is not None
        confirm.locator("button[value=suspend]").click()
        expect(page.locator(f"#case-{key} .admin-done")).to_contain_text(org.emma.name)
        shot(page, "moderation-suspended", lang)
        assert in_app(lambda: db.session.get(Feedback, feedback_id)) is None
        assert in_app(lambda: db.session.scalar(select(PostingSuspension.user_id))) == org.emma.id
        page.locator("a.appbar-action", has_text=tr("Audit log", lang)).click()
        expect(page.locator(".mod-log")).to_contain_text("不实信息，屡次发生")
        expect(page.locator(".mod-log")).not_to_contain_text(text)
        shot(page, "moderation-log", lang)
        # The author can't post while suspended, and is told so in Chinese.
        author = phone(lang).page
        log_in(author, org.emma)
        author.goto(f"/feedback/new?to={org.lina.id}")
        author.locator("#text").fill("再试一次")
        author.locator(".sendbar button[type=submit]").click()
        expect(author.locator("#compose .form-error")).to_contain_text("之前你不能发布内容")
        shot(author, "compose-suspended", lang)
        assert in_app(lambda: db.session.scalar(select(func.count()).select_from(Feedback))) == 0
    assert in_app(lambda: db.session.scalar(select(func.count()).select_from(ModerationDecision))) == 1
