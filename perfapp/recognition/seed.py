"""Recognition in the demo organisation (seed-demo) and in the load database (seed-load
--flowers N --badges N, bulk inserts). Gifts respect the monthly allowance and awards the
badges' monthly limits, month by month in the organisation's timezone, as the app would."""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from perfapp.core.db import table_of, utcnow
from perfapp.extensions import db
from perfapp.recognition.flowers import DEFAULT_MONTHLY_FLOWERS
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift, GiverMonth
from perfapp.recognition.months import month_key
from perfapp.recognition.rules import CONSTRUCTIVE_FOR_BADGE, RULES, ensure_automatic_badges

if TYPE_CHECKING:
    from perfapp.people.models import User
    from perfapp.seed.load import BulkWriter, LoadOrg

# (name_zh, name_en, description_zh, description_en, icon, colour, value tag key, awarders, monthly limit)
DEMO_BADGES: tuple[tuple[str, str, str, str, str, str, str | None, str, int], ...] = (
    ("客户之星", "Customer star", "把客户的问题当成自己的问题。", "Treats the customer's problem as their own.",
     "star", "#ffb224", "customer-first", "anyone", 3),
    ("担当勇士", "Owner", "主动扛起难题，负责到底。", "Picks up the hard problem and sees it through.",
     "shield-check", "#e5484d", "ownership", "anyone", 3),
    ("最佳拍档", "Great teammate", "让身边的人工作得更顺。", "Makes everyone around them work better.",
     "handshake", "#0090ff", "collaboration", "anyone", 3),
    ("创新火花", "Spark", "带来让大家眼前一亮的新点子。", "Brought an idea that made everyone sit up.",
     "lightbulb", "#f76b15", "innovation", "anyone", 2),
    ("言出必行", "Straight talker", "说到做到，坦诚透明。", "Says what they will do, and does it.",
     "gem", "#12a594", "integrity", "anyone", 2),
    ("暖心同事", "Kind heart", "总是愿意多帮一把。", "Always ready to lend a hand.",
     "heart", "#d6409f", "collaboration", "anyone", 3),
    ("救火英雄", "Firefighter", "关键时刻挺身而出，化解危机。", "Stepped in when things were on fire.",
     "flame", "#e5484d", None, "anyone", 2),
    ("上线功臣", "Launch hero", "让发布顺利上线。", "Made the launch happen.",
     "rocket", "#30a46c", None, "anyone", 3),
    ("数据达人", "Data wizard", "用数据把问题讲清楚。", "Makes the case with data.",
     "target", "#3e63dd", None, "anyone", 3),
    ("良师益友", "Mentor", "耐心带人，帮助同事成长。", "Patiently helps others grow.",
     "graduation-cap", "#8e4ec6", None, "holders", 2),
    ("教练之星", "Great coach", "管理者认可的优秀辅导。", "Great coaching, recognised by a manager.",
     "medal", "#3e63dd", None, "managers", 2),
    ("年度之星", "Star of the year", "由 HR 颁发的年度荣誉。", "The year's honour, awarded by HR.",
     "crown", "#ffb224", None, "hr", 1),
)
# How often each badge is awarded relative to the others (a few popular ones, a long tail).
BADGE_WEIGHTS = (18, 14, 16, 6, 5, 12, 7, 9, 6, 3, 3, 1)

MESSAGES: dict[str, tuple[str, ...]] = {
    "zh": ("谢谢你帮我看代码，建议特别到位！", "周末还来帮忙排查问题，辛苦了！", "客户演示讲得太好了，送你小红花。",
           "谢谢你耐心解答我的每个问题。", "文档写得清清楚楚，省了我半天。", "谢谢你替我值了一次班。",
           "会议纪要整理得又快又准。", "新人引导做得很用心，谢谢！", "谢谢你主动补上了测试。",
           "跨部门沟通辛苦了，多亏有你。"),
    "en": ("Thanks for the thoughtful code review!", "Thank you for jumping in on Sunday to fix it.",
           "That customer demo was brilliant.", "Thanks for patiently answering all my questions.",
           "Your docs saved me half a day.", "Thanks for covering my on-call shift.",
           "Great notes from the planning meeting.", "You made onboarding painless — thank you!",
           "Thanks for adding the missing tests.", "Thanks for pulling the other teams together."),
}
CITATIONS: dict[str, tuple[str, ...]] = {
    "zh": ("上线当天一直盯到凌晨，问题一个个解决了。", "把一个棘手的客户投诉变成了续约。", "主动重构了支付模块，故障率降了一半。",
           "带着新人做了三次结对编程，进步飞快。", "用一张看板让全组看清了优先级。", "在评审会上提出了关键的风险点。"),
    "en": ("Stayed on the launch until every issue was closed.", "Turned a difficult complaint into a renewal.",
           "Refactored the payment module and halved the incidents.", "Paired with the new hire three times; they flew.",
           "One dashboard and the whole team saw the priorities.", "Spotted the risk that mattered in the design review."),
}
FLOWER_COUNTS = (1, 1, 1, 1, 2, 2, 3, 5)
# seed-load spreads recognition over a year: 200 000 gifts then use about a quarter of what
# 10 000 people's allowances allow, so nobody's budget runs dry and generation stays linear.
LOAD_SPAN_DAYS = 365


