"""Story use cases: draft from a recognition, promote, consent, read, withdraw."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, tuple_
from sqlalchemy.orm import selectinload

from perfapp.core import signals
from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.feedback.services import Cursor
from perfapp.notify.services import notify
from perfapp.people.models import User
from perfapp.people.services import picked_people
from perfapp.recognition.models import BadgeAward
from perfapp.stories.models import Story, StoryPerson, StoryTag
from perfapp.stories.sources import SOURCES, StorySource

MAX_TITLE = 120
MAX_TEXT = 4000
MAX_PEOPLE = 10
MAX_VALUES = 5


class NotEligible(Exception):
    """The recognition exists but may never become a story (private, development-only, hidden,
    confidential); `reason` says why when the source knows better than the general message."""

    def __init__(self, key: object, reason: str | None = None) -> None:
        super().__init__(key)
        self.reason = reason


class AlreadyStory(Exception):
    """The recognition is already a story; `story` is it."""

    def __init__(self, story: Story) -> None:
        super().__init__(story.id)
        self.story = story


@dataclass
class StoryInput:
    source_type: str = ""
    source_id: int | None = None
    title: str = ""
    text: str = ""
    tag_ids: list[int] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)


@dataclass
class Draft:
    """What the promote form starts from: the recognition and suggestions taken from it."""

    source: StorySource
    obj: Any
    data: StoryInput
    people: list[User]
    required: list[User]


def can_promote(user: User) -> bool:
    return user.is_hr or user.is_manager


def _source(viewer: User, source_type: str, source_id: int | None) -> tuple[StorySource, Any]:
    source = SOURCES.get(source_type)
    obj = source.load(source_id, viewer) if source is not None and source_id and source_id > 0 else None
    if source is None or obj is None:
        raise LookupError((source_type, source_id))
    if not source.eligible(obj):
        raise NotEligible((source_type, source_id), source.refusal(obj))
    return source, obj


def _existing(source_type: str, source_id: int) -> Story | None:
    return db.session.scalar(select(Story).where(Story.source_type == source_type, Story.source_id == source_id))


def draft(promoter: User, source_type: str, source_id: int | None) -> Draft:
    """The promote form for one recognition (PermissionError, LookupError, NotEligible, AlreadyStory)."""
    if not can_promote(promoter):
        raise PermissionError(promoter.id)
    source, obj = _source(promoter, source_type, source_id)
    existing = _existing(source_type, obj.id)
    if existing is not None:
        raise AlreadyStory(existing)
    required = source.people(obj)
    data = StoryInput(source_type=source_type, source_id=source_id, text=source.text(obj),
                      tag_ids=source.tag_ids(obj), person_ids=[p.id for p in required])
    return Draft(source=source, obj=obj, data=data, people=required, required=required)


def value_tags() -> list[Tag]:
    """The company values a story can illustrate."""
    return list(db.session.scalars(
        select(Tag).where(Tag.kind == "value", Tag.active.is_(True)).order_by(Tag.id)
    ))


def _check_people(ids: list[int], required: list[User], errors: dict[str, str]) -> list[User]:
    people, error = picked_people(ids, MAX_PEOPLE)
    if error:
        errors["person_ids"] = error
        return []
    chosen = {p.id for p in people}
    missing = [p for p in required if p.id not in chosen]
    if missing:
        errors["person_ids"] = _("%(name)s was recognised, so they must be asked too.", name=missing[0].name)
    return people


def _check_values(tag_ids: list[int], errors: dict[str, str]) -> list[Tag]:
    ids = set(tag_ids)
    if len(ids) > MAX_VALUES:
        errors["tag_ids"] = _("Choose at most %(n)d values.", n=MAX_VALUES)
        return []
    if not ids:
        return []
    tags = list(db.session.scalars(
        select(Tag).where(Tag.id.in_(ids), Tag.kind == "value", Tag.active.is_(True)).order_by(Tag.id)
    ))
    if len(tags) != len(ids):
        errors["tag_ids"] = _("Choose values from the list.")
        return []
    return tags


def promote(promoter: User, data: StoryInput) -> Story:
    """Turn a public recognition into a story and ask everyone involved for consent."""
    if not can_promote(promoter):
        raise PermissionError(promoter.id)
    source, obj = _source(promoter, data.source_type, data.source_id)
    existing = _existing(data.source_type, obj.id)
    if existing is not None:
        raise AlreadyStory(existing)
    errors: dict[str, str] = {}
    title = " ".join(data.title.split())
    text = data.text.strip()
    if not title:
        errors["title"] = _("Give the story a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("Keep it under %(n)d characters.", n=MAX_TITLE)
    if not text:
        errors["text"] = _("Tell the story in a few sentences.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("Keep it under %(n)d characters.", n=MAX_TEXT)
    tags = _check_values(data.tag_ids, errors)
    people = _check_people(data.person_ids, source.people(obj), errors)
    if errors:
        raise FormError(errors)

    now = utcnow()
    story = Story(source_type=data.source_type, source_id=data.source_id, title=title, text=text,
                  promoter_id=promoter.id, created_at=now)
    story.tags = tags
    # Promoting is the promoter's own yes; everyone else is asked in their inbox.
    story.people = [StoryPerson(user_id=p.id, consent="accepted" if p.id == promoter.id else "pending",
                                responded_at=now if p.id == promoter.id else None) for p in people]
    story.refresh_status()
    db.session.add(story)
    db.session.flush()
    for sp in story.people:
        if sp.consent == "pending":
            notify(sp.user_id, "story_consent", ref_type="story", ref_id=story.id,
                   dedupe_key=f"story-consent:{story.id}")
    if story.is_published:
        _published(story)
    return story


def _published(story: Story) -> None:
    for uid in {story.promoter_id, *(p.user_id for p in story.people)}:
        notify(uid, "story_published", ref_type="story", ref_id=story.id, dedupe_key=f"story-published:{story.id}")
    signals.story_published.send(story, story=story)


def respond(user: User, story_id: int, accept: bool) -> Story:
    """Record one person's yes or no; the story is published when everyone said yes."""
    # Lock the story: two last answers at once must not each see the other still pending.
    story = db.session.scalar(select(Story).where(Story.id == story_id).with_for_update()
                              .execution_options(populate_existing=True))
    if story is None or not story.can_be_read_by(user):
        raise LookupError(story_id)
    mine = story.consent_of(user)
    if mine is None:
        raise PermissionError(user.id)
    was_published = story.is_published
    mine.consent = "accepted" if accept else "declined"
    mine.responded_at = utcnow()
    story.refresh_status()
    db.session.flush()
    if story.is_published and not was_published:
        _published(story)
    if not accept and user.id != story.promoter_id:
        notify(story.promoter_id, "story_declined", ref_type="story", ref_id=story.id,
               dedupe_key=f"story-declined:{story.id}:{user.id}")
    return story


