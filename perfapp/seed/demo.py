"""`flask seed-demo`: a small bilingual organisation written with the ORM.

`seed_demo` builds a `DemoOrg` step by step, one function per domain, in order
(people, tags, projects, feedback, recognition). A domain adds its demo data with a
function that takes the `DemoOrg` (its people, teams, tags, projects and helpers)
and is called from `seed_demo`, e.g. `perfapp/recognition/seed.py`. Deterministic for
a given seed: every step draws from the one `rng` in a fixed order."""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.seed.content import (
    ABOUT,
    CONTENT_FIELDS,
    SPAN_DAYS,
    TAGS,
    ZONES_EN,
    ZONES_ZH,
    ContentPicker,
    email_local,
    en_name,
    hash_once,
    zh_name,
)

if TYPE_CHECKING:
    from perfapp.feedback.models import Tag
    from perfapp.people.models import Department, User
    from perfapp.projects.models import Project

DEMO_DEPARTMENTS = (
    ("hq", "总部", "Headquarters", None, ("总裁助理", "行政专员"), ("Executive Assistant", "Office Manager"), 2),
    ("eng", "研发中心", "Engineering", "hq", ("架构师", "技术专家"), ("Architect", "Principal Engineer"), 3),
    ("platform", "平台组", "Platform", "eng", ("后端工程师", "运维工程师", "测试工程师", "数据工程师"),
     ("Backend Engineer", "Site Reliability Engineer", "QA Engineer", "Data Engineer"), 6),
    ("mobile", "移动组", "Mobile", "eng", ("iOS 工程师", "Android 工程师", "前端工程师"),
     ("iOS Engineer", "Android Engineer", "Frontend Engineer"), 7),
    ("product", "产品设计部", "Product & Design", "hq", ("产品经理", "交互设计师", "用户研究员"),
     ("Product Manager", "Product Designer", "User Researcher"), 9),
    ("sales", "市场销售部", "Sales & Marketing", "hq", ("客户经理", "销售代表", "市场专员"),
     ("Account Executive", "Sales Representative", "Marketing Specialist"), 10),
    ("cs", "客户成功部", "Customer Success", "sales", ("客户成功专员", "技术支持工程师"),
     ("Customer Success Manager", "Support Engineer"), 8),
    ("hr", "人力资源部", "People & HR", "hq", ("招聘专员", "HRBP", "培训专员"),
     ("Recruiter", "HR Business Partner", "L&D Specialist"), 4),
)
# (key, name, email or None, role, department, manager key, title, locale, timezone).
# The four demo logins have no locale of their own: the language follows the browser
# (or the switcher) until they choose one.
DEMO_KEY_PEOPLE = (
    ("ceo", "陈志强", None, "employee", "hq", None, "首席执行官", "zh_Hans_CN", "Asia/Shanghai"),
    ("admin", "赵磊", "admin@example.com", "admin", "hq", "ceo", "IT Administrator", None, "Asia/Shanghai"),
    ("eng_head", "刘洋", None, "employee", "eng", "ceo", "研发副总裁", "zh_Hans_CN", "Asia/Shanghai"),
    ("manager", "王伟", "manager@example.com", "employee", "platform", "eng_head", "Platform Lead", None,
     "Asia/Shanghai"),
    ("employee", "李娜", "employee@example.com", "employee", "platform", "manager", "Senior Backend Engineer",
     None, "Asia/Shanghai"),
    ("mobile_lead", "Emma Wilson", None, "employee", "mobile", "eng_head", "Mobile Lead", "en", "Asia/Singapore"),
    ("product_head", "周婷", None, "employee", "product", "ceo", "产品总监", "zh_Hans_CN", "Asia/Shanghai"),
    ("sales_head", "James Walker", None, "employee", "sales", "ceo", "VP Sales", "en", "Europe/London"),
    ("cs_lead", "黄静", None, "employee", "cs", "sales_head", "客户成功经理", "zh_Hans_CN", "Asia/Shanghai"),
    ("hr", "张敏", "hr@example.com", "hr", "hr", "ceo", "HR Director", None, "Asia/Shanghai"),
)
DEMO_LEADS = {"hq": "ceo", "eng": "eng_head", "platform": "manager", "mobile": "mobile_lead",
              "product": "product_head", "sales": "sales_head", "cs": "cs_lead", "hr": "hr"}
