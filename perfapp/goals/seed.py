"""Goals for `seed-demo` (through the services, like people would) and `seed-load` (bulk rows).

seed-demo: three company goals, a goal per department aligned to them, the demo manager's team goal
assigned to the team, personal objectives with key results, and a few weeks of check-ins.
seed-load: `goals` goals (company → department → person, aligned) and `checkins` check-ins.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import CheckIn, Goal, GoalLink, KeyResult

COMPANY = [
    ("让客户爱上我们的产品", "Customers love our product", [("净推荐值", "NPS", 32, 45, ""), ("续约率", "Renewal rate", 85, 92, "%")]),
    ("华东市场收入翻倍", "Double revenue in the east", [("新签合同额", "New contract value", 0, 5_000_000, "¥")]),
    ("每周都能放心发布", "Ship with confidence every week", [("线上事故数", "Production incidents", 12, 3, ""),
                                                       ("自动化测试覆盖率", "Automated test coverage", 55, 80, "%")]),
]
PERSONAL = [
    ("提升代码评审质量", "Raise the bar on code reviews", [("评审意见被采纳率", "Review comments adopted", 40, 70, "%"),
                                                       ("每周评审次数", "Reviews a week", 3, 8, "")]),
    ("把新功能按时交付", "Deliver the new feature on time", [("完成的里程碑", "Milestones reached", 0, 4, ""),
                                                      ("发布说明已发布", "Release notes published", 0, 1, "done")]),
    ("学好数据分析", "Get good at data analysis", [("完成的课程", "Courses completed", 0, 3, ""),
                                                ("分享会", "Talks given", 0, 1, "")]),
    ("减少客户投诉", "Fewer customer complaints", [("每月投诉", "Complaints a month", 20, 8, "")]),
]
DEPARTMENT = ("%s：支撑公司目标", "%s: our part of the company goals")
NOTES = [("稳步推进中。", "Moving steadily."), ("本周被其他事情打断了。", "Interrupted by other work this week."),
         ("关键依赖已经解决。", "The key dependency is sorted."), ("需要更多人手。", "We need more hands.")]


def _kr(spec: tuple[str, str, float, float, str], zh: bool) -> services.KeyResultInput:
    name_zh, name_en, start, target, unit = spec
    if unit == "done":
        return services.KeyResultInput(title=name_zh if zh else name_en, kind="done", start=0, target=1)
    kind = "percent" if unit == "%" else "currency" if unit == "¥" else "number"
    return services.KeyResultInput(title=name_zh if zh else name_en, kind=kind, start=start, target=target,
                                   unit="" if unit == "%" else unit)


def _backdate_checkins(rng: random.Random, goal: Goal, actor: Any, period: tuple[date, date], today: date,
                       zh: bool, count: int) -> None:
    """`count` check-ins spread over the period so far, each moving the key results a little."""
    span = max((today - period[0]).days, 1)
    days = sorted({period[0] + timedelta(days=rng.randint(0, span)) for _i in range(count)})
    for n, day in enumerate(days, start=1):
        values = {}
        for kr in goal.key_results:
            share = min(1.0, n / (len(days) + 1) * rng.uniform(0.6, 1.4))
            values[kr.id] = (1.0 if share > 0.8 else 0.0) if kr.kind == "done" else round(
                kr.start_value + (kr.target_value - kr.start_value) * share, 1)
        note = rng.choice(NOTES)[0 if zh else 1]
        row = services.check_in(actor, goal, services.CheckInInput(
            confidence=rng.randint(3, 9), values=values, note=note, day=day), today=day)
        row.created_at = datetime.combine(day, time(9, rng.randint(0, 59)))
        goal.last_checkin_at = row.created_at


def seed_demo_goals(org: Any) -> None:
    """Company, department and personal goals with check-ins for the demo organisation (a DemoOrg)."""
    rng: random.Random = org.rng
    today = utcnow().date()
    period = services.period_for("quarter", today)
    hr, manager, employee = org.people["hr"], org.manager, org.employee
    company = []
    for name_zh, name_en, krs in COMPANY:
        goal = services.create_goal(hr, services.GoalInput(
            title=name_zh if org.lang(hr) == "zh" else name_en, owner_type="company", period=period,
            key_results=[_kr(k, org.lang(hr) == "zh") for k in krs]))
        company.append(goal)
    for key, dept in org.departments.items():
        members = org.team.get(key) or []
        lead = next((p for p in members if p.is_manager), None)
        if lead is None:
            continue
        zh = org.lang(lead) == "zh"
        parents = rng.sample(company, 2)
        dept_goal = services.create_goal(lead, services.GoalInput(
            title=(DEPARTMENT[0] if zh else DEPARTMENT[1]) % (dept.name_zh if zh else dept.name_en),
            owner_type="department", department_id=dept.id, period=period,
            parents=[services.ParentInput(p.id, p.key_results[0].id if p.key_results else None) for p in parents],
            key_results=[_kr(k, zh) for k in rng.choice(PERSONAL)[2]]))
        if lead is manager:
            reports = [p for p in members if p.manager_id == manager.id and p.active]
            for copy in services.assign(manager, dept_goal, person_ids=[p.id for p in reports]):
                if rng.random() < 0.7:
                    _backdate_checkins(rng, copy, copy.owner, period, today, org.lang(copy.owner) == "zh",
                                       rng.randint(1, 4))
        for person in rng.sample(members, min(len(members), 6)) + ([employee] if key == org.department_key(employee) else []):
            if db.session.scalar(select(Goal.id).where(Goal.owner_id == person.id, Goal.source_id.is_(None))):
                continue
            zh_person = org.lang(person) == "zh"
            name_zh, name_en, krs = rng.choice(PERSONAL)
            goal = services.create_goal(person, services.GoalInput(
                title=name_zh if zh_person else name_en, period=period, owner_id=person.id,
                visibility="private" if rng.random() < 0.15 else "public",
                parents=[services.ParentInput(dept_goal.id)], key_results=[_kr(k, zh_person) for k in krs]))
            if person is not employee or rng.random() < 0.5:
                _backdate_checkins(rng, goal, person, period, today, zh_person, rng.randint(1, 5))
    db.session.flush()
    # The manager's feedback on a report's latest check-in: its card says which goal it was on.
    latest = db.session.scalar(select(CheckIn).join(Goal, Goal.id == CheckIn.goal_id).where(
        Goal.owner_id.in_([p.id for p in org.team.get(org.department_key(employee)) or [] if p.manager_id == manager.id]),
        Goal.visibility == "public").order_by(CheckIn.id.desc()).limit(1))
    if latest is not None:
        from perfapp.feedback.services import (  # here: feedback's models come first
            FeedbackInput,
            give_feedback,
        )

        give_feedback(manager, FeedbackInput(
            recipient_id=latest.goal.owner_id, checkin_id=latest.id, kind="praise", visibility="public",
            text="进展很扎实，继续保持！" if org.lang(manager) == "zh" else "Solid progress, keep it up!"))
        db.session.flush()


# --- seed-load ------------------------------------------------------------------------------------

def load_goals(org: Any, rng: random.Random, writer: Any, goals: int, checkins: int,
               progress: Callable[[int], None] | None = None) -> None:
    """Bulk rows: 5 company goals, two per department aligned to them, the rest personal goals
    aligned to their department's; check-ins spread over the personal goals."""
    today = utcnow().date()
    start, end = services.period_for("quarter", today)
    span = max((today - start).days, 1)
    stamp, day = writer.stamp, writer.day
    departments = sorted(set(org.department[1:]))
    goal_rows: list[tuple[Any, ...]] = []
    kr_rows: list[tuple[Any, ...]] = []
    link_rows: list[tuple[Any, ...]] = []
    dept_goals: dict[int, list[int]] = {}
    person_goals: list[int] = []
    owner_of: dict[int, int] = {}
    progress_of: dict[int, float] = {}
    created = stamp(datetime.combine(start, time(9)))

    def goal(gid: int, title: str, owner_type: str, owner_id: int | None, dept_id: int | None) -> None:
        value = round(rng.random() * 0.8, 3)
        progress_of[gid] = value
        goal_rows.append((gid, "objective", title, "", owner_type, owner_id, dept_id, day(start), day(end),
                          "private" if owner_type == "person" and rng.random() < 0.1 else "public", owner_id,
                          value, value, None, "on_track", False, "", None, False, created, created))
        for position in range(2 if owner_type == "person" else 3):
            kr_rows.append((len(kr_rows) + 1, gid, position, f"KR {position + 1}", "number", 0.0, 100.0,
                            round(value * 100, 1), "", None))

    gid = 0
    for i in range(min(5, goals)):
        gid += 1
        zh, en, _krs = COMPANY[i % len(COMPANY)]
        goal(gid, zh if i % 2 == 0 else en, "company", None, None)
    for dept in departments:
        for _j in range(2):
            if gid >= goals:
                break
            gid += 1
            goal(gid, DEPARTMENT[1] % f"#{dept}", "department", None, dept)
            dept_goals.setdefault(dept, []).append(gid)
            link_rows.append((len(link_rows) + 1, gid, rng.randint(1, min(5, goals)), None, None))
    people = len(org.department) - 1
    while gid < goals:
        gid += 1
        person = rng.randint(1, people)
        zh_title, en_title, _krs = PERSONAL[gid % len(PERSONAL)]
        goal(gid, zh_title if org.zh[person] else en_title, "person", person, None)
        person_goals.append(gid)
        owner_of[gid] = person
        parents = dept_goals.get(org.department[person])
        if parents:
            link_rows.append((len(link_rows) + 1, gid, rng.choice(parents), None, None))
    last_checkin: dict[int, datetime] = {}
    checkin_rows: list[tuple[Any, ...]] = []
    for cid in range(1, checkins + 1 if person_goals else 1):
        target = rng.choice(person_goals)
        when = datetime.combine(start + timedelta(days=rng.randint(0, span)), time(rng.randint(8, 20)))
        last_checkin[target] = max(last_checkin.get(target, when), when)
        value = max(0.0, min(1.0, progress_of[target] + rng.uniform(-0.2, 0.1)))
        confidence = rng.randint(1, 10)
        status = services.derive_status(value, (when.date() - start).days / max((end - start).days, 1), confidence)
        checkin_rows.append((cid, target, owner_of[target], day(when.date()), value, confidence, "", status,
                             False, "", stamp(when)))
    # The goals' last check-in, then every row in bulk.
    goal_rows = [row[:17] + ((stamp(last_checkin[row[0]]) if row[0] in last_checkin else None),) + row[18:]
                 for row in goal_rows]
    columns = ("id", "kind", "title", "description", "owner_type", "owner_id", "department_id", "period_start",
               "period_end", "visibility", "created_by_id", "progress", "manual_progress", "confidence", "status",
               "status_overridden", "status_reason", "last_checkin_at", "archived", "created_at", "updated_at")
    writer.write_chunked(Goal.__table__, columns, goal_rows, progress)
    writer.write_chunked(KeyResult.__table__, ("id", "goal_id", "position", "title", "kind", "start_value",
                                               "target_value", "current_value", "unit", "weight"), kr_rows)
    writer.write_chunked(GoalLink.__table__, ("id", "child_id", "parent_id", "kr_id", "weight"), link_rows)
    writer.write_chunked(CheckIn.__table__, ("id", "goal_id", "author_id", "day", "progress", "confidence", "note",
                                             "status", "status_overridden", "status_reason", "created_at"),
                         checkin_rows, progress)
