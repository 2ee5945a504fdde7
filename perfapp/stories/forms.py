"""Turn the promote form into a service input (no validation of meaning here)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from perfapp.core.validation import parse_int
from perfapp.stories.services import StoryInput


def ints(values: list[str]) -> list[int]:
    return [n for n in (parse_int(v) for v in values) if n is not None]


def parse_story(form: MultiDict) -> StoryInput:
    return StoryInput(
        source_type=form.get("source_type", ""),
        source_id=parse_int(form.get("source_id")),
        title=form.get("title", ""),
        text=form.get("text", ""),
        tag_ids=ints(form.getlist("tag_ids")),
        person_ids=ints(form.getlist("person_ids")),
    )
