"""Stories, their value tags and the consent of each person involved."""
from __future__ import annotations

from datetime import datetime

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
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import Model
from perfapp.feedback.models import Tag
from perfapp.people.models import User

CONSENT_STATES = {"pending": _l("Waiting"), "accepted": _l("Accepted"), "declined": _l("Declined")}


class StoryTag(Model):
    __tablename__ = "story_tag"
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True)


class StoryPerson(Model):
    """One person a story is about, and whether they agreed to its publication."""

    __tablename__ = "story_person"
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True)
    consent: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted | declined
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")


class Story(Model):
    """A recognition retold as an example of a company value.

    The recognition it came from is (source_type, source_id): a registered kind of row
    (perfapp.stories.sources), so new kinds of recognition need no new columns here."""

    __tablename__ = "story"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    promoter_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # Derived from the people's consent; stored so the library can page on an index.
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | published | declined
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Reported: hidden from everyone but HR until moderation decides (perfapp.moderation).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    promoter: Mapped[User] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary="story_tag", order_by="Tag.id")
    people: Mapped[list[StoryPerson]] = relationship(cascade="all, delete-orphan", order_by="StoryPerson.user_id")

    __table_args__ = (
        UniqueConstraint("source_type", "source_id", name="uq_story_source"),
        Index("ix_story_status_published", "status", "published_at", "id"),
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def consent_of(self, user: User) -> StoryPerson | None:
        return next((p for p in self.people if p.user_id == user.id), None)

    def involves(self, user: User) -> bool:
        return self.consent_of(user) is not None

    def can_be_read_by(self, viewer: User) -> bool:
        """Published stories are for everyone; until then only the promoter, the people and HR.
        A reported story is HR's alone until HR decides."""
        if self.hidden and not viewer.is_hr:
            return False
        return self.is_published or viewer.is_hr or viewer.id == self.promoter_id or self.involves(viewer)

    def refresh_status(self) -> None:
        """Published once everyone accepted; any decline keeps (or takes) it off the library."""
        states = {p.consent for p in self.people}
        if "declined" in states:
            self.status = "declined"
        elif states == {"accepted"}:
            self.status = "published"
            self.published_at = self.published_at or utcnow()
        else:
            self.status = "pending"
