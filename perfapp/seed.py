"""Demo and load data: `flask seed-demo` (a small bilingual organisation) and
`flask seed-load` (a large database for benchmarks, written with bulk inserts).

Both are deterministic for a given --seed; dates are relative to "now" so the
feeds always look recent. Content is stored in one language per row, the way
real people write it: Chinese-speaking authors write Chinese, others English.
"""
from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import click
from flask import Flask
from pypinyin import lazy_pinyin
from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from perfapp.core.db import empty_table, utcnow
from perfapp.extensions import db

DEMO_PASSWORD = "perfapp-demo"
SPAN_DAYS = 90

# --- content shared by both commands ---------------------------------------------

SURNAMES_ZH = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
GIVEN_ZH = (
    "娜", "伟", "敏", "静", "磊", "洋", "婷", "强", "军", "杰", "芳", "涛", "明", "超", "霞", "平",
    "刚", "丽", "华", "鹏", "丹", "颖", "晶", "琳", "斌", "欣怡", "子涵", "浩然", "宇轩", "思远",
    "雨桐", "晓东", "海燕", "建国", "志强", "佳怡", "俊杰", "梓萱", "一鸣", "文博", "嘉怡", "天宇",
    "晨曦", "若曦", "家豪", "诗涵", "明轩", "欣然", "宏伟", "秀英", "立新", "丽华", "小龙", "雪梅",
)
FIRST_EN = (
    "Emma", "Olivia", "Ava", "Sophia", "Mia", "Charlotte", "Amelia", "Grace", "Chloe", "Lucy",
    "Liam", "Noah", "Oliver", "James", "Lucas", "Henry", "Jack", "Daniel", "Samuel", "David",
    "Michael", "Sarah", "Hannah", "Laura", "Ethan", "Ryan", "Kevin", "Jessica", "Anna", "Tom",
)
LAST_EN = (
    "Wilson", "Smith", "Brown", "Taylor", "Johnson", "Walker", "Clarke", "Hughes", "Evans",
    "Turner", "Martin", "Thompson", "Baker", "Carter", "Mitchell", "Scott", "Harris", "Young",
    "King", "Wright", "Green", "Hall", "Allen", "Lewis", "Wood", "Patel", "Nguyen", "Tan", "Lim",
    "Wong",
)
ZONES_ZH = ("Asia/Shanghai",) * 8 + ("Asia/Hong_Kong", "Asia/Singapore")
ZONES_EN = ("Europe/London", "America/New_York", "Asia/Singapore", "Europe/Berlin", "Asia/Shanghai")

# (key, kind, name_zh, name_en); free tags have one name in both languages.
TAGS: tuple[tuple[str, str, str, str], ...] = (
    ("customer-first", "value", "客户第一", "Customer first"),
    ("ownership", "value", "担当", "Ownership"),
    ("collaboration", "value", "协作", "Collaboration"),
    ("innovation", "value", "创新", "Innovation"),
    ("integrity", "value", "诚信", "Integrity"),
    ("communication", "capability", "沟通", "Communication"),
    ("data-analysis", "capability", "数据分析", "Data analysis"),
    ("project-management", "capability", "项目管理", "Project management"),
    ("technical-depth", "capability", "技术深度", "Technical depth"),
    ("mentoring", "capability", "辅导他人", "Mentoring"),
    ("presenting", "capability", "演讲表达", "Presenting"),
    ("launch day", "free", "Launch day", "Launch day"),
    ("上线冲刺", "free", "上线冲刺", "上线冲刺"),
    ("code review", "free", "Code review", "Code review"),
    ("新人引导", "free", "新人引导", "新人引导"),
)

TEXTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("praise", "zh"): (
        "昨天的客户演示讲得特别清楚，客户当场确认了下一步。",
        "谢谢你周末帮忙排查线上故障，版本按时发布了！",
        "新人引导文档写得很用心，我第一天就把环境跑起来了。",
        "数据看板做得太棒了，周会至少省了半小时。",
        "评审会上你把风险讲得很透，大家心里都有数了。",
        "感谢你主动接手那个棘手的客户工单，处理得又快又稳。",
        "你的代码评审意见很具体，我学到了很多。",
        "跨部门协调辛苦了，没有你这个项目推不动。",
        "上线当天一直在群里盯着，响应超快，给你点赞！",
        "复盘会组织得很好，问题和改进都很清楚。",
        "帮我梳理了需求优先级，思路一下子清楚了。",
        "客户满意度调查的分析很有洞察，老板都转发了。",
    ),
    ("praise", "en"): (
        "Your demo to the client was crystal clear — they confirmed next steps on the spot.",
        "Thanks for jumping on the outage on Sunday; the release went out on time.",
        "The onboarding guide is great. I had my environment running on day one.",
        "The new dashboard saves us half an hour in every weekly review.",
        "You called out the risks in the design review so clearly that everyone knew where we stood.",
        "Thank you for taking over that tricky support ticket and closing it so calmly.",
        "Your code review comments were specific and kind. I learned a lot.",
        "Great job pulling three teams together — this would have stalled without you.",
        "You were on call all launch day and answered everything within minutes. Thank you!",
        "The retro was well run: clear problems, clear owners.",
        "Thanks for helping me sort the backlog. Priorities finally make sense.",
        "Your analysis of the customer survey was sharp — leadership shared it with everyone.",
    ),
    ("suggestion", "zh"): (
        "周报可以先写结论再放细节，读起来会更快。",
        "评审材料如果提前一天发出来，大家能准备得更充分。",
        "站会可以控制在十五分钟以内，细节会后再聊。",
        "文档里加几张架构图会更容易理解。",
        "和客户沟通时可以先确认对方的预期，再给方案。",
        "建议把常见问题整理成 FAQ，减少重复回答。",
    ),
    ("suggestion", "en"): (
        "Lead with the conclusion in the weekly update; the details can follow.",
        "Share the review deck a day early so people can come prepared.",
        "Let's keep stand-up under 15 minutes and take details offline.",
        "A couple of diagrams in the design doc would make it much easier to follow.",
        "With customers, confirm what they expect before proposing a solution.",
        "Turning the recurring questions into an FAQ would save everyone time.",
    ),
    ("constructive", "zh"): (
        "上次估时变了两次但没有提前同步，下次有变化请尽早告诉大家。",
        "会上有几次打断别人发言，可以先听完再补充。",
        "代码合并前测试没跑完，导致测试环境挂了半天。",
        "回复客户邮件有点慢，超过一天的可以先回个确认。",
        "需求变更直接改了文档没有通知，开发这边返工了。",
    ),
    ("constructive", "en"): (
        "The estimate changed twice last sprint without a heads-up; please flag changes early.",
        "In the planning meeting you cut people off a few times — let them finish first.",
        "The branch was merged before the tests finished and staging was down for half a day.",
        "Customer emails sometimes wait more than a day; a quick acknowledgement would help.",
        "The spec changed without telling the team, so we had to redo work.",
    ),
}
# The one-minute template: behaviour I saw, impact I understood, what I suggest.
TEMPLATES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "zh": (
        ("客户会议上你先复述了客户的问题，再给出方案。", "客户觉得被理解了，当场同意试点。", "下次可以把报价也提前准备好。"),
        ("发布前你写了详细的回滚步骤。", "出问题时我们十分钟就恢复了服务。", "可以把它沉淀成团队的标准流程。"),
        ("周会汇报时数据很多但没有结论。", "大家花了不少时间才理解重点。", "先说结论，再用一两张图支撑。"),
        ("你主动带新人做了两次结对编程。", "新人第二周就能独立提交代码了。", "可以把经验分享给其他组。"),
    ),
    "en": (
        ("In the client call you restated their problem before proposing anything.",
         "They felt heard and agreed to a pilot right away.", "Next time bring the pricing too."),
        ("You wrote step-by-step rollback notes before the release.",
         "When it broke we were back up in ten minutes.", "Let's make it the team's standard checklist."),
        ("The update had lots of numbers but no conclusion.",
         "It took the room a while to find the point.", "Start with the takeaway, then one or two charts."),
        ("You paired with the new hire twice this week.",
         "They shipped their first change in week two.", "Consider sharing how you did it with other teams."),
    ),
}
ABOUT: dict[str, tuple[str, ...]] = {
    "zh": ("上周的客户演示，哪里可以讲得更好？", "我的季度规划文档，有什么建议？",
           "这次上线的协调工作做得怎么样？", "我在评审会上的主持表现"),
    "en": ("How did my client demo go last week?", "Any thoughts on my quarterly plan?",
           "How did I handle the launch coordination?", "My facilitation of the design review"),
}
EMOJI_SETS = ("", "", "", "👍", "🙏", "💡", "🔥", "🎯", "❤️", "👍 🔥", "🙏 ❤️", "🎯 👍", "💡 🙏")

