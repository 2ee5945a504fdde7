"""Feedback, tags and feedback requests (capability F)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.core.versions import Versioned
from perfapp.extensions import Model
from perfapp.people.models import User
from perfapp.projects.models import Milestone, Project

KINDS = {"praise": _l("Praise"), "suggestion": _l("Suggestion"), "constructive": _l("Constructive")}
VISIBILITIES = {
    "public": _l("Public (praise wall)"),
    "private": _l("Only the recipient"),
    "manager": _l("Recipient and their manager"),
}
TAG_KINDS = {"capability": _l("Capability"), "value": _l("Value"), "free": _l("Free tag")}
QUICK_EMOJI = ("👍", "🙏", "💡", "🔥", "🎯", "❤️")


class Tag(Model):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="free")
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(32))
    # Free tags are matched case-insensitively on this key so "Teamwork" and "teamwork" are one tag.
    key: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def name(self) -> str:
        return self.name_zh if str(get_locale() or "en").startswith("zh") else self.name_en


class FeedbackTag(Model):
    __tablename__ = "feedback_tag"
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True)


class Feedback(Versioned, Model):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(16), default="praise")
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    development_only: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    emoji: Mapped[str] = mapped_column(String(64), default="")
    behaviour: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    suggestion: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"))
    ask_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_ask.id", ondelete="SET NULL"))
    # Given after a meeting (perfapp.meetings' nudge opens compose with ?meeting=).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    # Given on a goal (its page) or on one of its check-ins: the card says "on goal: …".
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id", ondelete="SET NULL"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("goal_checkin.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when someone reports it: hidden from everyone but HR until HR decides (perfapp.moderation).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A voice note (perfapp.feedback.voice): a random storage key, never the uploader's file name.
    voice_key: Mapped[str | None] = mapped_column(String(64))
    voice_mime: Mapped[str | None] = mapped_column(String(32))
    voice_seconds: Mapped[float | None] = mapped_column(Float)
    voice_bytes: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    project: Mapped[Project | None] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    # `goal` and `meeting` (what its card says it was given on) are added by goals' and meetings'
    # models: they import this one, and mappers may be configured before they are imported.
    tags: Mapped[list[Tag]] = relationship(secondary="feedback_tag", order_by="Tag.id")

    __table_args__ = (
        Index("ix_feedback_recipient_time", "recipient_id", "created_at", "id"),
        Index("ix_feedback_author_time", "author_id", "created_at", "id"),
        Index("ix_feedback_wall", "visibility", "kind", "created_at", "id"),
        # A project's and a milestone's feedback stream (perfapp.projects).
        Index("ix_feedback_project_time", "project_id", "created_at", "id"),
        Index("ix_feedback_milestone_time", "milestone_id", "created_at", "id"),
        # What a renamed goal or meeting moves (perfapp.feedback.cards).
        Index("ix_feedback_goal", "goal_id"),
        Index("ix_feedback_meeting", "meeting_id"),
        # Covers the visibility filter on someone's received feedback (tag_profile counts).
        Index("ix_feedback_recipient_visibility", "recipient_id", "visibility", "author_id", "id", "hidden"),
    )

    @classmethod
    def visible_to(cls, viewer: User) -> ColumnElement[bool]:
        """SQL condition: the rows this viewer may read (the one place this rule lives)."""
        return cls.readable_where(viewer.id, viewer.is_hr)

    @classmethod
    def readable_where(cls, viewer_id: Any, is_hr: bool) -> ColumnElement[bool]:
        """visible_to for a viewer id that may be a bind parameter (statements built once)."""
        reports = select(User.id).where(User.manager_id == viewer_id).scalar_subquery()
        return and_(
            or_(
                cls.visibility == "public",
                cls.author_id == viewer_id,
                cls.recipient_id == viewer_id,
                and_(cls.visibility == "manager", cls.recipient_id.in_(reports)),
            ),
            true() if is_hr else cls.hidden.is_(False),
        )

    def can_be_read_by(self, viewer: User) -> bool:
        if self.hidden and not viewer.is_hr:
            return False
        if self.visibility == "public" or viewer.id in (self.author_id, self.recipient_id):
            return True
        return self.visibility == "manager" and self.recipient.manager_id == viewer.id

    def author_shown_to(self, viewer: User) -> bool:
        """Confidential feedback shows its author to nobody but the author."""
        return not self.confidential or viewer.id == self.author_id

    @property
    def on_public_wall(self) -> bool:
        return self.visibility == "public" and self.kind == "praise" and not self.development_only

    @property
    def emoji_list(self) -> list[str]:
        return self.emoji.split() if self.emoji else []

    @property
    def voice_clock(self) -> str:
        """The voice note's length as m:ss, whole seconds down as players show them (at least 0:01)."""
        seconds = max(1, int(self.voice_seconds or 0))
        return f"{seconds // 60}:{seconds % 60:02d}"

    @property
    def has_template(self) -> bool:
        return bool(self.behaviour or self.impact or self.suggestion)


class FeedbackRequest(Model):
    """"Ask for feedback": one request, several people asked."""

    __tablename__ = "feedback_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    about: Mapped[str] = mapped_column(String(500))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    requester: Mapped[User] = relationship()
    project: Mapped[Project | None] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    asks: Mapped[list[FeedbackAsk]] = relationship(back_populates="request", cascade="all, delete-orphan")


class FeedbackAsk(Model):
    """One person asked in a request, with their answer state."""

    __tablename__ = "feedback_ask"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered | declined
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)

    request: Mapped[FeedbackRequest] = relationship(back_populates="asks", lazy="joined")
    recipient: Mapped[User] = relationship()

    @property
    def effective_status(self) -> str:
        """Expiry is derived from the date, so no job has to sweep old requests."""
        if self.status == "open" and self.request.expires_at <= utcnow():
            return "expired"
        return self.status
