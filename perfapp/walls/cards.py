"""The praise wall's mixed list: each kind's cards in one batch, put back in the wall's order.

Every viewer's wall shows the same items; what differs per viewer is only each card's facets
(whether it is their own, theirs to report or promote, which reactions are theirs). So the rows
the facets are derived from are read once for every viewer (`shared_rows`: each kind's light
rows without a viewer, and who reacted with what), and each viewer's cards are planned from them
in Python (`viewer_cards`), by the same facet functions as every other list."""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from functools import cache
from typing import Any

from flask_login import current_user

from perfapp.core import cards
from perfapp.feedback.cards import kind as feedback_kind
from perfapp.recognition.cards import BADGE, FLOWER
from perfapp.walls import bp


def _kinds() -> dict[str, tuple[cards.CardKind, str]]:
    """Wall item kind -> (card kind, reaction target type)."""
    return {"praise": (feedback_kind(), "feedback"), "flower": (FLOWER, "flower"), "badge": (BADGE, "badge_award")}


#: wall item kind -> (light rows without a viewer, {id: {person id: their reactions}})
SharedRows = dict[str, tuple[tuple[Any, ...], dict[int, dict[int, str]]]]


def shared_rows(items: Sequence[Any]) -> SharedRows:
    """The light rows of these wall items, read without a viewer (their "mine" empty), and who
    reacted to each with what: what every viewer's cards are planned from."""
    from perfapp.reactions.services import reactors  # here: reactions imports feedback

    ids = {name: [i.id for i in items if i.kind == name] for name in _kinds()}
    reacted = reactors({target: ids[name] for name, (_kind, target) in _kinds().items()})
    out: SharedRows = {}
    for name, (kind, target) in _kinds().items():
        rows = cards.light_rows(kind, ids[name], None)
        light = _light_tuple(tuple(rows[0]._fields)) if rows else None
        out[name] = (tuple(light(*row) for row in rows) if light else (), reacted[target])
    return out


@cache
def _light_tuple(names: tuple[str, ...]) -> Any:
    """A light row as a named tuple (facets read it as they read a row; "mine" can be replaced)."""
    return namedtuple("LightRow", names)  # noqa: PYI024 (built from a statement's columns)


def viewer_cards(items: Sequence[Any], rows: SharedRows, viewer: Any) -> cards.Cards:
    """The wall items' cards as `viewer` sees them, planned from `shared_rows` without a statement."""
    plans = {}
    for name, (kind, _target) in _kinds().items():
        light, reacted = rows[name]
        own = [row._replace(mine=mine) if (mine := reacted.get(row.id, {}).get(viewer.id)) else row for row in light]
        plans[name] = cards.plan_rows(kind, own, viewer)
    return cards.Cards([(plans[i.kind], i.id) for i in items if i.id in plans[i.kind]])


@bp.app_template_global("wall_cards")
def wall_cards(items: list[Any]) -> cards.Cards:
    """The cards of a wall page (WallItem kind and id), in its order (`{{ cards }}` writes them)."""
    return viewer_cards(items, shared_rows(items), current_user._get_current_object())
