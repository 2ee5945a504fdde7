"""Home on a phone, zh and en: the give row on top, requests folded into one line that opens,
what I received below."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from perfapp.extensions import db
from perfapp.feedback import services
from perfapp.feedback.services import FeedbackInput
from perfapp.onboarding.services import dismiss
from perfapp.people.models import User

LANGS = ["zh", "en"]
SHOTS = Path("/tmp/shots/firstrun")


@pytest.mark.parametrize("lang", LANGS)
def test_home_gives_first_and_folds_requests(phone, org, lang, shot, tr, log_in, in_app) -> None:
    def history() -> None:
        lina = db.session.get(User, org.lina.id)
        dismiss(lina)
        for who, text in ((org.emma, "谢谢李娜，发布顺利！"), (org.james, "Thanks for the crisp design review.")):
            services.give_feedback(db.session.get(User, who.id), FeedbackInput(recipient_id=lina.id, text=text))
        services.give_feedback(lina, FeedbackInput(recipient_id=org.zhang.id, text="Given by Lina"))
        for who in (org.emma, org.zhang, org.boss):
            services.request_feedback(db.session.get(User, who.id), [lina.id], "How did the launch demo go?")
        db.session.commit()

    in_app(history)
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    give_row = page.locator(".home-give")
    expect(give_row.locator("a.btn-primary")).to_have_attribute("href", "/feedback/new")
    summary = page.locator("#asks > summary")
    expect(summary).to_contain_text(tr("%(num)d people asked for your feedback", lang, num=3)
                                    if lang == "en" else "3 人请你给反馈")
    expect(page.locator("#asks .card.ask").first).to_be_hidden()  # folded
    expect(page.locator("#feed article.fb")).to_have_count(2)  # received only; given is under Given
    expect(page.locator("#feed")).not_to_contain_text("Given by Lina")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(4800)  # the login toast fades
    shot(page, "home-balanced", lang)
    page.screenshot(path=str(SHOTS / f"home-balanced-{lang}.png"), animations="disabled")
    summary.click()
    expect(page.locator("#asks .card.ask")).to_have_count(3)
    expect(page.locator("#asks .card.ask").first).to_be_visible()
    page.screenshot(path=str(SHOTS / f"home-asks-open-{lang}.png"), animations="disabled")
    page.locator("#asks .card.ask a.btn-primary").first.click()
    page.wait_for_url(re.compile(r"/feedback/new\?ask=\d+$"))
