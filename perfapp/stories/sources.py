"""Which recognitions can become stories: a small registry of source kinds.

Each domain with recognitions registers its kind from its wiring.py (`connect(app)`, called by
create_app): feedback praise, customer praise (integrations), flowers and badge awards (recognition). A story points at its
recognition with (source_type, source_id) and asks the registry how to load, check and show it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
