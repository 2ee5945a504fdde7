"""Demo data for meetings: a weekly team meeting (three weeks back, four ahead) with minutes and
one-sentence feedback, and a design review that ended an hour ago, its attendees already nudged."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.meetings import services
from perfapp.meetings.models import Meeting, MeetingNote

NOTES = (("节奏很好，半小时就对齐了。", "Good pace: aligned in half an hour."),
         ("下次可以提前发议程。", "Send the agenda ahead next time."),
         ("决定都记下来了，很清楚。", "Every decision was written down. Clear."))
MINUTES = ("1. 周五发布候选版本 / RC on Friday\n2. 李娜负责回归测试 / Li Na owns the regression run\n"
           "3. 下周评审监控告警 / Review alerting next week")


def seed_demo_meetings(org: Any) -> None:
    """A weekly team meeting for the demo manager's team and a design review that just ended."""
    rng, now = org.rng, org.now
    team = org.team["platform"][:8]
    week = now.replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=now.weekday())  # Monday 10:00 in Shanghai
    for n in range(-3, 5):
        starts = week + timedelta(weeks=n)
        meeting = Meeting(title="平台组周会 Platform weekly", starts_at=starts, ends_at=starts + timedelta(minutes=30),
                          location="3F 会议室 Room 3F", organizer_id=org.manager.id, uid="platform-weekly@demo",
                          minutes=MINUTES if n < 0 else "", nudged_at=starts + timedelta(minutes=35) if n < 0 else None)
        meeting.attendees = list(team)
        db.session.add(meeting)
        db.session.flush()
        if n < 0:
            for author in rng.sample(team, 3):
                zh, en = rng.choice(NOTES)
                db.session.add(MeetingNote(meeting_id=meeting.id, author_id=author.id,
                                           text=zh if org.lang(author) == "zh" else en,
                                           created_at=meeting.ends_at + timedelta(minutes=rng.randint(5, 120))))
    review = Meeting(title="设计评审 Design review", starts_at=now - timedelta(minutes=75),
                     ends_at=now - timedelta(minutes=15), organizer_id=org.manager.id,
                     minutes="首页改版方案通过 / Home redesign approved")
    review.attendees = [org.manager, org.employee, *[p for p in team if p not in (org.manager, org.employee)][:3]]
    db.session.add(review)
    db.session.flush()
    services.send_meeting_nudges(now)
    give_feedback(org.manager, FeedbackInput(
        recipient_id=org.employee.id, text="评审准备得很充分，问题都提前想到了。", meeting_id=review.id))
    db.session.flush()


TITLES = (("周会", "Weekly sync"), ("计划会", "Planning"), ("设计评审", "Design review"),
          ("复盘会", "Retrospective"), ("一对一", "1:1"), ("需求评审", "Requirements review"))


def load_meetings(org: Any, rng: Any, writer: Any, count: int) -> None:
    """`seed-load`: `count` meetings of a manager with some of their reports, from 60 days back to 30
    ahead (the demo team's among them), with minutes and one-sentence notes under some that ended.
    Ended ones are marked nudged, so the nudge job has nothing to catch up on. Bulk inserts."""
    from perfapp.meetings.models import MeetingAttendee

    reports: dict[int, list[int]] = {}
    for person in range(1, org.people + 1):
        if org.manager[person]:
            reports.setdefault(org.manager[person], []).append(person)
    managers = sorted(reports)
    demo_manager = org.team[0]
    now = utcnow().replace(second=0, microsecond=0)
    meetings: list[tuple[Any, ...]] = []
    attendees: list[tuple[int, int]] = []
    notes: list[tuple[Any, ...]] = []
    for mid in range(1, count + 1):
        organiser = demo_manager if mid % 50 == 0 or not managers else rng.choice(managers)
        team = reports.get(organiser, [])
        people = [organiser, *rng.sample(team, min(len(team), rng.randint(1, 7)))]
        starts = (now - timedelta(days=60) + timedelta(minutes=rng.randint(0, 90 * 24 * 4) * 15))
        ends = starts + timedelta(minutes=rng.choice((30, 30, 45, 60)))
        zh, en = TITLES[mid % len(TITLES)]
        ended = ends <= now
        minutes = MINUTES if ended and rng.random() < 0.3 else ""
        meetings.append((mid, zh if org.zh[organiser] else en, writer.stamp(starts), writer.stamp(ends), "", minutes,
                         organiser, None, writer.stamp(starts - timedelta(days=3)),
                         writer.stamp(ends) if ended else None))
        attendees += [(mid, person) for person in dict.fromkeys(people)]
        if ended and rng.random() < 0.2:
            for author in rng.sample(people, min(len(people), 2)):
                zh_note, en_note = rng.choice(NOTES)
                notes.append((len(notes) + 1, mid, author, zh_note if org.zh[author] else en_note,
                              writer.stamp(ends + timedelta(minutes=rng.randint(5, 240)))))
    writer.write_chunked(Meeting.__table__, ("id", "title", "starts_at", "ends_at", "location", "minutes",
                                             "organizer_id", "uid", "created_at", "nudged_at"), meetings)
    writer.write_chunked(MeetingAttendee.__table__, ("meeting_id", "user_id"), attendees)
    writer.write_chunked(MeetingNote.__table__, ("id", "meeting_id", "author_id", "text", "created_at"), notes)
