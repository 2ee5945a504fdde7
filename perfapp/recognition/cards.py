"""Flower gifts and badge awards as cards (perfapp.core.cards): viewer facets and loading."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_

from perfapp.core import cards, versions
from perfapp.feedback.cards import own_reactions, reactions, reported_placeholders_for
from perfapp.feedback.models import Tag
from perfapp.people.models import User
from perfapp.recognition import bp
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift


class RecognitionFacets(NamedTuple):
    """What differs between viewers of one flower or badge card."""

    me: str             # "giver", "receiver" or "": the card says "you" instead of the name
    may_promote: bool   # managers and HR may turn it into a story
    may_report: bool    # anyone but the giver may report it
    mine: tuple[str, ...]  # the viewer's own reactions


def _facets_for(target_type: str) -> Any:
    def facets(rows: Sequence[Any], viewer: Any, options: dict[str, Any]) -> dict[int, RecognitionFacets]:
        from perfapp.moderation.services import can_report  # here: moderation imports recognition
        from perfapp.reactions.services import mine_of_rows

        own = mine_of_rows(viewer, target_type, rows)
        coach = bool(viewer.is_hr or viewer.is_manager) and not options.get("no_promote")
        return {row.id: RecognitionFacets(
            me="giver" if row.giver_id == viewer.id else "receiver" if row.receiver_id == viewer.id else "",
            may_promote=coach and not row.hidden, may_report=can_report(viewer, target_type, row),
            mine=own.get(row.id, ())) for row in rows}

    return facets


def _gifts(ids: list[int]) -> dict[int, Any]:
    from perfapp.recognition.flowers import load_gifts

    return {g.id: g for g in load_gifts(ids)}


def _awards(ids: list[int]) -> dict[int, Any]:
    from perfapp.recognition.badges import load_awards

    return {a.id: a for a in load_awards(ids)}


FLOWER = cards.CardKind(
    name="flower", template="walls/_flower_item.html", model=FlowerGift, var="obj",
    columns=("giver_id", "receiver_id", "hidden"), facets=_facets_for("flower"),
    load=_gifts, **reactions("flower"),
    replaced=reported_placeholders_for("flower"), viewer_columns=own_reactions("flower"))
BADGE = cards.CardKind(
    name="badge_award", template="walls/_badge_item.html", model=BadgeAward, var="obj",
    columns=("giver_id", "receiver_id", "hidden"), facets=_facets_for("badge_award"),
    load=_awards, **reactions("badge_award"),
    replaced=reported_placeholders_for("badge_award"), viewer_columns=own_reactions("badge_award"))
KINDS = {"flower": FLOWER, "badge_award": BADGE}


def _viewer() -> Any:
    return current_user._get_current_object()


@bp.app_template_global("flower_cards")
def flower_cards(ids: Sequence[int], no_promote: bool = False) -> cards.Cards:
    return cards.render(FLOWER, list(ids), _viewer(), no_promote=no_promote)


@bp.app_template_global("badge_cards")
def badge_cards(ids: Sequence[int], no_promote: bool = False) -> cards.Cards:
    return cards.render(BADGE, list(ids), _viewer(), no_promote=no_promote)


@bp.app_template_global("flower_card")
def flower_card(obj: Any, no_promote: bool = False) -> Markup:
    found = flower_cards([getattr(obj, "id", obj)], no_promote)
    return found[0] if found else Markup("")


@bp.app_template_global("badge_card")
def badge_card(obj: Any, no_promote: bool = False) -> Markup:
    found = badge_cards([getattr(obj, "id", obj)], no_promote)
    return found[0] if found else Markup("")


@bp.app_template_global("recognition_facets")
def recognition_facets(target_type: str, obj: Any, no_promote: bool = False) -> RecognitionFacets:
    """The facets of a card included directly (its own page, a story's source, the inbox)."""
    return cards.facets_of(KINDS[target_type], obj, _viewer(), no_promote=no_promote)  # type: ignore[return-value]


def connect() -> None:
    """What these cards show of other rows: their changes move the cards' versions."""
    versions.depends_on(User, ("stored_name",), FlowerGift,
                        lambda pid: or_(FlowerGift.giver_id == pid, FlowerGift.receiver_id == pid))
    versions.depends_on(User, ("stored_name",), BadgeAward,
                        lambda pid: or_(BadgeAward.giver_id == pid, BadgeAward.receiver_id == pid))
    versions.depends_on(Tag, ("name_zh", "name_en", "kind"), FlowerGift, lambda tid: FlowerGift.tag_id == tid)
    versions.depends_on(Badge, ("name_zh", "name_en", "description_zh", "description_en", "icon", "image", "colour",
                                "rule"), BadgeAward,
                        lambda bid: BadgeAward.badge_id == bid)
