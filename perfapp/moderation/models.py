"""Reports, moderation decisions (the audit log) and posting suspensions."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import Model
from perfapp.people.models import User


class PostingSuspension(Model):
    """While `until` is in the future, the person may not post anything public."""

    __tablename__ = "posting_suspension"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    until: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Report(Model):
    """One person's report of one row (any registered reportable type); open until HR decides."""

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    reporter: Mapped[User] = relationship()

    __table_args__ = (
        # One report per person per row, ever: a restored post can't be hidden again by the same person.
        UniqueConstraint("target_type", "target_id", "reporter_id", name="uq_report_once"),
        Index("ix_report_open", "resolved_at", "created_at"),
        # Ids are never reused, so HR's inbox entry for a dropped report can't point at a new one.
        {"sqlite_autoincrement": True},
    )


class ModerationDecision(Model):
    """The audit log: who decided what about which row, when and why. Never a copy of the content."""

    __tablename__ = "moderation_decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # restore | delete | suspend
    reason: Mapped[str] = mapped_column(String(500), default="")
    # Whose post it was (a suspension applies to them); kept so HR can see repeated abuse.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    suspended_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])

    @property
    def suspended_until(self) -> datetime | None:
        return self.created_at + timedelta(days=self.suspended_days) if self.suspended_days else None

    __table_args__ = (
        Index("ix_moderation_decision_target", "target_type", "target_id"),
        Index("ix_moderation_decision_subject", "subject_id", "id"),
    )
