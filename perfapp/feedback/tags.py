"""The tag taxonomy, as HR keeps it: values and capabilities in two languages (free tags are
people's own), adding, renaming, retiring."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from perfapp.core.db import add_row
from perfapp.core.validation import FormError, clean_text
from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.people.models import User

MAX_TAG_NAME = 32
TAXONOMY_KINDS = ("capability", "value")


def _require_hr(actor: User) -> None:
    if not actor.is_hr:
        raise PermissionError("HR or admin only")


@dataclass
class TagInput:
    """The tag form."""

    name_zh: str = ""
    name_en: str = ""
    kind: str = "value"
    active: bool = True


def tags_by_kind() -> dict[str, list[Tag]]:
    """Capability, value and free tags, each list sorted by English name."""
    grouped: dict[str, list[Tag]] = {"capability": [], "value": [], "free": []}
    for tag in db.session.scalars(select(Tag).order_by(func.lower(Tag.name_en), Tag.id)):
        grouped.setdefault(tag.kind, []).append(tag)
    return grouped


def _clean_tag(tag: Tag | None, data: TagInput) -> TagInput:
    errors: dict[str, str] = {}
    name_zh = clean_text(data.name_zh, "name_zh", MAX_TAG_NAME, errors)
    name_en = clean_text(data.name_en, "name_en", MAX_TAG_NAME, errors)
    if data.kind not in TAXONOMY_KINDS:
        errors["kind"] = _("Choose capability or value.")
    if "name_en" not in errors:
        taken = select(Tag).where(Tag.key == name_en.lower())
        if tag is not None:
            taken = taken.where(Tag.id != tag.id)
        other = db.session.scalar(taken.limit(1))
        if other is not None:
            errors["name_en"] = _("There is already a tag called “%(name)s”.", name=other.name_en)
    if errors:
        raise FormError(errors)
    return TagInput(name_zh=name_zh, name_en=name_en, kind=data.kind, active=data.active)


def _apply_tag(tag: Tag, data: TagInput) -> None:
    tag.name_zh, tag.name_en, tag.kind, tag.active = data.name_zh, data.name_en, data.kind, data.active
    tag.key = data.name_en.lower()


def create_tag(actor: User, data: TagInput) -> Tag:
    """Add a capability or value tag to the taxonomy."""
    _require_hr(actor)
    tag = Tag()
    _apply_tag(tag, _clean_tag(None, data))
    return add_row(tag)


def update_tag(actor: User, tag: Tag, data: TagInput) -> None:
    """Rename a tag, change its kind (a free tag can join the taxonomy) or switch it on or off."""
    _require_hr(actor)
    _apply_tag(tag, _clean_tag(tag, data))
    db.session.flush()


def set_tag_active(actor: User, tag: Tag, active: bool) -> None:
    """Offer a tag in the compose sheet again, or stop offering it (old feedback keeps it)."""
    _require_hr(actor)
    tag.active = active
    db.session.flush()