def _month(at: datetime) -> str:
    return month_key(at)


def ensure_demo_badges(value_tag_ids: dict[str, int]) -> list[Badge]:
    """The demo catalogue (automatic badges first), created when missing."""
    ensure_automatic_badges()
    existing = {b.name_en: b for b in db.session.scalars(select(Badge).where(Badge.rule.is_(None)))}
    badges = []
    for zh, en, dzh, den, icon, colour, value, awarders, limit in DEMO_BADGES:
        badge = existing.get(en) or Badge(name_zh=zh, name_en=en, description_zh=dzh, description_en=den, icon=icon,
                                          colour=colour, tag_id=value_tag_ids.get(value or ""), awarders=awarders,
                                          monthly_limit=limit)
        db.session.add(badge)
        badges.append(badge)
    db.session.flush()
    return badges


# --- seed-demo ----------------------------------------------------------------------------

def seed_demo_recognition(rng: random.Random, everyone: Sequence[User], employee: User, manager: User,
                          hr: User, value_tag_ids: dict[str, int], lang: Callable[[User], str],
                          span_days: int) -> None:
    """Flowers, badge awards and the automatic badges people would have earned, with their inbox entries."""
    from perfapp.feedback.models import Feedback
    from perfapp.notify.models import Notification
    from perfapp.projects.models import Milestone, ProjectMember

    now = utcnow()
    badges = ensure_demo_badges(value_tag_ids)
    values = list(value_tag_ids.values())
    spent: Counter[tuple[int, str]] = Counter()
    this_month = _month(now)
    team = [p for p in everyone if p.manager_id == manager.id or p is manager]
    gifts: list[FlowerGift] = []
    for _ in range(160):
        receiver = rng.choice(team) if rng.random() < 0.35 else rng.choice(everyone)
        if rng.random() < 0.15:
            receiver = employee
        giver = rng.choice(everyone)
        if giver is receiver:
            continue
        at = now - timedelta(seconds=rng.randint(300, span_days * 86400))
        count = rng.choice(FLOWER_COUNTS)
        month = _month(at)
        # The employee keeps most of this month's flowers for the tour.
        cap = 4 if giver is employee and month == this_month else DEFAULT_MONTHLY_FLOWERS
        if spent[giver.id, month] + count > cap:
            continue
        spent[giver.id, month] += count
        gifts.append(FlowerGift(giver_id=giver.id, receiver_id=receiver.id, count=count, month=month,
                                message=rng.choice(MESSAGES[lang(giver)]), created_at=at,
                                tag_id=rng.choice(values) if values and rng.random() < 0.6 else None))
    db.session.add_all(gifts)
    db.session.add_all(GiverMonth(user_id=g, month=m, flowers_spent=n) for (g, m), n in spent.items())

    awards: list[BadgeAward] = []
    given: Counter[tuple[int, int, str]] = Counter()
    managers = {p.manager_id for p in everyone if p.manager_id}
    for _ in range(70):
        badge = rng.choices(badges, weights=BADGE_WEIGHTS)[0]
        receiver = rng.choice(team) if rng.random() < 0.4 else rng.choice(everyone)
        if badge.awarders == "managers":
            giver = next((p for p in everyone if p.id == receiver.manager_id), hr)
        elif badge.awarders in ("hr", "holders"):
            giver = hr
        else:
            giver = rng.choice(everyone)
        if giver is receiver or (badge.awarders == "managers" and giver.id not in managers and giver is not hr):
            continue
        at = now - timedelta(seconds=rng.randint(600, span_days * 86400))
        key = (giver.id, badge.id, _month(at))
        if given[key] >= badge.monthly_limit:
            continue
        given[key] += 1
        awards.append(BadgeAward(badge_id=badge.id, receiver_id=receiver.id, giver_id=giver.id, month=key[2],
                                 citation=rng.choice(CITATIONS[lang(giver)]), created_at=at))

    # What the rules would have awarded: first feedback, ten constructive, reached milestones.
    # Like the rules, only feedback given under the author's name counts (never confidential).
    automatic = ensure_automatic_badges()
    named = Feedback.confidential.is_(False)
    firsts = db.session.execute(select(Feedback.author_id, func.min(Feedback.created_at))
                                .where(named).group_by(Feedback.author_id)).all()
    for author_id, first in firsts:
        first = first if isinstance(first, datetime) else datetime.fromisoformat(first)
        awards.append(BadgeAward(badge_id=automatic["first-feedback"].id, receiver_id=author_id, source="once",
                                 month=_month(first), created_at=first))
    constructive = db.session.execute(
        select(Feedback.author_id).where(Feedback.kind == "constructive", named).group_by(Feedback.author_id)
        .having(func.count() >= CONSTRUCTIVE_FOR_BADGE)).scalars().all()
    for author_id in constructive:
        awards.append(BadgeAward(badge_id=automatic["constructive-10"].id, receiver_id=author_id, source="once",
                                 month=_month(now), created_at=now - timedelta(days=2)))
    reached = db.session.execute(
        select(Milestone, ProjectMember.user_id).join(ProjectMember, ProjectMember.project_id == Milestone.project_id)
        .where(Milestone.reached_at.is_not(None))).all()
    for milestone, user_id in reached:
        if milestone.reached_at is None:  # the query keeps only reached milestones
            continue
        awards.append(BadgeAward(badge_id=automatic["milestone"].id, receiver_id=user_id,
                                 source=f"milestone:{milestone.id}", month=_month(milestone.reached_at),
                                 milestone_id=milestone.id,
                                 citation=f"{milestone.project.name} › {milestone.name}", created_at=milestone.reached_at))
    db.session.add_all(awards)
    db.session.flush()

    def read_at(created: datetime) -> datetime | None:
        return created + timedelta(hours=rng.randint(1, 30)) if now - created > timedelta(days=5) else None

    for gift in gifts:
        db.session.add(Notification(user_id=gift.receiver_id, kind="flowers_received", ref_type="flower_gift",
                                    ref_id=gift.id, dedupe_key=f"flower_gift:{gift.id}", created_at=gift.created_at,
                                    read_at=read_at(gift.created_at)))
    for award in awards:
        db.session.add(Notification(user_id=award.receiver_id, kind="badge_received", ref_type="badge_award",
                                    ref_id=award.id, dedupe_key=f"badge_award:{award.id}", created_at=award.created_at,
                                    read_at=read_at(award.created_at)))
    db.session.flush()