# Share of English-named people per department.
DEMO_EN_SHARE = {"mobile": 0.5, "sales": 0.5, "cs": 0.3}
# (name, description, departments whose people join, milestones)
DEMO_PROJECTS = (
    ("Phoenix 客户门户", "Customer portal relaunch · 客户门户改版", ("platform", "product", "cs"),
     ("需求评审 Spec review", "Beta", "上线 Launch")),
    ("数据中台 Data Hub", "One source of truth for metrics · 统一指标口径", ("platform", "product"),
     ("数据接入 Ingestion", "指标口径 Metrics", "看板 Dashboards", "全员推广 Rollout")),
    ("Mobile 3.0", "New app navigation and offline mode · 新导航与离线模式", ("mobile", "product"),
     ("设计定稿 Design freeze", "公测 Public beta")),
    ("Sales Kickoff 销售启动会", "Annual kickoff in Hangzhou · 年度启动会", ("sales", "cs", "hr"),
     ("议程 Agenda", "会场 Venue", "启动会 Kickoff")),
    ("Onboarding 入职体验", "First-week experience for new hires · 新员工第一周", ("hr", "platform", "eng"),
     ("调研 Survey", "新流程 New flow", "试运行 Pilot")),
)


@dataclass
class DemoOrg:
    """The demo organisation as the steps build it; later steps read what earlier ones made."""

    rng: random.Random
    now: datetime = field(default_factory=utcnow)
    departments: dict[str, Department] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)  # the key people by DEMO_KEY_PEOPLE key
    team: dict[str, list[User]] = field(default_factory=dict)  # department key -> its members
    tags: list[Tag] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)

    @property
    def everyone(self) -> list[User]:
        return [p for members in self.team.values() for p in members]

    @property
    def employee(self) -> User:
        return self.people["employee"]

    @property
    def manager(self) -> User:
        return self.people["manager"]

    def department_key(self, person: User) -> str:
        return next(k for k, d in self.departments.items() if d is person.department)

    def lang(self, person: User) -> str:
        """The language a person writes in: their locale's, else their name's."""
        if person.locale:
            return "zh" if person.locale.startswith("zh") else "en"
        return "en" if person.name.isascii() else "zh"

    def projects_of(self, person: User) -> list[Project]:
        return [pr for pr in self.projects if person in pr.members]

    def colleague_of(self, person: User) -> User:
        """Someone who works near the person (a project or their department) most of the time."""
        rng, everyone = self.rng, self.everyone
        near = [p for pr in self.projects_of(person) for p in pr.members]
        near += self.team[self.department_key(person)]
        pool = near if near and rng.random() < 0.7 else everyone
        other = rng.choice(pool)
        return other if other is not person else rng.choice([p for p in everyone if p is not person])


def seed_demo(rng: random.Random) -> list[tuple[str, str]]:
    """Create the demo organisation with the ORM (small enough); returns the logins."""
    from perfapp.recognition.seed import seed_demo_recognition

    org = DemoOrg(rng)
    seed_people(org)
    seed_tags(org)
    seed_projects(org)
    seed_feedback(org)
    seed_demo_recognition(rng, org.everyone, org.employee, org.manager, org.people["hr"],
                          {t.key: t.id for t in org.tags if t.kind == "value"}, org.lang, SPAN_DAYS)
    from perfapp.goals.seed import seed_demo_goals

    seed_demo_goals(org)
    from perfapp.projects.seed import seed_demo_projects

    seed_demo_projects(org)
    from perfapp.meetings.seed import seed_demo_meetings

    seed_demo_meetings(org)
    from perfapp.reviews.seed import seed_demo_reviews

    seed_demo_reviews(org)
    from perfapp.coaching.seed import seed_demo_coaching

    seed_demo_coaching(org)
    employee, manager = org.employee, org.manager
    return [
        ("employee@example.com", f"{employee.name}, reports to {manager.name}"),
        ("manager@example.com", f"{manager.name}, {len(org.team['platform']) - 1} direct reports"),
        ("hr@example.com", f"{org.people['hr'].name}, role hr"),
        ("admin@example.com", f"{org.people['admin'].name}, role admin"),
    ]


