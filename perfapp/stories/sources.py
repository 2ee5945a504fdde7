"""Which recognitions can become stories: a small registry of source kinds.

Each domain with recognitions registers its kind once at import time (feedback praise here,
customer praise in perfapp.integrations, flowers and badge awards in perfapp.recognition.handlers). A story points at its
recognition with (source_type, source_id) and asks the registry how to load, check and show it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.people.models import User


@dataclass(frozen=True)
class StorySource:
    load: Callable[[int, User], Any | None]   # the row if it exists and the viewer may read it
    eligible: Callable[[Any], bool]          # public recognition (never private, never development-only)
    people: Callable[[Any], list[User]]      # who was recognised: they must be involved (and consent)
    url: Callable[[Any], str]                # the original recognition's page
    template: str                            # fragment that shows it on the story page (gets `obj`)
    text: Callable[[Any], str] = field(default=lambda _obj: "")           # suggested story text
    # why an ineligible row can't become a story (translated), when a general "only public
    # recognition" would not say it
    refusal: Callable[[Any], str | None] = field(default=lambda _obj: None)
    tag_ids: Callable[[Any], list[int]] = field(default=lambda _obj: [])  # suggested value tags
    # the source's model, when its rows can be hidden by reports: a story told from a hidden
    # row is paused (out of the library) until HR decides
    model: Any = None


SOURCES: dict[str, StorySource] = {}


def register_source(source_type: str, source: StorySource) -> None:
    """Let rows of `source_type` be promoted into stories."""
    SOURCES[source_type] = source


# --- public praise (feedback) ------------------------------------------------------------

def _load_feedback(feedback_id: int, viewer: User) -> Feedback | None:
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


register_source("feedback", StorySource(
    load=_load_feedback,
    eligible=_feedback_eligible,
    people=lambda item: [item.recipient],
    url=lambda item: url_for("feedback.detail", feedback_id=item.id),
    template="stories/_source_feedback.html",
    text=_feedback_text,
    tag_ids=lambda item: [t.id for t in item.tags if t.kind == "value"],
    refusal=_feedback_refusal,
    model=Feedback,
))
