"""Meeting use cases without HTTP: by hand, .ics import (and its bad files), minutes, the nudge
after the meeting, one-sentence feedback, the calendar subscription."""
from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.meetings import services
from perfapp.meetings.models import Meeting, MeetingNote
from perfapp.meetings.services import MeetingInput
from perfapp.notify.models import Notification
from tests.conftest import assert_rejected, count
from tests.meetings.conftest import event, ics


@pytest.fixture()
def people(make_user):  # type: ignore[no-untyped-def]
    return {"me": make_user(name="Me", email="me@example.com", timezone="Asia/Shanghai"),
            "lina": make_user(name="李娜", email="lina@example.com"),
            "emma": make_user(name="Emma", email="emma@example.com"),
            "gone": make_user(name="Gone", email="gone@example.com", active=False)}


def test_create_by_hand_in_my_timezone(people) -> None:  # type: ignore[no-untyped-def]
    me, lina = people["me"], people["lina"]
    meeting = services.create_meeting(me, MeetingInput(title=" Design  review ", day="2026-12-10", start="09:30",
                                                       duration="45", attendee_ids=[lina.id]))
    db.session.commit()
    assert meeting.title == "Design review"
    assert (meeting.starts_at.hour, meeting.starts_at.minute) == (1, 30)  # 09:30 in Shanghai is 01:30 UTC
    assert meeting.ends_at - meeting.starts_at == timedelta(minutes=45)
    assert {u.id for u in meeting.attendees} == {me.id, lina.id}


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": ""}, "title"), ({"title": "x" * 201}, "title"),
    ({"day": "31/12/2026"}, "day"), ({"start": "25:00"}, "day"), ({"day": "1066-10-14"}, "day"),
    ({"duration": "0"}, "duration"), ({"duration": "abc"}, "duration"), ({"duration": "1000"}, "duration"),
    ({"attendee_ids": [999999]}, "attendee_ids"),
])
def test_bad_meetings_save_nothing(people, changes, field) -> None:  # type: ignore[no-untyped-def]
    data = MeetingInput(title="Sync", day="2026-12-10", start="09:30")
    for key, value in changes.items():
        setattr(data, key, value)
    assert_rejected(lambda: services.create_meeting(people["me"], data), field, Meeting)


def test_deactivated_people_cannot_be_invited(people) -> None:  # type: ignore[no-untyped-def]
    assert_rejected(lambda: services.create_meeting(people["me"], MeetingInput(
        title="Sync", day="2026-12-10", start="09:30", attendee_ids=[people["gone"].id])), "attendee_ids", Meeting)


def test_import_matches_attendees_by_email_and_expands_90_days(people) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    raw = ics(event("weekly@x", "Weekly sync", now + timedelta(days=1), rrule="FREQ=WEEKLY;COUNT=10000",
                    attendees=("LINA@example.com", "stranger@elsewhere.org", "gone@example.com"),
                    organizer="emma@example.com"),
              event("once@x", "Retro", now - timedelta(hours=2)))
    result = services.import_calendar(people["me"], raw)
    db.session.commit()
    weekly = [m for m in result.added if m.title == "Weekly sync"]
    assert 12 <= len(weekly) <= 13  # about 90 days of a weekly series, not 10,000
    assert max(m.starts_at for m in weekly) <= now + timedelta(days=90)
    assert {u.name for u in weekly[0].attendees} == {"Me", "李娜", "Emma"}
    assert [m.title for m in result.added if m.title == "Retro"] == ["Retro"]
    # The same file again adds nothing.
    again = services.import_calendar(people["me"], raw)
    assert again.added == [] and again.skipped == len(result.added)


@pytest.mark.parametrize(("raw", "message"), [
    (b"not a calendar", "This isn't a calendar file we can read."),
    (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "There are no events in this file."),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:nonsense\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
     "This calendar file is damaged and can't be read."),
    (b"\xff\xd8\xff\xe0 a jpeg", "This isn't a calendar file we can read."),
    (b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"a" * (1024 * 1024) + b"\r\nEND:VCALENDAR\r\n",
     "The file is larger than 1 MB."),
])
def test_bad_files_are_refused_and_save_nothing(people, raw, message) -> None:  # type: ignore[no-untyped-def]
    error = assert_rejected(lambda: services.import_calendar(people["me"], raw), "file", Meeting)
    assert message in error.errors["file"]