# --- seed-load -----------------------------------------------------------------------------

def load_recognition(org: LoadOrg, rng: random.Random, writer: BulkWriter, flowers: int, badges: int,
                     value_tag_ids: dict[str, int], progress: Callable[[int], None],
                     span_days: int = LOAD_SPAN_DAYS) -> None:
    """Bulk-insert `flowers` flower gifts and `badges` badge awards (ids in time order), the
    catalogue, the givers' monthly spending and the demo team's inbox entries."""
    from perfapp.notify.models import Notification

    now = utcnow()
    n = org.people
    team = set(org.team)
    rows: list[tuple[Any, ...]] = [(i, None, zh, en, dzh, den, icon, colour, value_tag_ids.get(value or ""), awarders, limit, True,
             writer.stamp(now - timedelta(days=span_days + 30)))
            for i, (zh, en, dzh, den, icon, colour, value, awarders, limit) in enumerate(DEMO_BADGES, start=1)]
    rows += [(len(DEMO_BADGES) + i, key, r.name_zh, r.name_en, r.description_zh, r.description_en, r.icon, r.colour,
              None, "hr", 1, True, writer.stamp(now - timedelta(days=span_days + 30)))
             for i, (key, r) in enumerate(RULES.items(), start=1)]
    writer.write_chunked(table_of(Badge), ("id", "rule", "name_zh", "name_en", "description_zh",
                                           "description_en", "icon", "colour", "tag_id", "awarders",
                                           "monthly_limit", "active", "created_at"), rows)
    auto_ids = {key: len(DEMO_BADGES) + i for i, key in enumerate(RULES, start=1)}
    values = list(value_tag_ids.values())
    start = now - timedelta(days=span_days)
    month_cache: dict[int, str] = {}

    def month_of(at: datetime) -> str:
        hour = int(at.timestamp()) // 3600  # months turn on the hour in every timezone we know
        if hour not in month_cache:
            month_cache[hour] = _month(at)
        return month_cache[hour]

    def colleague(pid: int) -> int:
        boss = org.manager[pid]
        if boss and rng.random() < 0.5:
            other = min(n, (boss - 1) * 7 + 2 + rng.randint(0, 6))
        else:
            other = rng.randint(1, n)
        return other if other != pid else (pid % n) + 1

    notes: list[tuple[Any, ...]] = []
    unread_after = now - timedelta(days=5)
    spent: Counter[tuple[int, str]] = Counter()
    this_month = month_of(now)
    employee = org.demo_ids["employee"]
    step = span_days * 86400 / max(flowers, 1)

    def gift_rows() -> Iterator[tuple[Any, ...]]:
        fid = 0
        while fid < flowers:
            at = start + timedelta(seconds=(fid + rng.random()) * step)
            receiver = rng.choice(org.team) if rng.random() < 0.02 else rng.randint(1, n)
            giver = colleague(receiver)
            count = rng.choice(FLOWER_COUNTS)
            month = month_of(at)
            cap = 4 if giver == employee and month == this_month else DEFAULT_MONTHLY_FLOWERS
            if spent[giver, month] + count > cap:
                continue  # this giver has no flowers left this month: someone else gives
            spent[giver, month] += count
            fid += 1
            stamp = writer.stamp(at)
            if receiver in team:
                notes.append((receiver, "flowers_received", "flower_gift", fid, f"flower_gift:{fid}", stamp,
                              None if at > unread_after else stamp))
            yield (fid, giver, receiver, count, rng.choice(MESSAGES["zh" if org.zh[giver] else "en"]),
                   rng.choice(values) if values and rng.random() < 0.6 else None, month, stamp, False)

    writer.write_chunked(table_of(FlowerGift), _GIFT_COLUMNS, gift_rows(), progress)
    writer.write_chunked(table_of(GiverMonth), ("user_id", "month", "flowers_spent"),
                         [(g, m, c) for (g, m), c in spent.items()])

    # Badge awards: people's awards within each badge's monthly limit, plus some that rules
    # award once per person (first feedback, flowers from five departments).
    manual = list(range(1, len(DEMO_BADGES) + 1))
    limits = {i: b[8] for i, b in enumerate(DEMO_BADGES, start=1)}
    who = {i: b[7] for i, b in enumerate(DEMO_BADGES, start=1)}
    given: Counter[tuple[int, int, str]] = Counter()
    once: set[tuple[int, int]] = set()
    hr = org.demo_ids["hr"]
    step = span_days * 86400 / max(badges, 1)

    def award_rows() -> Iterator[tuple[Any, ...]]:
        aid = 0
        while aid < badges:
            at = start + timedelta(seconds=(aid + rng.random()) * step)
            receiver = rng.choice(org.team) if rng.random() < 0.02 else rng.randint(1, n)
            roll = rng.random()
            if roll < 0.12 and (auto_ids["first-feedback"], receiver) not in once:
                badge, giver, source, citation = auto_ids["first-feedback"], None, "once", ""
                once.add((badge, receiver))
            elif roll < 0.15 and (auto_ids["five-departments"], receiver) not in once:
                badge, giver, source, citation = auto_ids["five-departments"], None, "once", ""
                once.add((badge, receiver))
            else:
                badge = rng.choices(manual, weights=BADGE_WEIGHTS)[0]
                source = None
                if who[badge] == "managers":
                    giver = org.manager[receiver] or hr
                elif who[badge] in ("hr", "holders"):
                    giver = hr if rng.random() < 0.5 else colleague(receiver)
                else:
                    giver = colleague(receiver)
                if giver == receiver:
                    continue
                key = (giver, badge, month_of(at))
                if given[key] >= limits[badge]:
                    continue  # this giver used up the badge this month
                given[key] += 1
                citation = rng.choice(CITATIONS["zh" if org.zh[giver] else "en"])
            aid += 1
            stamp = writer.stamp(at)
            if receiver in team:
                notes.append((receiver, "badge_received", "badge_award", aid, f"badge_award:{aid}", stamp,
                              None if at > unread_after else stamp))
            yield (aid, badge, receiver, giver, citation, source, month_of(at), stamp, False)

    writer.write_chunked(table_of(BadgeAward), _AWARD_COLUMNS, award_rows(), progress)
    writer.write_chunked(table_of(Notification), ("user_id", "kind", "ref_type", "ref_id", "dedupe_key",
                                                  "created_at", "read_at"), notes)
    from perfapp.recognition.holdings import rebuild

    rebuild(writer.conn)  # the bulk rows bypassed the session that keeps holdings in step
    writer.conn.commit()


_GIFT_COLUMNS = ("id", "giver_id", "receiver_id", "count", "message", "tag_id", "month", "created_at", "hidden")
_AWARD_COLUMNS = ("id", "badge_id", "receiver_id", "giver_id", "citation", "source", "month", "created_at", "hidden")
