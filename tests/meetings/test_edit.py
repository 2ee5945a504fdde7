"""The organiser edits a meeting (title, time, attendees, minutes); attendees and others may not;
bad input is a translated 422 and changes nothing."""
from __future__ import annotations

from datetime import datetime
from html import unescape

import pytest

from perfapp.extensions import db
from perfapp.meetings import services
from perfapp.meetings.models import Meeting
from perfapp.meetings.services import MeetingInput
from tests.conftest import htmx_headers


@pytest.fixture()
def world(make_user):  # type: ignore[no-untyped-def]
    me = make_user(name="Me Wang", email="me@example.com", timezone="Asia/Shanghai")
    lina = make_user(name="Lina Li", email="lina@example.com")
    bob = make_user(name="Bob Ba", email="bob@example.com")
    outsider = make_user(name="Out Sider", email="out@example.com")
    meeting = services.create_meeting(me, MeetingInput(title="Design review", day="2026-03-02", start="09:00",
                                                       duration="30", attendee_ids=[lina.id]))
    db.session.commit()
    return {"me": me, "lina": lina, "bob": bob, "outsider": outsider, "meeting": meeting}


def form(world, **changes):  # type: ignore[no-untyped-def]
    data = {"title": "Design review v2", "day": "2026-03-03", "start": "14:30", "duration": "60",
            "location": "Room 5", "attendee_ids": [world["bob"].id], "minutes": "Ship on Friday."}
    data.update(changes)
    return data


def test_the_organiser_edits_title_time_attendees_and_minutes(world, login) -> None:  # type: ignore[no-untyped-def]
    meeting = world["meeting"]
    me = login(world["me"])
    page = me.get(f"/meetings/{meeting.id}")
    assert f"/meetings/{meeting.id}/edit" in page.get_data(as_text=True)
    edit = unescape(me.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True))
    assert 'value="Design review"' in edit and 'value="2026-03-02"' in edit and 'value="09:00"' in edit
    assert "Lina Li" in edit
    response = me.submit(f"/meetings/{meeting.id}/edit", form(world))
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Meeting, meeting.id)
    assert saved.title == "Design review v2" and saved.location == "Room 5" and saved.minutes == "Ship on Friday."
    # 14:30 in Shanghai is 06:30 UTC; an hour long.
    assert (saved.starts_at, saved.ends_at) == (datetime(2026, 3, 3, 6, 30), datetime(2026, 3, 3, 7, 30))
    assert {p.name for p in saved.attendees} == {"Me Wang", "Bob Ba"}  # the organiser stays
    assert login(world["lina"]).get(f"/meetings/{meeting.id}").status_code == 404  # no longer invited
    assert "Design review v2" in login(world["bob"]).get(f"/meetings/{meeting.id}").get_data(as_text=True)


def test_an_odd_length_is_offered_back(world, login) -> None:  # type: ignore[no-untyped-def]
    meeting = world["meeting"]
    meeting.ends_at = meeting.starts_at.replace(minute=50)
    db.session.commit()
    page = login(world["me"]).get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert '<option value="50" selected>' in page


@pytest.mark.parametrize("htmx", [False, True])
def test_attendees_are_refused_others_never_learn_it_exists(world, login, htmx) -> None:  # type: ignore[no-untyped-def]
    meeting = world["meeting"]
    headers = {"Accept-Language": "zh-CN", **(htmx_headers() if htmx else {})}
    lina = login(world["lina"])
    assert f"/meetings/{meeting.id}/edit" not in lina.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    for response in (lina.get(f"/meetings/{meeting.id}/edit", headers=headers),
                     lina.submit(f"/meetings/{meeting.id}/edit", form(world), headers=headers)):
        assert response.status_code == 403
        assert "只有组织者" in response.get_data(as_text=True)
    outsider = login(world["outsider"])
    assert outsider.submit(f"/meetings/{meeting.id}/edit", form(world)).status_code == 404
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).title == "Design review"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"title": ""}, "title", "请填写"),
    ({"day": "2026-02-30"}, "day", "请输入日期和时间"),
    ({"start": "25:00"}, "day", "请输入日期和时间"),
    ({"duration": "2"}, "duration", "5分钟"),
    ({"attendee_ids": ["999999"]}, "attendee_ids", "找不到"),
    ({"minutes": "x" * 4001}, "minutes", "4000"),
])
def test_bad_input_is_a_translated_422_and_changes_nothing(world, login, changes, field, message) -> None:  # type: ignore[no-untyped-def]
    meeting = world["meeting"]
    me = login(world["me"])
    response = me.submit(f"/meetings/{meeting.id}/edit", form(world, **changes), headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="err-{field}"' in body and message in body, body[-3000:]
    db.session.expire_all()
    saved = db.session.get(Meeting, meeting.id)
    assert saved.title == "Design review" and saved.minutes == "" and len(saved.attendees) == 2


def test_a_deactivated_attendee_is_refused(world, login) -> None:  # type: ignore[no-untyped-def]
    world["bob"].active = False
    db.session.commit()
    response = login(world["me"]).submit(f"/meetings/{world['meeting'].id}/edit", form(world))
    assert response.status_code == 422 and "Bob Ba" in unescape(response.get_data(as_text=True))
