"""The in-app inbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from perfapp.core.db import utcnow
from perfapp.extensions import db


class Notification(db.Model):
    """An inbox entry. It stores references, never rendered text, so that what a
    person sees is decided at read time by the same visibility rules as pages
    (a confidential author can never be baked into a stored message)."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # feedback_received | ask_received
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    ask_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_ask.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at", "id"),)
