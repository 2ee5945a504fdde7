"""Little red flowers: the monthly allowance (HR sets the default and per-person numbers),
giving them within it, refunds and totals."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, bindparam, case, func, select, update
from sqlalchemy.orm import joinedload

from perfapp.core import signals
from perfapp.core.db import rowcount, run, utcnow
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
)
from perfapp.recognition.models import FlowerGift, FlowerQuota, GiverMonth, RecognitionSetting
from perfapp.recognition.months import lock_giver_month, month_key

DEFAULT_MONTHLY_FLOWERS = 10
MAX_ALLOWANCE = 1000
MAX_FLOWERS_PER_GIFT = 5


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


def set_default_allowance(actor: User, value: int | None) -> None:
    """HR: change everyone's monthly allowance (people with their own number keep it)."""
    require_hr(actor)
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
    require_hr(actor)
    errors: dict[str, str] = {}
    person = db.session.get(User, person_id) if person_id and person_id > 0 else None
    if person is None:
        errors["person_id"] = _("Choose a person.")
    monthly = _check_allowance(monthly, errors, "monthly")
    if errors or person is None:  # None only with an error said
        raise FormError(errors)
    quota = db.session.get(FlowerQuota, person.id)
    if quota is None:
        quota = FlowerQuota(user_id=person.id)
        db.session.add(quota)
    quota.monthly, quota.updated_at = monthly, utcnow()
    db.session.flush()
    return quota


def remove_quota(actor: User, person_id: int) -> None:
    """HR: the person goes back to the default allowance."""
    require_hr(actor)
    quota = db.session.get(FlowerQuota, person_id)
    if quota is not None:
        db.session.delete(quota)
        db.session.flush()


def list_quotas() -> list[FlowerQuota]:
    return list(db.session.scalars(
        select(FlowerQuota).join(FlowerQuota.user).options(joinedload(FlowerQuota.user)).order_by(User.sort_key, User.id)))


# --- giving flowers -------------------------------------------------------------------------

@dataclass
class FlowerInput:
    receiver_id: int | None = None
    count: int | None = 1
    message: str = ""
    tag_id: int | None = None
    milestone_id: int | None = None  # given at a project milestone (its retrospective shows it)


def _left_message(left: int) -> str:
    return ngettext("You have %(num)d flower left this month.", "You have %(num)d flowers left this month.", left)


def give_flowers(giver: User, data: FlowerInput) -> FlowerGift:
    """Spend 1–5 of this month's flowers on a colleague; never more than are left, however many
    requests race for the last ones."""
    ensure_can_post(giver)
    errors: dict[str, str] = {}
    receiver = check_receiver(giver, data.receiver_id, errors, self_message=_("You can't give flowers to yourself."))
    count = data.count
    if count is None or not 1 <= count <= MAX_FLOWERS_PER_GIFT:
        errors["count"] = _("Give from 1 to %(n)d flowers.", n=MAX_FLOWERS_PER_GIFT)
    message = clean_message(data.message, errors, "message", _("Write a short message to go with them."))
    tag = check_value_tag(data.tag_id, errors)
    milestone = check_milestone(giver, data.milestone_id, errors)
    if errors or receiver is None:  # None only with an error said
        raise FormError(errors)

    month = month_key()
    allowance = allowance_for(giver)
    row = lock_giver_month(giver.id, month)
    # The conditional UPDATE is the guard: it only spends what is still there.
    spent = rowcount(db.session.execute(
        update(GiverMonth)
        .where(GiverMonth.id == row.id, GiverMonth.flowers_spent + count <= allowance)
        .values(flowers_spent=GiverMonth.flowers_spent + count)
        .execution_options(synchronize_session=False)
    ))
    db.session.expire(row)
    if spent != 1:
        left = max(0, allowance - row.flowers_spent)
        raise FormError({"count": _left_message(left) if left else _("You have no flowers left this month. "
                                                                     "They come back on the 1st.")})
    gift = FlowerGift(giver_id=giver.id, receiver_id=receiver.id, count=count, message=message,
                      tag_id=tag.id if tag else None, month=month, milestone_id=milestone.id if milestone else None)
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


def flower_total(person: PersonLike, viewer: User | None = None) -> int:
    """Flowers this person ever received (they never expire); reported gifts count for HR only."""
    return run(_flower_total(viewer is not None and viewer.is_hr), {"person_id": person.id}).scalar() or 0


@cache
def _flower_total(with_hidden: bool) -> Select:
    query = select(func.coalesce(func.sum(FlowerGift.count), 0)).where(FlowerGift.receiver_id == bindparam("person_id"))
    return query if with_hidden else query.where(FlowerGift.hidden.is_(False))


# --- reading gifts ---------------------------------------------------------------------------

def load_gifts(ids: list[int]) -> list[FlowerGift]:
    """Gifts with what their cards show (giver, receiver, value), in one query."""
    return list(db.session.scalars(select(FlowerGift).where(FlowerGift.id.in_(ids)).options(
        joinedload(FlowerGift.giver).options(*WITHOUT_DEPARTMENT),
        joinedload(FlowerGift.receiver).options(*WITHOUT_DEPARTMENT), joinedload(FlowerGift.tag))))


def readable_gift(gift_id: int, viewer: User) -> FlowerGift | None:
    """One flower gift, or None if missing or reported (HR still sees it)."""
    loaded = load_gifts([gift_id])
    return loaded[0] if loaded and can_read(loaded[0], viewer) else None