def seed_people(org: DemoOrg) -> None:
    """Departments, the key people (the four logins among them) and generated members."""
    from perfapp.people.models import Department, User

    rng, now = org.rng, org.now
    password_hash = hash_once()
    departments = org.departments
    for key, name_zh, name_en, parent, *_rest in DEMO_DEPARTMENTS:
        departments[key] = Department(name_zh=name_zh, name_en=name_en,
                                      parent=departments[parent] if parent else None)
    db.session.add_all(departments.values())

    people = org.people
    used_names: set[str] = set()
    used_emails: set[str] = set()

    def add_person(name: str, email: str | None, dept: str, manager: User | None, title: str,
                   locale: str | None, zone: str, role: str = "employee") -> User:
        if email is None:
            local, n = email_local(name), 1
            while f"{local}@example.com" in used_emails:
                n += 1
                local = f"{email_local(name)}{n}"
            email = f"{local}@example.com"
        used_names.add(name)
        used_emails.add(email)
        user = User(email=email, role=role, title=title, locale=locale, timezone=zone,
                    department=departments[dept], manager=manager, password_hash=password_hash,
                    created_at=now - timedelta(days=SPAN_DAYS + rng.randint(30, 900)))
        user.set_name(name)
        db.session.add(user)
        return user

    for key, name, email, role, dept, manager, title, locale, zone in DEMO_KEY_PEOPLE:
        people[key] = add_person(name, email, dept, people[manager] if manager else None, title,
                                 locale, zone, role)
    team = org.team = {key: [] for key in departments}
    for person in people.values():
        team[org.department_key(person)].append(person)
    for key, _zh, _en, _parent, titles_zh, titles_en, count in DEMO_DEPARTMENTS:
        lead = people[DEMO_LEADS[key]]
        for _ in range(count):
            english = rng.random() < DEMO_EN_SHARE.get(key, 0.15)
            name = en_name(rng) if english else zh_name(rng)
            while name in used_names:
                name = en_name(rng) if english else zh_name(rng)
            if english:
                locale, zone, title = "en", rng.choice(ZONES_EN), rng.choice(titles_en)
            else:
                locale = "zh_Hans_CN" if rng.random() < 0.85 else "en"
                zone, title = rng.choice(ZONES_ZH), rng.choice(titles_zh)
            team[key].append(add_person(name, None, key, lead, title, locale, zone))


def seed_tags(org: DemoOrg) -> None:
    from perfapp.feedback.models import Tag

    org.tags = [Tag(key=key, kind=kind, name_zh=zh, name_en=en) for key, kind, zh, en in TAGS]
    db.session.add_all(org.tags)


def seed_projects(org: DemoOrg) -> None:
    """Projects of people from a few departments (the employee in the platform ones), with milestones."""
    from perfapp.projects.models import Milestone, Project

    rng, now = org.rng, org.now
    for name, description, depts, milestone_names in DEMO_PROJECTS:
        pool = [p for d in depts for p in org.team[d]]
        members = rng.sample(pool, min(len(pool), rng.randint(6, 10)))
        if "platform" in depts and org.employee not in members:
            members.append(org.employee)
        project = Project(name=name, description=description, members=members,
                          created_at=now - timedelta(days=SPAN_DAYS + 20))
        start = rng.randint(-80, -40)
        for i, m_name in enumerate(milestone_names):
            due = (now + timedelta(days=start + i * rng.randint(20, 35))).date()
            reached = (datetime.combine(due, datetime.min.time()) + timedelta(hours=rng.randint(-48, 30))
                       if due < now.date() and rng.random() < 0.8 else None)
            project.milestones.append(Milestone(name=m_name, due_date=due, reached_at=reached))
        org.projects.append(project)
    db.session.add_all(org.projects)
    db.session.flush()


