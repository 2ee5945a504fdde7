"""Project use cases: projects, their members and milestones.

Every function takes the acting person explicitly and re-checks what they may do; it flushes,
the view commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from perfapp.core import signals
from perfapp.core.db import utcnow
from perfapp.core.validation import FormError, clean_text
from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.projects.models import Milestone, Project, ProjectMember

MAX_PROJECT_NAME = 120
MAX_DESCRIPTION = 2000
MAX_MILESTONE_NAME = 120
MAX_MEMBERS = 200


MAX_ROLE = 60


def can_create_project(actor: User) -> bool:
    """Managers and HR start projects."""
    return actor.is_hr or actor.is_manager


def can_edit_project(actor: User, project: Project) -> bool:
    """HR and the project's owner edit it, its members and milestones."""
    return actor.is_hr or (project.owner_id is not None and project.owner_id == actor.id)


def can_view_project(actor: User, project: Project) -> bool:
    """Members, the owner and HR see a project's space."""
    return can_edit_project(actor, project) or is_member(actor, project)


def is_member(person: User, project: Project) -> bool:
    return db.session.get(ProjectMember, (project.id, person.id)) is not None


def _require_edit(actor: User, project: Project) -> None:
    if not can_edit_project(actor, project):
        raise PermissionError("only HR and the project's owner edit it")


@dataclass
class ProjectInput:
    """The project form; member_ids come from the person picker."""

    name: str = ""
    description: str = ""
    member_ids: list[int] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)  # member id -> role; members not named keep theirs


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


def _clean_roles(data: ProjectInput) -> dict[int, str]:
    errors: dict[str, str] = {}
    roles = {uid: clean_text(role, f"role-{uid}", MAX_ROLE, errors, required=False)
             for uid, role in data.roles.items()}
    if errors:
        raise FormError(errors)
    return roles


def _apply_roles(project: Project, roles: dict[int, str]) -> None:
    db.session.flush()  # the member rows exist before their roles are set
    for row in db.session.scalars(select(ProjectMember).where(ProjectMember.project_id == project.id)):
        if row.user_id in roles:
            row.role = roles[row.user_id]


def create_project(actor: User, data: ProjectInput) -> Project:
    """Start a project with its members; whoever starts it owns it."""
    if not can_create_project(actor):
        raise PermissionError("managers and HR start projects")
    name, description, members = _clean_project(None, data)
    roles = _clean_roles(data)
    project = Project(name=name, description=description, archived=False, members=members, owner_id=actor.id)
    db.session.add(project)
    _apply_roles(project, roles)
    db.session.flush()
    return project


def update_project(actor: User, project: Project, data: ProjectInput) -> None:
    """Rename a project, change its description, members or their roles."""
    _require_edit(actor, project)
    name, description, members = _clean_project(project, data)
    roles = _clean_roles(data)
    project.name, project.description, project.members = name, description, members
    _apply_roles(project, roles)
    db.session.flush()


def set_project_archived(actor: User, project: Project, archived: bool) -> None:
    """Archive a project (it leaves the compose sheet) or bring it back."""
    _require_edit(actor, project)
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
    _require_edit(actor, project)
    name, due = _clean_milestone(data)
    milestone = Milestone(project=project, name=name, due_date=due)
    db.session.add(milestone)
    db.session.flush()
    return milestone


def update_milestone(actor: User, milestone: Milestone, data: MilestoneInput) -> None:
    """Rename a milestone or move its due date."""
    _require_edit(actor, milestone.project)
    milestone.name, milestone.due_date = _clean_milestone(data)
    db.session.flush()


def reach_milestone(actor: User, milestone: Milestone) -> None:
    """Mark a milestone reached now and tell whoever listens (once, however often it is tapped)."""
    _require_edit(actor, milestone.project)
    if milestone.reached_at is not None:
        return
    milestone.reached_at = utcnow()
    db.session.flush()
    signals.milestone_reached.send(milestone, milestone=milestone, actor=actor)


def unreach_milestone(actor: User, milestone: Milestone) -> None:
    """Undo "reached": the milestone is open again."""
    _require_edit(actor, milestone.project)
    milestone.reached_at = None
    db.session.flush()


def my_projects(viewer: User) -> list[Project]:
    """Projects I am on or own, open ones first, with members and milestones loaded."""
    mine = select(ProjectMember.project_id).where(ProjectMember.user_id == viewer.id)
    return list(db.session.scalars(
        select(Project)
        .where(or_(Project.id.in_(mine), Project.owner_id == viewer.id))
        .options(selectinload(Project.members), selectinload(Project.milestones))
        .order_by(Project.archived, func.lower(Project.name), Project.id)
    ))


def member_roles(project: Project) -> list[tuple[User, str]]:
    """The project's members with their roles, in the order people lists use."""
    rows = db.session.execute(
        select(User, ProjectMember.role).join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project.id).order_by(User.sort_key, User.id))
    return [(user, role) for user, role in rows]
