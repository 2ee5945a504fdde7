"""Registrations: feedback as a reaction target, as reportable, and public praise as a story
source. `connect(app)` is called once from create_app."""
from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from perfapp.extensions import db
from perfapp.feedback import cards, voice
from perfapp.feedback.models import Feedback
from perfapp.moderation.registry import register_reportable
from perfapp.people.models import User
from perfapp.reactions.registry import Target, register_target
from perfapp.stories.sources import StorySource, register_source


def _load_for_reactions(ids: list[int]) -> dict[int, Any]:
    rows = db.session.scalars(select(Feedback).where(Feedback.id.in_(ids)).options(
        joinedload(Feedback.author), joinedload(Feedback.recipient))).unique()
    return {f.id: f for f in rows}


def _feedback_label(item: Feedback, viewer: User) -> str:
    if viewer.id == item.recipient_id:
        return _("the feedback you received")
    if viewer.id == item.author_id:
        return _("your feedback to %(name)s", name=item.recipient.name)
    return _("feedback to %(name)s", name=item.recipient.name)


def _load_for_story(feedback_id: int, viewer: User) -> Feedback | None:
    item = db.session.get(Feedback, feedback_id)
    return item if item is not None and item.can_be_read_by(viewer) else None


def _feedback_eligible(item: Feedback) -> bool:
    # `hidden` arrives with moderation: a reported item can't be promoted while it is hidden.
    # Confidential praise never becomes a story. A story is retold under a name ("Shared by …")
    # with everyone's consent listed; when its author promotes it that name is theirs, and an
    # "anonymous" credit shown only then would point at them all the same (only managers and
    # HR can promote). Its author chose to stay unnamed, so nobody can retell it publicly.
    return item.on_public_wall and not item.confidential and not getattr(item, "hidden", False)


def _feedback_refusal(item: Feedback) -> str | None:
    if item.confidential:
        return _("Confidential praise can't become a story: a story is shared under a name, and its "
                 "author chose to stay unnamed.")
    return None


def _feedback_text(item: Feedback) -> str:
    parts = [item.text, item.behaviour, item.impact]
    return "\n\n".join(p for p in parts if p)


def connect(app: Flask) -> None:
    cards.connect()  # what a card shows of other rows moves its version
    voice.install()
    register_target("feedback", Target(
        model=Feedback,
        can_read=lambda item, viewer: item.can_be_read_by(viewer),
        people=lambda item: (item.author_id, item.recipient_id),
        secret_author_id=lambda item: item.author_id if item.confidential else None,
        label=_feedback_label,
        url=lambda item: url_for("feedback.detail", feedback_id=item.id),
        template="reactions/_feedback_target.html",
        load=_load_for_reactions,
    ))
    register_reportable("feedback", Feedback, lambda item: item.author_id, "moderation/_feedback_case.html",
                        can_read=lambda item, viewer: item.can_be_read_by(viewer),
                        dom_id=lambda item: f"fb-{item.id}")
    register_source("feedback", StorySource(
        load=_load_for_story,
        eligible=_feedback_eligible,
        people=lambda item: [item.recipient],
        url=lambda item: url_for("feedback.detail", feedback_id=item.id),
        template="stories/_source_feedback.html",
        text=_feedback_text,
        tag_ids=lambda item: [t.id for t in item.tags if t.kind == "value"],
        refusal=_feedback_refusal,
        model=Feedback,
    ))