def test_a_file_repeating_every_minute_is_refused_whole(people) -> None:  # type: ignore[no-untyped-def]
    raw = ics(event("often@x", "Ping", utcnow() + timedelta(hours=1), rrule="FREQ=MINUTELY;COUNT=10000"),
              event("fine@x", "Fine", utcnow() + timedelta(days=2)))
    error = assert_rejected(lambda: services.import_calendar(people["me"], raw), "file", Meeting)
    assert "repeats too often" in error.errors["file"]


def test_odd_encodings(people) -> None:  # type: ignore[no-untyped-def]
    start = utcnow() + timedelta(days=1)
    text = ics(event("zh@x", "周会", start)).decode()
    for raw in (text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode(), text.encode("gb18030")):
        result = services.import_calendar(people["me"], raw)
        assert [m.title for m in result.added] == ["周会"]
        db.session.rollback()
    assert_rejected(lambda: services.import_calendar(people["me"], text.encode("utf-16-le")), "file", Meeting)


def test_ended_meetings_nudge_attendees_once(people) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    me, lina = people["me"], people["lina"]
    ended = services.create_meeting(me, MeetingInput(title="Done", day="2026-01-01", start="09:00",
                                                     attendee_ids=[lina.id]))
    ended.starts_at, ended.ends_at = now - timedelta(hours=1), now - timedelta(minutes=5)
    long_ago = services.create_meeting(me, MeetingInput(title="Old", day="2026-01-01", start="09:00"))
    long_ago.starts_at, long_ago.ends_at = now - timedelta(days=3), now - timedelta(days=3) + timedelta(minutes=30)
    later = services.create_meeting(me, MeetingInput(title="Later", day="2026-01-01", start="09:00"))
    later.starts_at, later.ends_at = now + timedelta(hours=1), now + timedelta(hours=2)
    db.session.commit()
    assert services.send_meeting_nudges(now) == 2
    assert services.send_meeting_nudges(now) == 0
    db.session.commit()
    notes = db.session.scalars(select(Notification).where(Notification.kind == "meeting_nudge")).all()
    assert sorted((n.user_id, n.ref_id) for n in notes) == sorted([(me.id, ended.id), (lina.id, ended.id)])


def test_minutes_and_one_sentence_feedback(people) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    me, lina, emma = people["me"], people["lina"], people["emma"]
    meeting = services.create_meeting(me, MeetingInput(title="Sync", day="2026-01-01", start="09:00",
                                                       attendee_ids=[lina.id]))
    meeting.ends_at = now + timedelta(minutes=10)
    db.session.commit()
    services.set_minutes(lina, meeting, "  Ship on Friday ")
    assert meeting.minutes == "Ship on Friday"
    with pytest.raises(PermissionError):
        services.set_minutes(emma, meeting, "hijack")
    assert_rejected(lambda: services.set_minutes(me, meeting, "x" * 4001), "minutes")
    assert_rejected(lambda: services.leave_note(me, meeting, "Too early"), "text", MeetingNote)
    later = now + timedelta(minutes=11)
    assert_rejected(lambda: services.leave_note(me, meeting, "", now=later), "text", MeetingNote)
    assert_rejected(lambda: services.leave_note(me, meeting, "x" * 281, now=later), "text", MeetingNote)
    with pytest.raises(PermissionError):
        services.leave_note(emma, meeting, "Not there", now=later)
    note = services.leave_note(lina, meeting, "Short and useful.", now=later)
    assert note.text == "Short and useful." and services.notes_for(meeting) == [note]


