"""Picker fragment, profiles, settings and the language switch over HTTP."""
from __future__ import annotations

import re
from datetime import datetime

from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback


def test_picker_fragment_and_page(make_user, login) -> None:
    me = make_user(name="王伟")
    make_user(name="李娜", title="Designer")
    c = login(me)
    frag = c.get("/people/search?q=ln", headers={"HX-Request": "true", "HX-Target": "picker-results"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "李娜" in body and "<html" not in body
    assert "HX-Request" in frag.headers["Vary"]
    assert "<html" in c.get("/people/search?q=ln").get_data(as_text=True)
    assert "王伟" not in c.get("/people/search?q=wang").get_data(as_text=True)
    assert "王伟" in c.get("/people/search?q=wang&me=1").get_data(as_text=True)
    empty = c.get("/people/search?q=zzz", headers={"HX-Request": "true", "HX-Target": "picker-results"})
    assert "zzz" in empty.get_data(as_text=True)


def test_profile_shows_public_praise_and_tag_profile(make_user, login, make_tag) -> None:
    tag = make_tag()
    me, lina = make_user(name="王伟"), make_user(name="李娜")
    give_feedback(me, FeedbackInput(recipient_id=lina.id, text="public thanks", tag_ids=[tag.id]))
    give_feedback(me, FeedbackInput(recipient_id=lina.id, text="private note", kind="suggestion",
                                    visibility="private", tag_ids=[tag.id]))
    db.session.commit()
    viewer = make_user(name="张敏")
    body = login(viewer).get(f"/people/{lina.id}").get_data(as_text=True)
    assert "public thanks" in body and "private note" not in body
    assert "#Ownership <b>1</b>" in body
    # The numbers differ by viewer, and each is told what theirs counts.
    assert "Counted over the feedback to 李娜 that you can read; others may see other numbers." in body
    own = login(lina).get(f"/people/{lina.id}").get_data(as_text=True)
    assert "#Ownership <b>2</b>" in own and "Counted over all the feedback you received." in own
    assert login(viewer).get("/people/99999").status_code == 404


def test_settings_switch_language_and_timezone(make_user, login) -> None:
    me = make_user()
    c = login(me)
    r = c.submit("/people/settings", {"locale": "zh_Hans_CN", "timezone": "Asia/Tokyo"})
    assert r.status_code == 303
    page = c.get("/people/settings").get_data(as_text=True)
    assert 'lang="zh-Hans"' in page and "设置" in page
    # Time zones read as places in the person's language, never as "Asia/Tokyo".
    assert '<option value="Asia/Tokyo" selected>日本时间</option>' in page
    assert ">中国（上海）时间</option>" in page and ">协调世界时（UTC）</option>" in page
    assert ">Asia/" not in page
    db.session.refresh(me)
    assert me.timezone == "Asia/Tokyo"
    bad = c.submit("/people/settings", {"locale": "xx", "timezone": "Nowhere/Never"})
    assert bad.status_code == 422 and bad.get_data(as_text=True).count('class="field-error"') == 2
    db.session.refresh(me)
    assert (me.locale, me.timezone) == ("zh_Hans_CN", "Asia/Tokyo")
    me.locale = "en"
    db.session.commit()
    assert ">China (Shanghai) Time</option>" in c.get("/people/settings").get_data(as_text=True)


def test_language_switch_before_login_sets_cookie(client) -> None:
    client.refresh_csrf()
    r = client.submit("/people/language", {"locale": "zh_Hans_CN", "next": "/auth/login"})
    assert r.status_code == 303 and r.headers["Location"] == "/auth/login"
    page = client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in page
    assert client.submit("/people/language", {"locale": "fr"}).status_code == 400
    r = client.submit("/people/language", {"locale": "en", "next": "https://evil.example/"})
    assert r.headers["Location"] == "/"


def test_dates_are_absolute_and_localised_for_the_browser_to_make_relative(make_user, login, app) -> None:
    """The server writes the date in the viewer's language and the organisation's timezone (a card
    is one HTML for every reader of its language) and the exact UTC instant; the page names the
    viewer's own timezone, in which static/js/time.js writes the date again and says "3 分钟前"
    (tests/browser/test_dates.py): cached HTML never goes stale."""
    assert app.config["ORG_TIMEZONE"] == "Asia/Shanghai"
    me = make_user(locale="zh_Hans_CN", timezone="Asia/Shanghai")
    lina = make_user(name="李娜", locale="en", timezone="America/New_York")
    fb = give_feedback(me, FeedbackInput(recipient_id=lina.id, text="hi"))
    fb.created_at = datetime(2026, 3, 1, 2, 30)  # UTC: 1 March in Shanghai, 28 February in New York
    db.session.commit()
    zh = login(me).get(f"/feedback/{fb.id}").get_data(as_text=True)
    assert '<time class="ago" datetime="2026-03-01T02:30:00Z"' in zh
    assert "2026年3月1日</time>" in zh and "分钟前" not in zh
    assert 'data-tz="Asia/Shanghai"' in zh
    en = login(lina).get(f"/feedback/{fb.id}").get_data(as_text=True)
    assert '<time class="ago" datetime="2026-03-01T02:30:00Z"' in en
    assert re.search('title="Mar 1, 2026, 10:30:00[\u202f ]AM">Mar 1, 2026</time>', en)
    assert 'data-tz="America/New_York"' in en


def test_me_page_links_admin_only_for_hr(make_user, login) -> None:
    assert "/admin/" not in login(make_user()).get("/people/me").get_data(as_text=True)
    assert "/admin/" in login(make_user(role="hr")).get("/people/me").get_data(as_text=True)


def test_profile_head_and_team_in_each_language(make_user, login) -> None:
    from perfapp.people.models import Department
    from perfapp.personal.erasure import former_colleague

    dept = Department(name_zh="设计部", name_en="Design")
    db.session.add(dept)
    db.session.commit()
    boss = make_user(name="王伟", title="Head of design", department=dept)
    lina = make_user(name="Lina Wang", title="Designer", department=dept, manager=boss)
    make_user(name="Gone Person", manager=boss, active=False)
    viewer = make_user(name="张敏", locale="zh_Hans_CN")
    c = login(viewer)
    zh = c.get(f"/people/{lina.id}").get_data(as_text=True)
    assert "Designer · 设计部" in zh
    assert f'<a href="/people/{boss.id}">王伟</a>' in zh  # reports to, by name
    team = c.get(f"/people/{boss.id}").get_data(as_text=True)
    assert f'href="/people/{lina.id}"' in team and ">LW<" in team  # an active report, with initials
    assert "Gone Person" not in team  # deactivated people leave the team row
    c.submit("/people/language", {"locale": "en", "next": "/"})
    en = c.get(f"/people/{lina.id}").get_data(as_text=True)
    assert "Designer · Design" in en and "设计部" not in en
    stand_in = former_colleague()
    db.session.commit()
    assert c.get(f"/people/{stand_in.id}").status_code == 404  # erased people have no profile
    assert c.get(f"/walls/people/{stand_in.id}").status_code == 404  # nor a badge wall
    assert c.get("/walls/people/99999").status_code == 404


def test_a_profile_head_kept_for_everyone_follows_the_person_and_the_viewer(make_user, login) -> None:
    """The head and the tag and team sections are kept by their values (core.assets.same_html):
    a change to the person shows next time, and the person sees no button to praise themselves."""
    from perfapp.people.models import User

    lina, emma = make_user(name="Lina Wang", title="Designer"), make_user(name="Emma Li")
    give = f'href="/feedback/new?to={lina.id}"'
    for _round in range(2):  # the second round from the kept blocks
        other = login(emma).get(f"/people/{lina.id}").get_data(as_text=True)
        assert "Designer" in other and give in other and "Counted over the feedback to Lina Wang" in other
        own = login(lina).get(f"/people/{lina.id}").get_data(as_text=True)
        assert "Designer" in own and give not in own and "Counted over all the feedback you received." in own
    db.session.get(User, lina.id).title = "Design lead"
    db.session.commit()
    again = login(emma).get(f"/people/{lina.id}").get_data(as_text=True)
    assert "Design lead" in again and ">Designer<" not in again
    db.session.get(User, lina.id).active = False
    db.session.commit()
    gone = login(emma).get(f"/people/{lina.id}").get_data(as_text=True)
    assert "Deactivated" in gone and give not in gone
