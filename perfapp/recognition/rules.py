"""Automatic badges: the rules, their catalogue rows, and earning them on the write path
(called by recognition.wiring's signal handlers)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from perfapp.core import signals
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.people.models import User
from perfapp.projects.models import Milestone, ProjectMember
from perfapp.recognition.checks import MAX_MESSAGE
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift
from perfapp.recognition.months import month_key

CONSTRUCTIVE_FOR_BADGE = 10
DEPARTMENTS_FOR_BADGE = 5


@dataclass(frozen=True)
class Rule:
    icon: str
    colour: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str


RULES: dict[str, Rule] = {
    "first-feedback": Rule("message-square-heart", "#e5484d", "初次反馈", "First feedback",
                           "送出了第一条反馈。", "Gave their first piece of feedback."),
    "constructive-10": Rule("sprout", "#30a46c", "成长伙伴", "Growth partner",
                            "送出了 10 条建设性反馈，帮助同事成长。",
                            "Gave 10 pieces of constructive feedback to help colleagues grow."),
    "five-departments": Rule("handshake", "#0090ff", "跨界之星", "Bridge builder",
                             "收到了来自 5 个不同部门同事的小红花。",
                             "Received flowers from colleagues in 5 different departments."),
    "milestone": Rule("milestone", "#8e4ec6", "里程碑功臣", "Milestone maker",
                      "参与的项目达成了里程碑。", "Was on the team when a project milestone was reached."),
}


def ensure_automatic_badges() -> dict[str, Badge]:
    """The catalogue rows of the automatic badges, created when missing (safe to call again)."""
    found = {b.rule: b for b in db.session.scalars(select(Badge).where(Badge.rule.in_(RULES))) if b.rule}
    for key, rule in RULES.items():
        if key in found:
            continue
        try:
            with db.session.begin_nested():
                badge = Badge(rule=key, icon=rule.icon, colour=rule.colour, name_zh=rule.name_zh,
                              name_en=rule.name_en, description_zh=rule.description_zh,
                              description_en=rule.description_en, awarders="hr", monthly_limit=1)
                db.session.add(badge)
            found[key] = badge
        except IntegrityError:  # created at the same moment by another request
            found[key] = db.session.execute(select(Badge).where(Badge.rule == key)).scalar_one()
    return found


def automatic_badges_missing() -> bool:
    """True until every automatic badge has its catalogue row."""
    have = db.session.scalar(select(func.count()).select_from(Badge).where(Badge.rule.in_(RULES))) or 0
    return have < len(RULES)


def earn(rule: str, person_id: int, source: str = "once", citation: str = "",
         milestone_id: int | None = None) -> BadgeAward | None:
    """Award an automatic badge for one event, at most once per (badge, person, source)."""
    badge = ensure_automatic_badges()[rule]
    if not badge.active:
        return None
    exists = db.session.scalar(select(BadgeAward.id).where(
        BadgeAward.badge_id == badge.id, BadgeAward.receiver_id == person_id, BadgeAward.source == source))
    if exists:
        return None
    try:
        with db.session.begin_nested():
            award = BadgeAward(badge_id=badge.id, receiver_id=person_id, source=source, citation=citation,
                               month=month_key(), milestone_id=milestone_id)
            db.session.add(award)
    except IntegrityError:  # the same event, handled concurrently
        return None
    signals.badge_awarded.send(award, award=award)
    return award


def check_feedback_rules(feedback: Feedback) -> None:
    """First feedback given; ten constructive feedback given (confidential feedback never counts)."""
    # An automatic badge is public and timed: awarded in the same second as a confidential
    # feedback, it would tell the recipient (and their manager) who wrote it. So confidential
    # feedback neither triggers a rule nor counts toward one; the badges come from the
    # feedback a person gives under their name.
    if feedback.confidential:
        return
    author = feedback.author_id
    earn("first-feedback", author)
    if feedback.kind == "constructive":
        given = db.session.scalar(select(func.count()).select_from(Feedback).where(
            Feedback.author_id == author, Feedback.kind == "constructive",
            Feedback.confidential.is_(False))) or 0
        if given >= CONSTRUCTIVE_FOR_BADGE:
            earn("constructive-10", author)


def check_flower_rules(gift: FlowerGift) -> None:
    """Flowers received from five different departments."""
    departments = db.session.scalar(
        select(func.count(func.distinct(User.department_id)))
        .select_from(FlowerGift).join(User, User.id == FlowerGift.giver_id)
        .where(FlowerGift.receiver_id == gift.receiver_id, FlowerGift.hidden.is_(False),
               User.department_id.is_not(None))) or 0
    if departments >= DEPARTMENTS_FOR_BADGE:
        earn("five-departments", gift.receiver_id)


def check_milestone_rules(milestone: Milestone) -> None:
    """Every active member of the project earns the milestone badge, once per milestone."""
    members = db.session.scalars(
        select(ProjectMember.user_id).join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == milestone.project_id, User.active.is_(True)))
    citation = f"{milestone.project.name} › {milestone.name}"[:MAX_MESSAGE]
    for user_id in members.all():
        earn("milestone", user_id, source=f"milestone:{milestone.id}", citation=citation, milestone_id=milestone.id)