# (kind, visibility, confidential, development_only, weight). Only praise that is not
# development-only may be public: the rule give_feedback enforces.
PROFILES: tuple[tuple[str, str, bool, bool, int], ...] = (
    ("praise", "public", False, False, 38),
    ("praise", "private", False, False, 10),
    ("praise", "manager", False, False, 7),
    ("praise", "private", True, False, 2),
    ("suggestion", "private", False, False, 10),
    ("suggestion", "manager", False, False, 5),
    ("suggestion", "private", True, False, 3),
    ("suggestion", "manager", False, True, 4),
    ("constructive", "private", False, True, 9),
    ("constructive", "manager", False, True, 6),
    ("constructive", "private", True, True, 4),
    ("constructive", "manager", False, False, 2),
)
PROFILE_POOL = tuple(p[:4] for p in PROFILES for _n in range(p[4]))
TAG_COUNTS = (0, 0, 1, 1, 1, 1, 2, 2, 2, 3)


def storable(dt: datetime, dialect: str) -> Any:
    """A datetime as the raw driver expects it; on SQLite the exact text SQLAlchemy writes."""
    return dt.isoformat(sep=" ", timespec="microseconds") if dialect == "sqlite" else dt


def zh_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES_ZH) + rng.choice(GIVEN_ZH)


def en_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_EN)} {rng.choice(LAST_EN)}"


def email_local(name: str) -> str:
    """li.na for 李娜, emma.wilson for Emma Wilson."""
    if name.isascii():
        return ".".join(name.lower().split())
    syllables = lazy_pinyin(name)
    return f"{syllables[0]}.{''.join(syllables[1:])}"


CONTENT_FIELDS = ("kind", "visibility", "confidential", "development_only", "text", "emoji", "behaviour",
                  "impact", "suggestion")


