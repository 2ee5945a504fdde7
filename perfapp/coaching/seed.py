"""Demo data for coaching: the demo manager's weekly 1:1 with the demo employee (four past 1:1s with
agenda, private notes on both sides, action items done and one carried over, the next one
tomorrow morning with its reminder sent), 1:1s with some other reports (one left without), and
two formal records: a promotion review waiting for HR and a signed project retrospective."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from perfapp.coaching import one_on_ones
from perfapp.coaching.models import (
    ActionItem,
    AgendaItem,
    FormalRecord,
    OneOnOne,
    OneOnOneSeries,
    PrivateNote,
)
from perfapp.coaching.records import evidence, tell_hr
from perfapp.extensions import db
from perfapp.people.models import User

AGENDA = (("Q4 上线复盘", "Q4 launch retro"), ("职业发展：想带新人", "Career: I'd like to mentor someone"),
          ("On-call 负担太重", "On-call load is heavy"), ("下季度 OKR 草稿", "Next quarter's OKR draft"))
ACTIONS = (("报名架构设计课程", "Sign up for the architecture course"),
           ("整理 on-call 手册", "Write the on-call runbook"),
           ("约产品对齐路线图", "Book a roadmap sync with product"))
MANAGER_NOTES = ("她准备好承担更多了，考虑让她带 Phoenix 的后端。", "Ready for more: consider her for the Phoenix backend lead.")
EMPLOYEE_NOTES = ("想问加薪的时间点，下次再说。", "Ask about the raise timeline next time.")


def _text(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def seed_demo_coaching(org: Any) -> None:
    """1:1 series with history and action items, and formal records, for the demo manager's team."""
    now, manager, employee = org.now, org.manager, org.employee
    # 10:00 in Shanghai tomorrow: within a day, so the reminder goes out as the job would send it.
    tomorrow = (now + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
    if tomorrow - now > one_on_ones.NUDGE_BEFORE:
        tomorrow -= timedelta(days=1)
    series = OneOnOneSeries(report_id=employee.id, manager_id=manager.id, cadence="weekly",
                            created_at=now - timedelta(weeks=5))
    db.session.add(series)
    db.session.flush()
    lang_m, lang_e = org.lang(manager), org.lang(employee)
    past = []
    for weeks in (4, 3, 2, 1):
        when = tomorrow - timedelta(weeks=weeks)
        meeting = OneOnOne(series_id=series.id, scheduled_for=when, done_at=when + timedelta(minutes=30),
                           nudged_at=when - timedelta(hours=20), created_at=when - timedelta(weeks=1))
        db.session.add(meeting)
        past.append(meeting)
    upcoming = OneOnOne(series_id=series.id, scheduled_for=tomorrow, created_at=past[-1].done_at)
    db.session.add(upcoming)
    db.session.flush()
    for i, meeting in enumerate(past):
        for j, author in enumerate((manager, employee)):
            pair = AGENDA[(i + j) % len(AGENDA)]
            db.session.add(AgendaItem(meeting_id=meeting.id, author_id=author.id, text=_text(pair, org.lang(author)),
                                      discussed=True, created_at=meeting.scheduled_for - timedelta(days=1)))
        db.session.add(PrivateNote(meeting_id=meeting.id, author_id=manager.id, text=_text(MANAGER_NOTES, lang_m),
                                   updated_at=meeting.done_at))
        db.session.add(PrivateNote(meeting_id=meeting.id, author_id=employee.id, text=_text(EMPLOYEE_NOTES, lang_e),
                                   updated_at=meeting.done_at))
    # Done two weeks ago; one carried twice and still open; one agreed last week.
    held = past[1].done_at
    assert held is not None, "the past meetings above were all held"
    db.session.add_all([
        ActionItem(series_id=series.id, meeting_id=past[1].id, owner_id=employee.id, created_by_id=manager.id,
                   text=_text(ACTIONS[0], lang_e), due_on=(past[1].scheduled_for + timedelta(days=5)).date(),
                   done_at=held + timedelta(days=3), created_at=past[0].done_at),
        ActionItem(series_id=series.id, meeting_id=upcoming.id, owner_id=employee.id, created_by_id=employee.id,
                   text=_text(ACTIONS[1], lang_e), due_on=(now + timedelta(days=4)).date(), carried=2,
                   created_at=past[1].done_at),
        ActionItem(series_id=series.id, meeting_id=upcoming.id, owner_id=manager.id, created_by_id=manager.id,
                   text=_text(ACTIONS[2], lang_m), due_on=(now + timedelta(days=2)).date(), carried=1,
                   created_at=past[3].done_at),
    ])
    db.session.add(AgendaItem(meeting_id=upcoming.id, author_id=employee.id, text=_text(AGENDA[1], lang_e),
                              created_at=now - timedelta(hours=3)))
    db.session.flush()
    one_on_ones.send_reminders(now)
    _other_reports(org, tomorrow)
    _records(org)
    db.session.flush()


def _other_reports(org: Any, anchor: Any) -> None:
    """Biweekly or monthly 1:1s with some of the manager's other reports; the last one has none
    (My team shows who has no 1:1s yet)."""
    reports = list(db.session.scalars(select(User).where(User.manager_id == org.manager.id, User.active.is_(True),
                                                         User.id != org.employee.id).order_by(User.id)))
    for n, person in enumerate(reports[:-1][:4]):
        cadence = ("biweekly", "monthly")[n % 2]
        series = OneOnOneSeries(report_id=person.id, manager_id=org.manager.id, cadence=cadence)
        db.session.add(series)
        db.session.flush()
        last = anchor - timedelta(days=8 + 3 * n)
        db.session.add_all([
            OneOnOne(series_id=series.id, scheduled_for=last, done_at=last + timedelta(minutes=30), nudged_at=last),
            OneOnOne(series_id=series.id, scheduled_for=one_on_ones.next_after(last, cadence) + timedelta(days=1)),
        ])


def _records(org: Any) -> None:
    manager, employee, hr = org.manager, org.employee, org.people["hr"]
    today = org.now.date()
    start = date(today.year, 1, 1) if today.month > 3 else date(today.year - 1, 7, 1)
    promo = FormalRecord(
        kind="promotion", person_id=employee.id, author_id=manager.id, period_start=start, period_end=today,
        summary="李娜这一年独立负责了 Phoenix 的后端，并带了一位新人。建议晋升为资深工程师。"
                if org.lang(manager) == "zh" else "Li Na led the Phoenix backend this year and mentored a new hire.",
        strengths="担当、客户第一", growth="跨团队沟通可以更主动", recommendation="晋升 / Promote",
        state="manager_signed", manager_signed_at=org.now - timedelta(days=1), manager_signed_by_id=manager.id)
    promo.evidence = evidence(manager, employee, start, today)
    db.session.add(promo)
    db.session.flush()
    tell_hr(promo)
    projects = org.projects_of(employee)
    if projects:
        project = projects[0]
        retro = FormalRecord(
            kind="retrospective", person_id=employee.id, author_id=manager.id, project_id=project.id,
            period_start=today - timedelta(days=90), period_end=today - timedelta(days=10),
            summary="Beta 阶段的稳定性问题处理得很好。 / Handled the beta's stability issues well.",
            state="hr_signed", manager_signed_at=org.now - timedelta(days=9), manager_signed_by_id=manager.id,
            hr_signed_at=org.now - timedelta(days=8), hr_signed_by_id=hr.id)
        retro.evidence = evidence(manager, employee, retro.period_start, retro.period_end)
        db.session.add(retro)
