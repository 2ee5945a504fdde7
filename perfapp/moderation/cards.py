"""What lists show in place of a row the viewer reported (until HR decides)."""
from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user
from markupsafe import Markup

from perfapp.moderation.services import reported_by, reported_set


def hidden_for_viewer(target_type: str, target_id: int) -> Markup | None:
    """The placeholder if the current viewer reported this row, else None (render the row)."""
    viewer: Any = current_user._get_current_object()
    if reported_by(viewer, target_type, target_id):
        return Markup(render_template("moderation/_hidden_for_you.html"))
    return None


def reported_placeholders(viewer: Any, target_type: str, ids: list[int]) -> dict[int, Markup]:
    """{id: placeholder} for the rows among `ids` this viewer reported (until HR decides)."""
    mine = reported_set(viewer)
    found = [i for i in ids if (target_type, i) in mine]
    if not found:
        return {}
    placeholder = Markup(render_template("moderation/_hidden_for_you.html"))
    return dict.fromkeys(found, placeholder)
