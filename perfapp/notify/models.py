"""The in-app inbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from perfapp.core.db import utcnow
from perfapp.extensions import db


class Notification(db.Model):
    """An inbox entry. It stores references, never rendered text, so that what a
    person sees is decided at read time by the same visibility rules as pages
    (a confidential author can never be baked into a stored message).

    Feedback and asks have their own columns; every other domain points at its
    row with (ref_type, ref_id) and registers how to load and show it
    (perfapp.notify.registry)."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # feedback_received | ask_received | ...
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    ask_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_ask.id", ondelete="CASCADE"))
    ref_type: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    # One entry per event per person: a second notify() with the same key is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_notification_user_read", "user_id", "read_at", "id"),
        UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_dedupe"),
    )
