"""Recognition pages over HTTP: give flowers, award badges, HR pages, uploads; with and without htmx."""
from __future__ import annotations

from html import unescape
from io import BytesIO

import pytest
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.notify.models import Notification
from perfapp.recognition.badges import upload_dir
from perfapp.recognition.flowers import (
    FlowerInput,
    default_allowance,
    flower_total,
    flowers_left,
    give_flowers,
    set_default_allowance,
)
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift, FlowerQuota, GiverMonth
from perfapp.recognition.rules import ensure_automatic_badges
from tests.recognition.conftest import PNG, WEBP, count


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def is_fragment(response) -> bool:  # type: ignore[no-untyped-def]
    return "<html" not in text(response) and "HX-Request" in response.headers.get("Vary", "")


# --- flowers -------------------------------------------------------------------------------

def test_flower_page_shows_the_allowance_and_prefills_the_person(org, login) -> None:
    page = text(login(org.emma).get(f"/recognition/flowers?to={org.lina.id}"))
    assert "10 of 10 flowers left this month" in page
    assert f'name="receiver_id" value="{org.lina.id}"' in page
    assert "#Ownership" in page and "#Communication" not in page  # values only


def test_give_flowers_with_a_plain_form_redirects(org, login) -> None:
    client = login(org.emma)
    r = client.submit("/recognition/flowers", {"receiver_id": org.lina.id, "count": 3, "message": "Thanks!",
                                              "tag_id": org.value.id})
    assert r.status_code == 303 and r.headers["Location"].endswith("/recognition/flowers")
    assert "You sent 3 flowers to 李娜." in text(client.get("/recognition/flowers"))
    assert "7 of 10 flowers left this month" in text(client.get("/recognition/flowers"))


def test_give_flowers_with_htmx_celebrates_in_a_fragment(org, login) -> None:
    r = login(org.emma).submit("/recognition/flowers", {"receiver_id": org.lina.id, "count": 2, "message": "Thanks"},
                               htmx=True, target="flower-form")
    assert r.status_code == 200 and is_fragment(r)
    assert r.headers["HX-Trigger"] == "flowers-sent"
    body = text(r)
    assert 'class="flower-burst"' in body and "2 flowers for 李娜" in body and "8 of 10 flowers left" in body


