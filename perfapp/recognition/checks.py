"""What giving flowers and awarding badges check alike: who may receive, the message, the value tag, HR."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import lazyload

from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.people.models import User
from perfapp.projects.models import Milestone, ProjectMember

MAX_MESSAGE = 500


def require_hr(actor: User) -> None:
    """HR's use cases refuse anyone else (the views check first; this is the service's own guard)."""
    if not actor.is_hr:
        raise PermissionError("HR or admin only")


def check_receiver(giver: User, receiver_id: int | None, errors: dict[str, str], *, self_message: str) -> User | None:
    """The active colleague who receives, or None with the reason in errors."""
    if receiver_id is None:
        errors["receiver_id"] = _("Choose a person.")
        return None
    person = db.session.get(User, receiver_id) if receiver_id > 0 else None
    if person is None:
        errors["receiver_id"] = _("We couldn't find that person.")
    elif person.id == giver.id:
        errors["receiver_id"] = self_message
    elif not person.active:
        errors["receiver_id"] = _("%(name)s is no longer active.", name=person.name)
    else:
        return person
    return None


def clean_message(text: str, errors: dict[str, str], name: str, empty_message: str) -> str:
    text = (text or "").strip()
    if not text:
        errors[name] = empty_message
    elif len(text) > MAX_MESSAGE:
        errors[name] = _("Keep it under %(n)d characters.", n=MAX_MESSAGE)
    return text


def value_tags() -> list[Tag]:
    """The company's values, offered as tags for flowers and badges."""
    return list(db.session.scalars(select(Tag).where(Tag.kind == "value", Tag.active.is_(True)).order_by(Tag.id)))


def check_value_tag(tag_id: int | None, errors: dict[str, str]) -> Tag | None:
    if tag_id is None:
        return None
    tag = db.session.get(Tag, tag_id) if tag_id > 0 else None
    if tag is None or tag.kind != "value" or not tag.active:
        errors["tag_id"] = _("Choose one of the company's values.")
        return None
    return tag


def check_milestone(giver: User, milestone_id: int | None, errors: dict[str, str]) -> Milestone | None:
    """The milestone a gift or an award is given at (its retrospective shows it): one of the
    giver's projects' (a member or its owner), or an error."""
    if milestone_id is None:
        return None
    milestone = db.session.get(Milestone, milestone_id) if milestone_id > 0 else None
    if milestone is not None and (milestone.project.owner_id == giver.id or db.session.get(
            ProjectMember, (milestone.project_id, giver.id)) is not None):
        return milestone
    errors["milestone_id"] = _("We couldn't find that milestone among your projects.")
    return None


# --- who reads a gift or an award -------------------------------------------------------------

# Cards show names, not departments: skip the person's department join the model does by default.
WITHOUT_DEPARTMENT = (lazyload(User.department),)


def visible_to(model: Any, viewer: User) -> ColumnElement[bool]:
    """The gifts or awards the viewer may see: reported (hidden) ones only for HR."""
    return true() if viewer.is_hr else model.hidden.is_(False)


def can_read(row: Any, viewer: Any) -> bool:
    """One gift or award: a reported (hidden) one only for HR."""
    return not row.hidden or viewer.is_hr
