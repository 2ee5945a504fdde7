"""Meetings (created by hand or imported from a calendar file), who attended, their minutes, the
one-sentence feedback left under them, and each person's secret calendar-subscription token."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import Model
from perfapp.feedback.models import Feedback
from perfapp.people.models import User


class MeetingAttendee(Model):
    __tablename__ = "meeting_attendee"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True)


class Meeting(Model):
    __tablename__ = "meeting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    ends_at: Mapped[datetime] = mapped_column(DateTime)    # UTC
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")
    minutes: Mapped[str] = mapped_column(Text, default="", server_default="")
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The calendar event it came from (UID; with starts_at, one occurrence of a series), so a file
    # imported twice adds nothing new.
    uid: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When its attendees were asked for one sentence of feedback (once, after it ended).
    nudged_at: Mapped[datetime | None] = mapped_column(DateTime)

    organizer: Mapped[User | None] = relationship(foreign_keys=[organizer_id])
    attendees: Mapped[list[User]] = relationship(secondary="meeting_attendee", order_by="User.sort_key")

    __table_args__ = (
        UniqueConstraint("organizer_id", "uid", "starts_at", name="uq_meeting_occurrence"),
        Index("ix_meeting_ends", "nudged_at", "ends_at"),
    )


# The meeting a feedback card says it was given after (perfapp.feedback.cards).
Feedback.meeting = relationship(Meeting, foreign_keys=[Feedback.meeting_id])


class MeetingNote(Model):
    """One sentence of feedback on the meeting as a whole, shown under its minutes to attendees."""

    __tablename__ = "meeting_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(280))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User] = relationship()


class CalendarToken(Model):
    """The secret in a person's calendar-subscription URL; revoking deletes it (old URLs stop working)."""

    __tablename__ = "calendar_token"
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