@pytest.mark.parametrize(("data", "message"), [
    ({"count": 11}, "Give from 1 to 5 flowers."),
    ({"count": "lots"}, "Give from 1 to 5 flowers."),
    ({"message": ""}, "Write a short message to go with them."),
    ({"message": "x" * 501}, "Keep it under 500 characters."),
    ({"receiver": "self"}, "You can't give flowers to yourself."),
    ({"receiver": "gone"}, "Gone Person is no longer active."),
    ({"tag": "skill"}, "Choose one of the company's values."),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_flowers_answer_422_and_change_nothing(org, login, data, message, htmx) -> None:
    receiver = {"self": org.emma, "gone": org.gone}.get(data.get("receiver", ""), org.lina)
    form = {"receiver_id": receiver.id, "count": data.get("count", 1), "message": data.get("message", "Thanks"),
            "tag_id": org.skill.id if data.get("tag") else ""}
    r = login(org.emma).submit("/recognition/flowers", form, htmx=htmx, target="flower-form")
    assert r.status_code == 422
    assert message in text(r) and is_fragment(r) == htmx
    assert count(FlowerGift) == 0 and count(GiverMonth, GiverMonth.flowers_spent > 0) == 0


def test_more_than_remain_is_a_translated_422(org, login) -> None:
    client = login(org.lina)  # reads Chinese
    assert client.submit("/recognition/flowers", {"receiver_id": org.emma.id, "count": 5, "message": "谢谢"}).status_code == 303
    assert client.submit("/recognition/flowers", {"receiver_id": org.emma.id, "count": 4, "message": "谢谢"}).status_code == 303
    r = client.submit("/recognition/flowers", {"receiver_id": org.emma.id, "count": 2, "message": "谢谢"},
                      htmx=True, target="flower-form")
    assert r.status_code == 422
    assert "本月还剩 1 朵小红花。" in text(r)
    assert flower_total(org.emma) == 9


def test_profile_and_badge_wall_show_the_flower_total(org, login) -> None:
    login(org.emma).submit("/recognition/flowers", {"receiver_id": org.lina.id, "count": 4, "message": "Thanks"})
    viewer = login(org.zhang)
    profile = text(viewer.get(f"/people/{org.lina.id}"))
    assert '<b id="profile-flowers">4</b>' in profile
    wall = text(viewer.get(f"/walls/people/{org.lina.id}"))
    assert '<dd id="flower-total">' in wall and "<b>4</b>" in wall


def test_the_inbox_shows_flowers_and_badges_received(org, login) -> None:
    client = login(org.emma)
    client.submit("/recognition/flowers", {"receiver_id": org.lina.id, "count": 2, "message": "For the demo"})
    client.submit("/recognition/award", {"receiver_id": org.lina.id, "badge_id": org.anyone.id,
                                        "citation": "Stayed late for the release"})
    inbox = text(login(org.lina).get("/notify/"))
    assert "For the demo" in inbox and "Stayed late for the release" in inbox
    assert count(Notification, Notification.user_id == org.lina.id) == 2


# --- badges --------------------------------------------------------------------------------

def test_award_page_lists_only_badges_i_may_award(org, login) -> None:
    page = text(login(org.emma).get(f"/recognition/award?to={org.lina.id}&badge={org.anyone.id}"))
    assert "Helper" in page and "Coach" not in page and "Hero" not in page
    assert f'value="{org.anyone.id}" checked' in page


def test_award_with_a_plain_form_and_with_htmx(org, login) -> None:
    client = login(org.emma)
    r = client.submit("/recognition/award", {"receiver_id": org.lina.id, "badge_id": org.anyone.id,
                                            "citation": "Great help"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/walls/badges/{org.anyone.id}")
    r = client.submit("/recognition/award", {"receiver_id": org.zhang.id, "badge_id": org.anyone.id,
                                            "citation": "Great help"}, htmx=True, target="award-form")
    assert r.status_code == 200 and is_fragment(r) and r.headers["HX-Trigger"] == "badge-awarded"
    assert "张敏 earned “Helper”" in text(r)
    assert count(BadgeAward) == 2


@pytest.mark.parametrize(("who", "badge", "receiver", "citation", "message"), [
    ("emma", "managers", "lina", "Hi", "Only managers can award this badge."),
    ("emma", "holders", "lina", "Hi", "Only people who hold this badge can award it."),
    ("emma", "hr_only", "lina", "Hi", "Only HR can award this badge."),
    ("emma", "anyone", "emma", "Hi", "You can't award a badge to yourself."),
    ("emma", "anyone", "gone", "Hi", "Gone Person is no longer active."),
    ("emma", "anyone", "lina", "", "Say why they earned it."),
    ("emma", "anyone", "lina", "x" * 501, "Keep it under 500 characters."),
])
def test_bad_awards_answer_422_and_change_nothing(org, login, who, badge, receiver, citation, message) -> None:
    r = login(getattr(org, who)).submit("/recognition/award", {
        "receiver_id": getattr(org, receiver).id, "badge_id": getattr(org, badge).id, "citation": citation},
        htmx=True, target="award-form")
    assert r.status_code == 422 and message in text(r)
    assert count(BadgeAward) == 0


def test_beyond_the_monthly_limit_is_a_translated_422(org, login) -> None:
    client = login(org.lina)
    for person in (org.emma, org.zhang):
        assert client.submit("/recognition/award", {"receiver_id": person.id, "badge_id": org.anyone.id,
                                                   "citation": "谢谢"}).status_code == 303
    r = client.submit("/recognition/award", {"receiver_id": org.boss.id, "badge_id": org.anyone.id, "citation": "谢谢"})
    assert r.status_code == 422 and "这枚徽章每月可颁发 2 次，本月已用完。" in text(r)
    assert count(BadgeAward) == 2


# --- HR pages ------------------------------------------------------------------------------

HR_PAGES = ["/recognition/admin/flowers", "/recognition/admin/badges", "/recognition/signals"]


@pytest.mark.parametrize("url", HR_PAGES)
def test_hr_pages_are_403_for_employees(org, login, url) -> None:
    client = login(org.emma)
    assert client.get(url).status_code == 403
    assert client.get(f"/recognition/admin/badges/{org.anyone.id}").status_code == 403
    assert client.submit(url, {"monthly_flowers": 99, "name_zh": "x", "name_en": "x"}).status_code in (403, 405)
    assert client.submit("/recognition/admin/flowers/people", {"person_id": org.emma.id, "monthly": 99}).status_code == 403
    assert client.submit(f"/recognition/admin/badges/{org.anyone.id}", {"name_en": "Mine"}).status_code == 403
    assert count(FlowerQuota) == 0 and default_allowance() == 10
    assert db.session.get(Badge, org.anyone.id).name_en == "Helper"


def test_hr_pages_open_for_hr(org, login) -> None:
    client = login(org.hr)
    for url in HR_PAGES:
        assert client.get(url).status_code == 200
    assert client.get(f"/recognition/admin/badges/{org.anyone.id}").status_code == 200


def test_hr_changes_the_default_and_gives_someone_more(org, login) -> None:
    client = login(org.hr)
    r = client.submit("/recognition/admin/flowers", {"monthly_flowers": 6}, htmx=True, target="allowance")
    assert r.status_code == 200 and is_fragment(r) and 'value="6"' in text(r)
    r = client.submit("/recognition/admin/flowers/people", {"person_id": org.boss.id, "monthly": 25})
    assert r.status_code == 303
    assert flowers_left(org.emma) == (6, 6) and flowers_left(org.boss) == (25, 25)
    r = client.submit("/recognition/admin/flowers", {"monthly_flowers": -3}, htmx=True, target="allowance")
    assert r.status_code == 422 and "Enter a whole number from 0 to 1000." in text(r)
    assert default_allowance() == 6
    r = client.submit(f"/recognition/admin/flowers/people/{org.boss.id}/remove", {})
    assert r.status_code == 303 and count(FlowerQuota) == 0


def badge_form(**kw):  # type: ignore[no-untyped-def]
    return {"name_zh": "客户之星", "name_en": "Customer star", "description_zh": "", "description_en": "",
            "icon_source": "icon", "icon": "star", "colour": "#0090ff", "awarders": "anyone",
            "monthly_limit": "3", "active": "1", **kw}


def test_hr_adds_a_badge_with_an_icon_and_with_an_upload(org, login) -> None:
    client = login(org.hr)
    r = client.submit("/recognition/admin/badges", badge_form(tag_id=org.value.id))
    assert r.status_code == 303
    star = db.session.scalar(select(Badge).where(Badge.name_en == "Customer star"))
    assert star.icon == "star" and star.tag_id == org.value.id
    r = client.submit("/recognition/admin/badges", badge_form(
        name_en="Upload", icon_source="image", image=(BytesIO(WEBP), "shiny.png")),
        htmx=True, target="badge-form", content_type="multipart/form-data")
    uploaded = db.session.scalar(select(Badge).where(Badge.name_en == "Upload"))
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/recognition/admin/badges/{uploaded.id}"
    r = client.submit(f"/recognition/admin/badges/{uploaded.id}", badge_form(name_en="Upload", icon_source="image",
                                                                               colour="#30a46c"),
                      htmx=True, target="badge-form")  # no new file: the image stays
    assert r.status_code == 200 and is_fragment(r) and "Saved." in text(r)
    uploaded = db.session.scalar(select(Badge).where(Badge.name_en == "Upload"))
    assert uploaded.image.endswith(".webp") and "shiny" not in uploaded.image
    image = client.get(f"/recognition/badge-images/{uploaded.image}")
    data = image.data
    image.close()  # send_file streams from the open file
    assert image.status_code == 200 and data == WEBP
    assert image.headers["Content-Type"] == "image/webp"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in image.headers["Cache-Control"]
    # The walls show it lazily, with its size set so nothing jumps.
    page = text(client.get(f"/walls/badges/{uploaded.id}"))
    assert 'loading="lazy"' in page and 'width="48" height="48"' in page


@pytest.mark.parametrize(("upload", "message"), [
    ((b"<!doctype html><script>alert(1)</script>", "evil.png"), "Upload a PNG or WebP image"),
    ((b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "icon.png"), "Upload a PNG or WebP image"),
    ((b'<svg xmlns="http://www.w3.org/2000/svg"/>', "icon.svg"), "Upload a PNG or WebP image"),
    ((PNG + b"\x00" * (100 * 1024), "big.png"), "The image must be 100 KB or smaller."),
])
def test_fake_or_too_big_images_are_refused(org, login, upload, message) -> None:
    client = login(org.hr)
    r = client.submit("/recognition/admin/badges", badge_form(icon_source="image", image=(BytesIO(upload[0]), upload[1])),
                      htmx=True, target="badge-form", content_type="multipart/form-data")
    assert r.status_code == 422 and message in text(r)
    assert count(Badge, Badge.rule.is_(None)) == 4
    assert not upload_dir().exists() or not any(upload_dir().iterdir())


def test_a_huge_upload_is_413(org, login) -> None:
    r = login(org.hr).submit("/recognition/admin/badges", badge_form(
        icon_source="image", image=(BytesIO(PNG + b"\x00" * (300 * 1024)), "huge.png")),
        content_type="multipart/form-data")
    assert r.status_code == 413 and count(Badge, Badge.rule.is_(None)) == 4


def test_a_zh_hr_person_gets_chinese_errors(org, login, make_user) -> None:
    hr_zh = make_user(name="张HR", email="hrzh@example.com", role="hr", locale="zh_Hans_CN")
    r = login(hr_zh).submit("/recognition/admin/badges", badge_form(
        icon_source="image", image=(BytesIO(b"GIF89a"), "x.png")), content_type="multipart/form-data")
    assert r.status_code == 422 and "请上传 PNG 或 WebP 图片" in text(r)


def test_badge_images_never_serve_anything_else(org, login) -> None:
    folder = upload_dir()
    folder.mkdir(parents=True)
    (folder / "evil.png").write_bytes(b"<script>alert(1)</script>")
    client = login(org.emma)
    assert client.get("/recognition/badge-images/evil.png").status_code == 404
    assert client.get("/recognition/badge-images/..%2F..%2Fsecret").status_code == 404
    assert client.get("/recognition/badge-images/missing.png").status_code == 404


def test_hr_edits_an_automatic_badge_but_not_its_rule(org, login) -> None:
    ensure_automatic_badges()  # as the migration made them
    db.session.commit()
    client = login(org.hr)
    assert client.get("/recognition/admin/badges").status_code == 200
    first = db.session.scalar(select(Badge).where(Badge.rule == "first-feedback"))
    r = client.submit(f"/recognition/admin/badges/{first.id}", badge_form(name_en="First words", awarders="anyone",
                                                                          monthly_limit="50"))
    assert r.status_code == 303
    db.session.refresh(first)
    assert first.name_en == "First words" and first.awarders == "hr" and first.rule == "first-feedback"


def test_collusion_page_lists_signals_for_hr(org, login) -> None:
    set_default_allowance(org.hr, 50)
    for _ in range(5):
        give_flowers(org.emma, FlowerInput(org.lina.id, 1, "Thanks"))
    give_flowers(org.lina, FlowerInput(org.emma.id, 1, "Thanks"))
    db.session.commit()
    page = text(login(org.hr).get("/recognition/signals"))
    assert "5 times" in page and "1 / 5" in page  # 李娜 → Emma once, Emma → 李娜 five times


def test_signals_are_hrs_and_a_manager_who_finds_the_address_is_sent_to_my_team(org, login) -> None:
    """HR sees company-wide patterns; managers coach on My team. Neither an employee nor a manager
    is linked to the signals page, and typing its address says why, in their language."""
    from tests.conftest import htmx_headers

    boss = login(org.boss)  # 王伟 manages 李娜 and Emma; no locale: the browser's language
    response = boss.get("/recognition/signals", headers={"Accept-Language": "zh-CN"})
    page = text(response)
    assert response.status_code == 403
    assert "此页面仅供HR使用。" in page and 'href="/coaching/team"' in page
    assert "/recognition/signals" not in text(boss.get("/people/me")) + text(boss.get("/coaching/team"))
    toast = boss.get("/recognition/signals", headers={**htmx_headers(), "Accept-Language": "en"})
    assert toast.status_code == 403 and "This page is for HR." in text(toast)

    emma = login(org.emma)
    response = emma.get("/recognition/signals")
    assert response.status_code == 403 and "This page is for HR." in text(response)
    assert "/coaching/team" not in text(response)  # no team to send her to
    assert "/recognition/signals" not in text(emma.get("/people/me"))

    hr = login(org.hr)
    assert hr.get("/recognition/signals").status_code == 200
    assert "/recognition/signals" in text(hr.get("/admin/"))


# --- reports, moderation and reactions on flowers and badges ----------------------------------

def test_a_reported_flower_is_hidden_and_deleting_it_refunds_the_giver(org, login) -> None:
    from perfapp.moderation import services as moderation

    login(org.emma).submit("/recognition/flowers", {"receiver_id": org.lina.id, "count": 4, "message": "Suspicious"})
    gift = db.session.scalar(select(FlowerGift))
    reporter = login(org.zhang)
    assert "Suspicious" in text(reporter.get("/walls/"))
    r = reporter.submit(f"/moderation/report/flower/{gift.id}", {"reason": "Looks like a swap"})
    assert r.status_code in (200, 303)
    # Hidden for the reporter at once (a notice in its place); still there for everyone else.
    wall = text(reporter.get("/walls/"))
    assert "Suspicious" not in wall and "You reported this, so it is hidden for you." in wall
    assert "Suspicious" not in text(reporter.get(f"/recognition/flowers/{gift.id}"))
    assert "Suspicious" in text(login(org.lina).get("/walls/")) and flower_total(org.lina) == 4
    # Two more people report it: hidden from everyone but HR, and it no longer counts.
    for person in (org.lina, org.hr):
        moderation.report(person, "flower", gift.id, "Looks like a swap")
    db.session.commit()
    assert login(org.lina).get(f"/recognition/flowers/{gift.id}").status_code == 404
    assert flower_total(org.lina) == 0  # hidden rows don't count for non-HR
    hr = login(org.hr)
    assert "Suspicious" in text(hr.get("/moderation/"))
    moderation.decide(org.hr, "flower", gift.id, "delete", "Swap ring")
    db.session.commit()
    assert count(FlowerGift) == 0 and flowers_left(org.emma) == (10, 10)


def test_people_react_to_and_comment_on_flowers_and_badges(org, login) -> None:
    client = login(org.emma)
    client.submit("/recognition/flowers", {"receiver_id": org.lina.id, "count": 1, "message": "Thanks"})
    client.submit("/recognition/award", {"receiver_id": org.lina.id, "badge_id": org.anyone.id, "citation": "Great"})
    gift, award_row = db.session.scalar(select(FlowerGift)), db.session.scalar(select(BadgeAward))
    other = login(org.zhang)
    wall = text(other.get("/walls/"))
    assert f'id="rx-flower-{gift.id}"' in wall and f'id="rx-badge_award-{award_row.id}"' in wall
    assert other.submit(f"/reactions/flower/{gift.id}/react", {"emoji": "👍"}, htmx=True,
                        target=f"rx-flower-{gift.id}").status_code == 200
    page = text(other.get(f"/recognition/flowers/{gift.id}"))
    assert "Thanks" in page and f'id="rx-flower-{gift.id}-like"' in page
    assert other.get(f"/recognition/awards/{award_row.id}").status_code == 200
    assert other.get("/recognition/awards/99999").status_code == 404
    # Links sent before the pages moved to recognition (mail, push) lead there.
    old = other.get(f"/walls/flowers/{gift.id}")
    assert old.status_code == 308 and old.headers["Location"].endswith(f"/recognition/flowers/{gift.id}")
    assert other.get(f"/walls/awards/{award_row.id}").headers["Location"].endswith(f"/recognition/awards/{award_row.id}")


def test_with_no_badge_to_award_the_sheet_offers_flowers_instead_of_a_button_that_can_only_fail(
        make_user, login) -> None:
    giver, receiver = make_user(name="Giver"), make_user(name="李娜")
    page = text(login(giver).get(f"/recognition/award?to={receiver.id}"))
    assert "There are no badges you can award yet." in page
    assert 'name="citation"' not in page and "Award badge</button>" not in page
    assert f'href="/recognition/flowers?to={receiver.id}"' in page and "Give flowers instead" in page
