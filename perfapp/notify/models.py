"""The in-app inbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from perfapp.core.db import utcnow
from perfapp.extensions import Model


class Notification(Model):
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


# --- web push ------------------------------------------------------------------------------

class PushSubscription(Model):
    """One browser's push subscription (a person has one per device). The endpoint is the
    push service's URL for that browser: unique, so a device that changes hands moves along."""

    __tablename__ = "push_subscription"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    # The page's language when it subscribed: pushes use it unless the person chose a language.
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NotificationPreference(Model):
    """Which nudges a person wants pushed, their quiet hours and daily cap. No row: the defaults."""

    __tablename__ = "notification_preference"
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    milestone: Mapped[bool] = mapped_column(Boolean, default=True)
    received: Mapped[bool] = mapped_column(Boolean, default=True)   # feedback, flowers, badges
    requests: Mapped[bool] = mapped_column(Boolean, default=True)   # feedback requests and reminders
    weekly: Mapped[bool] = mapped_column(Boolean, default=True)
    other: Mapped[bool] = mapped_column(Boolean, default=True)      # anything else in the inbox
    quiet_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes after local midnight, in the person's timezone.
    quiet_start: Mapped[int] = mapped_column(Integer, default=21 * 60)
    quiet_end: Mapped[int] = mapped_column(Integer, default=8 * 60)
    daily_cap: Mapped[int] = mapped_column(Integer, default=5)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class PushDelivery(Model):
    """What push delivery decided for one inbox entry. The row is the claim (a job that runs
    twice never pushes twice) and "sent" rows count towards the person's daily cap."""

    __tablename__ = "push_delivery"
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # sent | capped
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_push_delivery_user_time", "user_id", "status", "decided_at"),)


class VapidKey(Model):
    """The server's VAPID key pair, made on first use (unless configured). `slot` is always 1:
    the unique constraint makes two workers racing on first run agree on one key."""

    __tablename__ = "vapid_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, default=1, unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(100))  # base64url, uncompressed P-256 point
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NudgeSetting(Model):
    """Organisation-wide nudge switches that HR controls (one row, id 1; absent: defaults)."""

    __tablename__ = "nudge_setting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    weekly_nudge: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
