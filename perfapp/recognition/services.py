"""Recognition use cases: flowers and their monthly allowance, the badge catalogue, awards,
automatic badges and collusion signals for HR."""
from __future__ import annotations

import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, func, select, union_all, update
from sqlalchemy.exc import IntegrityError

from perfapp.core import signals
from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, Tag
from perfapp.moderation.services import ensure_can_post
from perfapp.people.models import User
from perfapp.projects.models import Milestone, ProjectMember
from perfapp.recognition.models import (
    AWARDERS,
    BADGE_COLOURS,
    BADGE_ICONS,
    Badge,
    BadgeAward,
    BadgeHolding,
    FlowerGift,
    FlowerQuota,
    GiverMonth,
    RecognitionSetting,
)

DEFAULT_MONTHLY_FLOWERS = 10
MAX_ALLOWANCE = 1000
MAX_FLOWERS_PER_GIFT = 5
MAX_MESSAGE = 500
MAX_BADGE_NAME = 40
MAX_BADGE_DESCRIPTION = 300
MAX_MONTHLY_LIMIT = 100
ICON_MAX_BYTES = 100 * 1024
CONSTRUCTIVE_FOR_BADGE = 10
DEPARTMENTS_FOR_BADGE = 5
SIGNAL_DAYS = 30
SIGNAL_REPEAT = 5
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


# --- the organisation's calendar ---------------------------------------------------

def org_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ORG_TIMEZONE"])


def month_key(at: datetime | None = None) -> str:
    """The organisation's month ("2026-03") of a naive UTC moment (default: now)."""
    local = (at or utcnow()).replace(tzinfo=UTC).astimezone(org_zone())
    return local.strftime("%Y-%m")


def month_start(at: datetime | None = None) -> datetime:
    """Naive UTC instant of midnight on the 1st of the organisation's current month."""
    local = (at or utcnow()).replace(tzinfo=UTC).astimezone(org_zone())
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first.astimezone(UTC).replace(tzinfo=None)


# --- the allowance -------------------------------------------------------------------

def default_allowance() -> int:
    """Flowers everyone may give each month unless HR set their own number."""
    value = db.session.scalar(select(RecognitionSetting.value).where(RecognitionSetting.key == "monthly_flowers"))
    return DEFAULT_MONTHLY_FLOWERS if value is None else value


def allowance_for(user: User) -> int:
    """This person's monthly allowance: their own number if HR set one, else the default."""
    own = db.session.scalar(select(FlowerQuota.monthly).where(FlowerQuota.user_id == user.id))
    return default_allowance() if own is None else own


def flowers_spent(user: User, month: str | None = None) -> int:
    spent = db.session.scalar(select(GiverMonth.flowers_spent).where(
        GiverMonth.user_id == user.id, GiverMonth.month == (month or month_key())))
    return spent or 0


def flowers_left(user: User) -> tuple[int, int]:
    """(flowers left this month, this month's allowance)."""
    allowance = allowance_for(user)
    return max(0, allowance - flowers_spent(user)), allowance


def _check_allowance(value: int | None, errors: dict[str, str], name: str) -> int:
    if value is None or value < 0 or value > MAX_ALLOWANCE:
        errors[name] = _("Enter a whole number from 0 to %(n)d.", n=MAX_ALLOWANCE)
        return 0
    return value


def _require_hr(actor: User) -> None:
    if not actor.is_hr:
        raise PermissionError("HR or admin only")


def set_default_allowance(actor: User, value: int | None) -> None:
    """HR: change everyone's monthly allowance (people with their own number keep it)."""
    _require_hr(actor)
    errors: dict[str, str] = {}
    value = _check_allowance(value, errors, "monthly_flowers")
    if errors:
        raise FormError(errors)
    row = db.session.get(RecognitionSetting, "monthly_flowers")
    if row is None:
        db.session.add(RecognitionSetting(key="monthly_flowers", value=value))
    else:
        row.value = value
    db.session.flush()


def set_quota(actor: User, person_id: int | None, monthly: int | None) -> FlowerQuota:
    """HR: give one person their own monthly allowance (e.g. more flowers for team leads)."""
    _require_hr(actor)
    errors: dict[str, str] = {}
    person = db.session.get(User, person_id) if person_id and person_id > 0 else None
    if person is None:
        errors["person_id"] = _("Choose a person.")
    monthly = _check_allowance(monthly, errors, "monthly")
    if errors:
        raise FormError(errors)
    quota = db.session.get(FlowerQuota, person.id)  # type: ignore[union-attr]
    if quota is None:
        quota = FlowerQuota(user_id=person.id)  # type: ignore[union-attr]
        db.session.add(quota)
    quota.monthly, quota.updated_at = monthly, utcnow()
    db.session.flush()
    return quota


