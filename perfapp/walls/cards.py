"""The praise wall's mixed list: each kind's cards in one batch, put back in the wall's order."""
from __future__ import annotations

from typing import Any

from flask_login import current_user

from perfapp.core import cards
from perfapp.feedback.cards import kind as feedback_kind
from perfapp.recognition.cards import BADGE, FLOWER
from perfapp.walls import bp


@bp.app_template_global("wall_cards")
def wall_cards(items: list[Any]) -> cards.Cards:
    """The cards of a wall page (WallItem kind and id), in its order (`{{ cards }}` writes them)."""
    viewer = current_user._get_current_object()
    kinds = {"praise": (feedback_kind(), "feedback"), "flower": (FLOWER, "flower"), "badge": (BADGE, "badge_award")}
    ids = {name: [i.id for i in items if i.kind == name] for name in kinds}
    # Each kind's light rows carry the viewer's own reactions (reactions.services.mine_columns).
    plans = {name: cards.plan(kind, ids[name], viewer) for name, (kind, _target) in kinds.items()}
    return cards.Cards([(plans[i.kind], i.id) for i in items if i.id in plans[i.kind]])
