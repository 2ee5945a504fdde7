"""Flower and badge-award cards for lists, through the fragment cache (perfapp.core.fragments).

`flower_card(obj)` / `badge_card(obj)` give what including walls/_flower_item.html or
walls/_badge_item.html gave in a list: each key holds every value its template shows.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_login import current_user
from markupsafe import Markup

from perfapp.core.fragments import card, person_key
from perfapp.moderation.cards import hidden_for_viewer
from perfapp.walls import bp

if TYPE_CHECKING:
    from perfapp.recognition.models import BadgeAward, FlowerGift


def _promote(obj: Any, viewer: Any, no_promote: bool) -> bool:
    return not obj.hidden and not no_promote and bool(viewer.is_hr or viewer.is_manager)


def flower_key(obj: FlowerGift, viewer: Any, no_promote: bool = False) -> tuple[Any, ...]:
    from perfapp.reactions.views import footer_key  # here: the reactions domain imports the walls'

    tag = obj.tag
    return (obj.id, obj.hidden, obj.created_at, obj.count, obj.message, person_key(obj.giver), person_key(obj.receiver),
            tag and (tag.id, tag.name), _promote(obj, viewer, no_promote), footer_key("flower", obj))


def badge_key(obj: BadgeAward, viewer: Any, no_promote: bool = False) -> tuple[Any, ...]:
    from perfapp.reactions.views import footer_key

    b = obj.badge
    return (obj.id, obj.hidden, obj.created_at, obj.citation, person_key(obj.giver), person_key(obj.receiver),
            (b.id, b.name, b.colour, b.icon, b.image, b.automatic, b.automatic and b.description),
            _promote(obj, viewer, no_promote), footer_key("badge_award", obj))


@bp.app_template_global("flower_card")
def flower_card(obj: FlowerGift, no_promote: bool = False) -> Markup:
    if (hidden := hidden_for_viewer("flower", obj.id)) is not None:
        return hidden
    viewer = current_user._get_current_object()  # type: ignore[attr-defined]
    return card("walls/_flower_item.html", flower_key(obj, viewer, no_promote),
                lambda: {"obj": obj, "no_promote": no_promote})


@bp.app_template_global("badge_card")
def badge_card(obj: BadgeAward, no_promote: bool = False) -> Markup:
    if (hidden := hidden_for_viewer("badge_award", obj.id)) is not None:
        return hidden
    viewer = current_user._get_current_object()  # type: ignore[attr-defined]
    return card("walls/_badge_item.html", badge_key(obj, viewer, no_promote),
                lambda: {"obj": obj, "no_promote": no_promote})
