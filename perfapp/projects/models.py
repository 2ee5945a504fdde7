"""Projects, their members and milestones (the context feedback can refer to)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.people.models import User


class ProjectMember(db.Model):
    __tablename__ = "project_member"
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True)


class Project(db.Model):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    archived: Mapped[bool] = mapped_column(default=False)
    members: Mapped[list[User]] = relationship(secondary="project_member", order_by="User.sort_key")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="project", order_by="Milestone.due_date", cascade="all, delete-orphan"
    )


class Milestone(db.Model):
    __tablename__ = "milestone"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    due_date: Mapped[date | None] = mapped_column(Date)
    reached_at: Mapped[datetime | None] = mapped_column(DateTime)
    project: Mapped[Project] = relationship(back_populates="milestones")
