"""Project use cases: projects, their members and milestones.

Every function takes the acting person explicitly and re-checks what they may do; it flushes,
the view commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from perfapp.core import signals
from perfapp.core.db import utcnow
from perfapp.core.validation import FormError, clean_text
from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.projects.models import Milestone, Project

MAX_PROJECT_NAME = 120
MAX_DESCRIPTION = 2000
MAX_MILESTONE_NAME = 120
MAX_MEMBERS = 200


def _require_hr(actor: User) -> None:
    if not actor.is_hr:
        raise PermissionError("HR or admin only")


@dataclass
class ProjectInput:
    """The project form; member_ids come from the person picker."""

    name: str = ""
    description: str = ""
    member_ids: list[int] = field(default_factory=list)


@dataclass
class MilestoneInput:
    """The milestone form; due_date is what <input type=date> sends (YYYY-MM-DD or "")."""

    name: str = ""
    due_date: str = ""


def list_projects() -> list[Project]:
    """All projects, open ones first, with members and milestones loaded."""
    return list(db.session.scalars(
        select(Project)
        .options(selectinload(Project.members), selectinload(Project.milestones))
        .order_by(Project.archived, func.lower(Project.name), Project.id)
    ))


def _resolve_members(project: Project | None, member_ids: Iterable[int],
                     errors: dict[str, str]) -> list[User]:
    ids = list(dict.fromkeys(member_ids))
    if len(ids) > MAX_MEMBERS:
        errors["member_ids"] = _("A project can have at most %(n)d members.", n=MAX_MEMBERS)
        return []
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([i for i in ids if i > 0])))}
    if len(found) != len(ids):
        errors["member_ids"] = _("We couldn't find one of those people.")
        return []
    current = {u.id for u in project.members} if project is not None else set()
    for user in found.values():
        if not user.active and user.id not in current:
            errors["member_ids"] = _("%(name)s has been deactivated.", name=user.name)
            return []
    return [found[i] for i in ids]


def _clean_project(project: Project | None, data: ProjectInput) -> tuple[str, str, list[User]]:
    errors: dict[str, str] = {}
    name = clean_text(data.name, "name", MAX_PROJECT_NAME, errors)
    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = _("Use at most %(n)d characters.", n=MAX_DESCRIPTION)
    members = _resolve_members(project, data.member_ids, errors)
    if errors:
        raise FormError(errors)
    return name, description, members


def create_project(actor: User, data: ProjectInput) -> Project:
    """Start a project with its members."""
    _require_hr(actor)
    name, description, members = _clean_project(None, data)
    project = Project(name=name, description=description, archived=False, members=members)
    db.session.add(project)
    db.session.flush()
    return project


def update_project(actor: User, project: Project, data: ProjectInput) -> None:
    """Rename a project, change its description or members."""
    _require_hr(actor)
    project.name, project.description, project.members = _clean_project(project, data)
    db.session.flush()


def set_project_archived(actor: User, project: Project, archived: bool) -> None:
    """Archive a project (it leaves the compose sheet) or bring it back."""
    _require_hr(actor)
    project.archived = archived
    db.session.flush()


def _clean_milestone(data: MilestoneInput) -> tuple[str, date | None]:
    errors: dict[str, str] = {}
    name = clean_text(data.name, "name", MAX_MILESTONE_NAME, errors)
    due: date | None = None
    raw = (data.due_date or "").strip()
    if raw:
        try:
            due = date.fromisoformat(raw)
        except ValueError:
            errors["due_date"] = _("Enter a date like 2026-03-31.")
        else:
            if not 2000 <= due.year <= 2100:
                errors["due_date"] = _("Enter a date like 2026-03-31.")
    if errors:
        raise FormError(errors)
    return name, due


def add_milestone(actor: User, project: Project, data: MilestoneInput) -> Milestone:
    """Add a milestone to a project."""
    _require_hr(actor)
    name, due = _clean_milestone(data)
    milestone = Milestone(project=project, name=name, due_date=due)
    db.session.add(milestone)
    db.session.flush()
    return milestone


def update_milestone(actor: User, milestone: Milestone, data: MilestoneInput) -> None:
    """Rename a milestone or move its due date."""
    _require_hr(actor)
    milestone.name, milestone.due_date = _clean_milestone(data)
    db.session.flush()


def reach_milestone(actor: User, milestone: Milestone) -> None:
    """Mark a milestone reached now and tell whoever listens (once, however often it is tapped)."""
    _require_hr(actor)
    if milestone.reached_at is not None:
        return
    milestone.reached_at = utcnow()
    db.session.flush()
    signals.milestone_reached.send(milestone, milestone=milestone, actor=actor)


def unreach_milestone(actor: User, milestone: Milestone) -> None:
    """Undo "reached": the milestone is open again."""
    _require_hr(actor)
    milestone.reached_at = None
    db.session.flush()
