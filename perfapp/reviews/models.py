"""Multi-source review cycles: the cycle HR sets up, its questionnaire, who reviews whom, answers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import Model
from perfapp.people.models import User

# Reviewer groups, in the order results show them.
GROUPS = ("self", "manager", "skip_level", "peers", "reports", "partners", "customers")
# One known person each: their answers are shown with their name, no threshold applies (a threshold
# of 3 could never be met by one manager, and the reviewee knows who their manager is anyway).
ATTRIBUTED = frozenset({"self", "manager", "skip_level"})
ANONYMOUS = tuple(g for g in GROUPS if g not in ATTRIBUTED)
# Groups the balanced assignment fills (the others follow from the organisation or a link).
SOLVED = ("peers", "partners")
STATUSES = ("draft", "open", "closed")
PURPOSES = ("development", "pay")
SCOPES = ("everyone", "departments", "list")
DEFAULT_THRESHOLD = 5
THRESHOLD_FLOOR = 3  # the product's rule: never below 3
DEFAULT_CYCLE_CAP = 6
DEFAULT_ROLLING_CAP = 12
DEFAULT_MINIMUMS = {"peers": 5, "partners": 3}
# Assignment rows: proposed by the reviewee, approved (by the manager, the solver or HR; the
# organisation's fixed reviewers), declined by the nominee, submitted once answered.
ASSIGNMENT_STATUSES = ("proposed", "approved", "declined", "submitted")


class ReviewCycle(Model):
    __tablename__ = "review_cycle"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # "development" (the default) or "pay": input to pay decisions, settable only before opening.
    purpose: Mapped[str] = mapped_column(String(16), default="development")
    scope: Mapped[str] = mapped_column(String(16), default="everyone")
    scope_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # department or person ids
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {group: {"scores": n, "comments": n}} for the anonymous groups; locked once open.
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    minimums: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    tag_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # capability/value tags offered
    cycle_cap: Mapped[int] = mapped_column(Integer, default=DEFAULT_CYCLE_CAP)
    rolling_cap: Mapped[int] = mapped_column(Integer, default=DEFAULT_ROLLING_CAP)
    nominations_close_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The balanced assignment (a background job): 0..1 while it runs, its report when done.
    assign_progress: Mapped[float | None] = mapped_column(Float)
    assign_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reminded_on: Mapped[str | None] = mapped_column(String(10))  # the day reminders last went out

    questions: Mapped[list[ReviewQuestion]] = relationship(
        back_populates="cycle", order_by="ReviewQuestion.position", cascade="all, delete-orphan")

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def for_pay(self) -> bool:
        return self.purpose == "pay"

    def threshold(self, group: str, kind: str = "scores") -> int:
        """How many reviewers a group needs before its scores (or comments) show."""
        value = (self.thresholds or {}).get(group, {}).get(kind, DEFAULT_THRESHOLD)
        return max(THRESHOLD_FLOOR, int(value))

    def minimum(self, group: str) -> int:
        return int((self.minimums or {}).get(group, DEFAULT_MINIMUMS.get(group, 0)))


class ReviewQuestion(Model):
    """A rating scale with one anchor text per point, or an open question."""

    __tablename__ = "review_question"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycle.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="rating")  # rating | text
    text: Mapped[str] = mapped_column(String(300))
    anchors: Mapped[list[str]] = mapped_column(JSON, default=list)  # point 1..n
    cycle: Mapped[ReviewCycle] = relationship(back_populates="questions")

    @property
    def scale(self) -> list[int]:
        return list(range(1, len(self.anchors) + 1))


class ReviewAssignment(Model):
    """One reviewer reviewing one reviewee in one group of a cycle (a customer has a link instead)."""

    __tablename__ = "review_assignment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycle.id", ondelete="CASCADE"))
    reviewee_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    group: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="approved")
    # Who put it there: nomination | manager | solver | organisation | customer
    source: Mapped[str] = mapped_column(String(16), default="organisation")
    decline_reason: Mapped[str] = mapped_column(String(300), default="")
    # A customer's one-time link: only the token's SHA-256 is kept.
    customer_name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    reviewee: Mapped[User] = relationship(foreign_keys=[reviewee_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    cycle: Mapped[ReviewCycle] = relationship()

    __table_args__ = (
        UniqueConstraint("cycle_id", "reviewee_id", "reviewer_id", name="uq_review_pair"),
        Index("ix_review_assignment_cycle", "cycle_id", "reviewee_id", "group"),
    )

    @property
    def counts_toward_load(self) -> bool:
        """Self, manager and skip-level reviews are part of the role; the rest is asked of people."""
        return self.group not in ATTRIBUTED and self.status != "declined"


class ReviewRating(Model):
    __tablename__ = "review_rating"
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("review_question.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)


class ReviewComment(Model):
    __tablename__ = "review_comment"
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("review_question.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class ReviewTagVote(Model):
    """A strength or growth area the reviewer picked from the cycle's capability and value tags."""

    __tablename__ = "review_tag_vote"
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    strength: Mapped[bool] = mapped_column(Boolean, primary_key=True)
