"""Demo data for meetings: a weekly team meeting (three weeks back, four ahead) with minutes and
one-sentence feedback, and a design review that ended an hour ago, its attendees already nudged."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

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
