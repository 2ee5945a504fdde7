"""Coaching rows: recurring 1:1s between a manager and a report (each meeting's shared agenda,
each side's private notes, action items carried until done) and formal records (promotion
reviews, project retrospectives) signed by the manager and HR.

Who sees a series is decided by the report's *current* manager (perfapp.coaching.one_on_ones):
`OneOnOneSeries.manager_id` only records who started it.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
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
from perfapp.extensions import Model
from perfapp.people.models import User

CADENCES = ("weekly", "biweekly", "monthly")
RECORD_KINDS = ("promotion", "retrospective")
RECORD_STATES = ("draft", "manager_signed", "hr_signed")


class OneOnOneSeries(Model):
    """A report's recurring 1:1 with their manager (one series per report)."""

    __tablename__ = "one_on_one_series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    cadence: Mapped[str] = mapped_column(String(16), default="weekly")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    report: Mapped[User] = relationship(foreign_keys=[report_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])


class OneOnOne(Model):
    """One meeting of a series: the upcoming one (done_at is None) or one that took place."""

    __tablename__ = "one_on_one"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("one_on_one_series.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime] = mapped_column(DateTime)  # UTC
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The day-before nudge went out (once per meeting).
    nudged_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    series: Mapped[OneOnOneSeries] = relationship()

    __table_args__ = (
        Index("ix_one_on_one_series", "series_id", "done_at", "scheduled_for"),
        Index("ix_one_on_one_nudge", "nudged_at", "scheduled_for"),
    )


class AgendaItem(Model):
    """A shared agenda line; either side adds it. A suggested one names what it came from
    (feedback, goal, ask, review) so the page can show that thing to whoever may read it."""

    __tablename__ = "one_on_one_agenda"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("one_on_one.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(280))
    source_type: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(Integer)
    discussed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class PrivateNote(Model):
    """One side's own note on one meeting: read by its writer and nobody else (HR and admin
    included), exported only in its writer's personal data."""

    __tablename__ = "one_on_one_private_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("one_on_one.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("meeting_id", "author_id", name="uq_private_note_side"),)


class ActionItem(Model):
    """Something one side will do by a date. It sits on the meeting it was agreed in and moves to
    the next meeting while it isn't done (`carried` counts the moves)."""

    __tablename__ = "one_on_one_action"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("one_on_one_series.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("one_on_one.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(280))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    carried: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])


class FormalRecord(Model):
    """A promotion review or project retrospective about one person, written by their manager with
    the period's feedback and goals pulled in; signed by the manager, then by HR; frozen after."""

    __tablename__ = "formal_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    growth: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str] = mapped_column(Text, default="")
    # Pulled in when written: {"feedback": [ids the writer could read], "goals": [{id, title, percent, status}]}.
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    manager_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    manager_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    hr_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    hr_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    person: Mapped[User] = relationship(foreign_keys=[person_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    manager_signed_by: Mapped[User | None] = relationship(foreign_keys=[manager_signed_by_id])
    hr_signed_by: Mapped[User | None] = relationship(foreign_keys=[hr_signed_by_id])

    __table_args__ = (Index("ix_formal_record_state", "state", "id"),)