def withdraw(actor: User, story_id: int) -> None:
    """The promoter or HR takes a story down for good (the recognition can be promoted again)."""
    story = db.session.get(Story, story_id)
    if story is None or not story.can_be_read_by(actor):
        raise LookupError(story_id)
    if not (actor.is_hr or actor.id == story.promoter_id):
        raise PermissionError(actor.id)
    db.session.delete(story)
    db.session.flush()


def get_visible(viewer: User, story_id: int) -> Story | None:
    """One story if the viewer may read it, else None (callers answer 404)."""
    story = db.session.get(Story, story_id)
    return story if story is not None and story.can_be_read_by(viewer) else None


def source_of(story: Story, viewer: User) -> tuple[StorySource | None, Any]:
    """The original recognition, or (source, None) when it is gone or no longer public."""
    source = SOURCES.get(story.source_type)
    if source is None:
        return None, None
    obj = source.load(story.source_id, viewer)
    return source, obj if obj is not None and source.eligible(obj) else None


# --- the library --------------------------------------------------------------------------

def encode_cursor(story: Story) -> str:
    """The same keyset cursor shape as the feeds' (decode it with decode_cursor)."""
    if story.published_at is None:
        raise ValueError("an unpublished story has no place in a feed")
    return f"{story.published_at.isoformat()}_{story.id}"


def _told_from_hidden() -> ColumnElement[bool]:
    """SQL: the story's source row is hidden by reports (the story is paused meanwhile)."""
    hidden = [
        and_(Story.source_type == source_type,
             Story.source_id.in_(select(source.model.id).where(source.model.hidden.is_(True))))
        for source_type, source in SOURCES.items()
        if source.model is not None and hasattr(source.model, "hidden")
    ]
    return or_(*hidden) if hidden else false()


def is_paused(story: Story) -> bool:
    """Told from a row that reports have hidden: out of the library until HR decides."""
    source = SOURCES.get(story.source_type)
    if source is None or source.model is None or not hasattr(source.model, "hidden"):
        return False
    return bool(db.session.scalar(select(source.model.hidden).where(source.model.id == story.source_id)))


def library(value_id: int | None = None, cursor: Cursor | None = None,
            limit: int = 20, viewer: User | None = None,
            badge_id: int | None = None) -> tuple[list[Story], str | None]:
    """Published stories, newest first, optionally only those illustrating one value or told
    from awards of one badge (reported ones only for HR)."""
    query = select(Story).where(Story.status == "published")
    if viewer is None or not viewer.is_hr:
        query = query.where(Story.hidden.is_(False), not_(_told_from_hidden()))
    if value_id is not None:
        query = query.where(Story.id.in_(select(StoryTag.story_id).where(StoryTag.tag_id == value_id)))
    if badge_id is not None:
        # Correlated on the award's primary key: a badge can have 100,000 awards but a handful of
        # stories, so probe per published story instead of collecting every award of the badge.
        query = query.where(Story.source_type == "badge_award", exists().where(
            BadgeAward.id == Story.source_id, BadgeAward.badge_id == badge_id))
    if cursor is not None:
        query = query.where(tuple_(Story.published_at, Story.id) < tuple_(*cursor))
    rows = list(db.session.scalars(
        query.order_by(Story.published_at.desc(), Story.id.desc()).limit(limit + 1)
        .options(selectinload(Story.tags), selectinload(Story.people))
    ))
    items = rows[:limit]
    return items, (encode_cursor(items[-1]) if len(rows) > limit else None)


def awaiting(viewer: User, limit: int = 20) -> list[Story]:
    """Unpublished stories the viewer promoted or is in (HR: all of them), newest first."""
    query = select(Story).where(Story.status != "published")
    if not viewer.is_hr:
        query = query.where(Story.hidden.is_(False))
        mine = select(StoryPerson.story_id).where(StoryPerson.user_id == viewer.id)
        query = query.where(or_(Story.promoter_id == viewer.id, Story.id.in_(mine)))
    return list(db.session.scalars(
        query.order_by(Story.created_at.desc(), Story.id.desc()).limit(limit)
        .options(selectinload(Story.tags), selectinload(Story.people))
    ))


def story_for_source(source_type: str, source_id: int) -> Story | None:
    """The story made from a recognition, if any (for links from the recognition)."""
    return _existing(source_type, source_id)


def load_for_inbox(ids: list[int], viewer: User) -> dict[int, Story]:
    rows = db.session.scalars(
        select(Story).where(Story.id.in_(ids)).options(selectinload(Story.people))
    )
    return {s.id: s for s in rows if s.can_be_read_by(viewer)}
