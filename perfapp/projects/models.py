"""Projects, their members (with a role each) and milestones (the context feedback can refer to),
and the peer reviews of a milestone's retrospective."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
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

REVIEW_WINDOW = timedelta(days=7)


class ProjectMember(Model):
    __tablename__ = "project_member"
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True)
    # What they do on this project ("Design", "Tech lead"); free text, empty when not said.
    role: Mapped[str] = mapped_column(String(60), default="", server_default="")


class Project(Model):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    archived: Mapped[bool] = mapped_column(default=False)
    # Who started it (a manager or HR): they may edit it and mark its milestones reached.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    members: Mapped[list[User]] = relationship(secondary="project_member", order_by="User.sort_key")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="project", order_by="Milestone.due_date", cascade="all, delete-orphan"
    )


class Milestone(Model):
    __tablename__ = "milestone"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    due_date: Mapped[date | None] = mapped_column(Date)
    reached_at: Mapped[datetime | None] = mapped_column(DateTime)
    project: Mapped[Project] = relationship(back_populates="milestones")

    @property
    def review_closes_at(self) -> datetime | None:
        """The retrospective's peer reviews are open for 7 days after the milestone is reached."""
        return self.reached_at + REVIEW_WINDOW if self.reached_at else None


class PeerReview(Model):
    """One member's quick answers about one teammate at a milestone; their words are the feedback row."""

    __tablename__ = "peer_review"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    reviewee_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"))
    # The quick questions (perfapp.projects.reviews.QUESTIONS), each 1 (not yet) to 3 (stood out).
    delivered: Mapped[int] = mapped_column(SmallInteger)
    collaborated: Mapped[int] = mapped_column(SmallInteger)
    communicated: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("milestone_id", "reviewer_id", "reviewee_id", name="uq_peer_review_pair"),
    )
