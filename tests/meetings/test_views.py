"""Meetings over HTTP: who sees a meeting, the import form and its bad files, one-sentence feedback,
compose opened from a meeting, the calendar subscription (and other people's URLs)."""
from __future__ import annotations

import io
from datetime import timedelta
from html import unescape

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.meetings import services
from perfapp.meetings.models import CalendarToken, Meeting, MeetingNote
from perfapp.meetings.services import MeetingInput
from tests.conftest import count, htmx_headers
from tests.meetings.conftest import event, ics


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


@pytest.fixture()
def world(make_user):  # type: ignore[no-untyped-def]
    me = make_user(name="Me Wang", email="me@example.com")
    lina = make_user(name="Lina Li", email="lina@example.com")
    outsider = make_user(name="Out Sider", email="out@example.com")
    meeting = services.create_meeting(me, MeetingInput(title="Design review", day="2026-01-01", start="09:00",
                                                       attendee_ids=[lina.id]))
    meeting.starts_at, meeting.ends_at = utcnow() - timedelta(hours=1), utcnow() - timedelta(minutes=5)
    db.session.commit()
    return {"me": me, "lina": lina, "outsider": outsider, "meeting": meeting}


def test_attendees_see_the_meeting_others_get_404(world, login) -> None:  # type: ignore[no-untyped-def]
    url = f"/meetings/{world['meeting'].id}"
    lina = login(world["lina"])
    page = lina.get(url)
    body = text(page)
    assert page.status_code == 200 and "Design review" in body and "Me Wang" in body and "data-back" in body
    assert f"/feedback/new?to={world['me'].id}&meeting={world['meeting'].id}" in body.replace("&amp;", "&")
    assert "Design review" in text(lina.get("/meetings/"))
    outsider = login(world["outsider"])
    assert outsider.get(url).status_code == 404
    assert outsider.submit(f"{url}/notes", {"text": "sneaky"}).status_code == 404
    assert outsider.submit(f"{url}/minutes", {"minutes": "sneaky"}).status_code == 404
    assert "Design review" not in text(outsider.get("/meetings/"))
    assert count(MeetingNote) == 0 and world["meeting"].minutes == ""


def test_one_sentence_feedback_and_minutes(world, login) -> None:  # type: ignore[no-untyped-def]
    url = f"/meetings/{world['meeting'].id}"
    lina = login(world["lina"])
    bad = lina.submit(f"{url}/notes", {"text": ""})
    assert bad.status_code == 422 and "Please fill this in." in text(bad) and count(MeetingNote) == 0
    assert lina.submit(f"{url}/notes", {"text": "Crisp and on time."}).status_code == 303
    assert lina.submit(f"{url}/minutes", {"minutes": "Ship Friday"}).status_code == 303
    too_long = lina.submit(f"{url}/minutes", {"minutes": "x" * 4001})
    assert too_long.status_code == 422 and world["meeting"].minutes == "Ship Friday"
    page = text(login(world["me"]).get(url))
    assert "Crisp and on time." in page and "Ship Friday" in page


def test_compose_opens_prefilled_from_a_meeting(world, login) -> None:  # type: ignore[no-untyped-def]
    m = world["meeting"]
    page = text(login(world["lina"]).get(f"/feedback/new?to={world['me'].id}&meeting={m.id}"))
    assert f'name="meeting_id" value="{m.id}"' in page and "After “Design review”: one sentence is enough." in page
    # Not an attendee: the meeting is not offered (and giving with it is refused by the service).
    assert 'name="meeting_id"' not in text(login(world["outsider"]).get(f"/feedback/new?meeting={m.id}"))


def upload(client, raw: bytes, name: str = "invite.ics", **kw):  # type: ignore[no-untyped-def]
    """POST the import form as a browser does. Encoded in memory: the test client would spool a big
    body to a temporary file that nobody closes when the server refuses to read it."""
    values = MultiDict({"csrf_token": client.csrf})
    values.add("file", FileStorage(io.BytesIO(raw), filename=name, content_type="text/calendar"))
    boundary, body = encode_multipart(values)
    return client.post("/meetings/import", data=body, content_type=f"multipart/form-data; boundary={boundary}", **kw)


def test_import_from_the_form(world, login) -> None:  # type: ignore[no-untyped-def]
    me = login(world["me"])
    assert me.get("/meetings/import").status_code == 200
    raw = ics(event("one@x", "Kick-off", utcnow() + timedelta(days=1), attendees=("lina@example.com",)))
    response = upload(me, raw)
    assert response.status_code == 303
    meeting = db.session.scalars(db.select(Meeting).where(Meeting.title == "Kick-off")).one()
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}")
    assert {u.name for u in meeting.attendees} == {"Me Wang", "Lina Li"}


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "Choose a calendar file (.ics)."),
    (b"hello", "This isn't a calendar file we can read."),
    (b"BEGIN:VCALENDAR\r\nX:" + b"a" * (1024 * 1024 + 10) + b"\r\nEND:VCALENDAR\r\n", "larger than 1 MB"),
])
def test_bad_imports_are_422_and_save_nothing(world, login, raw, message) -> None:  # type: ignore[no-untyped-def]
    me = login(world["me"])
    before = count(Meeting)
    response = upload(me, raw, name="" if not raw else "x.ics")
    assert response.status_code == 422 and message in text(response)
    assert count(Meeting) == before
    # htmx-boosted (as the page posts it): the whole page, with the message, still 422.
    boosted = upload(me, raw, name="" if not raw else "x.ics", headers=htmx_headers("main", boosted=True))
    assert boosted.status_code == 422 and "<html" in text(boosted)


def test_a_body_far_over_the_limit_is_refused_unread(world, login) -> None:  # type: ignore[no-untyped-def]
    response = upload(login(world["me"]), b"x" * (3 * 1024 * 1024))
    assert response.status_code == 413 and count(Meeting) == 1


def test_zh_error_messages(world, login) -> None:  # type: ignore[no-untyped-def]
    world["me"].locale = "zh_Hans_CN"
    db.session.commit()
    response = upload(login(world["me"]), b"hello")
    assert response.status_code == 422 and "无法读取这个日历文件" in text(response)


def test_calendar_subscription(world, login, client) -> None:  # type: ignore[no-untyped-def]
    me = login(world["me"])
    page = text(me.get("/meetings/calendar"))
    assert "/meetings/calendar/" not in page and count(CalendarToken) == 0  # looking makes nothing
    assert me.submit("/meetings/calendar", {"action": "renew"}).status_code == 303
    token = db.session.get(CalendarToken, world["me"].id).token
    assert f"/meetings/calendar/{token}.ics" in text(me.get("/meetings/calendar"))
    feed = client.get(f"/meetings/calendar/{token}.ics")  # no login: calendar apps can't log in
    assert feed.status_code == 200 and feed.mimetype == "text/calendar" and "Design review" in text(feed)
    # Someone else's URL, a guessed one, a revoked one: 404, nothing said.
    assert client.get("/meetings/calendar/guessed-token.ics").status_code == 404
    lina = login(world["lina"])
    assert "Design review" not in text(lina.get("/meetings/calendar"))  # Lina sees only her own (none yet)
    assert me.submit("/meetings/calendar", {"action": "revoke"}).status_code == 303
    assert client.get(f"/meetings/calendar/{token}.ics").status_code == 404
