"""Feedback cards for lists, through the fragment cache (perfapp.core.fragments).

`feedback_card(item)` gives what `{% include "feedback/_item.html" %}` gave in a list: the key
below holds every value that template shows, so equal keys mean equal HTML for any viewer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_login import current_user
from markupsafe import Markup

from perfapp.core.fragments import card, person_key
from perfapp.feedback import bp

if TYPE_CHECKING:
    from perfapp.feedback.models import Feedback

TEMPLATE = "feedback/_item.html"


def feedback_key(item: Feedback, viewer: Any, no_promote: bool = False) -> tuple[Any, ...]:
    from perfapp.reactions.views import footer_key  # here: the reactions domain imports feedback

    show_author = item.author_shown_to(viewer)
    promote = (item.on_public_wall and not item.hidden and not no_promote
               and bool(viewer.is_hr or viewer.is_manager))
    project, milestone = item.project, item.milestone
    return (
        item.id, item.kind, item.visibility, item.confidential, item.development_only, item.hidden,
        item.created_at, item.emoji, item.text, item.behaviour, item.impact, item.suggestion,
        item.voice_key, item.voice_key and item.voice_clock,
        show_author, person_key(item.author) if show_author else None, person_key(item.recipient),
        tuple((t.id, t.kind, t.name) for t in item.tags),
        project and (project.id, project.name), milestone and (milestone.id, milestone.name),
        promote, footer_key("feedback", item),
    )


@bp.app_template_global("feedback_card")
def feedback_card(item: Feedback, no_promote: bool = False) -> Markup:
    from perfapp.moderation.cards import hidden_for_viewer  # here: moderation imports feedback

    if (hidden := hidden_for_viewer("feedback", item.id)) is not None:
        return hidden
    viewer = current_user._get_current_object()  # type: ignore[attr-defined]
    return card(TEMPLATE, feedback_key(item, viewer, no_promote),
                lambda: {"item": item, "no_promote": no_promote})