def seed_feedback(org: DemoOrg) -> None:
    """Feedback around the employee, their team and the company; requests in every answer
    state; the inbox entries notify.handlers would have written for them."""
    from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
    from perfapp.notify.models import Notification

    rng, now, tags = org.rng, org.now, org.tags
    everyone = org.everyone
    employee, manager = org.employee, org.manager
    manager_team = org.team["platform"]  # the manager, the employee and their teammates
    projects_of = {p.id: org.projects_of(p) for p in everyone}
    picker = ContentPicker(rng, [t.id for t in tags])
    colleague_of, lang = org.colleague_of, org.lang

    pairs: list[tuple[User, User]] = []
    pairs += [(colleague_of(employee), employee) for _ in range(45)]
    pairs += [(employee, colleague_of(employee)) for _ in range(22)]
    for _ in range(40):
        author, recipient = rng.sample(manager_team, 2)
        pairs.append((author, recipient))
    for _ in range(220):
        recipient = rng.choice(everyone)
        pairs.append((colleague_of(recipient), recipient))
    pairs = [(a, r) for a, r in pairs if a is not r]

    def make_feedback(author: User, recipient: User, created: datetime, **overrides: Any) -> Feedback:
        *content, tag_ids = picker.pick(lang(author))
        fields = {**dict(zip(CONTENT_FIELDS, content, strict=True)), **overrides}
        item = Feedback(author=author, recipient=recipient, created_at=created, **fields)
        item.tags = [t for t in tags if t.id in tag_ids]
        shared = [pr for pr in projects_of[author.id] if pr in projects_of[recipient.id]]
        if shared and rng.random() < 0.6:
            item.project = rng.choice(shared)
            done = [m for m in item.project.milestones if m.due_date and m.due_date <= created.date()]
            if done and rng.random() < 0.6:
                item.milestone = rng.choice(done)
        return item

    stamps = sorted(now - timedelta(seconds=rng.randint(600, SPAN_DAYS * 86400)) for _ in pairs)
    items = [make_feedback(a, r, s) for (a, r), s in zip(pairs, stamps, strict=True)]

    # Requests: colleagues waiting on the employee, the employee's and the manager's own
    # requests with every answer state, and some elsewhere in the company.
    requests: list[FeedbackRequest] = []

    def add_request(requester: User, asked: list[User], days_ago: float, statuses: Sequence[str]) -> None:
        created = now - timedelta(days=days_ago)
        req = FeedbackRequest(requester=requester, about=rng.choice(ABOUT[lang(requester)]),
                              created_at=created, expires_at=created + timedelta(days=30))
        for person, status in zip(asked, statuses, strict=False):
            responded = None if status == "open" else created + timedelta(hours=rng.randint(2, 72))
            req.asks.append(FeedbackAsk(recipient=person, status=status, responded_at=responded))
        requests.append(req)

    reports = [p for p in manager_team if p is not manager]
    for days in (0.2, 1.5, 4):
        add_request(colleague_of(employee), [employee], days, ["open"])
    add_request(employee, rng.sample([p for p in reports if p is not employee], 3), 12,
                ["answered", "declined", "open"])
    add_request(manager, reports[:4], 20, ["answered", "answered", "declined", "answered"])
    for _ in range(10):
        requester = rng.choice(everyone)
        asked = [colleague_of(requester) for _ in range(rng.randint(1, 4))]
        asked = [p for p in dict.fromkeys(asked) if p is not requester]
        add_request(requester, asked, rng.uniform(1, 40),
                    [rng.choice(("open", "open", "answered", "declined")) for _ in asked])
    db.session.add_all(requests)
    db.session.flush()
    for req in requests:
        for ask in req.asks:
            if ask.status == "answered":
                items.append(make_feedback(ask.recipient, req.requester, ask.responded_at,  # type: ignore[arg-type]
                                           kind="suggestion", visibility="private",
                                           development_only=False, ask_id=ask.id))
    db.session.add_all(items)
    db.session.flush()

    # Inbox entries as notify.handlers would have written them (same dedupe keys); older ones read.
    def read_at(created: datetime) -> datetime | None:
        return created + timedelta(hours=rng.randint(1, 30)) if now - created > timedelta(days=5) else None

    for item in items:
        db.session.add(Notification(user_id=item.recipient_id, kind="feedback_received",
                                    feedback_id=item.id, dedupe_key=f"feedback:{item.id}",
                                    created_at=item.created_at,
                                    read_at=read_at(item.created_at)))
    for req in requests:
        for ask in req.asks:
            db.session.add(Notification(user_id=ask.recipient_id, kind="ask_received", ask_id=ask.id,
                                        dedupe_key=f"ask:{ask.id}", created_at=req.created_at,
                                        read_at=ask.responded_at or read_at(req.created_at)))
    db.session.flush()