def remove_quota(actor: User, person_id: int) -> None:
    """HR: the person goes back to the default allowance."""
    _require_hr(actor)
    quota = db.session.get(FlowerQuota, person_id)
    if quota is not None:
        db.session.delete(quota)
        db.session.flush()


def list_quotas() -> list[FlowerQuota]:
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(FlowerQuota).join(FlowerQuota.user).options(joinedload(FlowerQuota.user)).order_by(User.sort_key, User.id)))


def _lock_giver_month(user_id: int, month: str) -> GiverMonth:
    """The giver's row for the month, locked until commit (FOR UPDATE on PostgreSQL; SQLite's
    write transactions are serialised by BEGIN IMMEDIATE already)."""
    query = select(GiverMonth).where(GiverMonth.user_id == user_id, GiverMonth.month == month).with_for_update()
    row = db.session.scalar(query)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = GiverMonth(user_id=user_id, month=month, flowers_spent=0)
            db.session.add(row)
    except IntegrityError:
        # A concurrent first gift of the month created it: wait for its lock instead.
        row = db.session.scalar(query.execution_options(populate_existing=True))
    return row  # type: ignore[return-value]


# --- people on the receiving end ---------------------------------------------------------

def _receiver(giver: User, receiver_id: int | None, errors: dict[str, str], *, self_message: str) -> User | None:
    if receiver_id is None:
        errors["receiver_id"] = _("Choose a person.")
        return None
    person = db.session.get(User, receiver_id) if receiver_id > 0 else None
    if person is None:
        errors["receiver_id"] = _("We couldn't find that person.")
    elif person.id == giver.id:
        errors["receiver_id"] = self_message
    elif not person.active:
        errors["receiver_id"] = _("%(name)s is no longer active.", name=person.name)
    else:
        return person
    return None


def _clean_message(text: str, errors: dict[str, str], name: str, empty_message: str) -> str:
    text = (text or "").strip()
    if not text:
        errors[name] = empty_message
    elif len(text) > MAX_MESSAGE:
        errors[name] = _("Keep it under %(n)d characters.", n=MAX_MESSAGE)
    return text


def value_tags() -> list[Tag]:
    """The company's values, offered as tags for flowers and badges."""
    return list(db.session.scalars(select(Tag).where(Tag.kind == "value", Tag.active.is_(True)).order_by(Tag.id)))


def _value_tag(tag_id: int | None, errors: dict[str, str]) -> Tag | None:
    if tag_id is None:
        return None
    tag = db.session.get(Tag, tag_id) if tag_id > 0 else None
    if tag is None or tag.kind != "value" or not tag.active:
        errors["tag_id"] = _("Choose one of the company's values.")
        return None
    return tag


# --- flowers -------------------------------------------------------------------------------

@dataclass
class FlowerInput:
    receiver_id: int | None = None
    count: int | None = 1
    message: str = ""
    tag_id: int | None = None


def _left_message(left: int) -> str:
    return ngettext("You have %(num)d flower left this month.", "You have %(num)d flowers left this month.", left)