@dataclass
class ContentPicker:
    """Picks the content of one feedback row from precomputed pools (fast in a loop)."""

    rng: random.Random
    tag_ids: Sequence[int]
    template_share: float = 0.15
    tag_combos: list[tuple[int, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        ids = list(self.tag_ids)
        # Value and capability tags are used far more than free ones.
        weights = [5 if kind != "free" else 1 for _k, kind, _z, _e in TAGS][: len(ids)]
        for _ in range(4096):
            n = min(self.rng.choice(TAG_COUNTS), len(ids))
            combo: list[int] = []
            while len(combo) < n:
                t = self.rng.choices(ids, weights)[0]
                if t not in combo:
                    combo.append(t)
            self.tag_combos.append(tuple(sorted(combo)))

    def pick(self, lang: str) -> tuple[str, str, bool, bool, str, str, str, str, str, tuple[int, ...]]:
        """(kind, visibility, confidential, development_only, text, emoji, behaviour, impact, suggestion, tags)."""
        rng = self.rng
        kind, visibility, confidential, dev_only = rng.choice(PROFILE_POOL)
        if rng.random() < self.template_share:
            behaviour, impact, suggestion = rng.choice(TEMPLATES[lang])
            text_ = ""
        else:
            behaviour = impact = suggestion = ""
            text_ = rng.choice(TEXTS[kind, lang])
        emoji = rng.choice(EMOJI_SETS) if kind == "praise" else ""
        return (kind, visibility, confidential, dev_only, text_, emoji, behaviour, impact, suggestion,
                rng.choice(self.tag_combos))


def _hash_once() -> str:
    from perfapp.auth.services import hash_password

    return hash_password(DEMO_PASSWORD)


def _is_empty() -> bool:
    from perfapp.people.models import User

    return db.session.scalar(select(User.id).limit(1)) is None


def _print_logins(accounts: Iterable[tuple[str, str]]) -> None:
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, what in accounts:
        click.echo(f"  {email:<24} {what}")


# --- seed-demo ------------------------------------------------------------------------

# (key, name_zh, name_en, parent key, zh titles, en titles, generated members)
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


def seed_demo(rng: random.Random) -> list[tuple[str, str]]:
    """Create the demo organisation with the ORM (small enough); returns the logins."""
    from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest, Tag
    from perfapp.notify.models import Notification
    from perfapp.people.models import Department, User
    from perfapp.projects.models import Milestone, Project

    now = utcnow()
    password_hash = _hash_once()

    departments: dict[str, Department] = {}
    for key, name_zh, name_en, parent, *_rest in DEMO_DEPARTMENTS:
        departments[key] = Department(name_zh=name_zh, name_en=name_en,
                                      parent=departments[parent] if parent else None)
    db.session.add_all(departments.values())

    people: dict[str, User] = {}
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
    team: dict[str, list[User]] = {key: [] for key in departments}
    for person in people.values():
        team[next(k for k, d in departments.items() if d is person.department)].append(person)
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

    tags = [Tag(key=key, kind=kind, name_zh=zh, name_en=en) for key, kind, zh, en in TAGS]
    db.session.add_all(tags)

    projects: list[Project] = []
    for name, description, depts, milestone_names in DEMO_PROJECTS:
        pool = [p for d in depts for p in team[d]]
        members = rng.sample(pool, min(len(pool), rng.randint(6, 10)))
        if "platform" in depts and people["employee"] not in members:
            members.append(people["employee"])
        project = Project(name=name, description=description, members=members,
                          created_at=now - timedelta(days=SPAN_DAYS + 20))
        start = rng.randint(-80, -40)
        for i, m_name in enumerate(milestone_names):
            due = (now + timedelta(days=start + i * rng.randint(20, 35))).date()
            reached = (datetime.combine(due, datetime.min.time()) + timedelta(hours=rng.randint(-48, 30))
                       if due < now.date() and rng.random() < 0.8 else None)
            project.milestones.append(Milestone(name=m_name, due_date=due, reached_at=reached))
        projects.append(project)
    db.session.add_all(projects)
    db.session.flush()

    everyone = [p for members in team.values() for p in members]
    employee, manager = people["employee"], people["manager"]
    manager_team = team["platform"]  # the manager, the employee and their teammates
    projects_of = {p.id: [pr for pr in projects if p in pr.members] for p in everyone}
    picker = ContentPicker(rng, [t.id for t in tags])

    def lang(person: User) -> str:
        if person.locale:
            return "zh" if person.locale.startswith("zh") else "en"
        return "en" if person.name.isascii() else "zh"

    def colleague_of(person: User) -> User:
        near = [p for pr in projects_of[person.id] for p in pr.members]
        near += team[next(k for k, d in departments.items() if d is person.department)]
        pool = near if near and rng.random() < 0.7 else everyone
        other = rng.choice(pool)
        return other if other is not person else rng.choice([p for p in everyone if p is not person])

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

    from perfapp.recognition.seed import seed_demo_recognition

    seed_demo_recognition(rng, everyone, employee, manager, people["hr"],
                          {t.key: t.id for t in tags if t.kind == "value"}, lang, SPAN_DAYS)
    return [
        ("employee@example.com", f"{employee.name}, reports to {manager.name}"),
        ("manager@example.com", f"{manager.name}, {len(manager_team) - 1} direct reports"),
        ("hr@example.com", f"{people['hr'].name}, role hr"),
        ("admin@example.com", f"{people['admin'].name}, role admin"),
    ]


# --- seed-load ------------------------------------------------------------------------

LOAD_FANOUT = 7  # direct reports per manager in the generated tree
CHUNK = 20_000
MIN_LOAD_PEOPLE = 20


class BulkWriter:
    """Raw driver bulk inserts inside the connection's transaction: executemany on
    SQLite, COPY on PostgreSQL (an order of magnitude faster than INSERTs there)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.quote = conn.dialect.identifier_preparer.quote

    def stamp(self, dt: datetime) -> Any:
        return storable(dt, self.dialect)

    def day(self, d: date) -> Any:
        return d.isoformat() if self.dialect == "sqlite" else d

    def write(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = ", ".join(self.quote(c) for c in columns)
        if self.dialect == "postgresql":
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {self.quote(table.name)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" if self.dialect == "sqlite" else "%s" for _ in columns)
        self.conn.exec_driver_sql(f"INSERT INTO {self.quote(table.name)} ({cols}) VALUES ({marks})",
                                  list(rows))  # type: ignore[arg-type]

    def write_chunked(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                      progress: Callable[[int], None] | None = None) -> int:
        """Write rows in chunks, committing each so SQLite's WAL stays small; returns the count."""
        total = 0
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                total += self._flush(table, columns, chunk, progress)
                chunk = []
        return total + self._flush(table, columns, chunk, progress)

    def _flush(self, table: Table, columns: Sequence[str], chunk: list[Sequence[Any]],
               progress: Callable[[int], None] | None) -> int:
        self.write(table, columns, chunk)
        self.conn.commit()
        if progress:
            progress(len(chunk))
        return len(chunk)


@dataclass
class LoadOrg:
    """The generated organisation: a tree of LOAD_FANOUT reports per manager, with the
    demo manager's team as a separate small team at the end of the id range."""

    people: int
    manager: list[int] = field(default_factory=list)  # index = person id; 0 = none
    department: list[int] = field(default_factory=list)
    zh: list[bool] = field(default_factory=list)

    @property
    def demo_ids(self) -> dict[str, int]:
        n = self.people
        return {"hr": 2, "admin": n - 8, "manager": n - 7, "employee": n - 6}

    @property
    def team(self) -> list[int]:
        """The demo manager and their direct reports (the employee among them)."""
        n = self.people
        return list(range(n - 7, n + 1))


def _load_departments(org: LoadOrg, rng: random.Random, writer: BulkWriter) -> None:
    from perfapp.people.models import Department

    count = max(4, min(org.people // 150, 70))
    areas = [(zh, en) for _k, zh, en, *_r in DEMO_DEPARTMENTS]
    rows = []
    for dep_id in range(1, count + 1):
        zh, en = areas[dep_id % len(areas)]
        parent = None if dep_id == 1 else (dep_id - 2) // LOAD_FANOUT + 1
        suffix = "" if dep_id <= len(areas) else f" {dep_id}"
        rows.append((dep_id, f"{zh}{suffix}", f"{en}{suffix}", parent))
    writer.write_chunked(Department.__table__, ("id", "name_zh", "name_en", "parent_id"), rows)  # type: ignore[arg-type]
    # Person k heads department k (same tree shape), everyone else joins their manager's.
    org.department = [0] + [0] * org.people
    for pid in range(1, org.people + 1):
        org.department[pid] = pid if pid <= count else org.department[org.manager[pid]]


def _load_people(org: LoadOrg, rng: random.Random, writer: BulkWriter, password_hash: str,
                 progress: Callable[[int], None]) -> None:
    from perfapp.people.models import User, search_key_for

    n = org.people
    demo = {v: k for k, v in org.demo_ids.items()}
    org.manager = [0] * (n + 1)
    for pid in range(2, n + 1):
        org.manager[pid] = (pid - 2) // LOAD_FANOUT + 1
    for pid in org.team[1:]:
        org.manager[pid] = org.demo_ids["manager"]
    _load_departments(org, rng, writer)
    org.zh = [True] * (n + 1)
    titles_zh = [t for d in DEMO_DEPARTMENTS for t in d[4]]
    titles_en = [t for d in DEMO_DEPARTMENTS for t in d[5]]
    created = writer.stamp(utcnow() - timedelta(days=400))
    names = {"hr": "张敏", "admin": "赵磊", "manager": "王伟", "employee": "李娜"}

    def rows() -> Iterator[tuple[Any, ...]]:
        for pid in range(1, n + 1):
            key = demo.get(pid)
            zh = True if key else rng.random() < 0.75
            org.zh[pid] = zh
            name = names[key] if key else (zh_name(rng) if zh else en_name(rng))
            email = f"{key}@example.com" if key else f"{email_local(name)}.{pid}@example.org"
            locale = None if key else ("zh_Hans_CN" if zh and rng.random() < 0.85 else "en")
            zone = rng.choice(ZONES_ZH if zh else ZONES_EN)
            title = rng.choice(titles_zh if zh else titles_en)
            yield (pid, email, name, search_key_for(name, email), title, org.department[pid],
                   org.manager[pid] or None, {"hr": "hr", "admin": "admin"}.get(key or "", "employee"),
                   locale, zone, True, password_hash if key else None, 0, created, secrets.token_hex(16))

    columns = ("id", "email", "name", "search_key", "title", "department_id", "manager_id", "role",
               "locale", "timezone", "active", "password_hash", "failed_logins", "created_at", "audit_ref")
    writer.write_chunked(User.__table__, columns, rows(), progress)  # type: ignore[arg-type]


def _load_projects(org: LoadOrg, rng: random.Random, writer: BulkWriter) -> list[tuple[int, int]]:
    """Projects with members and milestones; returns (milestone id, project id) pairs."""
    from perfapp.projects.models import Milestone, Project, ProjectMember

    now = utcnow()
    count = max(5, org.people // 50)
    names = [p[0] for p in DEMO_PROJECTS]
    projects, members, milestones = [], [], []
    for pid in range(1, count + 1):
        projects.append((pid, f"{names[pid % len(names)]} #{pid}", "", writer.stamp(now - timedelta(days=120)),
                         False))
        team = set(rng.sample(range(1, org.people + 1), min(org.people, rng.randint(5, 15))))
        if pid <= 3:
            team.update(org.team)
        members += [(pid, uid) for uid in sorted(team)]
        for i in range(rng.randint(2, 4)):
            due = (now + timedelta(days=rng.randint(-80, -30) + i * 30)).date()
            reached = writer.stamp(datetime.combine(due, datetime.min.time())) if due < now.date() else None
            milestones.append((len(milestones) + 1, pid, f"M{i + 1}", writer.day(due), reached))
    writer.write_chunked(Project.__table__, ("id", "name", "description", "created_at", "archived"), projects)  # type: ignore[arg-type]
    writer.write_chunked(ProjectMember.__table__, ("project_id", "user_id"), members)  # type: ignore[arg-type]
    writer.write_chunked(Milestone.__table__, ("id", "project_id", "name", "due_date", "reached_at"),  # type: ignore[arg-type]
                         milestones)
    return [(m[0], m[1]) for m in milestones]


def _load_feedback(org: LoadOrg, rng: random.Random, writer: BulkWriter, count: int,
                   tag_ids: list[int], milestones: list[tuple[int, int]],
                   progress: Callable[[int], None]) -> None:
    """Feedback rows in time order (ids follow time, like a real table), with tag links
    and inbox entries for the demo team. Roughly one row in twenty-five involves the
    demo manager's team, so the employee's feed and profile are full."""
    from perfapp.feedback.models import Feedback, FeedbackTag
    from perfapp.notify.models import Notification

    n = org.people
    team = org.team
    employee = org.demo_ids["employee"]
    team_set = set(team)
    picker = ContentPicker(rng, tag_ids)
    now = utcnow()
    start = now - timedelta(days=SPAN_DAYS)
    step = SPAN_DAYS * 86400 / max(count, 1)
    columns = ("id", "author_id", "recipient_id", "kind", "visibility", "confidential", "development_only",
               "text", "emoji", "behaviour", "impact", "suggestion", "project_id", "milestone_id",
               "created_at")
    links: list[tuple[int, int]] = []
    notes: list[tuple[Any, ...]] = []
    unread_after = now - timedelta(days=5)
    lang = {True: "zh", False: "en"}
    randint, random_ = rng.randint, rng.random

    def someone_else(pid: int) -> int:
        other = randint(1, n)
        return other if other != pid else (pid % n) + 1

    def make_row(fid: int) -> tuple[Any, ...]:
        r = random_()
        if r < 0.010:
            recipient = employee
            author = rng.choice(team) if random_() < 0.5 else someone_else(recipient)
        elif r < 0.015:
            author = employee
            recipient = rng.choice(team) if random_() < 0.5 else someone_else(author)
        elif r < 0.04:
            author = rng.choice(team)
            recipient = rng.choice(team) if random_() < 0.6 else someone_else(author)
        else:
            recipient = randint(1, n)
            # Half the time someone close: the manager or a teammate, as in real feedback.
            boss = org.manager[recipient]
            if boss and random_() < 0.5:
                author = boss if random_() < 0.3 else min(n, (boss - 1) * LOAD_FANOUT + 2 + randint(0, 6))
            else:
                author = randint(1, n)
        if author == recipient:
            author = someone_else(recipient)
        (kind, visibility, confidential, dev_only, text_, emoji, behaviour, impact, suggestion,
         tags) = picker.pick(lang[org.zh[author]])
        project = milestone = None
        if random_() < 0.15:
            milestone, project = rng.choice(milestones)
        created_dt = start + timedelta(seconds=(fid - 1 + random_()) * step)
        created = writer.stamp(created_dt)
        links.extend((fid, tag) for tag in tags)
        if recipient in team_set:
            notes.append((recipient, "feedback_received", fid, f"feedback:{fid}", created,
                          None if created_dt > unread_after else created))
        return (fid, author, recipient, kind, visibility, confidential, dev_only, text_, emoji, behaviour,
                impact, suggestion, project, milestone, created)

    for first in range(1, count + 1, CHUNK):
        rows = [make_row(fid) for fid in range(first, min(first + CHUNK, count + 1))]
        writer.write(Feedback.__table__, columns, rows)  # type: ignore[arg-type]
        writer.write(FeedbackTag.__table__, ("feedback_id", "tag_id"), links)  # type: ignore[arg-type]
        writer.conn.commit()
        links.clear()
        progress(len(rows))
    writer.write_chunked(Notification.__table__,  # type: ignore[arg-type]
                         ("user_id", "kind", "feedback_id", "dedupe_key", "created_at", "read_at"), notes)


def _load_requests(org: LoadOrg, rng: random.Random, writer: BulkWriter) -> None:
    """Feedback requests: a few waiting on the employee, the rest across the company."""
    from perfapp.feedback.models import FeedbackAsk, FeedbackRequest
    from perfapp.notify.models import Notification

    now = utcnow()
    team, employee = org.team, org.demo_ids["employee"]
    requests, asks, notes = [], [], []
    for rid in range(1, max(5, org.people // 2) + 1):
        if rid <= 4:
            requester, asked = rng.choice(team[2:]), [employee]
            created_dt = now - timedelta(hours=rng.randint(1, 96))
        else:
            requester = rng.randint(1, org.people)
            asked = list(dict.fromkeys(rng.randint(1, org.people) for _ in range(rng.randint(1, 4))))
            asked = [a for a in asked if a != requester]
            created_dt = now - timedelta(days=rng.uniform(0, 60))
        created = writer.stamp(created_dt)
        requests.append((rid, requester, rng.choice(ABOUT[{True: "zh", False: "en"}[org.zh[requester]]]),
                         created, writer.stamp(created_dt + timedelta(days=30))))
        for person in asked:
            status = "open" if rid <= 4 else rng.choice(("open", "open", "answered", "declined"))
            responded = None if status == "open" else writer.stamp(created_dt + timedelta(hours=rng.randint(1, 72)))
            asks.append((len(asks) + 1, rid, person, status, responded))
            notes.append((person, "ask_received", len(asks), f"ask:{len(asks)}", created, responded or (
                created if created_dt < now - timedelta(days=5) else None)))
    writer.write_chunked(FeedbackRequest.__table__,  # type: ignore[arg-type]
                         ("id", "requester_id", "about", "created_at", "expires_at"), requests)
    writer.write_chunked(FeedbackAsk.__table__,  # type: ignore[arg-type]
                         ("id", "request_id", "recipient_id", "status", "responded_at"), asks)
    writer.write_chunked(Notification.__table__,  # type: ignore[arg-type]
                         ("user_id", "kind", "ask_id", "dedupe_key", "created_at", "read_at"), notes)


def _wipe(conn: Connection) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for table in tables:
            empty_table(conn, table)
    conn.commit()


def _finish(conn: Connection) -> None:
    """Move PostgreSQL sequences past the explicit ids, then refresh planner statistics (both engines)."""
    if conn.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {conn.dialect.identifier_preparer.quote(table.name)}), 0) + 1, "
                    "false)"
                ))
        conn.commit()
        # VACUUM as well: it sets the visibility map, without which PostgreSQL cannot use
        # index-only scans until autovacuum gets round to the new tables.
        raw = conn.connection.driver_connection
        raw.autocommit = True  # type: ignore[union-attr]
        try:
            raw.execute("VACUUM ANALYZE")  # type: ignore[union-attr]
        finally:
            raw.autocommit = False  # type: ignore[union-attr]
        return
    conn.exec_driver_sql("ANALYZE")
    conn.commit()


def _sqlite_pragmas(conn: Connection, **pragmas: Any) -> None:
    # Straight to the driver: SQLite refuses some pragmas inside the transaction SQLAlchemy opens.
    raw = conn.connection.driver_connection
    for name, value in pragmas.items():
        raw.execute(f"PRAGMA {name}={value}")  # type: ignore[union-attr]


@contextmanager
def _bulk_mode(conn: Connection) -> Iterator[None]:
    """Session settings for bulk loading on this connection only, restored afterwards."""
    if conn.dialect.name == "sqlite":
        _sqlite_pragmas(conn, cache_size=-262144, synchronous="OFF")  # big page cache, no fsync
        try:
            yield
        finally:
            _sqlite_pragmas(conn, cache_size=-2000, synchronous="NORMAL")
        return
    if conn.dialect.name != "postgresql":
        yield
        return
    try:
        # The rows are consistent by construction; checking each foreign key row by row
        # (a trigger per row) would triple the load time. Needs a superuser.
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.commit()
    except DBAPIError:
        conn.rollback()
        click.echo("note: not a superuser, so foreign keys are checked row by row (slower)")
    conn.exec_driver_sql("SET synchronous_commit = off")
    conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")  # index builds sort in memory
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        conn.exec_driver_sql("RESET session_replication_role")
        conn.exec_driver_sql("RESET synchronous_commit")
        conn.exec_driver_sql("RESET maintenance_work_mem")
        conn.commit()


BIG_TABLES = ("feedback", "feedback_tag", "notification")


@contextmanager
def _indexes_built_afterwards(conn: Connection, tables: Sequence[str] = BIG_TABLES) -> Iterator[None]:
    """Drop the big tables' secondary indexes while loading and build them once at the end:
    one sort per index instead of a million random B-tree inserts (what pg_restore does).
    The indexes are read from the database, so it ends exactly as its migrations left it."""
    quote = conn.dialect.identifier_preparer.quote
    inspector = inspect(conn)
    dropped = [(table, ix) for table in tables for ix in inspector.get_indexes(table)
               if not ix.get("unique") and "duplicates_constraint" not in ix]
    for _table, ix in dropped:
        conn.exec_driver_sql(f"DROP INDEX {quote(ix['name'])}")  # type: ignore[arg-type]
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        for table, ix in dropped:
            columns = ", ".join(quote(c) for c in ix["column_names"])  # type: ignore[union-attr]
            conn.exec_driver_sql(f"CREATE INDEX {quote(ix['name'])} ON {quote(table)} ({columns})")  # type: ignore[arg-type]
            conn.commit()


def seed_load(people: int, feedback: int, rng: random.Random, force: bool = False,
              flowers: int = 0, badges: int = 0) -> dict[str, int]:
    """Fill an empty database with `people` people, `feedback` feedback rows and optionally
    `flowers` flower gifts and `badges` badge awards."""
    from perfapp.feedback.models import Tag

    password_hash = _hash_once()
    org = LoadOrg(people)
    began = time.perf_counter()

    def done(stage: str) -> None:
        click.echo(f"  {stage:<10} done at {time.perf_counter() - began:6.1f}s")

    with db.engine.connect() as conn:
        if force:
            _wipe(conn)
        with _bulk_mode(conn):
            writer = BulkWriter(conn)
            tag_rows = [(i, key, kind, zh, en, True) for i, (key, kind, zh, en) in enumerate(TAGS, start=1)]
            writer.write_chunked(Tag.__table__, ("id", "key", "kind", "name_zh", "name_en", "active"), tag_rows)  # type: ignore[arg-type]
            with click.progressbar(length=people, label="people  ") as bar:
                _load_people(org, rng, writer, password_hash, bar.update)
            milestones = _load_projects(org, rng, writer)
            done("people")
            with _indexes_built_afterwards(conn):
                with click.progressbar(length=feedback, label="feedback") as bar:
                    _load_feedback(org, rng, writer, feedback, [t[0] for t in tag_rows], milestones, bar.update)
                _load_requests(org, rng, writer)
                done("feedback")
            done("indexes")
            if flowers or badges:
                from perfapp.recognition.seed import load_recognition

                values = {key: i for i, key, kind, *_names in tag_rows if kind == "value"}
                with (_indexes_built_afterwards(conn, ("flower_gift", "badge_award")),
                      click.progressbar(length=flowers + badges, label="recognition") as bar):
                    load_recognition(org, rng, writer, flowers, badges, values, bar.update)
                done("recognition")
            _finish(conn)
            done("analyze")
    return org.demo_ids


def register_seed_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when people already exist.")
    @click.option("--seed", default=2024, show_default=True, help="Random seed (same seed, same data).")
    def seed_demo_command(if_empty: bool, seed: int) -> None:
        """Create a bilingual demo organisation with feedback, requests and inbox entries."""
        if not _is_empty():
            if if_empty:
                click.echo("Database already has people; seed-demo skipped.")
                return
            raise click.ClickException("The database already has people; use an empty database.")
        logins = seed_demo(random.Random(seed))
        db.session.commit()
        _print_logins(logins)

    @app.cli.command("seed-load")
    @click.option("--people", default=10_000, show_default=True, type=click.IntRange(MIN_LOAD_PEOPLE))
    @click.option("--feedback", default=1_000_000, show_default=True, type=click.IntRange(0))
    @click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same data).")
    @click.option("--force", is_flag=True, help="Delete every existing row first.")
    @click.option("--flowers", default=0, show_default=True, type=click.IntRange(0),
                  help="Little red flower gifts to add (the recognition benchmark uses 200000).")
    @click.option("--badges", default=0, show_default=True, type=click.IntRange(0),
                  help="Badge awards to add (the recognition benchmark uses 100000).")
    def seed_load_command(people: int, feedback: int, seed: int, force: bool, flowers: int, badges: int) -> None:
        """Fill a database for benchmarks with bulk inserts (refuses a non-empty one)."""
        if not _is_empty() and not force:
            raise click.ClickException("The database is not empty; use --force to delete everything first.")
        db.session.rollback()
        began = time.perf_counter()
        seed_load(people, feedback, random.Random(seed), force=force, flowers=flowers, badges=badges)
        click.echo(f"Loaded {people} people, {feedback} feedback, {flowers} flower gifts and {badges} badge awards "
                   f"in {time.perf_counter() - began:.1f}s.")
        _print_logins([(f"{k}@example.com", "") for k in ("employee", "manager", "hr", "admin")])


def count_rows(model: Any) -> int:
    """Rows in a model's table (for tests and the CLI's summary)."""
    return db.session.scalar(select(func.count()).select_from(model)) or 0
