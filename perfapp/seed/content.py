"""What both seed commands write: names, tags, feedback texts and the picker that
combines them, and the helpers both share (one password hash, the empty check, the
logins printed at the end). Content is stored in one language per row, the way real
people write it: Chinese-speaking authors write Chinese, others English."""
from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click
from pypinyin import lazy_pinyin
from sqlalchemy import select

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


def hash_once() -> str:
    from perfapp.auth.services import hash_password

    return hash_password(DEMO_PASSWORD)


def is_empty() -> bool:
    from perfapp.people.models import User

    return db.session.scalar(select(User.id).limit(1)) is None


def print_logins(accounts: Iterable[tuple[str, str]]) -> None:
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, what in accounts:
        click.echo(f"  {email:<24} {what}")