def give_flowers(giver: User, data: FlowerInput) -> FlowerGift:
    """Spend 1–5 of this month's flowers on a colleague; never more than are left, however many
    requests race for the last ones."""
    ensure_can_post(giver)
    errors: dict[str, str] = {}
    receiver = _receiver(giver, data.receiver_id, errors, self_message=_("You can't give flowers to yourself."))
    count = data.count
    if count is None or not 1 <= count <= MAX_FLOWERS_PER_GIFT:
        errors["count"] = _("Give from 1 to %(n)d flowers.", n=MAX_FLOWERS_PER_GIFT)
    message = _clean_message(data.message, errors, "message", _("Write a short message to go with them."))
    tag = _value_tag(data.tag_id, errors)
    if errors:
        raise FormError(errors)

    month = month_key()
    allowance = allowance_for(giver)
    row = _lock_giver_month(giver.id, month)
    # The conditional UPDATE is the guard: it only spends what is still there.
    spent = db.session.execute(
        update(GiverMonth)
        .where(GiverMonth.id == row.id, GiverMonth.flowers_spent + count <= allowance)
        .values(flowers_spent=GiverMonth.flowers_spent + count)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(row)
    if spent != 1:
        left = max(0, allowance - row.flowers_spent)
        raise FormError({"count": _left_message(left) if left else _("You have no flowers left this month. "
                                                                     "They come back on the 1st.")})
    gift = FlowerGift(giver_id=giver.id, receiver_id=receiver.id, count=count, message=message,  # type: ignore[union-attr]
                      tag_id=tag.id if tag else None, month=month)
    db.session.add(gift)
    db.session.flush()
    signals.flowers_given.send(gift, gift=gift)
    return gift


def refund_flowers(gift: FlowerGift) -> None:
    """Moderation deletes a gift: the giver gets the flowers back if it is still the same month
    (the receiver's total drops with the row itself)."""
    if gift.month != month_key():
        return
    db.session.execute(
        update(GiverMonth)
        .where(GiverMonth.user_id == gift.giver_id, GiverMonth.month == gift.month)
        .values(flowers_spent=case((GiverMonth.flowers_spent >= gift.count, GiverMonth.flowers_spent - gift.count),
                                   else_=0))
        .execution_options(synchronize_session=False)
    )


def flower_total(person: User, viewer: User | None = None) -> int:
    """Flowers this person ever received (they never expire); reported gifts count for HR only."""
    query = select(func.coalesce(func.sum(FlowerGift.count), 0)).where(FlowerGift.receiver_id == person.id)
    if viewer is None or not viewer.is_hr:
        query = query.where(FlowerGift.hidden.is_(False))
    return db.session.scalar(query) or 0


# --- the badge catalogue -----------------------------------------------------------------------

@dataclass
class BadgeInput:
    name_zh: str = ""
    name_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    icon: str = ""
    image: bytes | None = None  # an uploaded PNG/WebP; None keeps what there is
    use_image: bool = False
    colour: str = BADGE_COLOURS[0]
    tag_id: int | None = None
    awarders: str = "anyone"
    monthly_limit: int | None = 3
    active: bool = True


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """(extension, MIME type) from the first bytes of a PNG or WebP file, else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return "png", "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data[12:15] == b"VP8":
        return "webp", "image/webp"
    return None


def upload_dir() -> Path:
    """Badge images live outside static/, under instance/uploads/badges (served by a route)."""
    return Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads") / "badges"


def _check_image(data: bytes, errors: dict[str, str]) -> tuple[str, str] | None:
    if len(data) > ICON_MAX_BYTES:
        errors["image"] = _("The image must be %(kb)d KB or smaller.", kb=ICON_MAX_BYTES // 1024)
        return None
    kind = sniff_image(data)
    if kind is None:
        errors["image"] = _("Upload a PNG or WebP image (SVG and other files are not accepted).")
    return kind


def _text(value: str, name: str, max_len: int, errors: dict[str, str], required: bool) -> str:
    text = re.sub(r"\s+", " ", value or "").strip()
    if required and not text:
        errors[name] = _("Please fill this in.")
    elif len(text) > max_len:
        errors[name] = _("Keep it under %(n)d characters.", n=max_len)
    return text


def _apply_badge(badge: Badge, data: BadgeInput) -> None:
    errors: dict[str, str] = {}
    names = {
        "name_zh": _text(data.name_zh, "name_zh", MAX_BADGE_NAME, errors, True),
        "name_en": _text(data.name_en, "name_en", MAX_BADGE_NAME, errors, True),
        "description_zh": _text(data.description_zh, "description_zh", MAX_BADGE_DESCRIPTION, errors, False),
        "description_en": _text(data.description_en, "description_en", MAX_BADGE_DESCRIPTION, errors, False),
    }
    image_kind = None
    if data.use_image:
        if data.image is not None:
            image_kind = _check_image(data.image, errors)
        elif not badge.image:
            errors["image"] = _("Choose an image to upload, or pick a built-in icon.")
    elif data.icon not in BADGE_ICONS:
        errors["icon"] = _("Pick one of the icons.")
    if not _COLOUR.match(data.colour or "") or data.colour.lower() not in BADGE_COLOURS:
        errors["colour"] = _("Pick a colour.")
    tag = _value_tag(data.tag_id, errors)
    if not badge.automatic:
        if data.awarders not in AWARDERS:
            errors["awarders"] = _("Choose who may award it.")
        if data.monthly_limit is None or not 1 <= data.monthly_limit <= MAX_MONTHLY_LIMIT:
            errors["monthly_limit"] = _("Enter a whole number from 1 to %(n)d.", n=MAX_MONTHLY_LIMIT)
    if errors:
        raise FormError(errors)
    for key, value in names.items():
        setattr(badge, key, value)
    if data.use_image and image_kind is not None:
        badge.image = _save_image(data.image, image_kind[0])  # type: ignore[arg-type]
    elif not data.use_image:
        badge.icon, badge.image = data.icon, None
    badge.colour = data.colour.lower()
    badge.tag_id = tag.id if tag else None
    badge.active = data.active
    if not badge.automatic:
        badge.awarders, badge.monthly_limit = data.awarders, data.monthly_limit  # type: ignore[assignment]


def _save_image(data: bytes, ext: str) -> str:
    """Store under a random name (never the uploader's) so names can be cached forever."""
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    (folder / name).write_bytes(data)
    return name


def create_badge(actor: User, data: BadgeInput) -> Badge:
    """HR: add a badge people can award."""
    _require_hr(actor)
    badge = Badge(icon="award")
    _apply_badge(badge, data)
    db.session.add(badge)
    db.session.flush()
    return badge


def update_badge(actor: User, badge: Badge, data: BadgeInput) -> None:
    """HR: change a badge (awards already given keep it)."""
    _require_hr(actor)
    _apply_badge(badge, data)
    db.session.flush()


def catalogue(include_inactive: bool = False) -> list[Badge]:
    query = select(Badge).order_by(Badge.rule.is_not(None), Badge.id)
    if not include_inactive:
        query = query.where(Badge.active.is_(True))
    return list(db.session.scalars(query))


# --- awarding badges --------------------------------------------------------------------------

@dataclass
class AwardInput:
    badge_id: int | None = None
    receiver_id: int | None = None
    citation: str = ""


def holds(person: User, badge: Badge) -> bool:
    """Holds it through an award nobody reported."""
    return db.session.get(BadgeHolding, (badge.id, person.id)) is not None


def award_refusal(giver: User, badge: Badge) -> str | None:
    """Why this person may not award this badge (translated), or None if they may.
    HR may award any badge that is not automatic, so "holders only" badges can start."""
    if badge.automatic:
        return _("This badge is earned automatically; nobody awards it by hand.")
    if not badge.active:
        return _("This badge is no longer awarded.")
    if giver.is_hr or badge.awarders == "anyone":
        return None
    if badge.awarders == "managers" and not giver.is_manager:
        return _("Only managers can award this badge.")
    if badge.awarders == "holders" and not holds(giver, badge):
        return _("Only people who hold this badge can award it.")
    if badge.awarders == "hr":
        return _("Only HR can award this badge.")
    return None


def awards_given_this_month(giver: User, badge_ids: list[int]) -> dict[int, int]:
    if not badge_ids:
        return {}
    rows = db.session.execute(
        select(BadgeAward.badge_id, func.count()).where(
            BadgeAward.giver_id == giver.id, BadgeAward.badge_id.in_(badge_ids), BadgeAward.month == month_key())
        .group_by(BadgeAward.badge_id))
    return dict(rows.all())  # a Result has .keys(), so dict() needs the rows themselves


def awardable_badges(giver: User) -> list[tuple[Badge, int]]:
    """Badges this person may award, with how many more they may award this month."""
    badges = [b for b in catalogue() if award_refusal(giver, b) is None]
    given = awards_given_this_month(giver, [b.id for b in badges])
    return [(b, max(0, b.monthly_limit - given.get(b.id, 0))) for b in badges]


def award_badge(giver: User, data: AwardInput) -> BadgeAward:
    """A person awards a badge with a citation, within the badge's rules and monthly limit."""
    ensure_can_post(giver)
    errors: dict[str, str] = {}
    badge = db.session.get(Badge, data.badge_id) if data.badge_id and data.badge_id > 0 else None
    if badge is None:
        errors["badge_id"] = _("Choose a badge.")
    else:
        refusal = award_refusal(giver, badge)
        if refusal:
            errors["badge_id"] = refusal
    receiver = _receiver(giver, data.receiver_id, errors, self_message=_("You can't award a badge to yourself."))
    citation = _clean_message(data.citation, errors, "citation", _("Say why they earned it."))
    if errors:
        raise FormError(errors)

    month = month_key()
    _lock_giver_month(giver.id, month)  # concurrent awards by this giver queue here
    given = awards_given_this_month(giver, [badge.id]).get(badge.id, 0)  # type: ignore[union-attr]
    if given >= badge.monthly_limit:  # type: ignore[union-attr]
        raise FormError({"badge_id": ngettext(
            "You can award this badge %(num)d time a month; you have used it up.",
            "You can award this badge %(num)d times a month; you have used them up.",
            badge.monthly_limit)})  # type: ignore[union-attr]
    award = BadgeAward(badge_id=badge.id, receiver_id=receiver.id, giver_id=giver.id,  # type: ignore[union-attr]
                       citation=citation, month=month)
    db.session.add(award)
    db.session.flush()
    signals.badge_awarded.send(award, award=award)
    return award


# --- automatic badges -----------------------------------------------------------------------

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
    found = {b.rule: b for b in db.session.scalars(select(Badge).where(Badge.rule.in_(RULES)))}
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
            found[key] = db.session.scalar(select(Badge).where(Badge.rule == key))  # type: ignore[assignment]
    return found  # type: ignore[return-value]


def automatic_badges_missing() -> bool:
    """True until every automatic badge has its catalogue row."""
    have = db.session.scalar(select(func.count()).select_from(Badge).where(Badge.rule.in_(RULES))) or 0
    return have < len(RULES)


def earn(rule: str, person_id: int, source: str = "once", citation: str = "") -> BadgeAward | None:
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
                               month=month_key())
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
        earn("milestone", user_id, source=f"milestone:{milestone.id}", citation=citation)


# --- collusion signals for HR ---------------------------------------------------------------

@dataclass
class Signals:
    """Unusual giver→receiver patterns in the window. Signals only: nothing is blocked."""

    since: datetime
    repeated: list[tuple[User, User, int]] = field(default_factory=list)
    reciprocal: list[tuple[User, User, int, int]] = field(default_factory=list)
    rings: list[tuple[User, User, User]] = field(default_factory=list)


def collusion_signals(actor: User, days: int = SIGNAL_DAYS, limit: int = 50) -> Signals:
    """HR: pairs giving each other flowers/badges ≥ 5 times, reciprocal pairs, rings of three."""
    _require_hr(actor)
    since = utcnow() - timedelta(days=days)
    events = union_all(
        select(FlowerGift.giver_id.label("giver"), FlowerGift.receiver_id.label("receiver"))
        .where(FlowerGift.created_at >= since),
        select(BadgeAward.giver_id, BadgeAward.receiver_id)
        .where(BadgeAward.created_at >= since, BadgeAward.giver_id.is_not(None)),
    ).subquery()
    edges: dict[tuple[int, int], int] = {
        (g, r): n for g, r, n in db.session.execute(
            select(events.c.giver, events.c.receiver, func.count())
            .group_by(events.c.giver, events.c.receiver))
    }
    out: dict[int, set[int]] = defaultdict(set)
    for g, r in edges:
        out[g].add(r)
    repeated = sorted(((g, r, n) for (g, r), n in edges.items() if n >= SIGNAL_REPEAT), key=lambda e: (-e[2], e[:2]))
    reciprocal = sorted(
        ((a, b, n, edges[(b, a)]) for (a, b), n in edges.items() if a < b and (b, a) in edges),
        key=lambda e: (-(e[2] + e[3]), e[:2]))
    rings: set[tuple[int, int, int]] = set()
    for a, bs in out.items():
        for b in bs:
            for c in out.get(b, ()):
                if c not in (a, b) and a in out.get(c, ()):
                    i = min(range(3), key=(a, b, c).__getitem__)  # one rotation per ring
                    rings.add(((a, b, c)[i], (a, b, c)[(i + 1) % 3], (a, b, c)[(i + 2) % 3]))
    repeated, reciprocal = repeated[:limit], reciprocal[:limit]
    ring_list = sorted(rings)[:limit]
    ids = {x for e in repeated for x in e[:2]} | {x for e in reciprocal for x in e[:2]} | {x for r in ring_list for x in r}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return Signals(
        since=since,
        repeated=[(people[g], people[r], n) for g, r, n in repeated],
        reciprocal=[(people[a], people[b], ab, ba) for a, b, ab, ba in reciprocal],
        rings=[(people[a], people[b], people[c]) for a, b, c in ring_list],
    )
