"""Registrations: stories in the inbox, and as reportable. `connect(app)` is called once from create_app."""
from __future__ import annotations

from flask import Flask

from perfapp.moderation.registry import register_reportable
from perfapp.notify.registry import register
from perfapp.stories import services
from perfapp.stories.models import Story


def connect(app: Flask) -> None:
    register("story", "stories/_inbox_entry.html", services.load_for_inbox)
    # A story speaks for the person who promoted it: a report's decision (and a suspension) concerns them.
    register_reportable("story", Story, lambda story: story.promoter_id, "stories/_case.html",
                        can_read=lambda story, viewer: story.can_be_read_by(viewer),
                        dom_id=lambda story: f"story-{story.id}")
