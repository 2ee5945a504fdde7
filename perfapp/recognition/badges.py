"""Badges: the catalogue HR keeps (names, icons or uploaded images, who may award) and
people awarding them within each badge's rules and monthly limit."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload

from perfapp.core import signals
from perfapp.core.db import as_datetime, attach, rows
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.moderation.services import ensure_can_post
from perfapp.people.models import PersonLike, User
from perfapp.recognition.checks import (
    WITHOUT_DEPARTMENT,
    can_read,
    check_milestone,
    check_receiver,
    check_value_tag,
    clean_message,
    require_hr,
    visible_to,
)
from perfapp.recognition.models import (
    AWARDERS,
    BADGE_COLOURS,
    BADGE_ICONS,
    Badge,
    BadgeAward,
    BadgeHolding,
)
from perfapp.recognition.months import lock_giver_month, month_key

MAX_BADGE_NAME = 40
MAX_BADGE_DESCRIPTION = 300
MAX_MONTHLY_LIMIT = 100
ICON_MAX_BYTES = 100 * 1024
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


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
    tag = check_value_tag(data.tag_id, errors)
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
    require_hr(actor)
    badge = Badge(icon="award")
    _apply_badge(badge, data)
    db.session.add(badge)
    db.session.flush()
    return badge


def update_badge(actor: User, badge: Badge, data: BadgeInput) -> None:
    """HR: change a badge (awards already given keep it)."""
    require_hr(actor)
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
    milestone_id: int | None = None  # given at a project milestone (its retrospective shows it)


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
    receiver = check_receiver(giver, data.receiver_id, errors, self_message=_("You can't award a badge to yourself."))
    citation = clean_message(data.citation, errors, "citation", _("Say why they earned it."))
    milestone = check_milestone(giver, data.milestone_id, errors)
    if errors or badge is None or receiver is None:  # both None only with an error said
        raise FormError(errors)

    month = month_key()
    lock_giver_month(giver.id, month)  # concurrent awards by this giver queue here
    given = awards_given_this_month(giver, [badge.id]).get(badge.id, 0)
    if given >= badge.monthly_limit:
        raise FormError({"badge_id": ngettext(
            "You can award this badge %(num)d time a month; you have used it up.",
            "You can award this badge %(num)d times a month; you have used them up.",
            badge.monthly_limit)})
    award = BadgeAward(badge_id=badge.id, receiver_id=receiver.id, giver_id=giver.id,
                       citation=citation, month=month, milestone_id=milestone.id if milestone else None)
    db.session.add(award)
    db.session.flush()
    signals.badge_awarded.send(award, award=award)
    return award


# --- reading awards and a person's badges ------------------------------------------------------

def load_awards(ids: list[int]) -> list[BadgeAward]:
    """Awards with what their cards show (badge, giver, receiver), in one query."""
    return list(db.session.scalars(select(BadgeAward).where(BadgeAward.id.in_(ids)).options(
        joinedload(BadgeAward.badge), joinedload(BadgeAward.giver).options(*WITHOUT_DEPARTMENT),
        joinedload(BadgeAward.receiver).options(*WITHOUT_DEPARTMENT))))


def readable_award(award_id: int, viewer: User) -> BadgeAward | None:
    """One badge award, or None if missing or reported (HR still sees it)."""
    loaded = load_awards([award_id])
    return loaded[0] if loaded and can_read(loaded[0], viewer) else None


@dataclass
class Holding:
    badge: Badge
    count: int
    first: datetime
    last: datetime


@cache
def _holdings() -> Select:
    """Built once (profiles and badge walls ask on every view)."""
    return (select(Badge, BadgeHolding.count, BadgeHolding.first_at, BadgeHolding.last_at)
            .join(BadgeHolding, BadgeHolding.badge_id == Badge.id)
            .where(BadgeHolding.user_id == bindparam("person_id"))
            .order_by(BadgeHolding.last_at.desc(), Badge.id))


def holdings(person: PersonLike, viewer: User) -> list[Holding]:
    """The person's badges: how many times each, first and last earned (newest first)."""
    if not viewer.is_hr:
        rows = db.session.execute(_holdings(), {"person_id": person.id})
        return [Holding(b, n, first, last) for b, n, first, last in rows]
    # HR also sees reported awards, which the holdings leave out: count the awards themselves.
    agg = (select(BadgeAward.badge_id, func.count().label("n"), func.min(BadgeAward.created_at).label("first"),
                  func.max(BadgeAward.created_at).label("last"))
           .where(BadgeAward.receiver_id == person.id).group_by(BadgeAward.badge_id).subquery())
    rows = db.session.execute(select(Badge, agg.c.n, agg.c.first, agg.c.last)
                              .join(agg, agg.c.badge_id == Badge.id).order_by(agg.c.last.desc(), Badge.id))
    return [Holding(b, n, as_datetime(first), as_datetime(last)) for b, n, first, last in rows]


#: a badge's attributes by their columns: the profile reads them as columns (db.rows, on the cursor)
#: and attaches the Badge (db.attach), at a fraction of the ORM's cost of loading the entity
_BADGE_COLUMNS = {attribute.key: attribute.columns[0] for attribute in sa_inspect(Badge).column_attrs}


@cache
def _holdings_and_flowers() -> Select:
    """The person's flower total (never counting reported gifts), left-joined with _holdings'
    rows: one row with no badge when they hold none."""
    from perfapp.recognition.flowers import _flower_total  # here: flowers may come to import badges

    total = _flower_total(False).subquery()
    return (select(*total.c, *_BADGE_COLUMNS.values(), BadgeHolding.count, BadgeHolding.first_at,
                   BadgeHolding.last_at)
            .select_from(total)
            .outerjoin(BadgeHolding, BadgeHolding.user_id == bindparam("person_id"))
            .outerjoin(Badge, Badge.id == BadgeHolding.badge_id)
            .order_by(BadgeHolding.last_at.desc(), Badge.id))


def recognition_of(person: PersonLike, viewer: User) -> tuple[list[Holding], int]:
    """`holdings` and the person's flower total (`flowers.flower_total`), as profiles and badge
    walls show them, in one statement (for HR, who also see reported awards and gifts, two)."""
    from perfapp.recognition.flowers import flower_total

    if viewer.is_hr:
        return holdings(person, viewer), flower_total(person, viewer)
    found = rows(_holdings_and_flowers(), {"person_id": person.id})
    width = len(_BADGE_COLUMNS)
    held = [Holding(attach(Badge, dict(zip(_BADGE_COLUMNS, row[1:1 + width], strict=True))), *row[1 + width:])
            for row in found if row[1] is not None]  # row[1]: the badge id (NULL: none held)
    return held, int(found[0][0] or 0)


def earned(person: User, badge: Badge, viewer: User) -> Holding | None:
    """How often and when the person earned the badge (what the badge wall's cell opens to)."""
    row = db.session.execute(
        select(func.count(), func.min(BadgeAward.created_at), func.max(BadgeAward.created_at))
        .where(BadgeAward.receiver_id == person.id, BadgeAward.badge_id == badge.id, visible_to(BadgeAward, viewer))
    ).one()
    return Holding(badge, row[0], as_datetime(row[1]), as_datetime(row[2])) if row[0] else None
