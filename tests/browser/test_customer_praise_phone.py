"""Customer praise on a phone, zh and en: copy the forwarding address, or paste just the words."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

LANGS = ["zh", "en"]
ADDRESS = "praise@perfapp.example.com"


@pytest.fixture()
def inbound_address(live_server):  # type: ignore[no-untyped-def]
    live_server.app.config["INBOUND_EMAIL_ADDRESS"] = ADDRESS
    yield ADDRESS
    live_server.app.config["INBOUND_EMAIL_ADDRESS"] = None


@pytest.mark.parametrize("lang", LANGS)
def test_copy_the_address_then_paste_the_words_and_confirm(phone, org, lang, shot, tr, log_in,
                                                           inbound_address) -> None:
    p = phone(lang)
    p.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = p.page
    log_in(page, org.emma)
    page.goto("/integrations/praise/new")
    copy = page.locator("button[data-copy-target=inbound-address]")
    expect(copy).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The button's label stays on one line beside the address.
    assert copy.evaluate("e => e.getBoundingClientRect().height") <= 48
    shot(page, "customer-praise-import-phone", lang)
    copy.click()
    expect(page.locator(".copy-status")).to_have_text(tr("Copied", lang))
    assert page.evaluate("navigator.clipboard.readText()") == ADDRESS

    # Nothing typed: translated errors, nothing made.
    page.locator("#praise-text button[type=submit]").click()
    expect(page.locator("#err-customer")).to_have_text(tr("Say who wrote it: the customer's name or company.", lang))
    expect(page.locator("#err-message")).to_have_text(tr("Paste what the customer wrote.", lang))
    page.locator("#customer").fill("陈静，星河科技" if lang == "zh" else "Chen Jing, Acme")
    page.locator("#message").fill("李娜 一个小时就修好了我们的故障，太感谢了！" if lang == "zh"
                                  else "李娜 fixed our outage within an hour. Thank you!")
    page.locator("#praise-text button[type=submit]").click()
    review = page.locator("#praise-review")
    expect(review).to_contain_text("陈静，星河科技" if lang == "zh" else "Chen Jing, Acme")
    page.wait_for_url("**/integrations/praise/*")
    # 李娜 is suggested from the words, ticked; confirming makes it a recognition event.
    expect(review.locator(f"input[name=person_ids][value='{org.lina.id}']")).to_be_checked()
    shot(page, "customer-praise-text-review", lang)
    review.locator("button[type=submit]").first.click()
    expect(page.locator(".mail")).to_contain_text("修好了" if lang == "zh" else "fixed our outage")
    assert not p.page_errors
    assert [e for e in p.console_errors if "422" not in e] == []  # the empty try answered 422, as it should
