"""Goals (objectives and KPIs), their key results, alignment links, check-ins, the organisation's cycle."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.core.versions import Versioned
from perfapp.extensions import Model
from perfapp.feedback.models import Feedback
from perfapp.people.models import Department, User
from perfapp.projects.models import Project

GOAL_KINDS = ("objective", "kpi")
OWNER_TYPES = ("company", "department", "project", "person")
KR_KINDS = ("number", "percent", "currency", "done")
STATUSES = ("on_track", "at_risk", "off_track")
CYCLES = ("quarter", "month", "two_months", "year")
VISIBILITIES = ("public", "private")


class GoalSetting(Model):
    """The organisation's goal cycle and reminder cadence that HR sets (one row, id 1; absent: defaults)."""

    __tablename__ = "goal_setting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle: Mapped[str] = mapped_column(String(16), default="quarter")
    stale_days: Mapped[int] = mapped_column(Integer, default=7)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Goal(Versioned, Model):
    """An objective (measured by key results) or a KPI (one metric with a target for the period)."""

    __tablename__ = "goal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="objective")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_type: Mapped[str] = mapped_column(String(16), default="person")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # An assigned copy points at the goal it was assigned from (one step assigns many copies).
    source_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id", ondelete="SET NULL"), index=True)
    # A KPI carried into the next period points at the previous period's (its metric's history);
    # unique, so rolling over twice makes no second copy.
    rolled_from_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id", ondelete="SET NULL"))
    # Rolled up from key results and contributing goals, or set by check-ins when there are none.
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    manual_progress: Mapped[float] = mapped_column(Float, default=0.0)
    confidence: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="on_track")
    status_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    status_reason: Mapped[str] = mapped_column(String(300), default="")
    last_checkin_at: Mapped[datetime | None] = mapped_column(DateTime)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    project: Mapped[Project | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    key_results: Mapped[list[KeyResult]] = relationship(
        back_populates="goal", order_by="KeyResult.position", cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_goal_owner", "owner_id", "period_end", "id"),
        Index("ix_goal_department", "department_id", "period_end"),
        Index("ix_goal_project", "project_id", "period_end"),
        Index("ix_goal_top", "owner_type", "period_start", "id"),
        Index("ix_goal_stale", "archived", "period_end", "last_checkin_at"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="ck_goal_progress"),
        Index("uq_goal_rolled_from_id", "rolled_from_id", unique=True),
    )

    @property
    def percent(self) -> int:
        return round(self.progress * 100)

    @property
    def shown_status(self) -> str:
        """The status to show: "none" until a check-in or a contributor moved it."""
        return self.status if self.last_checkin_at is not None or self.progress > 0 else "none"

    @property
    def is_private(self) -> bool:
        return self.visibility == "private"

    @property
    def measured_by_key_results(self) -> bool:
        return bool(self.key_results)

    def time_elapsed(self, today: date) -> float:
        """How much of the period has passed, 0..1."""
        days = (self.period_end - self.period_start).days + 1
        done = (today - self.period_start).days + 1
        return min(1.0, max(0.0, done / days)) if days > 0 else 1.0

    def covers(self, day: date) -> bool:
        return self.period_start <= day <= self.period_end


class KeyResult(Model):
    """A measurable result of an objective: a number from→to with a unit, a percentage, money, or done."""

    __tablename__ = "key_result"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="number")
    start_value: Mapped[float] = mapped_column(Float, default=0.0)
    target_value: Mapped[float] = mapped_column(Float, default=1.0)
    current_value: Mapped[float] = mapped_column(Float, default=0.0)
    unit: Mapped[str] = mapped_column(String(20), default="")
    # None: an equal share. Otherwise relative to the other key results' weights.
    weight: Mapped[float | None] = mapped_column(Float)
    # Progress of contributing goals aligned to this key result (None: measured by value only).
    rolled_progress: Mapped[float | None] = mapped_column(Float)
    goal: Mapped[Goal] = relationship(back_populates="key_results")

    @property
    def measured(self) -> float:
        """Progress from the value alone, 0..1."""
        if self.kind == "done":
            return 1.0 if self.current_value >= 1 else 0.0
        span = self.target_value - self.start_value
        if span == 0:
            return 0.0
        return min(1.0, max(0.0, (self.current_value - self.start_value) / span))

    @property
    def progress(self) -> float:
        return self.rolled_progress if self.rolled_progress is not None else self.measured

    @property
    def percent(self) -> int:
        return round(self.progress * 100)


class GoalLink(Model):
    """Alignment: `child` supports `parent` (the goal, or one of its key results when kr_id is set)."""

    __tablename__ = "goal_link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    kr_id: Mapped[int | None] = mapped_column(ForeignKey("key_result.id", ondelete="CASCADE"))
    # None: an equal share among the parent's contributions.
    weight: Mapped[float | None] = mapped_column(Float)
    child: Mapped[Goal] = relationship(foreign_keys=[child_id])
    parent: Mapped[Goal] = relationship(foreign_keys=[parent_id])
    key_result: Mapped[KeyResult | None] = relationship()

    __table_args__ = (Index("ix_goal_link_parent", "parent_id", "kr_id"),)


class CheckIn(Model):
    """A progress update on a goal: where it stands, how confident the owner is, a note."""

    __tablename__ = "goal_checkin"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    day: Mapped[date] = mapped_column(Date)
    progress: Mapped[float] = mapped_column(Float)
    confidence: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    status_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    status_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    goal: Mapped[Goal] = relationship()
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_goal_checkin_goal", "goal_id", "id"),
        CheckConstraint("confidence >= 1 AND confidence <= 10", name="ck_checkin_confidence"),
    )

    hidden = False  # reactions/_footer.html asks; check-ins are not reportable

    @property
    def percent(self) -> int:
        return round(self.progress * 100)


# What a feedback card says it was given on (perfapp.feedback.cards).
Feedback.goal = relationship(Goal, foreign_keys=[Feedback.goal_id])
