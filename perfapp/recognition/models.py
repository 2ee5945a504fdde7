"""Little red flowers and badges (capability R)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.core.versions import Versioned
from perfapp.extensions import Model
from perfapp.feedback.models import Tag
from perfapp.people.models import User

#: who may award a badge (HR may always award a badge that is not automatic)
AWARDERS = {
    "anyone": _l("Anyone"),
    "managers": _l("Managers"),
    "holders": _l("People who hold it"),
    "hr": _l("HR only"),
}
#: the built-in icons a badge can use (all in the sprite; see tools/build_sprite.py)
BADGE_ICONS = (
    "award", "trophy", "star", "heart", "rocket", "flame", "zap", "target", "medal", "crown",
    "gem", "handshake", "shield-check", "party-popper", "graduation-cap", "puzzle", "mountain",
    "milestone", "message-square-heart", "lightbulb", "sprout", "smile",
)
BADGE_COLOURS = ("#e5484d", "#f76b15", "#ffb224", "#30a46c", "#12a594", "#0090ff", "#3e63dd",
                 "#8e4ec6", "#d6409f", "#8d8d86")


def _zh() -> bool:
    locale = get_locale()  # comparing .language: str(locale) builds the identifier on every call
    return locale is not None and locale.language == "zh"


class RecognitionSetting(Model):
    """Organisation-wide recognition settings as named integers (e.g. the default allowance)."""

    __tablename__ = "recognition_setting"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class FlowerQuota(Model):
    """A person's own monthly flower allowance, set by HR (instead of the default)."""

    __tablename__ = "flower_quota"
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    monthly: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class GiverMonth(Model):
    """What one person gave in one month (organisation time). Every gift and award first
    locks this row, so concurrent requests by the same giver queue on it: the allowance
    is spent with a conditional UPDATE, the badge limits are counted under the lock."""

    __tablename__ = "giver_month"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-03"
    flowers_spent: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("user_id", "month", name="uq_giver_month"),)


class FlowerGift(Versioned, Model):
    """1–5 little red flowers from one person to another, with a message."""

    __tablename__ = "flower_gift"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    count: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="SET NULL"))
    month: Mapped[str] = mapped_column(String(7))  # the giver's allowance month it was spent from
    # Given at a project milestone (its retrospective's summary shows it).
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Reported: hidden from everyone but HR until moderation decides (perfapp.moderation).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    giver: Mapped[User] = relationship(foreign_keys=[giver_id])
    receiver: Mapped[User] = relationship(foreign_keys=[receiver_id])
    tag: Mapped[Tag | None] = relationship()

    __table_args__ = (
        Index("ix_flower_gift_wall", "hidden", "created_at", "id"),
        Index("ix_flower_gift_receiver", "receiver_id", "hidden", "created_at", "id"),
        Index("ix_flower_gift_giver", "giver_id", "created_at"),
        Index("ix_flower_gift_tag", "tag_id", "hidden", "created_at", "id"),
        Index("ix_flower_gift_milestone", "milestone_id", "created_at"),
    )


class Badge(Model):
    """A badge in the catalogue. Rows with a `rule` are earned automatically."""

    __tablename__ = "badge"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str | None] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(40))
    description_zh: Mapped[str] = mapped_column(String(300), default="")
    description_en: Mapped[str] = mapped_column(String(300), default="")
    icon: Mapped[str | None] = mapped_column(String(40))
    image: Mapped[str | None] = mapped_column(String(64))  # a file name under instance/uploads/badges
    colour: Mapped[str] = mapped_column(String(7), default="#e5484d")
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="SET NULL"))
    awarders: Mapped[str] = mapped_column(String(16), default="anyone")
    monthly_limit: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    tag: Mapped[Tag | None] = relationship(lazy="joined")

    @property
    def name(self) -> str:
        return self.name_zh if _zh() else self.name_en

    @property
    def description(self) -> str:
        return (self.description_zh or self.description_en) if _zh() else (self.description_en or self.description_zh)

    @property
    def automatic(self) -> bool:
        return self.rule is not None


class BadgeAward(Versioned, Model):
    """One badge given to one person: by someone with a citation, or by a rule."""

    __tablename__ = "badge_award"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badge.id", ondelete="CASCADE"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    giver_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))  # None: earned by a rule
    citation: Mapped[str] = mapped_column(Text, default="")
    # The event a rule awarded it for ("once", "milestone:12"): unique per badge and person, so a
    # replayed event never awards twice. NULL for people's awards (NULLs never collide).
    source: Mapped[str | None] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))  # the giver's month (monthly limits)
    # Given at a project milestone (its retrospective's summary shows it).
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    badge: Mapped[Badge] = relationship()
    receiver: Mapped[User] = relationship(foreign_keys=[receiver_id])
    giver: Mapped[User | None] = relationship(foreign_keys=[giver_id])

    __table_args__ = (
        UniqueConstraint("badge_id", "receiver_id", "source", name="uq_badge_award_source"),
        Index("ix_badge_award_wall", "hidden", "created_at", "id"),
        # Holders of a badge: grouped per person on the index alone.
        Index("ix_badge_award_holders", "badge_id", "hidden", "receiver_id", "created_at"),
        Index("ix_badge_award_badge_time", "badge_id", "hidden", "created_at", "id"),
        Index("ix_badge_award_receiver", "receiver_id", "hidden", "badge_id", "created_at"),
        Index("ix_badge_award_giver", "giver_id", "badge_id", "month"),
        Index("ix_badge_award_milestone", "milestone_id", "created_at"),
    )


class BadgeHolding(Model):
    """Who holds which badge, from the awards nobody has reported: how often, first and last.

    Kept in step with badge_award on every flush (perfapp.recognition.holdings), so the walls
    read one indexed row per holder instead of grouping thousands of awards on each request."""

    __tablename__ = "badge_holding"
    badge_id: Mapped[int] = mapped_column(ForeignKey("badge.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(DateTime)
    last_at: Mapped[datetime] = mapped_column(DateTime)
    last_award_id: Mapped[int] = mapped_column(Integer)  # the newest award (its citation is shown)

    badge: Mapped[Badge] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_badge_holding_recent", "badge_id", "last_at", "user_id"),
        Index("ix_badge_holding_user", "user_id", "last_at"),
    )
