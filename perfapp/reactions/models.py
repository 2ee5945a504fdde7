"""Reactions and comments on any registered target (feedback today; flowers and badges later)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import Model
from perfapp.people.models import User

#: 👍 is the like (点赞); the others are the compose sheet's quick row.
REACTIONS = ("👍", "🙏", "💡", "🔥", "🎯", "❤️")
LIKE = "👍"
MAX_COMMENT = 500


class Reaction(Model):
    """One person's one emoji on one target; tapping it again removes it."""

    __tablename__ = "reaction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    emoji: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()

    __table_args__ = (
        # Also the index behind a page's grouped counts (target_type, target_id IN (...) GROUP BY).
        UniqueConstraint("target_type", "target_id", "user_id", "emoji", name="uq_reaction_once"),
        # Ids are never reused, so an inbox entry left pointing at a removed row can't come back to life.
        {"sqlite_autoincrement": True},
    )


class Comment(Model):
    """A short comment under a target; it follows the target's visibility."""

    __tablename__ = "comment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(MAX_COMMENT))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when someone reports it: hidden from everyone but HR until HR decides (perfapp.moderation).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    author: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_comment_target", "target_type", "target_id", "hidden", "id"),
        {"sqlite_autoincrement": True},
    )
