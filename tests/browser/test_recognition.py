"""Recognition on a phone, in Chinese and English: flowers, badges, automatic badges, the walls."""
from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import Page, expect

from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.recognition.badges import AwardInput, award_badge
from perfapp.recognition.models import Badge, BadgeAward
from tests.browser.test_journeys import pick_person

LANGS = ["zh", "en"]


def png(size: int = 48, rgb: tuple[int, int, int] = (255, 178, 36)) -> bytes:
    """A real, tiny PNG: a disc of one colour on a transparent square."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + b"".join(bytes((*rgb, 255 if (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 2.2) ** 2 else 0))
                           for x in range(size)) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def flower_total(page: Page) -> str:
    return page.locator("#flower-total b").inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_give_flowers_the_allowance_drops_and_the_total_rises(phone, org, lang, shot, tr, log_in) -> None:
    # The recipient's wall before.
    lina = phone(lang)
    log_in(lina.page, org.lina)
    lina.page.goto(f"/walls/people/{org.lina.id}")
    expect(lina.page.locator("#flower-total b")).to_have_text("0")

    emma = phone(lang)
    page = emma.page
    log_in(page, org.emma)
    page.locator("nav.tabbar a[data-tab=walls]").click()
    page.wait_for_url("**/walls/")
    page.locator(".wall-actions a[href='/recognition/flowers']").click()
    page.wait_for_url("**/recognition/flowers")
    expect(page.locator("#allowance")).to_contain_text(tr("%(left)d of %(total)d flowers left this month", lang,
                                                          left=10, total=10))
    pick_person(page, "lina", org.lina.name)
    expect(page.locator("#text")).to_be_focused()
    page.locator(".flower-count label", has_text="3").click()
    page.locator("#text").fill("谢谢你把发布演示讲得这么清楚" if lang == "zh" else "Thanks for the crystal-clear demo")
    page.locator("label.tag-toggle", has_text="#担当" if lang == "zh" else "#Ownership").click()
    shot(page, "flowers-filled", lang)
    page.locator(".sendbar button[type=submit]").click()

    sent = page.locator("#flower-form.sent")
    expect(sent).to_be_visible()
    expect(sent.locator(".flower-burst .icon")).to_have_count(3)
    expect(sent).to_contain_text(tr("%(left)d of %(total)d flowers left this month", lang, left=7, total=10))
    shot(page, "flowers-sent", lang)

    # Spending more than is left is refused in the person's language and changes nothing.
    page.goto(f"/recognition/flowers?to={org.lina.id}")
    expect(page.locator(".flower-count input[value='5']")).to_be_enabled()
    page.locator(".flower-count label", has_text="5").click()
    page.locator("#text").fill("More")
    page.locator(".sendbar button[type=submit]").click()  # 5 + 3 <= 10: fine
    expect(page.locator("#flower-form.sent")).to_be_visible()
    page.goto(f"/recognition/flowers?to={org.lina.id}")
    expect(page.locator("#allowance")).to_contain_text(tr("%(left)d of %(total)d flowers left this month", lang,
                                                          left=2, total=10))
    expect(page.locator(".flower-count input[value='3']")).to_be_disabled()

    # The recipient's total rose; the praise wall shows the flowers.
    lina.page.reload()
    expect(lina.page.locator("#flower-total b")).to_have_text("8")
    shot(lina.page, "badge-wall-flowers", lang)
    lina.page.goto(f"/people/{org.lina.id}")
    expect(lina.page.locator("#profile-flowers")).to_have_text("8")
    lina.page.goto("/walls/")
    card = lina.page.locator("article.rc-flower").first
    expect(card).to_contain_text(org.emma.name)
    expect(card.locator(".flower-row .icon")).to_have_count(5)
    shot(lina.page, "praise-wall-flowers", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_hr_adds_a_badge_and_a_colleague_awards_it(phone, org, lang, shot, tr, log_in, in_app, live_server,
                                                   tmp_path) -> None:
    live_server.app.config["UPLOAD_FOLDER"] = str(tmp_path)

    def make_hr() -> None:
        db.session.get(User, org.zhang.id).role = "hr"
        db.session.commit()

    in_app(make_hr)
    hr = phone(lang)
    page = hr.page
    log_in(page, org.zhang)
    page.goto("/admin/")
    page.locator("a[href='/recognition/admin/badges']").click()
    page.wait_for_url("**/recognition/admin/badges")
    page.locator("summary.admin-add-summary").click()
    page.fill("#f-name_zh", "客户之星")
    page.fill("#f-name_en", "Customer star")
    page.fill("#f-description_en", "Treats the customer's problem as their own.")
    page.locator("label.icon-choice[title=rocket]").click()
    page.locator("label.swatch").nth(5).click()
    # A fake PNG (an HTML file) is refused in the person's language; nothing is added.
    page.locator(".segmented-radio label", has_text=tr("Upload an image", lang)).click()
    page.set_input_files("#f-image", files=[{"name": "evil.png", "mimeType": "image/png",
                                             "buffer": b"<html><script>alert(1)</script></html>"}])
    page.locator("#badge-form button[type=submit]").click()
    expect(page.locator("#err-image")).to_contain_text(
        tr("Upload a PNG or WebP image (SVG and other files are not accepted).", lang))
    page.locator("#err-image").scroll_into_view_if_needed()
    shot(page, "badge-form-refused", lang)
    page.set_input_files("#f-image", files=[{"name": "star.png", "mimeType": "image/png", "buffer": png()}])
    page.locator("#badge-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/recognition/admin/badges/\d+$"))  # the new badge's own page
    expect(page.locator("#f-name_en")).to_have_value("Customer star")
    shot(page, "badge-added", lang)

    def created() -> tuple[str | None, str]:
        badge = db.session.scalar(db.select(Badge).where(Badge.name_en == "Customer star"))
        return badge.image, badge.awarders

    image, awarders = in_app(created)
    assert image and image.endswith(".png") and awarders == "anyone"

    emma = phone(lang)
    page = emma.page
    log_in(page, org.emma)
    page.goto("/walls/")
    page.locator(".wall-actions a[href='/recognition/award']").click()
    page.wait_for_url("**/recognition/award")
    pick_person(page, "lina", org.lina.name)
    page.locator(".badge-choice", has_text="客户之星" if lang == "zh" else "Customer star").click()
    page.locator("#text").fill("把一个棘手的投诉变成了续约" if lang == "zh" else "Turned a complaint into a renewal")
    shot(page, "award-filled", lang)
    page.locator(".sendbar button[type=submit]").click()
    sent = page.locator("#award-form.sent")
    expect(sent).to_be_visible()
    expect(sent.locator("img")).to_have_attribute("src", re.compile(r"/recognition/badge-images/[0-9a-f]{32}\.png"))
    shot(page, "award-sent", lang)

    def awarded() -> list[tuple[int, int | None]]:
        return [(a.receiver_id, a.giver_id) for a in db.session.scalars(db.select(BadgeAward))]

    assert in_app(awarded) == [(org.lina.id, org.emma.id)]


@pytest.mark.parametrize("lang", LANGS)
def test_an_automatic_badge_appears_after_the_first_feedback(phone, org, lang, shot, tr, log_in) -> None:
    emma = phone(lang)
    page = emma.page
    log_in(page, org.emma)
    page.goto(f"/walls/people/{org.emma.id}")
    expect(page.locator(".bw-cell")).to_have_count(0)
    page.goto("/feedback/new")
    pick_person(page, "lina", org.lina.name)
    page.locator("#text").fill("谢谢你的评审意见" if lang == "zh" else "Thanks for the review")
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#compose.sent")).to_be_visible()

    page.goto(f"/walls/people/{org.emma.id}")
    first = tr("First feedback", lang) if lang == "en" else "初次反馈"
    cell = page.locator(".bw-cell", has_text=first)
    expect(cell).to_be_visible()
    shot(page, "automatic-badge", lang)
    # The inbox tells her.
    page.goto("/notify/")
    expect(page.locator("article.rc-badge", has_text=first)).to_be_visible()
    expect(page.locator("article.rc-badge")).to_contain_text(tr("Earned automatically:", lang))
    shot(page, "automatic-badge-inbox", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_browse_the_badge_wall_and_open_a_badges_holders(phone, org, lang, shot, tr, log_in, in_app) -> None:
    def seed() -> int:
        badge = Badge(name_zh="最佳拍档", name_en="Great teammate", description_zh="让身边的人工作得更顺。",
                      description_en="Makes everyone around them work better.", icon="handshake",
                      colour="#0090ff", tag_id=org.tag_id)
        db.session.add(badge)
        db.session.flush()
        for giver, receiver, citation in ((org.emma, org.lina, "Paired with me all week"),
                                          (org.boss, org.lina, "Unblocked the release"),
                                          (org.lina, org.james, "Closed the deal together")):
            award_badge(db.session.get(User, giver.id),
                                 AwardInput(badge.id, receiver.id, citation))
        db.session.commit()
        return badge.id

    badge_id = in_app(seed)
    p = phone(lang)
    page = p.page
    log_in(page, org.zhang)
    page.locator("nav.tabbar a[data-tab=walls]").click()
    page.locator("nav.wall-tabs a[href='/walls/badges']").click()
    page.wait_for_url("**/walls/badges")
    tile = page.locator(".bw-tile", has_text="最佳拍档" if lang == "zh" else "Great teammate")
    expect(tile).to_contain_text(tr("%(num)d holders", lang, num=2) if lang == "en" else "2 人获得")
    shot(page, "badges-catalogue", lang)
    tile.click()
    page.wait_for_url(f"**/walls/badges/{badge_id}")
    holders = page.locator("article.holder")
    expect(holders).to_have_count(2)
    expect(holders.first).to_contain_text(org.james.name)  # the most recent first
    expect(holders.nth(1)).to_contain_text(org.lina.name)
    expect(holders.nth(1)).to_contain_text("×2")
    expect(holders.nth(1)).to_contain_text("Unblocked the release")
    shot(page, "badge-holders", lang)

    holders.nth(1).locator("a").first.click()
    page.wait_for_url(f"**/walls/people/{org.lina.id}")
    cell = page.locator(".bw-cell").first
    cell.locator("summary").click()
    citations = cell.locator(".citations li")
    expect(citations).to_have_count(2)
    expect(citations.first).to_contain_text("Unblocked the release")
    expect(citations.nth(1)).to_contain_text("Paired with me all week")
    # Images and icons never shift the layout: every badge image has its size set.
    assert page.evaluate("[...document.querySelectorAll('.badge-icon img')].every(i => i.width && i.height)")
    shot(page, "badge-citations", lang)
