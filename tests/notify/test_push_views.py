"""Me → Notifications: the page (with and without htmx), subscribing devices, preferences,
HR's organisation switch, the unread count; permissions and every bad input."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.notify.models import NotificationPreference, NudgeSetting, PushSubscription, VapidKey
from perfapp.notify.push import b64url_encode
from tests.conftest import htmx_headers
from tests.notify.conftest import Browser

FCM = "https://fcm.googleapis.com/fcm/send/"
ZH = {"Accept-Language": "zh-CN"}


def subscription(endpoint: str = FCM + "device-1", browser: Browser | None = None) -> dict:
    browser = browser or Browser()
    return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}}


def post_json(client, url: str, data, **headers):  # type: ignore[no-untyped-def]
    return client.post(url, json=data, headers={"X-CSRFToken": client.csrf, **headers})


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- the page -------------------------------------------------------------------------------------

def test_the_page_serves_the_public_key_and_asks_nothing_yet(make_user, login) -> None:
    me = make_user()
    c = login(me)
    page = c.get("/notify/settings").get_data(as_text=True)
    key = db.session.scalar(select(VapidKey.public_key))
    assert f'data-vapid-key="{key}"' in page and count(VapidKey) == 1
    assert "Turn on push notifications" in page and "/static/js/push.js" in page
    assert 'name="quiet_start"' in page and 'value="21:00"' in page and 'value="08:00"' in page
    assert 'name="daily_cap"' in page and 'value="5"' in page
    assert page.count('type="checkbox"') == 6  # five nudge groups and quiet hours, all on by default
    assert page.count("checked") == 6
    # The same key on the next visit; Me links here.
    assert f'data-vapid-key="{key}"' in c.get("/notify/settings").get_data(as_text=True) and count(VapidKey) == 1
    assert 'href="/notify/settings"' in c.get("/people/me").get_data(as_text=True)


def test_the_page_in_chinese(make_user, login) -> None:
    page = login(make_user(locale="zh_Hans_CN")).get("/notify/settings").get_data(as_text=True)
    for text in ("开启推送通知", "免打扰时段", "每日上限", "里程碑达成", "每周提醒"):
        assert text in page


def test_fragments_for_htmx(make_user, login) -> None:
    c = login(make_user())
    devices = c.get("/notify/settings", headers=htmx_headers("push-devices"))
    body = devices.get_data(as_text=True)
    assert devices.status_code == 200 and body.lstrip().startswith('<div id="push-devices"') and "<html" not in body
    form = c.get("/notify/settings", headers=htmx_headers("push-settings")).get_data(as_text=True)
    assert form.lstrip().startswith('<form id="push-settings"') and "<html" not in form
    boosted = c.get("/notify/settings", headers=htmx_headers("main", boosted=True)).get_data(as_text=True)
    assert "<html" in boosted


def test_login_required(client) -> None:
    assert client.get("/notify/settings").status_code in (302, 303)
    # JSON for a script: 401, never the HTML login page.
    assert client.get("/notify/unread").status_code == 401


# --- preferences ------------------------------------------------------------------------------------

def valid(**over: str) -> dict[str, str]:
    data = {"milestone": "1", "requests": "1", "quiet_enabled": "1", "quiet_start": "22:30",
            "quiet_end": "7:15", "daily_cap": "3"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_saving_preferences_plain_and_htmx(make_user, login) -> None:
    me = make_user()
    c = login(me)
    r = c.submit("/notify/settings", valid())
    assert r.status_code == 303 and r.headers["Location"].endswith("/notify/settings")
    pref = db.session.get(NotificationPreference, me.id)
    assert (pref.milestone, pref.received, pref.requests, pref.weekly, pref.other) == (True, False, True, False, False)
    assert (pref.quiet_enabled, pref.quiet_start, pref.quiet_end, pref.daily_cap) == (True, 22 * 60 + 30, 7 * 60 + 15, 3)
    r = c.submit("/notify/settings", valid(quiet_enabled=None, daily_cap="20", received="on"),
                 htmx=True, target="push-settings")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.lstrip().startswith('<form id="push-settings"')
    assert "Notification settings saved." in body and 'hx-swap-oob="beforeend:#toasts"' in body
    db.session.expire_all()
    pref = db.session.get(NotificationPreference, me.id)
    assert (pref.quiet_enabled, pref.daily_cap, pref.received) == (False, 20, True)


@pytest.mark.parametrize(("data", "field", "zh"), [
    (valid(quiet_start="25:00"), "quiet_start", "请输入时间，例如 21:00。"),
    (valid(quiet_start=""), "quiet_start", "请输入时间，例如 21:00。"),
    (valid(quiet_end="8pm"), "quiet_end", "请输入时间，例如 08:00。"),
    (valid(quiet_start="21:00", quiet_end="21:00"), "quiet_end", "免打扰的结束时间不能与开始时间相同。"),
    (valid(daily_cap="0"), "daily_cap", "请填 1 到 20 之间的数字。"),
    (valid(daily_cap="21"), "daily_cap", "请填 1 到 20 之间的数字。"),
    (valid(daily_cap="lots"), "daily_cap", "请填 1 到 20 之间的数字。"),
])
def test_bad_preferences_are_422_in_the_persons_language_and_change_nothing(make_user, login, data, field, zh) -> None:
    me = make_user(locale="zh_Hans_CN")
    c = login(me)
    for htmx in (False, True):
        r = c.submit("/notify/settings", data, htmx=htmx, target="push-settings")
        body = r.get_data(as_text=True)
        assert r.status_code == 422 and zh in body and f'id="err-{field}"' in body
        assert ("<html" in body) is not htmx
    assert count(NotificationPreference) == 0
    # What was typed stays in the form.
    assert f'value="{data["daily_cap"]}"' in body


def test_a_bad_form_keeps_earlier_settings(make_user, login) -> None:
    me = make_user()
    c = login(me)
    c.submit("/notify/settings", valid(daily_cap="4"))
    c.submit("/notify/settings", valid(daily_cap="99", quiet_start="07:00"))
    db.session.expire_all()
    pref = db.session.get(NotificationPreference, me.id)
    assert (pref.daily_cap, pref.quiet_start) == (4, 22 * 60 + 30)


def test_without_csrf_nothing_changes(make_user, login) -> None:
    c = login(make_user())
    assert c.submit("/notify/settings", valid(), csrf=False).status_code == 400
    assert post_json(c, "/notify/push/subscribe", subscription(), **{"X-CSRFToken": "nope"}).status_code == 400
    assert count(NotificationPreference) == 0 and count(PushSubscription) == 0


# --- subscriptions -----------------------------------------------------------------------------------

def test_subscribe_several_devices_and_see_them(make_user, login) -> None:
    me = make_user()
    c = login(me)
    android = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36"}
    phone = post_json(c, "/notify/push/subscribe", subscription(FCM + "phone"), **android)
    assert phone.status_code == 201 and phone.get_json()["message"] == "Push notifications are on for this device."
    laptop = post_json(c, "/notify/push/subscribe", subscription("https://updates.push.services.mozilla.com/wpush/v2/x"),
                       **{"User-Agent": "Mozilla/5.0 (Windows NT 10.0; rv:133.0) Gecko/20100101 Firefox/133.0"})
    assert laptop.status_code == 201
    # The same device again: one row, its keys refreshed.
    again = subscription(FCM + "phone")
    assert post_json(c, "/notify/push/subscribe", again, **android).status_code == 201
    rows = db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == me.id)).all()
    assert len(rows) == 2 and {r.p256dh for r in rows} >= {again["keys"]["p256dh"]}
    page = c.get("/notify/settings", headers=htmx_headers("push-devices")).get_data(as_text=True)
    assert "Chrome · Android" in page and "Firefox · Windows" in page


def test_a_device_remembers_the_language_of_its_page(make_user, login) -> None:
    me = make_user()  # no language chosen: the page follows the browser
    c = login(me)
    post_json(c, "/notify/push/subscribe", subscription(FCM + "zh-phone"), **ZH)
    assert db.session.scalar(select(PushSubscription.locale)) == "zh_Hans_CN"


def test_a_device_that_changes_hands_moves_to_the_new_person(make_user, login) -> None:
    first, second = make_user(), make_user()
    data = subscription(FCM + "shared-tablet")
    post_json(login(first), "/notify/push/subscribe", data)
    post_json(login(second), "/notify/push/subscribe", data)
    (row,) = db.session.scalars(select(PushSubscription)).all()
    assert row.user_id == second.id


@pytest.mark.parametrize("data", [
    subscription("http://127.0.0.1/push"),
    subscription("https://169.254.169.254/latest/meta-data/"),
    subscription("https://evil.example.com/push"),
    subscription("http://fcm.googleapis.com/fcm/send/x"),
    subscription("https://10.0.0.1/push"),
    subscription("javascript:alert(1)"),
])
def test_unsafe_endpoints_are_refused_422_translated(make_user, login, data) -> None:
    c = login(make_user(locale="zh_Hans_CN"))
    r = post_json(c, "/notify/push/subscribe", data)
    assert r.status_code == 422 and r.get_json()["error"] == "无法向此浏览器的推送服务发送通知。"
    assert count(PushSubscription) == 0


@pytest.mark.parametrize(("data", "zh"), [
    (None, "浏览器发送的推送订阅不完整。"),
    ([], "浏览器发送的推送订阅不完整。"),
    ({"endpoint": FCM + "x"}, "浏览器发送的推送订阅不完整。"),
    ({"endpoint": FCM + "x", "keys": {"p256dh": 5, "auth": "x"}}, "浏览器发送的推送订阅不完整。"),
    ({"endpoint": FCM + "x", "keys": {"p256dh": "not-a-key", "auth": "abc"}}, "浏览器发送的推送密钥无效。"),
    ({"endpoint": FCM + "x", "keys": {"p256dh": b64url_encode(b"\x04" + b"\x07" * 64),
                                      "auth": b64url_encode(b"0123456789abcdef")}}, "浏览器发送的推送密钥无效。"),
    ({"endpoint": FCM + "x", "keys": {"p256dh": Browser().p256dh, "auth": "A" * 100}}, "浏览器发送的推送密钥无效。"),
])
def test_bad_subscriptions_are_422_translated(make_user, login, data, zh) -> None:
    c = login(make_user(locale="zh_Hans_CN"))
    r = post_json(c, "/notify/push/subscribe", data)
    assert r.status_code == 422 and r.get_json()["error"] == zh
    assert count(PushSubscription) == 0


def test_a_form_post_instead_of_json_is_422(make_user, login) -> None:
    c = login(make_user())
    r = c.submit("/notify/push/subscribe", {"endpoint": FCM + "x"})
    assert r.status_code == 422 and "incomplete" in r.get_json()["error"]


def test_unsubscribe_removes_only_your_own(make_user, login) -> None:
    me, other = make_user(), make_user()
    mine, theirs = subscription(FCM + "mine"), subscription(FCM + "theirs")
    c = login(me)
    post_json(c, "/notify/push/subscribe", mine)
    post_json(login(other), "/notify/push/subscribe", theirs)
    r = post_json(c, "/notify/push/unsubscribe", {"endpoint": theirs["endpoint"]})
    assert r.status_code == 200 and r.get_json()["removed"] is False
    r = post_json(c, "/notify/push/unsubscribe", {"endpoint": mine["endpoint"]})
    assert r.get_json() == {"ok": True, "removed": True, "message": "Push notifications are off for this device."}
    assert [s.endpoint for s in db.session.scalars(select(PushSubscription))] == [theirs["endpoint"]]
    assert post_json(c, "/notify/push/unsubscribe", {"nope": 1}).status_code == 422


def test_remove_a_device_from_the_list(make_user, login) -> None:
    me, other = make_user(), make_user()
    c = login(me)
    post_json(c, "/notify/push/subscribe", subscription(FCM + "a"))
    post_json(c, "/notify/push/subscribe", subscription(FCM + "b"))
    post_json(login(other), "/notify/push/subscribe", subscription(FCM + "theirs"))
    a, b, theirs = (db.session.scalar(select(PushSubscription.id).where(PushSubscription.endpoint == FCM + n))
                    for n in ("a", "b", "theirs"))
    assert c.submit(f"/notify/push/devices/{theirs}/remove").status_code == 404
    assert c.submit("/notify/push/devices/999999/remove").status_code == 404
    r = c.submit(f"/notify/push/devices/{a}/remove")
    assert r.status_code == 303
    r = c.submit(f"/notify/push/devices/{b}/remove", htmx=True, target="push-devices")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.lstrip().startswith('<div id="push-devices"') and "Device removed." in body
    assert [s.id for s in db.session.scalars(select(PushSubscription))] == [theirs]


# --- HR's switch and the unread count ---------------------------------------------------------------------

def test_only_hr_switches_the_weekly_nudge(make_user, login) -> None:
    employee, hr = make_user(), make_user(role="hr")
    e = login(employee)
    assert e.get("/notify/organisation").status_code == 403
    assert e.submit("/notify/organisation", {}).status_code == 403
    assert count(NudgeSetting) == 0
    h = login(hr)
    assert "Weekly nudge" in h.get("/notify/organisation").get_data(as_text=True)
    assert 'href="/notify/organisation"' in h.get("/admin/").get_data(as_text=True)
    assert h.submit("/notify/organisation", {}).status_code == 303
    assert db.session.get(NudgeSetting, 1).weekly_nudge is False
    # Switched off for everyone: the personal switch is not offered, and saving keeps it as it was.
    page = e.get("/notify/settings").get_data(as_text=True)
    assert 'type="checkbox" name="weekly"' not in page and '<input type="hidden" name="weekly" value="1">' in page
    e.submit("/notify/settings", {"quiet_start": "21:00", "quiet_end": "08:00", "daily_cap": "5",
                                  "weekly": "1"})
    assert db.session.get(NotificationPreference, employee.id).weekly is True
    r = h.submit("/notify/organisation", {"weekly_nudge": "1"}, htmx=True, target="org-nudges")
    assert r.status_code == 200 and "Nudge settings saved." in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(NudgeSetting, 1).weekly_nudge is True


def test_unread_count_as_json(make_user, login) -> None:
    from perfapp.notify.services import notify

    me = make_user(locale="zh_Hans_CN")
    for _ in range(3):
        notify(me.id, "anything")
    db.session.commit()
    r = login(me).get("/notify/unread")
    assert r.get_json() == {"count": 3, "label": "3 条未读"} and r.headers["Cache-Control"] == "no-store"


def test_compose_suggests_the_projects_teammates(make_user, make_project, login) -> None:
    me, lina, emma, gone = make_user(), make_user(name="李娜"), make_user(name="Emma"), make_user(name="Gone", active=False)
    project = make_project("Apollo", members=(me, lina, emma, gone))
    milestone = project.milestones[0]
    page = login(me).get(f"/feedback/new?project={project.id}&milestone={milestone.id}").get_data(as_text=True)
    assert f"Teammates on Apollo › {milestone.name}" in page
    chips = re.findall(r'class="suggest-chip" data-pick="(\d+)"', page)
    assert sorted(map(int, chips)) == sorted([lina.id, emma.id])
    assert re.search(rf'<option value="{project.id}" selected>', page)
    assert re.search(rf'<option value="{milestone.id}" data-project="{project.id}" selected>', page)
    assert "suggest-chip" not in login(me).get("/feedback/new").get_data(as_text=True)
    assert "Teammates on Apollo<" in login(me).get(f"/feedback/new?project={project.id}").get_data(as_text=True)