def test_feedback_to_a_person_after_the_meeting(people) -> None:  # type: ignore[no-untyped-def]
    me, lina, emma = people["me"], people["lina"], people["emma"]
    meeting = services.create_meeting(me, MeetingInput(title="Sync", day="2026-01-01", start="09:00",
                                                       attendee_ids=[lina.id]))
    db.session.commit()
    item = give_feedback(me, FeedbackInput(recipient_id=lina.id, text="Great notes", meeting_id=meeting.id))
    db.session.commit()
    assert item.meeting_id == meeting.id
    assert_rejected(lambda: give_feedback(emma, FeedbackInput(recipient_id=lina.id, text="x", meeting_id=meeting.id)),
                    "meeting_id", Feedback)
    assert count(Feedback) == 1


def test_calendar_feed_and_revoking(people) -> None:  # type: ignore[no-untyped-def]
    me, lina = people["me"], people["lina"]
    services.create_meeting(me, MeetingInput(title="Planning", day=(utcnow() + timedelta(days=2)).date().isoformat(),
                                             start="10:00", attendee_ids=[lina.id]))
    token = services.new_calendar_token(me).token
    db.session.commit()
    assert services.person_for_token(token) == me
    assert services.person_for_token("nope") is None and services.person_for_token("") is None
    feed = icalendar.Calendar.from_ical(services.calendar_feed(me, lambda m: f"/meetings/{m.id}"))
    assert [str(e["SUMMARY"]) for e in feed.walk("VEVENT")] == ["Planning"]
    renewed = services.new_calendar_token(me).token
    assert renewed != token and services.person_for_token(token) is None
    services.revoke_calendar_token(me)
    assert services.person_for_token(renewed) is None


def test_the_feed_has_my_goal_check_in_dates(people, app) -> None:  # type: ignore[no-untyped-def]
    from perfapp.goals.models import Goal

    me, lina = people["me"], people["lina"]
    now = utcnow()
    today = now.date()
    mine = Goal(title="Ship offline mode", owner_type="person", owner_id=me.id, period_start=today - timedelta(days=30),
                period_end=today + timedelta(days=60), last_checkin_at=now - timedelta(days=2))
    stale = Goal(title="Faster builds", owner_type="person", owner_id=me.id, period_start=today - timedelta(days=30),
                 period_end=today + timedelta(days=60), created_at=now - timedelta(days=20))
    done = Goal(title="Old goal", owner_type="person", owner_id=me.id, period_start=today - timedelta(days=90),
                period_end=today - timedelta(days=1))
    theirs = Goal(title="Not mine", owner_type="person", owner_id=lina.id, period_start=today,
                  period_end=today + timedelta(days=60))
    db.session.add_all([mine, stale, done, theirs])
    db.session.commit()
    with app.test_request_context():
        feed = icalendar.Calendar.from_ical(services.calendar_feed(me, lambda m: ""))
    dates = {str(e["SUMMARY"]): e["DTSTART"].dt for e in feed.walk("VEVENT")}
    assert dates == {"Check in: Ship offline mode": today + timedelta(days=5), "Check in: Faster builds": today}


def test_personal_export_has_meetings_notes_and_my_peer_reviews(people, make_project) -> None:  # type: ignore[no-untyped-def]
    from perfapp.personal import export
    from perfapp.projects import reviews
    from perfapp.projects.services import reach_milestone

    me, lina = people["me"], people["lina"]
    meeting = services.create_meeting(me, MeetingInput(title="Sync", day="2026-01-01", start="09:00",
                                                       attendee_ids=[lina.id]))
    services.leave_note(me, meeting, "Useful.", now=meeting.ends_at)
    project = make_project(members=(me, lina))
    hr = people["emma"]
    hr.role = "hr"
    reach_milestone(hr, project.milestones[0])
    reviews.submit_review(me, project.milestones[0], reviews.ReviewInput(
        reviewee_id=lina.id, answers={"delivered": 3, "collaborated": 3, "communicated": 2}, went_well="Sharp"))
    db.session.commit()
    data = export.collect(me)
    assert [m["title"] for m in data["meetings"]] == ["Sync"]
    assert [n["text"] for n in data["meeting_feedback"]] == ["Useful."]
    assert [(r["about"], r["delivered"]) for r in data["peer_reviews_given"]] == [(lina.id, 3)]
    assert data["projects"] == [{"project": project.id, "role": ""}]
    assert export.collect(lina)["peer_reviews_given"] == []  # answers about her are aggregates only
