"""The give sheet on a phone, zh and en: suggestions before typing, kind decides the audience,
the sentence next to Send says who will see it, a value chip, then flowers for the same person."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.recognition.models import FlowerGift
from tests.browser.test_journeys import tap_tab


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_give_a_suggestion_then_flowers_to_the_same_person(phone, org, lang, shot, tr, log_in, in_app) -> None:
    emma = phone(lang)
    page = emma.page
    log_in(page, org.emma)
    tap_tab(page, "give")
    page.wait_for_url("**/feedback/new")
    # Before typing: her manager and her teammate, each labelled by why; the search has focus.
    expect(page.locator("#picker-q")).to_be_focused()
    expect(page.locator(".suggest-chip", has_text=org.boss.name)).to_contain_text(tr("Your manager", lang))
    lina_chip = page.locator(".suggest-chip", has_text=org.lina.name)
    expect(lina_chip).to_contain_text(tr("Your team", lang))
    expect(page.locator("[data-audience-who]")).to_have_text(tr("Everyone will see this on the praise wall.", lang))
    shot(page, "give-open", lang)
    lina_chip.click()
    expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()

    # A suggestion is never public: the option goes, and the sentence says who will see it.
    page.locator(".kind-choice label", has_text=tr("Suggestion", lang)).click()
    expect(page.locator("[data-visibility-option=public]")).to_be_hidden()
    expect(page.locator("[data-audience-who]")).to_have_text(tr("Only %(name)s will see this.", lang, name=org.lina.name))
    page.locator("[data-visibility-option=manager]").click()
    expect(page.locator("[data-audience-who]")).to_have_text(
        tr("%(name)s and their manager will see this.", lang, name=org.lina.name))
    page.locator("[data-show-name]").uncheck()
    expect(page.locator("[data-audience-name]")).to_be_visible()
    page.locator("[data-show-name]").check()
    expect(page.locator("[data-audience-name]")).to_be_hidden()
    page.locator("#text").fill("下次演示前先发议程" if lang == "zh" else "Send the agenda before the next demo")
    page.locator("label.tag-toggle", has_text="#担当" if lang == "zh" else "#Ownership").first.click()
    page.locator(".audience-choice").scroll_into_view_if_needed()
    shot(page, "give-suggestion", lang)
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator(".sent")).to_be_visible()

    def stored() -> tuple:
        item = db.session.scalars(select(Feedback)).one()
        return item.kind, item.visibility, item.confidential, [t.id for t in item.tags], item.recipient_id

    assert in_app(stored) == ("suggestion", "manager", False, [org.tag_id], org.lina.id)

    # Flowers from the same sheet, the person carried across.
    page.locator("[data-give-switch] a[href*='/recognition/flowers']").click()
    page.wait_for_url(f"**/recognition/flowers?to={org.lina.id}")
    expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()
    page.locator("#text").fill("谢谢！" if lang == "zh" else "Thank you!")
    shot(page, "give-flowers", lang)
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#flower-form.sent")).to_be_visible()

    def gift() -> tuple:
        row = db.session.scalars(select(FlowerGift)).one()
        return row.receiver_id, row.count

    assert in_app(gift) == (org.lina.id, 1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_picker_knows_me_finds_an_email_and_carries_the_person_to_badges(phone, org, lang, shot, tr,
                                                                            log_in) -> None:
    page = phone(lang).page
    log_in(page, org.emma)
    page.goto("/feedback/new")
    page.locator("#picker-q").fill("emma")
    expect(page.locator("#picker-results .picker-empty")).to_have_text(
        tr("That's you. Choose someone else to give to.", lang))
    shot(page, "give-thats-you", lang)
    page.locator("#picker-q").fill(org.zhang.email)
    option = page.locator("#picker-results [data-pick]", has_text=org.zhang.name)
    expect(option).to_have_count(1)
    option.click()
    # 张敏 is no one's teammate: the sentence names whoever was picked.
    expect(page.locator("[data-audience-who]")).to_have_text(tr("Everyone will see this on the praise wall.", lang))
    page.locator("[data-visibility-option=private]").click()
    expect(page.locator("[data-audience-who]")).to_have_text(tr("Only %(name)s will see this.", lang, name=org.zhang.name))
    page.locator("[data-give-switch] a[href*='/recognition/award']").click()
    page.wait_for_url(f"**/recognition/award?to={org.zhang.id}")
    expect(page.locator("#picked .picked-chip", has_text=org.zhang.name)).to_be_visible()
    expect(page.locator("[data-give-switch] a[aria-current=page]")).to_contain_text(tr("Badge", lang))
    shot(page, "give-badge", lang)


def test_what_was_typed_before_the_picker_was_wired_is_searched(phone, org, log_in) -> None:
    """A boosted page is wired by htmx a moment after it shows (its settle step): a name typed in
    that moment raised no request, and the picker stayed empty (a real race on a slow phone)."""
    page = phone("en").page
    log_in(page, org.emma)
    page.goto("/feedback/new")
    # As if typed in that moment: the value is there and no input event reaches htmx.
    page.evaluate("""() => {
        document.querySelector('#picker-q').value = 'lina';
        document.body.dispatchEvent(new CustomEvent('htmx:load', {bubbles: true}));
    }""")
    expect(page.locator("#picker-results [data-pick]", has_text=org.lina.name)).to_have_count(1)
